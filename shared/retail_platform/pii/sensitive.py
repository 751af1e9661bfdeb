"""Card data beyond the PAN: track data, and CVV/CVC codes and expiry dates found next to a PAN.

PCI DSS forbids storing sensitive authentication data (full track, CVV2/CVC2) at all, and treats an
expiry date stored with a PAN as cardholder data. A three/four digit number on its own is not a CVV,
and a date on its own is not an expiry: both are only flagged within a short window after or before a
PAN, or when a context word names them ("cvv 123", "exp 04/27").

Findings hold spans, never the digits themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retail_platform.pii import pan

NEAR = 40  # characters between a PAN and a CVV/expiry that still count as "next to" it

# Track 1: %B<PAN>^<NAME>^<YYMM><service code>...?   Track 2: ;<PAN>=<YYMM><service code>...?
_TRACK1 = re.compile(r"%?B(\d{12,19})\^[^^\n]{2,26}\^\d{4}\d{0,3}[^?\n]*\??")
_TRACK2 = re.compile(r";?(\d{12,19})=\d{4}\d{0,3}[^?\s]*\??")
_CVV_WORD = re.compile(
    r"\b(?:cvv2?|cvc2?|cid|csc|security code|sicherheitscode|cryptogramme)\b\W{0,3}(\d{3,4})\b", re.I
)
_BARE_CODE = re.compile(r"(?<![\d/.\-:])(\d{3,4})(?![\d/.\-:])")
_EXPIRY_WORD = re.compile(r"\b(?:exp(?:iry|ires|\.)?|valid thru|gültig bis|expiration)\b\W{0,3}", re.I)
_EXPIRY = re.compile(r"(?<!\d)(0[1-9]|1[0-2])\s?[/\-]\s?(\d{2}|20\d{2})(?![\d/])")


@dataclass(frozen=True)
class Finding:
    """One piece of card data in a text: kind (pan, track1, track2, cvv, expiry), span and confidence."""

    kind: str
    start: int
    end: int
    brand: str | None
    confidence: float


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def find_card_data(text: str) -> list[Finding]:
    """PANs, track data, and CVVs/expiry dates next to a PAN (or named by a context word), by position."""
    if not text or not any(ch.isdigit() for ch in text):
        return []
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (("track1", _TRACK1), ("track2", _TRACK2)):
        for m in pattern.finditer(text):
            digits = m.group(1)
            if pan.luhn_valid(digits) and pan.brand_of(digits) and not _overlaps(m.span(), taken):
                findings.append(Finding(kind, m.start(), m.end(), pan.brand_of(digits), 1.0))
                taken.append(m.span())
    pans = [p for p in pan.find_pans(text) if not _overlaps((p.start, p.end), taken)]
    for p in pans:
        findings.append(Finding("pan", p.start, p.end, p.brand, p.confidence))
        taken.append((p.start, p.end))
    anchors = [(p.start, p.end) for p in pans]

    def near_pan(start: int, end: int) -> bool:
        return any(-NEAR <= start - a_end <= NEAR or -NEAR <= a_start - end <= NEAR for a_start, a_end in anchors)

    for m in _CVV_WORD.finditer(text):
        span = m.span(1)
        if not _overlaps(span, taken):
            findings.append(Finding("cvv", *span, None, 1.0 if anchors else 0.8))
            taken.append(span)
    for m in _EXPIRY.finditer(text):
        span = m.span()
        if _overlaps(span, taken):
            continue
        named = _EXPIRY_WORD.search(text[max(0, span[0] - 14) : span[0]]) is not None
        if named or near_pan(*span):
            findings.append(Finding("expiry", *span, None, 1.0 if named and anchors else 0.8))
            taken.append(span)
    if anchors:
        for m in _BARE_CODE.finditer(text):
            span = m.span(1)
            if not _overlaps(span, taken) and near_pan(*span):
                findings.append(Finding("cvv", *span, None, 0.7))
                taken.append(span)
    return sorted(findings, key=lambda f: f.start)


def mask_card_data(text: str, policy: str = "bin_last4") -> tuple[str, list[Finding]]:
    """The text with PANs masked by policy, and track data, CVVs and expiry dates replaced by asterisks."""
    findings = find_card_data(text)
    if not findings:
        return text, []
    pieces: list[str] = []
    cursor = 0
    for f in findings:
        pieces.append(text[cursor : f.start])
        chunk = text[f.start : f.end]
        if f.kind == "pan":
            pieces.append(pan.mask_digits(chunk, policy))
        else:
            pieces.append(re.sub(r"[0-9A-Za-z]", "*", chunk))
        cursor = f.end
    pieces.append(text[cursor:])
    return "".join(pieces), findings
