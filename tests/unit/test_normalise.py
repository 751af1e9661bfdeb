"""Normalisers: countries, currencies, e-mails and booleans from real exports' spellings."""

from __future__ import annotations

import pytest

from retail_platform import normalise


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("United Kingdom", "GB"),
        ("EIRE", "IE"),
        ("RSA", "ZA"),
        ("USA", "US"),
        ("deu", "DE"),
        (" fr ", "FR"),
        ("Channel Islands", "JE"),
        ("European Community", "EU"),
        ("Deutschland", "DE"),
        ("Atlantis", None),
        ("", None),
        ("Unspecified", None),
    ],
)
def test_country_codes(value, code):
    assert normalise.country_code(value) == code


@pytest.mark.parametrize(("value", "code"), [("gbp", "GBP"), ("€", "EUR"), ("XYZ", None), ("usd ", "USD")])
def test_currency_codes(value, code):
    assert normalise.currency_code(value) == code


def test_text_email_boolean():
    assert normalise.clean_text("  two   words ") == "two words"
    assert normalise.clean_text("   ") is None
    assert normalise.email(" A@B.Example ") == "a@b.example"
    assert normalise.email("not-an-email") is None
    assert [normalise.boolean(v) for v in ("Yes", "n", "1", "maybe")] == [True, False, True, None]
