"""Values that break a column's dominant shape: 'SKU-1234' among 'SKU-12345', '12/31/2023' among ISO dates.

A value's shape maps upper-case letters to A, lower-case to a, digits to 9 and keeps everything else
('SKU-10001' -> 'AAA-99999'); the collapsed shape also drops case and collapses runs ('A-9'). The exact
shape is tried first, then the collapsed one. Only structured shapes are used (they contain a digit, or
they are short codes): words and free text have no pattern worth enforcing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from curation.detectors.context import Context, collapsed, shapes_of
from curation.detectors.flags import Flag, clamp, shown

MAX_MEAN_LENGTH = 40  # longer values are prose


@dataclass
class Shapes:
    """Shapes of a column's distinct values (aligned with its Factor's uniques) and their shares."""

    level: str  # "exact" | "collapsed"
    labels: np.ndarray  # shape index per distinct value
    names: list[str]  # shape index -> shape
    shares: np.ndarray  # shape index -> share of the non-null values

    @property
    def dominant(self) -> int:
        return int(np.argmax(self.shares)) if len(self.shares) else -1


def shapes(ctx: Context, name: str) -> tuple[Shapes, Shapes] | None:
    """(exact, collapsed) shapes of a text-valued column, memoised on the context."""
    key = ("shapes", name)
    if key not in ctx.cache:
        f = ctx.factor(name)
        if f.non_null == 0:
            ctx.cache[key] = None
        else:
            exact = shapes_of(ctx.texts(name))
            labels, names = pd.factorize(pd.Series(exact, dtype=object))
            shares = np.bincount(labels, weights=f.counts, minlength=len(names)) / f.non_null
            exact_shapes = Shapes("exact", labels, list(names), shares)
            folded = [collapsed(s) for s in names]  # collapse the few distinct shapes, not every value
            c_of_exact, c_names = pd.factorize(pd.Series(folded, dtype=object))
            c_labels = c_of_exact[labels]
            c_shares = np.bincount(c_labels, weights=f.counts, minlength=len(c_names)) / f.non_null
            ctx.cache[key] = (exact_shapes, Shapes("collapsed", c_labels, list(c_names), c_shares))
    return ctx.cache[key]  # type: ignore[return-value]


def _structured(pattern: str, level: str) -> bool:
    return "9" in pattern or (level == "exact" and len(pattern) <= 4)


def dominant_shape(ctx: Context, name: str, min_share: float) -> Shapes | None:
    """The finest shape level whose most common shape covers min_share of the values, if it is structured."""
    both = shapes(ctx, name)
    if both is None:
        return None
    for level in both:
        top = level.dominant
        if top >= 0 and level.shares[top] >= min_share and _structured(level.names[top], level.level):
            return level
    return None


def candidate_columns(ctx: Context) -> list[str]:
    return [
        c
        for c in ctx.names
        if ctx.types[c] == "string"
        or (ctx.types[c] not in ("text", "email", "country", "currency") and ctx.frame[c].dtype == object)
    ]


def detect(ctx: Context) -> list[Flag]:
    params = ctx.policy.params("pattern")
    flags: list[Flag] = []
    for name in ctx.allowed("pattern", candidate_columns(ctx)):
        f = ctx.factor(name)
        if f.non_null < params["min_rows"]:
            continue
        lengths = np.fromiter((len(str(v)) for v in f.uniques[:2000]), dtype=np.int64, count=min(2000, f.distinct))
        if lengths.size and lengths.mean() > MAX_MEAN_LENGTH:
            continue
        level = dominant_shape(ctx, name, params["min_share"])
        if level is None:
            continue
        top = level.dominant
        share = float(level.shares[top])
        breaking = (level.labels != top) & (level.shares[level.labels] <= params["max_breaker_share"])
        if not breaking.any():
            continue
        expected = f"pattern {level.names[top]}"
        base = 0.6 + 0.35 * (share - params["min_share"]) / max(1e-9, 1 - params["min_share"])
        bad_codes = np.flatnonzero(breaking)
        rows = np.flatnonzero(np.isin(f.codes, bad_codes))
        for row in rows.tolist():
            u = int(f.codes[row])
            rarity = 1 - 0.3 * level.shares[level.labels[u]] / max(1e-9, params["max_breaker_share"])
            flags.append(Flag(row, name, "pattern", clamp(base * rarity), expected, shown(f.uniques[u])))
    return flags
