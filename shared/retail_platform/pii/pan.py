"""Primary account number (PAN) detection and masking, for structured values and free text.

A candidate is a run of 12-19 digits, optionally grouped by single spaces, dashes or dots. It is a PAN
when it passes Luhn, starts with a known issuer prefix and has a length that issuer uses. Runs glued to
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

# (brand, prefix ranges as (low, high) over the first N digits, allowed lengths)
_ISSUERS: tuple[tuple[str, tuple[tuple[str, str], ...], frozenset[int]], ...] = (
    ("amex", (("34", "34"), ("37", "37")), frozenset({15})),
    ("visa", (("4", "4"),), frozenset({13, 16, 19})),
    ("mastercard", (("51", "55"), ("2221", "2720")), frozenset({16})),
    ("discover", (("6011", "6011"), ("644", "649"), ("65", "65")), frozenset(range(16, 20))),
    ("jcb", (("3528", "3589"),), frozenset(range(16, 20))),
    ("diners", (("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")), frozenset(range(14, 20))),
    ("unionpay", (("62", "62"), ("81", "81")), frozenset(range(16, 20))),
    ("maestro", (("50", "50"), ("56", "69")), frozenset(range(12, 20))),
    ("uatp", (("1", "1"),), frozenset({15})),
)

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
    """The issuer brand whose prefix range and lengths admit these digits, or None."""
    for brand, ranges, lengths in _ISSUERS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            head = digits[: len(low)]
            if low <= head <= high:
                return brand
    return None


def is_pan(value: str) -> bool:
    """True when a whole value (separators allowed) is a PAN."""
    digits = re.sub(r"[ .\-]", "", value.strip())
    return digits.isdigit() and 12 <= len(digits) <= 19 and luhn_valid(digits) and brand_of(digits) is not None


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
        i = 0
        while i < len(groups):
            match = _longest_pan_from(text, groups, i)
            if match is None:
                i += 1
                continue
            found.append(match[0])
            i = match[1]
    return found


def _longest_pan_from(text: str, groups: list[tuple[int, int]], first: int) -> tuple[PanMatch, int] | None:
    best: tuple[PanMatch, int] | None = None
    digits = ""
    for last in range(first, len(groups)):
        start, end = groups[last]
        digits += text[start:end]
        if len(digits) > 19:
            break
        if len(digits) >= 12 and luhn_valid(digits):
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
