"""Static facts about the shop's markets: currency, time zone, cities, postcodes, IP ranges, names."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHOP_TIMEZONE = "Europe/Berlin"  # the shop system writes naive local timestamps in this zone


@dataclass(frozen=True)
class CountryInfo:
    """One market the shop sells into."""

    code: str
    alpha3: str
    name: str
    currency: str
    timezone: str
    demand_scale: float  # relative market size
    price_factor: float  # local shelf price = base EUR price x this factor (before rounding)
    cities: tuple[tuple[str, str], ...]  # (city, postcode prefix)
    postcode_style: str
    ip_octets: tuple[int, ...]
    phone: str  # phone number template, '#' = random digit
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    email_domains: tuple[str, ...]


COUNTRIES: dict[str, CountryInfo] = {
    c.code: c
    for c in (
        CountryInfo(
            "GB",
            "GBR",
            "United Kingdom",
            "GBP",
            "Europe/London",
            1.00,
            0.90,
            (
                ("London", "SW1A"),
                ("Manchester", "M1"),
                ("Birmingham", "B15"),
                ("Leeds", "LS6"),
                ("Glasgow", "G12"),
            ),
            "gb",
            (81, 86, 92, 109),
            "+44 7### ######",
            ("oliver", "amelia", "harry", "isla", "jack", "emily"),
            ("smith", "jones", "taylor", "brown", "wilson", "evans"),
            ("gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk"),
        ),
        CountryInfo(
            "DE",
            "DEU",
            "Germany",
            "EUR",
            "Europe/Berlin",
            0.90,
            1.00,
            (("München", "80"), ("Köln", "50"), ("Düsseldorf", "40"), ("Berlin", "10"), ("Nürnberg", "90")),
            "de",
            (84, 87, 91, 93),
            "+49 1## #######",
            ("lukas", "mia", "jonas", "hanna", "felix", "lea"),
            ("mueller", "schmidt", "schneider", "fischer", "weber", "wagner"),
            ("gmx.de", "web.de", "t-online.de", "gmail.com"),
        ),
        CountryInfo(
            "FR",
            "FRA",
            "France",
            "EUR",
            "Europe/Paris",
            0.60,
            1.02,
            (("Besançon", "25"), ("Paris", "75"), ("Orléans", "45"), ("Lyon", "69"), ("Nîmes", "30")),
            "fr",
            (82, 88, 90),
            "+33 6 ## ## ## ##",
            ("gabriel", "louise", "raphael", "jade", "arthur", "chloe"),
            ("martin", "bernard", "dubois", "thomas", "robert", "richard"),
            ("orange.fr", "free.fr", "gmail.com", "laposte.net"),
        ),
        CountryInfo(
            "ES",
            "ESP",
            "Spain",
            "EUR",
            "Europe/Madrid",
            0.40,
            0.97,
            (("Málaga", "29"), ("Córdoba", "14"), ("Cádiz", "11"), ("Madrid", "28"), ("A Coruña", "15")),
            "es",
            (83, 88, 95),
            "+34 6## ### ###",
            ("hugo", "lucia", "mateo", "sofia", "martin", "paula"),
            ("garcia", "fernandez", "gonzalez", "rodriguez", "lopez", "martinez"),
            ("gmail.com", "hotmail.es", "telefonica.net"),
        ),
        CountryInfo(
            "IT",
            "ITA",
            "Italy",
            "EUR",
            "Europe/Rome",
            0.45,
            1.00,
            (("Forlì", "47"), ("Cantù", "22"), ("Roma", "00"), ("Milano", "20"), ("Napoli", "80")),
            "it",
            (79, 87, 93),
            "+39 3## ### ####",
            ("leonardo", "sofia", "francesco", "giulia", "lorenzo", "aurora"),
            ("rossi", "russo", "ferrari", "esposito", "bianchi", "romano"),
            ("libero.it", "gmail.com", "virgilio.it", "tiscali.it"),
        ),
        CountryInfo(
            "NL",
            "NLD",
            "Netherlands",
            "EUR",
            "Europe/Amsterdam",
            0.30,
            1.01,
            (
                ("Amsterdam", "10"),
                ("Utrecht", "35"),
                ("'s-Hertogenbosch", "52"),
                ("Rotterdam", "30"),
                ("Den Haag", "25"),
            ),
            "nl",
            (77, 80, 145),
            "+31 6 ########",
            ("daan", "emma", "sem", "julia", "lucas", "tess"),
            ("de jong", "jansen", "de vries", "van dijk", "bakker", "visser"),
            ("ziggo.nl", "kpnmail.nl", "gmail.com", "hotmail.nl"),
        ),
        CountryInfo(
            "US",
            "USA",
            "United States",
            "USD",
            "America/New_York",
            0.50,
            1.12,
            (
                ("New York", "100"),
                ("San José", "951"),
                ("Chicago", "606"),
                ("Austin", "787"),
                ("Seattle", "981"),
            ),
            "us",
            (24, 50, 66, 73, 98),
            "+1 (###) 555-01##",
            ("liam", "olivia", "noah", "emma", "james", "ava"),
            ("johnson", "williams", "miller", "davis", "garcia", "moore"),
            ("gmail.com", "yahoo.com", "aol.com", "icloud.com"),
        ),
        CountryInfo(
            "SE",
            "SWE",
            "Sweden",
            "SEK",
            "Europe/Stockholm",
            0.20,
            11.9,
            (("Malmö", "21"), ("Göteborg", "41"), ("Västerås", "72"), ("Stockholm", "11"), ("Uppsala", "75")),
            "se",
            (78, 83, 94),
            "+46 7# ### ## ##",
            ("william", "alice", "oscar", "maja", "elias", "ella"),
            ("andersson", "johansson", "karlsson", "nilsson", "eriksson", "larsson"),
            ("telia.com", "gmail.com", "bredband.net", "hotmail.se"),
        ),
    )
}

# Countries outside the shop's markets: card issuers and IP origins of fraudsters and travellers.
FOREIGN_IP_OCTETS: dict[str, tuple[int, ...]] = {
    "RO": (86, 188),
    "NG": (102, 105),
    "BR": (177, 187),
    "VN": (14, 113),
    "UA": (91, 176),
    "ID": (36, 110),
    "RU": (95, 178),
    "PH": (49, 112),
}
FOREIGN_CARD_COUNTRIES: tuple[str, ...] = ("BR", "CA", "MX", "TR", "AU", "IN")

CURRENCY_BY_COUNTRY = {c.code: c.currency for c in COUNTRIES.values()}


def check_countries(codes: tuple[str, ...]) -> tuple[CountryInfo, ...]:
    """The CountryInfo of each code, failing fast on markets the generator does not know."""
    unknown = [c for c in codes if c not in COUNTRIES]
    if unknown:
        raise ValueError(f"unsupported countries {unknown}; known: {sorted(COUNTRIES)}")
    if len(set(codes)) != len(codes):
        raise ValueError(f"duplicate countries in {codes}")
    return tuple(COUNTRIES[c] for c in codes)


def fill_digits(template: str, rng: np.random.Generator) -> str:
    """Replace every '#' in template with a random digit."""
    digits = rng.integers(0, 10, size=template.count("#"))
    it = iter(digits)
    return "".join(str(next(it)) if ch == "#" else ch for ch in template)


def random_ip(octets: tuple[int, ...], rng: np.random.Generator) -> str:
    """A random IPv4 address in one of the given /8 blocks."""
    a = octets[int(rng.integers(len(octets)))]
    b, c, d = rng.integers(0, 256, size=3)
    return f"{a}.{b}.{c}.{max(int(d), 1)}"


def random_postcode(info: CountryInfo, prefix: str, rng: np.random.Generator) -> str:
    """A postcode in the country's style starting with the city's prefix."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    r = rng.integers(0, 10, size=4)
    l1, l2 = (letters[int(i)] for i in rng.integers(0, len(letters), size=2))
    style = info.postcode_style
    if style == "gb":
        return f"{prefix} {r[0]}{l1}{l2}"
    if style == "nl":
        return f"{prefix}{r[0]}{r[1]} {l1}{l2}"
    if style == "se":
        return f"{prefix}{r[0]} {r[1]}{r[2]}"
    if style == "us":
        return f"{prefix}{r[0]}{r[1]}"
    if style == "fr":
        return f"{prefix}0{r[0]}{r[1]}"
    return f"{prefix}{r[0]}{r[1]}{r[2]}"  # de, es, it: 5 digits
