"""Value normalisers shared by every stage: countries, currencies, e-mails, booleans, text."""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

# Names that exports use and ISO 3166 does not (UCI Online Retail says EIRE and RSA, shops say UK).
COUNTRY_ALIASES = {
    "EIRE": "IE",
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERN IRELAND": "GB",
    "RSA": "ZA",
    "USA": "US",
    "U.S.A.": "US",
    "UNITED STATES OF AMERICA": "US",
    "CHANNEL ISLANDS": "JE",
    "EUROPEAN COMMUNITY": "EU",
    "CZECH REPUBLIC": "CZ",
    "KOREA": "KR",
    "SOUTH KOREA": "KR",
    "RUSSIA": "RU",
    "DEUTSCHLAND": "DE",
    "ALLEMAGNE": "DE",
    "FRANKREICH": "FR",
    "ESPAÑA": "ES",
    "ESPANA": "ES",
    "ITALIA": "IT",
    "NEDERLAND": "NL",
    "SVERIGE": "SE",
    "ÖSTERREICH": "AT",
    "OESTERREICH": "AT",
    "SCHWEIZ": "CH",
    "SUISSE": "CH",
    "BELGIQUE": "BE",
    "BELGIË": "BE",
    "DANMARK": "DK",
    "NORGE": "NO",
    "POLSKA": "PL",
}
# Codes that are not countries but that exports legitimately use as a market.
EXTRA_COUNTRY_CODES = {"EU"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_SPACES = re.compile(r"\s+")
TRUE_WORDS = {"true", "t", "yes", "y", "1", "ja", "oui", "si", "x"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "nein", "non"}


@lru_cache(maxsize=4096)
def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a country name, alpha-2/alpha-3 code or alias; None if unknown."""
    text = _SPACES.sub(" ", value).strip()
    if not text:
        return None
    upper = text.upper()
    if upper in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[upper]
    if upper in EXTRA_COUNTRY_CODES:
        return upper
    if len(upper) == 2:
        found = pycountry.countries.get(alpha_2=upper)
        return found.alpha_2 if found else None
    if len(upper) == 3:
        found = pycountry.countries.get(alpha_3=upper)
        if found:
            return found.alpha_2
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


@lru_cache(maxsize=1024)
def currency_code(value: str) -> str | None:
    """ISO 4217 code, from a code or a currency symbol we are sure of; None if unknown."""
    text = value.strip().upper()
    symbols = {"€": "EUR", "£": "GBP", "$": "USD", "US$": "USD", "KR": "SEK"}
    if text in symbols:
        return symbols[text]
    return text if len(text) == 3 and pycountry.currencies.get(alpha_3=text) else None


def clean_text(value: str) -> str | None:
    """Trim and collapse inner whitespace; empty becomes None."""
    text = _SPACES.sub(" ", value).strip()
    return text or None


def email(value: str) -> str | None:
    text = value.strip().lower()
    return text if _EMAIL.match(text) else None


def boolean(value: str) -> bool | None:
    text = value.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None
