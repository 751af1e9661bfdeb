"""Near-duplicate records: rows equal to an earlier row after normalising text (case, accents, whitespace,
punctuation), either entirely or in every column but one.

Exact duplicates are left alone (the engine removes them before detection). Blocking keeps it O(n): each
column's normalised value gets a 64-bit hash, a row's key is the sum of its columns' hashes, and the key
without column j is that sum minus column j's hash, so rows differing only in column j share a key.
When rows differing in one particular column are common (more than `max_collision_share` of the rows,
e.g. daily snapshots that differ only in their date) that is the data's structure and is not flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from curation.arrowcols import GOLDEN, mix64
from curation.detectors.context import Context, squashed_codes
from curation.detectors.flags import Flag, shown

MIN_COLUMNS = 3
MIN_COLLISIONS = 3  # in a small batch a few near-duplicates are never 'structure'


def _mix(codes: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of (code, salt): a well-spread 64-bit hash per row."""
    with np.errstate(over="ignore"):
        return mix64(codes.astype(np.uint64) + np.uint64(1) + GOLDEN * np.uint64(salt + 1))


def _repeated(key: np.ndarray, bits: np.uint64) -> np.ndarray:
    """Rows whose key may occur more than once: those sharing a bucket of the key's top bits (a cheap screen)."""
    bucket = (key >> (np.uint64(64) - bits)).astype(np.int64)
    counts = np.bincount(bucket, minlength=1 << int(bits))
    return np.flatnonzero(counts[bucket] >= 2)


def normalised_codes(ctx: Context, name: str) -> np.ndarray:
    """Codes of the column's values after normalisation (-1 for missing)."""
    f = ctx.factor(name)
    if f.distinct == 0:
        return f.codes
    if ctx.is_text_valued(name):
        mapping = squashed_codes(ctx.texts(name))
    elif ctx.types[name] == "float":
        rounded = np.round(np.asarray(pd.to_numeric(pd.Series(f.uniques), errors="coerce"), dtype=np.float64), 6)
        mapping, _ = pd.factorize(rounded)
    else:
        return f.codes
    mapping = np.asarray(mapping, dtype=np.int64)
    return np.where(f.codes >= 0, mapping[np.maximum(f.codes, 0)], -1)


def detect(ctx: Context) -> list[Flag]:
    params = ctx.policy.params("near_duplicate")
    names = [c for c in ctx.allowed("near_duplicate", ctx.names) if c not in set(params["ignore"])]
    if len(names) < MIN_COLUMNS or ctx.n < 2:
        return []
    hashes = [_mix(normalised_codes(ctx, c), i) for i, c in enumerate(names)]
    total = np.zeros(ctx.n, dtype=np.uint64)
    raw = np.zeros(ctx.n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, (c, h) in enumerate(zip(names, hashes, strict=True)):
            total += h
            raw += _mix(ctx.factor(c).codes, i + 7919)
    exact_repeat = pd.Series(raw).duplicated(keep="first").to_numpy()
    limit = max(params["max_collision_share"] * ctx.n, MIN_COLLISIONS)
    bucket_bits = np.uint64(max(10, min(24, int(np.ceil(np.log2(max(ctx.n, 2)))) + 2)))
    flags: dict[int, Flag] = {}
    for j in [-1, *range(len(names))]:
        with np.errstate(over="ignore"):
            key = total if j < 0 else total - hashes[j]
        rows = _repeated(key, bucket_bits)
        if rows.size == 0:
            continue
        group, _ = pd.factorize(key[rows])
        keep = np.bincount(group)[group] >= 2
        rows, group = rows[keep], group[keep]
        if rows.size == 0:
            continue
        part = pd.DataFrame({"g": group, "row": rows, "h": (raw if j < 0 else hashes[j])[rows]})
        if j >= 0:
            varied = part.groupby("g")["h"].transform("nunique").to_numpy() >= 2
            if varied.sum() > limit:
                continue  # the data's structure (e.g. snapshots differing only in their date), not defects
            part = part[varied]
            if part.empty:
                continue
        first_row = part.groupby("g")["row"].transform("first").to_numpy()
        first_h = part.groupby("g")["h"].transform("first").to_numpy()
        hit = (part["h"].to_numpy() != first_h) & ~exact_repeat[part["row"].to_numpy()]
        if j < 0 and hit.sum() > limit:
            continue
        for row, first in zip(part["row"].to_numpy()[hit].tolist(), first_row[hit].tolist(), strict=True):
            if row in flags:
                continue
            if j < 0:
                observed, confidence = "same values up to case, spaces or punctuation", 0.9
            else:
                col = names[j]
                a, b = ctx.frame[col].iloc[row], ctx.frame[col].iloc[first]
                observed, confidence = f"{col}: {shown(a)!s} vs {shown(b)!s}"[:60], 0.8
            flags[row] = Flag(row, None, "near_duplicate", confidence, f"near-duplicate of row {first}", observed)
    return list(flags.values())
