"""The placeholder detector's Arrow screen keeps every text the per-value rule it replaced kept (a superset:
the full check `text_confidence` then decides), on real descriptions and on crafted edge cases."""

from __future__ import annotations

import random
import string

import pandas as pd

from curation.detectors.placeholders import MAX_LENGTH, TOKENS, screen, text_confidence
from tests.support import DATA


def per_value(texts: list[str], tokens: set[str]) -> set[int]:
    """The screen as it was written before, one Python test per value."""
    punctuation = str.maketrans("", "", string.punctuation)
    kept = set()
    for i, text in enumerate(texts):
        low = text.strip().lower()
        rest = low.translate(punctuation)
        if len(low) <= MAX_LENGTH and (
            low in tokens or not rest or not low.isascii() or (len(low) >= 3 and low.count(low[0]) == len(low))
        ):
            kept.add(i)
    return kept


def test_the_arrow_screen_keeps_every_value_the_per_value_screen_kept():
    uci = pd.read_csv(DATA / "online-retail" / "online_retail_sample.csv", dtype=str, keep_default_na=False)
    rng = random.Random(5)
    crafted = [
        *TOKENS,
        " N/A ",
        "NULL",
        "\tnone\n",
        "",
        " ",
        "....",
        "aaaa",
        "AAAA",
        "0000",
        "11111",
        "ab",
        "--",
        "x" * 31,
    ]
    crafted += ["\x1fN/A", "n/a\x1c", "ÄÄÄ", "–", "näh", "?" * 40, " " * 40 + "n/a", "#n/a", "(blank)", "tbd."]
    crafted += ["".join(rng.choice(string.printable) for _ in range(rng.randint(0, 8))) for _ in range(3000)]
    texts = sorted(set(uci["Description"]) | set(uci["StockCode"]) | set(crafted))
    tokens = set(TOKENS) | {"geen"}
    got = set(screen(texts, tokens).tolist())
    want = per_value(texts, tokens)
    assert want <= got
    # what the screen adds never changes the answer: the full check rejects it
    assert all(text_confidence(texts[i], frozenset({"geen"})) is None for i in got - want)
    assert {texts[i] for i in want} >= {"N/A ".strip(), "NULL"} & set(texts)
