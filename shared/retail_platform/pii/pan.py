"""Primary account number (PAN) detection and masking, for structured values and free text.

A candidate is a run of 12-19 digits, optionally grouped by single spaces, dashes or dots. It is a PAN
when it passes Luhn, starts with a known issuer prefix and has a length that issuer uses (`iin.ISSUERS`,
the card networks' published ranges). Runs glued to
letters (IBANs, SKUs), runs after a '+' (phone numbers), single digit groups longer than 19 (tracking
numbers) and groups that only make up a PAN by splitting a longer group are never PANs.

PCI DSS allows at most the first six and the last four digits to be shown; `mask_text` never returns
more, and shows only the last four for PANs shorter than 15 digits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from retail_platform.pii import iin

_CONTEXT_WORDS = (
    "card",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "cc",
    "pan",
    "karte",
    "carte",
    "tarjeta",
)
# a number right after one of these words is that kind of number, not a card (unless a card word is near too);
# barcodes and IMEIs only at their own lengths, so "ean 4111 1111 1111 1111" is still masked
_NOT_A_CARD_WORD = re.compile(
    r"\b(ean|gtin|upc|isbn|imei|iban|tracking|sendungsnummer|parcel|colis)\W{0,4}(?:no\.?|nr\.?|number|#)?\W{0,3}$",
    re.IGNORECASE,
)
_OWN_LENGTHS = {
    "ean": {8, 13},
    "gtin": {8, 12, 13, 14},
    "upc": {12},
    "isbn": {10, 13},
    "imei": {15, 16},
}
_RUN = re.compile(r"(?<![A-Za-z0-9+])\d+(?:[ .\-]\d+)*(?![A-Za-z0-9])")
_IBAN_HEAD = re.compile(r"[A-Z]{2}\d{2}[ ]?$")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class PanMatch:
    """A PAN found in text: its span, its brand and the confidence of the finding. Never holds the digits."""

    start: int
    end: int
    brand: str
    length: int
    confidence: float


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def brand_of(digits: str) -> str | None:
    """The issuer brand whose IIN range and lengths admit these digits (`iin.ISSUERS`), or None."""
    return iin.brand_of(digits)


def is_pan(value: str) -> bool:
    """True when a whole value (separators allowed) is a PAN."""
    digits = re.sub(r"[ .\-]", "", value.strip())
    return (
        digits.isdigit()
        and iin.MIN_LENGTH <= len(digits) <= iin.MAX_LENGTH
        and luhn_valid(digits)
        and brand_of(digits) is not None
    )


def _has_context(text: str, start: int) -> bool:
    window = text[max(0, start - 40) : start].lower()
    return any(word in window for word in _CONTEXT_WORDS)


def find_pans(text: str) -> list[PanMatch]:
    """Every PAN in a text, left to right, without overlaps."""
    if not text or not any(ch.isdigit() for ch in text):
        return []
    found: list[PanMatch] = []
    for run in _RUN.finditer(text):
        if _IBAN_HEAD.search(text[max(0, run.start() - 5) : run.start()]):
            continue
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in _DIGITS.finditer(run.group())]
        if _names_another_number(text, run.start(), sum(end - start for start, end in groups)):
            continue
        # a grouped number longer than any PAN (a parcel tracking number): no PAN from its inner groups
        too_long = sum(end - start for start, end in groups) > iin.MAX_LENGTH and not _has_context(text, run.start())
        i = taken_to = 0
        while i < len(groups):
            match = _longest_pan_from(text, groups, i)
            if match is None:
                i += 1
                continue
            if groups[i][1] - groups[i][0] < 4 and i + 1 < len(groups):
                # a short number before the card ("qty 2 4111 1111 ..."): the card alone, when it reaches as far
                later = _longest_pan_from(text, groups, i + 1)
                if later is not None and later[0].end >= match[0].end:
                    match = later
            first = next(k for k, group in enumerate(groups) if group[0] == match[0].start)
            if not (too_long and _inner_groups(groups, taken_to, first)):
                found.append(match[0])
                taken_to = match[1]
            i = match[1]
    return found


def _inner_groups(groups: list[tuple[int, int]], taken_to: int, first: int) -> bool:
    """True when a match starting at groups[first] continues the grouping of the unclaimed groups before it
    (9400 5175 6848 0099 1456 22: inner groups of one long number, not a card after another number)."""
    width = groups[first][1] - groups[first][0]
    before = groups[taken_to:first]
    return bool(before) and all(end - start == width for start, end in before)


def _names_another_number(text: str, start: int, n_digits: int) -> bool:
    """True when the word before a number says it is a barcode, IBAN, IMEI or tracking number, not a card."""
    word = _NOT_A_CARD_WORD.search(text[max(0, start - 24) : start])
    if word is None or _has_context(text, start):
        return False
    lengths = _OWN_LENGTHS.get(word.group(1).lower())
    return lengths is None or n_digits in lengths


def _longest_pan_from(text: str, groups: list[tuple[int, int]], first: int) -> tuple[PanMatch, int] | None:
    best: tuple[PanMatch, int] | None = None
    digits = ""
    for last in range(first, len(groups)):
        start, end = groups[last]
        digits += text[start:end]
        if len(digits) > iin.MAX_LENGTH:
            break
        if len(digits) >= iin.MIN_LENGTH and luhn_valid(digits):
            brand = brand_of(digits)
            if brand is not None:
                span_start = groups[first][0]
                confidence = 1.0 if _has_context(text, span_start) else 0.9
                best = (PanMatch(span_start, end, brand, len(digits), confidence), last + 1)
    return best


def mask_digits(pan_text: str, policy: str = "bin_last4") -> str:
    """Mask the digits of one PAN occurrence, keeping its separators.

    `bin_last4` keeps the first six and last four digits (only the last four below 15 digits);
    `last4` keeps the last four.
    """
    digits = [c for c in pan_text if c.isdigit()]
    n = len(digits)
    keep_head = 6 if policy == "bin_last4" and n >= 15 else 0
    out: list[str] = []
    index = 0
    for ch in pan_text:
        if ch.isdigit():
            out.append(ch if index < keep_head or index >= n - 4 else "*")
            index += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_text(text: str, policy: str = "bin_last4") -> tuple[str, list[PanMatch]]:
    """The text with every PAN masked, and the matches (spans refer to the original text)."""
    matches = find_pans(text)
    if not matches:
        return text, []
    pieces: list[str] = []
    cursor = 0
    for m in matches:
        pieces.append(text[cursor : m.start])
        pieces.append(mask_digits(text[m.start : m.end], policy))
        cursor = m.end
    pieces.append(text[cursor:])
    return "".join(pieces), matches


def mask_values(values: Iterable[object], policy: str = "bin_last4") -> tuple[list[object], int]:
    """Mask PANs inside each string of a column; returns the new values and how many cells changed."""
    out: list[object] = []
    changed = 0
    for value in values:
        if isinstance(value, str) and value:
            masked, matches = mask_text(value, policy)
            changed += bool(matches)
            out.append(masked)
        else:
            out.append(value)
    return out, changed


def card_token(pan: str, key: bytes) -> str:
    """Keyed, irreversible token of a PAN (HMAC-SHA256), so one card joins across datasets unstored."""
    digits = re.sub(r"\D", "", pan)
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:32]
