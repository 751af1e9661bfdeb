"""Injection of data-quality defects at recorded positions, so that every detector can be scored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

KINDS = (
    "missing_required",
    "unparseable_date",
    "negative_price",
    "invalid_country",
    "invalid_currency",
    "exact_duplicate",
    "business_key_duplicate",
    "category_typo",
    "placeholder",
    "outlier_quantity",
    "leaked_pan",
    "wrong_type",
)
DUPLICATE_KINDS = ("exact_duplicate", "business_key_duplicate")

INVALID_COUNTRIES = ("Atlantis", "Narnia", "Wakanda")
INVALID_CURRENCIES = ("XYZ", "GPB", "EUX")
PLACEHOLDERS = ("N/A", "-", "0000")
NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
CATEGORY_TYPOS = {
    "Electronics": "Electornics",
    "Home & Kitchen": "Home & Kitchn",
    "Garden": "Gardn",
    "Toys": "Tosy",
    "Sports": "Sprots",
    "Beauty": "Beuaty",
    "Books": "Bokos",
    "Fashion": "Fashon",
}

Maker = Callable[[object, np.random.Generator], object]


@dataclass(frozen=True)
class Rule:
    """One kind of defect for one file type: how often, in which column(s), and the bad value."""

    kind: str
    columns: tuple[str, ...]  # one is chosen per defect; () for exact duplicates
    make: Maker | None = None  # bad value from the original one (for business-key duplicates: the copy's value)
    rate: float = 0.0  # expected share of rows
    count: int | None = None  # fixed number instead of a rate (tiny tables)
    at_least: int = 0  # floor on the drawn number (so that small files still show every kind)
    eligible: str | None = None  # key of a boolean row mask passed to inject()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown defect kind {self.kind}")


@dataclass
class Preset:
    """A defect placed by the data builder itself (e.g. a PAN leaked into a note)."""

    row: int
    column: str
    kind: str
    value: object
    extra: dict[str, object] = field(default_factory=dict)


def _plain(v: object) -> object:
    """JSON-friendly version of a cell value."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v


def inject(
    frame: pd.DataFrame,
    key: str,
    rules: list[Rule],
    rng: np.random.Generator,
    masks: dict[str, np.ndarray] | None = None,
    presets: list[Preset] | None = None,
) -> tuple[pd.DataFrame, list[dict[str, object]], np.ndarray]:
    """Apply the rules to a copy of frame -> (defective frame, defect records, new row index of each old row).

    Every defect gets its own row; duplicates are inserted right after their source row, and all
    recorded positions refer to the final file (0-based data rows).
    """
    n = len(frame)
    df = frame.copy()
    taken = np.zeros(n, dtype=bool)
    cells: list[tuple[int, str, str, object, object, dict[str, object]]] = []  # row, col, kind, value, original
    dups: dict[int, tuple[str, str | None, object, object]] = {}
    for p in presets or []:
        taken[p.row] = True
        cells.append((p.row, p.column, p.kind, p.value, None, p.extra))
    for rule in rules:
        ok = ~taken if rule.eligible is None else (~taken & (masks or {})[rule.eligible])
        cand = np.flatnonzero(ok)
        k = rule.count if rule.count is not None else max(int(rng.binomial(n, rule.rate)), rule.at_least)
        k = min(k, len(cand))
        if k == 0:
            continue
        rows = np.sort(rng.choice(cand, size=k, replace=False))
        taken[rows] = True
        for r in rows:
            r = int(r)
            if rule.kind in DUPLICATE_KINDS:
                col = rule.columns[0] if rule.columns else None
                orig = df.at[r, col] if col else None
                new = rule.make(orig, rng) if (col and rule.make) else None
                dups[r] = (rule.kind, col, new, orig)
                continue
            col = rule.columns[int(rng.integers(len(rule.columns)))]
            orig = df.at[r, col]
            new = rule.make(orig, rng) if rule.make else None
            df.at[r, col] = new
            cells.append((r, col, rule.kind, new, orig, {}))

    counts = np.ones(n, dtype=np.int64)
    dup_rows = np.array(sorted(dups), dtype=np.int64)
    counts[dup_rows] = 2
    new_index = np.arange(n) + np.concatenate([[0], np.cumsum(counts - 1)[:-1]]) if n else np.zeros(0, np.int64)
    if len(dup_rows):
        df = df.iloc[np.repeat(np.arange(n), counts)].reset_index(drop=True)

    records: list[dict[str, object]] = []
    for r, col, kind, new, orig, extra in cells:
        records.append(
            {
                "file": key,
                "row": int(new_index[r]),
                "column": col,
                "kind": kind,
                "value": _plain(new),
                "original": _plain(orig),
                **extra,
            }
        )
    for r, (kind, col, new, orig) in dups.items():
        pos = int(new_index[r]) + 1
        if col is not None:
            df.at[pos, col] = new
        records.append(
            {
                "file": key,
                "row": pos,
                "column": col,
                "kind": kind,
                "value": _plain(new),
                "original": _plain(orig),
                "of_row": pos - 1,
            }
        )
    records.sort(key=lambda d: (d["row"], d["kind"]))
    return df, records, new_index


# --- value makers ---------------------------------------------------------------------------------


def empty(_: object, __: np.random.Generator) -> object:
    return ""


def null(_: object, __: np.random.Generator) -> object:
    return None


def invalid_country(_: object, rng: np.random.Generator) -> object:
    return INVALID_COUNTRIES[int(rng.integers(len(INVALID_COUNTRIES)))]


def invalid_currency(_: object, rng: np.random.Generator) -> object:
    return INVALID_CURRENCIES[int(rng.integers(len(INVALID_CURRENCIES)))]


def negative_text(value: object, _: np.random.Generator) -> object:
    return "-" + str(value)


def negative_number(value: object, _: np.random.Generator) -> object:
    return -abs(float(value))  # type: ignore[arg-type]


def placeholder(_: object, rng: np.random.Generator) -> object:
    return PLACEHOLDERS[int(rng.integers(len(PLACEHOLDERS)))]


def placeholder_text(_: object, rng: np.random.Generator) -> object:
    return PLACEHOLDERS[int(rng.integers(2))]  # "N/A" or "-" (a "0000" city would be odd)


def outlier_quantity(_: object, rng: np.random.Generator) -> object:
    return str(int(rng.choice([120, 480, 1000, 5000], p=[0.4, 0.3, 0.2, 0.1])))


def quantity_in_words(value: object, _: np.random.Generator) -> object:
    q = int(str(value))
    return NUMBER_WORDS[q] if 0 <= q < len(NUMBER_WORDS) else "twelve"


def other_quantity(value: object, rng: np.random.Generator) -> object:
    q = int(str(value))
    return str(q + int(rng.integers(1, 4)))


def category_typo(value: object, _: np.random.Generator) -> object:
    return CATEGORY_TYPOS.get(str(value), str(value)[:-1])


def bad_date(choices: tuple[str, ...]) -> Maker:
    """A maker choosing among unparseable dates ('{y}' is replaced by the original year when known)."""

    def make(value: object, rng: np.random.Generator) -> object:
        text = choices[int(rng.integers(len(choices)))]
        digits = "".join(ch for ch in str(value) if ch.isdigit())
        year = next((digits[i : i + 4] for i in range(len(digits) - 3) if digits[i : i + 2] in ("19", "20")), "2023")
        return text.replace("{y}", year)

    return make
