"""Card-number detection and masking against published test cards and Presidio's cases."""

from __future__ import annotations

import csv
import json

import pytest

from retail_platform.pii import pan
from tests.support import DATA

PCI = DATA / "pci"
CARDS = list(csv.DictReader((PCI / "test_cards.csv").open(encoding="utf-8")))


@pytest.mark.parametrize("card", CARDS, ids=lambda c: f"{c['brand']}-{c['digits']}")
def test_published_test_cards(card):
    assert pan.is_pan(card["number"]) == (card["expected_pan"] == "True")


@pytest.mark.parametrize("name", ["presidio_unit_cases", "hard_negatives"])
def test_exact_spans(name):
    for line in (PCI / f"{name}.jsonl").read_text().splitlines():
        case = json.loads(line)
        assert [[m.start, m.end] for m in pan.find_pans(case["text"])] == case["credit_card_spans"], case["text"]


@pytest.mark.parametrize(
    "text",
    [
        "IBAN DE89 3704 0044 0532 0130 00",
        "IBAN GB82WEST12345698765432",
        "call +44 20 7946 0958 or +1 425 882 9090",
        "order 100023456789 shipped",
        "tracking 9400111899223197428490",
        "placed 2023-11-24 10:22:31",
        "SKU ABC4111111111111111",
    ],
)
def test_look_alikes_are_not_masked(text):
    assert pan.mask_text(text) == (text, [])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 4111 1111 1111 1111", "card 4111 11** **** 1111"),
        ("mc 2221-0000-0000-0009", "mc 2221-00**-****-0009"),
        ("amex 378282246310005.", "amex 378282*****0005."),
        ("unionpay 6205500000000000004", "unionpay 620550*********0004"),
        ("maestro 6759.6498.2643.8453", "maestro 6759.64**.****.8453"),
        ("diners 36227206271667", "diners **********1667"),
    ],
)
def test_masking_keeps_at_most_first_six_and_last_four(text, masked):
    assert pan.mask_text(text)[0] == masked


def test_last4_policy_and_token():
    assert pan.mask_digits("4111111111111111", policy="last4") == "************1111"
    token = pan.card_token("4111 1111 1111 1111", b"k")
    assert token == pan.card_token("4111-1111-1111-1111", b"k") != pan.card_token("4111111111111111", b"other")
    assert "4111" not in token
