"""Writes lookalikes.jsonl: sentences full of numbers that are not card numbers (run once, seeded; kept for
the record). IBANs carry valid ISO 13616 check digits for each country's published BBAN shape; phone numbers,
order ids, parcel tracking numbers, barcodes and timestamps follow their public formats. The digits are random,
NOT filtered by Luhn: about one in ten long runs passes Luhn by chance, as real ones do.

    python tests/data/pci/make_lookalikes.py > tests/data/pci/lookalikes.jsonl
"""

from __future__ import annotations

import json
import random
import string

rng = random.Random(15)
# country -> BBAN shape: n = digits, a = capital letters, c = alphanumerics (SWIFT IBAN registry)
BBAN = {
    "DE": "18n",
    "GB": "4a14n",
    "FR": "10n11c2n",
    "NL": "4a10n",
    "ES": "20n",
    "IT": "1a10n12c",
    "BE": "12n",
    "PL": "24n",
    "AT": "16n",
    "CH": "5n12c",
    "NO": "11n",
    "SE": "20n",
    "PT": "21n",
    "IE": "4a14n",
    "DK": "14n",
    "FI": "14n",
    "CZ": "20n",
    "HU": "24n",
    "RO": "4a16c",
    "GR": "7n16c",
}


def shape(spec: str) -> str:
    out, num = [], ""
    for ch in spec:
        if ch.isdigit():
            num += ch
            continue
        pool = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}[ch]
        out.append("".join(rng.choice(pool) for _ in range(int(num))))
        num = ""
    return "".join(out)


def iban() -> str:
    country = rng.choice(sorted(BBAN))
    bban = shape(BBAN[country])
    check = 98 - int("".join(str(int(ch, 36)) for ch in bban + country + "00")) % 97
    raw = f"{country}{check:02d}{bban}"
    return rng.choice([raw, " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))])


def digits(n: int, first: str = string.digits) -> str:
    return rng.choice(first) + "".join(rng.choice(string.digits) for _ in range(n - 1))


def phone() -> str:
    return rng.choice(
        [
            lambda: f"+49 151 {digits(8)}",
            lambda: f"+4915{digits(9)}",
            lambda: f"+1 ({digits(3, '23456789')}) {digits(3)}-{digits(4)}",
            lambda: f"+44 20 {digits(4)} {digits(4)}",
            lambda: f"+86 138 {digits(4)} {digits(4)}",
            lambda: f"0049 {digits(3, '1')} {digits(8)}",
            lambda: f"00 33 {digits(1, '67')} {digits(2)} {digits(2)} {digits(2)} {digits(2)}",
            lambda: f"1-800-{digits(3)}-{digits(4)}",
            lambda: f"(0{digits(2)}) {digits(4)} {digits(4)}",
            lambda: f"+91 {digits(5, '6789')} {digits(5)}",
            lambda: f"+55 11 9{digits(4)}-{digits(4)}",
        ]
    )()


def order_id() -> str:
    return rng.choice(
        [
            lambda: f"{digits(3, '1234')}-{digits(7)}-{digits(7)}",  # marketplace style 3-7-7
            lambda: f"#{digits(rng.randint(4, 7), '123456789')}",
            lambda: f"{rng.randint(2019, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{digits(6)}",
            lambda: f"ORD-{rng.randint(2019, 2026)}-{digits(6)}",
            lambda: f"1000{digits(rng.randint(6, 9))}",
            lambda: f"{digits(2, '1')}-{digits(5)}-{digits(5)}",  # auction site style
        ]
    )()


def tracking() -> str:
    return rng.choice(
        [
            lambda: "9400 " + " ".join(digits(4) for _ in range(4)) + " " + digits(2),  # USPS 22
            lambda: "9205 " + " ".join(digits(4) for _ in range(4)) + " " + digits(2),
            lambda: "92" + digits(24),  # USPS 26 plain
            lambda: "1Z" + shape("6c") + digits(10),  # UPS
            lambda: digits(12, "4567"),  # FedEx Express 12
            lambda: "96" + digits(20),  # FedEx Ground 22
            lambda: digits(10, "123456789"),  # DHL Express 10
            lambda: shape("2a") + digits(9) + "GB",  # Royal Mail / UPU S10
            lambda: "JJD" + digits(18),  # DHL Paket
        ]
    )()


def barcode() -> str:
    return rng.choice([lambda: digits(13, "4"), lambda: "0" + digits(11), lambda: digits(14, "01")])()


def timestamp() -> str:
    t = rng.randint(1_500_000_000, 1_800_000_000)
    return rng.choice(
        [
            lambda: str(t),
            lambda: str(t) + digits(3),
            lambda: str(t) + digits(6),
            lambda: str(t) + digits(9),
            lambda: f"{rng.randint(2019, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{digits(6)}",
            lambda: f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{digits(6)}",
        ]
    )()


TEMPLATES = {
    "iban": ["Refund to IBAN {v} please", "Bankverbindung: {v}", "please wire to {v} asap", "{v}"],
    "phone": ["Call me on {v} before delivery", "tel {v}", "Customer ref 1042 / phone {v}", "{v}"],
    "order_id": ["Reorder of order {v}, same address", "order no. {v} never arrived", "Bestellung {v}", "{v}"],
    "tracking": ["Tracking {v} shows delivered but nothing arrived", "parcel {v}", "Sendungsnummer {v}", "{v}"],
    "barcode": ["EAN {v} scanned twice", "GTIN {v} missing from catalogue", "{v}"],
    "timestamp": ["event at {v}", "logged {v} by the till", "ts={v}", "{v}"],
}
MAKERS = {
    "iban": iban,
    "phone": phone,
    "order_id": order_id,
    "tracking": tracking,
    "barcode": barcode,
    "timestamp": timestamp,
}

if __name__ == "__main__":
    n = 0
    for kind, make in MAKERS.items():
        for _ in range(400):
            text = rng.choice(TEMPLATES[kind]).format(v=make())
            print(json.dumps({"id": n, "kind": kind, "text": text, "credit_card_spans": []}))
            n += 1
