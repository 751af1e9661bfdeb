"""Country names and aliases (ISO 3166 via pycountry, plus the names people and exports use)."""

from __future__ import annotations

import re
from functools import cache

EXTRA_ALIASES = {
    "GB": ("uk", "u.k.", "britain", "great britain", "england", "united kingdom"),
    "US": ("usa", "u.s.", "u.s.a.", "america", "united states", "the states"),
    "NL": ("holland", "the netherlands", "netherlands"),
    "IE": ("eire", "ireland"),
    "DE": ("germany", "deutschland"),
    "CH": ("switzerland", "swiss"),
    "CZ": ("czechia", "czech republic"),
    "KR": ("south korea", "korea"),
    "RU": ("russia",),
    "ZA": ("south africa", "rsa"),
    "AE": ("uae", "united arab emirates"),
    "TW": ("taiwan",),
}
DEMONYMS = {
    "DE": "german",
    "FR": "french",
    "ES": "spanish",
    "IT": "italian",
    "GB": "british",
    "NL": "dutch",
    "AT": "austrian",
    "BE": "belgian",
    "PL": "polish",
    "SE": "swedish",
    "PT": "portuguese",
}


@cache
def _world() -> dict[str, str]:
    """Lower-case name -> alpha-2 for every country in ISO 3166 (plus the extra aliases)."""
    import pycountry

    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names[value.lower()] = country.alpha_2
                short = re.sub(r",.*$", "", value).strip().lower()  # "Korea, Republic of" -> "korea"
                names.setdefault(short, country.alpha_2)
    for code, aliases in EXTRA_ALIASES.items():
        for alias in aliases:
            names[alias] = code
    return names


def country_name(code: str) -> str:
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    if found is None:
        return code
    return getattr(found, "common_name", None) or found.name


def country_aliases(codes: dict[str, str]) -> dict[str, str]:
    """Lower-case alias -> code, for the countries in the data only."""
    aliases: dict[str, str] = {}
    wanted = set(codes)
    for name, code in _world().items():
        if code in wanted:
            aliases[name] = code
    for code, name in codes.items():
        aliases[name.lower()] = code
        if code in DEMONYMS:
            aliases[DEMONYMS[code]] = code
    return aliases


@cache
def _world_index() -> dict[str, tuple[str, ...]]:
    """Names of 4+ characters by their first 4 characters, longest first (ties in _world() order)."""
    index: dict[str, list[str]] = {}
    for name in sorted((n for n in _world() if len(n) >= 4), key=len, reverse=True):
        index.setdefault(name[:4], []).append(name)
    return {prefix: tuple(names) for prefix, names in index.items()}


def _letter(ch: str) -> bool:
    return "a" <= ch <= "z"


def alias_pattern(aliases: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a set of names, longest first, whole words only."""
    names = sorted(aliases, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(n) for n in names) + r")(?![a-z0-9])")


def world_mentions(text: str) -> list[tuple[str, str, tuple[int, int]]]:
    """(name, code, span) of every country of the world named in a lower-case text.

    The same matches, left to right and without overlaps, as one regex `(?<![a-z])(name|...)(?![a-z])` over
    the names of 4+ characters, longest first; but a lookup by a name's first 4 characters instead of that
    regex, whose ~450 alternatives took ~40 ms to compile on every cold start.
    """
    world, index = _world(), _world_index()
    found: list[tuple[str, str, tuple[int, int]]] = []
    i, n = 0, len(text)
    while i < n:
        if i == 0 or not _letter(text[i - 1]):
            for name in index.get(text[i : i + 4], ()):
                end = i + len(name)
                if text.startswith(name, i) and (end == n or not _letter(text[end])):
                    found.append((name, world[name], (i, end)))
                    i = end
                    break
            else:
                i += 1
            continue
        i += 1
    return found
