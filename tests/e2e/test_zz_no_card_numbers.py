"""After every other e2e test (this module sorts last): no full card number in what the images wrote or logged.

The card numbers the e2e inputs carry (every event file, the sample's payments and notes, the published test
cards) are collected; then every `sam local invoke` response and log of the session and every object the images
left in the moto server's buckets (raw buckets excepted: that is where card data arrives; so are objects a test
planted with card data as an audit's input, `harness.PLANTED`) are searched for them.
"""

from __future__ import annotations

import io
import re

import pandas as pd

from retail_platform.pii import pan
from tests.e2e import harness
from tests.support import EVENTS, ROOT

# digits, or groups of 3+ digits joined by one space, dot or dash (as card numbers are written); not lists of
# single digits such as "4 0 0 0 0" in a model file
DIGIT_RUNS = re.compile(r"\d+(?:[ .\-]\d{3,})*")


def digit_strings(text: str) -> set[str]:
    return {re.sub(r"\D", "", run) for run in DIGIT_RUNS.findall(text)}


def card_numbers_in(text: str) -> set[str]:
    return {d for d in digit_strings(text) if 12 <= len(d) <= 19 and pan.is_pan(d)}


def masked(hits: set[str]) -> list[str]:
    """What the failure message may show of a hit: its first six digits (never a full card number)."""
    return sorted(h[:6] + "…" for h in hits)[:3]


def known_card_numbers() -> set[str]:
    found: set[str] = set()
    for path in sorted(EVENTS.rglob("*.json")):
        found |= card_numbers_in(path.read_text(encoding="utf-8"))
    cards = ROOT / "tests" / "data" / "pci" / "test_cards.csv"
    if cards.exists():
        found |= card_numbers_in(cards.read_text(encoding="utf-8"))
    return found


def leaks(text: str, cards: set[str]) -> set[str]:
    hits: set[str] = set()
    for digits in digit_strings(text):
        for length in range(12, min(len(digits), 19) + 1):
            hits |= {digits[i : i + length] for i in range(len(digits) - length + 1)} & cards
    return hits


def readable(key: str, body: bytes) -> str:
    if key.endswith(".parquet"):
        frame = pd.read_parquet(io.BytesIO(body))
        return "\n".join(frame[c].dropna().astype(str).str.cat(sep="\n") for c in frame.columns)
    return body.decode("utf-8", errors="replace")


def test_no_full_card_number_in_any_response_log_or_output(moto_server):
    cards = known_card_numbers()
    assert len(cards) >= 3  # the compliance events really carry card numbers to look for
    assert len(harness.TRANSCRIPTS) >= 20  # the session invoked the images
    found = {what: masked(hits) for what, text in harness.TRANSCRIPTS if (hits := leaks(text, cards))}
    s3 = moto_server.client("s3")
    scanned = 0
    for bucket in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        if bucket.endswith("raw"):
            continue
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                if (bucket, item["Key"]) in harness.PLANTED:
                    continue
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                scanned += 1
                if hits := leaks(readable(item["Key"], body), cards):
                    found[f"s3://{bucket}/{item['Key']}"] = masked(hits)
    assert scanned > 100
    assert not found, f"full card numbers in: {dict(sorted(found.items())[:20])}"
