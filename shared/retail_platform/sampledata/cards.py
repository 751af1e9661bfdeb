"""Card numbers: Luhn, issuer BINs per country, PAN generation, notes that leak PANs or only look like it."""

from __future__ import annotations

import re

import numpy as np

# (brand, IIN prefixes, possible lengths)
BRANDS: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = (
    ("visa", ("4",), (16, 16, 16, 13, 19)),
    ("mastercard", ("51", "52", "53", "54", "55", "2221", "2306", "2720"), (16,)),
    ("amex", ("34", "37"), (15,)),
    ("discover", ("6011", "644", "65"), (16, 19)),
    ("maestro", ("5018", "5020", "6304", "6759"), (13, 16, 17, 18, 19)),
    ("jcb", ("3528", "3540", "3589"), (16, 17, 18, 19)),
    ("diners", ("36", "38"), (14,)),
    ("unionpay", ("62",), (16, 17, 18, 19)),
)
BRAND_SHARE = {"visa": 0.55, "mastercard": 0.35, "other": 0.10}

# Published test card numbers (Stripe/Datatrans docs), 13-19 digits, several brands.
KNOWN_TEST_PANS: tuple[str, ...] = (
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "4222222222222",
    "5555555555554444",
    "2223003122003222",
    "5105105105105100",
    "2221000000000009",
    "378282246310005",
    "371449635398431",
    "6011000990139424",
    "6011111111111117",
    "30569309025904",
    "36227206271667",
    "3566002020360505",
    "3530111333300000",
    "6200000000000005",
    "6205500000000000004",
    "6759649826438453",
    "5019717010103742",
)

LEAK_TEMPLATES: tuple[str, ...] = (
    "Please charge my card {pan} instead, exp 08/27",
    "customer called: new card {pan} cvv given by phone",
    "Zahlung bitte mit Karte {pan} durchführen",
    "CC {pan} - deliver to neighbour if not home",
    "Merci de débiter la carte {pan}",
    "card no. {pan} (old one expired)",
    "Pls use {pan}. Thanks!",
    "gift order, pay with {pan} exp 11/26 name on card J. Doe",
)
BENIGN_NOTES: tuple[str, ...] = (
    "Please leave the parcel with the neighbour",
    "Gift wrap please",
    "Deliver after 5pm",
    "Bitte beim Nachbarn abgeben",
    "Livrer chez le gardien",
    "No plastic packaging please",
    "Ring twice",
    "Birthday present - no invoice in the box",
    "Entregar en conserjería",
    "Leave at the back door",
    "Lasciare al portiere",
    "Please call before delivery",
)
LOOKALIKE_TEMPLATES: tuple[str, ...] = (
    "Reorder of order {order}, same address",
    "Call me on {phone} before delivery",
    "Refund to IBAN {iban} please",
    "Tracking {tracking} shows delivered but nothing arrived",
    "Gift card {giftcard} did not work at checkout",
    "Customer ref {order} / phone {phone}",
)


def luhn_check_digit(partial: str) -> str:
    """The digit that makes partial + digit pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when the digits of number pass the Luhn check."""
    digits = re.sub(r"\D", "", number)
    return len(digits) > 1 and luhn_check_digit(digits[:-1]) == digits[-1]


def random_digits(n: int, rng: np.random.Generator) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, size=n))


def make_pan(bin6: str, length: int, rng: np.random.Generator) -> str:
    """A Luhn-valid PAN starting with the BIN."""
    body = bin6 + random_digits(length - len(bin6) - 1, rng)
    return body + luhn_check_digit(body)


def build_bin_table(countries: tuple[str, ...], rng: np.random.Generator) -> dict[str, list[tuple[str, str, int]]]:
    """Per issuing country: a few (bin6, brand, length) issuer ranges, unique across countries."""
    table: dict[str, list[tuple[str, str, int]]] = {}
    used: set[str] = set()
    others = [b for b in BRANDS if b[0] not in ("visa", "mastercard")]
    for code in countries:
        entries: list[tuple[str, str, int]] = []
        picks = [BRANDS[0]] * 4 + [BRANDS[1]] * 3 + [others[int(rng.integers(len(others)))]]
        for brand, prefixes, lengths in picks:
            while True:
                prefix = prefixes[int(rng.integers(len(prefixes)))]
                bin6 = prefix + random_digits(6 - len(prefix), rng)
                if bin6 not in used:
                    break
            used.add(bin6)
            entries.append((bin6, brand, int(lengths[int(rng.integers(len(lengths)))])))
        table[code] = entries
    return table


def issue_card(table: dict[str, list[tuple[str, str, int]]], country: str, rng: np.random.Generator) -> str:
    """A new PAN issued in country (Visa/Mastercard mostly)."""
    entries = table[country]
    u = rng.random()
    pool = (
        [e for e in entries if e[1] == "visa"]
        if u < BRAND_SHARE["visa"]
        else [e for e in entries if e[1] == "mastercard"]
        if u < 1 - BRAND_SHARE["other"]
        else [e for e in entries if e[1] not in ("visa", "mastercard")]
    )
    bin6, _, length = pool[int(rng.integers(len(pool)))]
    return make_pan(bin6, length, rng)


def format_pan(pan: str, style: str) -> str:
    """Write a PAN as a person would: plain, in groups separated by spaces or dashes."""
    if style == "plain":
        return pan
    four_six_rest = len(pan) in (14, 15)  # Diners 4-6-4, Amex 4-6-5
    groups = [pan[:4], pan[4:10], pan[10:]] if four_six_rest else [pan[i : i + 4] for i in range(0, len(pan), 4)]
    return (" " if style == "spaces" else "-").join(groups)


def leaked_pan(rng: np.random.Generator) -> tuple[str, str, str]:
    """(note text, the PAN as written in it, its digits): a known test PAN or a freshly generated one."""
    if rng.random() < 0.4:
        pan = KNOWN_TEST_PANS[int(rng.integers(len(KNOWN_TEST_PANS)))]
    else:
        _, prefixes, lengths = BRANDS[int(rng.integers(len(BRANDS)))]
        prefix = prefixes[int(rng.integers(len(prefixes)))]
        length = int(lengths[int(rng.integers(len(lengths)))])
        pan = make_pan(prefix + random_digits(6 - len(prefix), rng), length, rng)
    written = format_pan(pan, str(rng.choice(["plain", "spaces", "dashes"], p=[0.4, 0.4, 0.2])))
    text = LEAK_TEMPLATES[int(rng.integers(len(LEAK_TEMPLATES)))].format(pan=written)
    return text, written, pan


PAN_LIKE_RUN = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")


def contains_luhn_run(text: str) -> bool:
    """True when text has a 13-19 digit run (single spaces/dashes allowed) that passes Luhn."""
    return any(luhn_valid(m.group()) for m in PAN_LIKE_RUN.finditer(text))


def iban(country: str, rng: np.random.Generator) -> str:
    """A checksum-valid IBAN (DE/NL/GB/FR shapes), printed in groups of four."""
    bban = {
        "DE": lambda: random_digits(18, rng),
        "NL": lambda: "INGB" + random_digits(10, rng),
        "GB": lambda: "NWBK" + random_digits(14, rng),
        "FR": lambda: random_digits(23, rng),
    }[country]()
    rearranged = bban + country + "00"
    num = "".join(str(int(ch, 36)) for ch in rearranged)
    check = 98 - int(num) % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def lookalike_note(order_no: str, phone: str, rng: np.random.Generator) -> str:
    """A note full of numbers that are NOT card numbers (order ids, phones, IBAN, tracking, bad-Luhn)."""
    while True:
        giftcard_body = "6" + random_digits(15, rng)
        giftcard = giftcard_body[:-1] + str((int(luhn_check_digit(giftcard_body[:-1])) + 1 + int(rng.integers(9))) % 10)
        text = LOOKALIKE_TEMPLATES[int(rng.integers(len(LOOKALIKE_TEMPLATES)))].format(
            order=order_no,
            phone=phone,
            iban=iban(str(rng.choice(["DE", "NL", "GB", "FR"])), rng),
            tracking="1Z" + random_digits(2, rng) + "X" + random_digits(13, rng),
            giftcard=" ".join(giftcard[i : i + 4] for i in range(0, 16, 4)),
        )
        if not contains_luhn_run(text):
            return text
