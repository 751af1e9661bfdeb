"""Placeholder and sentinel values standing in for a missing one.

* text: 'N/A', '-', '?', 'none', 'null', 'unknown', 'tbd', 'xxx', '0000', '9999', repeated single characters
  ('....', 'aaaa', '00000'; repeated digits other than 0 and 9 are ordinary numbers), punctuation only; plus the
  contract's own `tokens`;
* numbers: -1, 0, 9, 99, 999, 9999... when the value is a spike (>= `spike_ratio` times more frequent than
  the values around it, or isolated far outside the column's range) and repeated (`min_spike_count`);
* dates: 1900-01-01, 1970-01-01, 1899-12-30/31, 2099-12-31, 2199-12-31 (later ones do not fit a timestamp).

A 'placeholder' covering more than `max_share` of a column is the column's convention, not a defect: the
contract's `na_values` is the place for it.
"""

from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from curation.detectors.context import NUMERIC_TYPES, TEMPORAL_TYPES, Context, fold
from curation.detectors.flags import Flag, number, shown

TOKENS = {
    "n/a",
    "na",
    "n.a.",
    "n.a",
    "n/a.",
    "#n/a",
    "-",
    "--",
    "---",
    "?",
    "??",
    "???",
    "none",
    "null",
    "nil",
    "nan",
    "unknown",
    "unk",
    "tbd",
    "tba",
    "xxx",
    "xx",
    "0000",
    "00000",
    "9999",
    "999999",
    "not available",
    "not applicable",
    "missing",
    "undefined",
    "blank",
    "empty",
    "no data",
    "nodata",
    "(null)",
    "(none)",
    "(blank)",
}
_PUNCTUATION = re.compile(r"^[^\w\s]+$")  # '-', '?', '/', '*'
SENTINELS = (-1.0, 0.0, -9.0, -99.0, -999.0, -9999.0, 99.0, 999.0, 9999.0, 99999.0, 999999.0, 9999999.0)
DATE_SENTINELS = ("1900-01-01", "1970-01-01", "1899-12-30", "1899-12-31", "2099-12-31", "2199-12-31")
TEXT_TYPES = {"string", "text"}


MAX_LENGTH = 30  # longer text is never a placeholder
_ASCII_PUNCTUATION = str.maketrans("", "", string.punctuation)


def text_confidence(value: str, extra: frozenset[str] = frozenset()) -> float | None:
    """How sure we are that this text is a placeholder (None: it is not one)."""
    if len(value) > MAX_LENGTH:
        return None
    key = " ".join(value.lower().split()) if value.isascii() else fold(value)
    if not key:
        return None
    if key in TOKENS or key in extra:
        return 0.9
    if key.isascii():
        if not key.translate(_ASCII_PUNCTUATION):
            return 0.8
    elif _PUNCTUATION.match(key):
        return 0.8
    if len(key) >= 3 and key == key[0] * len(key) and (not key[0].isdigit() or key[0] in "09"):
        return 0.75  # 'xxx', '....', '0000', '9999' (but '11111' is an ordinary number in a sequence)
    return None


_ASCII_PUNCTUATION_ONLY = r"^[!-/:-@\[-`{-~]*$"  # string.punctuation, or nothing
_NOT_ARROW_WHITESPACE = "[\x1c-\x1f]"  # str.strip removes these, Arrow's trim does not: screened in


def screen(texts: list[str], tokens: set[str] | frozenset[str]) -> np.ndarray:
    """Positions of the texts that may be placeholders, in Arrow kernels over the whole column (a superset of
    what `text_confidence` accepts): after trimming and lower-casing, at most MAX_LENGTH characters and a
    token, nothing but punctuation, or one character repeated; any non-ASCII text goes on to the full check."""
    if not texts:
        return np.empty(0, dtype=np.int64)
    values = pa.array(texts, type=pa.string())
    lowered = pc.ascii_lower(pc.utf8_trim_whitespace(values))
    length = pc.utf8_length(lowered)
    first = pc.utf8_slice_codeunits(lowered, 0, 1)
    repeated = pc.and_(pc.greater_equal(length, 3), pc.equal(pc.binary_repeat(first, length), lowered))
    shaped = pc.or_(
        pc.or_(pc.is_in(lowered, value_set=pa.array(sorted(tokens), type=pa.string())), repeated),
        pc.or_(pc.match_substring_regex(lowered, _ASCII_PUNCTUATION_ONLY), pc.invert(pc.string_is_ascii(values))),
    )
    keep = pc.or_(
        pc.and_(pc.less_equal(length, MAX_LENGTH), shaped), pc.match_substring_regex(values, _NOT_ARROW_WHITESPACE)
    )
    return np.flatnonzero(pc.fill_null(keep, False).to_numpy(zero_copy_only=False))


def placeholder_codes(ctx: Context, name: str, extra: frozenset[str] = frozenset()) -> dict[int, float]:
    """Codes of a text column's distinct values that are placeholders, with confidence (memoised)."""
    key = ("placeholders", name, extra)
    if key not in ctx.cache:
        texts = ctx.texts(name)
        hits: dict[int, float] = {}
        for i in screen(texts, TOKENS | extra).tolist():
            conf = text_confidence(texts[i], extra)
            if conf is not None:
                hits[i] = conf
        ctx.cache[key] = hits
    return ctx.cache[key]  # type: ignore[return-value]


def _text_flags(ctx: Context, name: str, params: dict) -> list[Flag]:
    f = ctx.factor(name)
    hits = placeholder_codes(ctx, name, frozenset(fold(t) for t in params["tokens"]))
    if not hits or f.counts[list(hits)].sum() > params["max_share"] * f.non_null:
        return []
    flags = []
    codes = np.array(sorted(hits))
    for row in np.flatnonzero(np.isin(f.codes, codes)).tolist():
        code = int(f.codes[row])
        flags.append(
            Flag(row, name, "placeholder", hits[code], "a real value (not a placeholder)", shown(f.uniques[code]))
        )
    return flags


def _numeric_flags(ctx: Context, name: str, params: dict) -> list[Flag]:
    x = ctx.numbers(name)
    v = x[~np.isnan(x)]
    if v.size < 20:
        return []
    spikes = []
    for s in SENTINELS:
        hit = x == s
        count = int(hit.sum())
        if params["min_spike_count"] <= count <= params["max_share"] * v.size:
            spikes.append((s, hit, count))
    if not spikes:  # the usual case: no sentinel value often enough, nothing else to compute
        return []
    integer = bool(np.all(v == np.round(v)))
    q25, q75 = np.quantile(v, (0.25, 0.75))
    lo, hi = np.quantile(v, (0.001, 0.999)) if v.size >= 1000 else (v.min(), v.max())
    flags: list[Flag] = []
    for s, hit, count in spikes:
        width = max((q75 - q25) / 4, abs(s) * 0.05, 1.0 if integer else 0.0)
        near = v[(v >= s - width) & (v <= s + width) & (v != s)]
        if near.size:
            per_value = near.size / np.unique(near).size
            ratio = count / per_value
            if ratio < params["spike_ratio"]:
                continue
            confidence = min(0.9, 0.5 + 0.1 * np.log10(ratio / params["spike_ratio"] * 10))
            expected = f"no spike at {number(s)} (neighbours ~{number(per_value)} each)"
        else:
            inside = v[v != s]
            if inside.size == 0 or (inside.min() <= s <= inside.max() and not (s < lo or s > hi)):
                continue  # a gap in the middle of the data is not a sentinel
            confidence = 0.8
            expected = f"within [{number(inside.min())}, {number(inside.max())}]"
        for row in np.flatnonzero(hit).tolist():
            flags.append(Flag(row, name, "placeholder", round(float(confidence), 3), expected, shown(x[row])))
    return flags


def _date_flags(ctx: Context, name: str) -> list[Flag]:
    series = ctx.frame[name]
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        return []
    naive = series.dt.tz_convert(None) if getattr(series.dt, "tz", None) is not None else series
    days = naive.dt.normalize()
    on_midnight = naive == days
    sentinel = days.isin(pd.to_datetime(list(DATE_SENTINELS))) & on_midnight
    return [
        Flag(row, name, "placeholder", 0.85, "a real date (not a sentinel)", shown(series.iloc[row]))
        for row in np.flatnonzero(sentinel.to_numpy(dtype=bool, na_value=False)).tolist()
    ]


def detect(ctx: Context) -> list[Flag]:
    params = ctx.policy.params("placeholder")
    flags: list[Flag] = []
    for name in ctx.allowed("placeholder", ctx.names):
        kind = ctx.types[name]
        if kind in TEXT_TYPES or (
            kind not in NUMERIC_TYPES | TEMPORAL_TYPES | {"bool", "email", "country", "currency"}
            and ctx.frame[name].dtype == object
        ):
            flags.extend(_text_flags(ctx, name, params))
        elif kind in NUMERIC_TYPES:
            flags.extend(_numeric_flags(ctx, name, params))
        elif kind in TEMPORAL_TYPES:
            flags.extend(_date_flags(ctx, name))
    return flags
