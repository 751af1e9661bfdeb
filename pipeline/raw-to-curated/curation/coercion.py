"""Map raw string cells onto canonical columns and coerce them to canonical types, vectorised.

Each cell that cannot be parsed leaves the value missing and adds a reason to its row, such as
`order_ts: expected a timestamp like %m/%d/%Y %H:%M, got '31/02/2011'`; the row is then quarantined.
Card numbers in every text column are masked here, before anything is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from curation import derived
from curation.actions import Recoerce, settle
from curation.arrowcols import as_strings, factorize, map_text, matches
from curation.problems import Notes
from curation.reading import ROW
from curation.validation import Failure, check_failures
from retail_platform import normalise
from retail_platform.contracts import Column, ColumnMapping, SourceContract
from retail_platform.pii import pan

MAX_SHOWN = 40
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_PAN_CANDIDATE = r"\d(?:[ .\-]?\d){11,18}"
_PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"  # what Arrow's cast and pandas read alike


@dataclass
class Coerced:
    frame: pd.DataFrame
    pans_masked: dict[str, int] = field(default_factory=dict)
    missing_columns: list[str] = field(default_factory=list)


def shown(value: object) -> str:
    """A raw value for a reason message: card numbers masked, long values cut."""
    text, _ = pan.mask_text(str(value))
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _by_unique(values: pd.Series, convert: Callable[[str], object]) -> pd.Series:
    """Apply a Python converter once per distinct value (countries, currencies, flags repeat a lot)."""
    codes, uniques = factorize(values)
    converted = np.array([convert(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(converted[codes], index=values.index, dtype=object)


def _booleans(values: pd.Series) -> pd.Series:
    """Flags by `normalise.boolean`, each distinct word read once (missing where not a true/false word)."""
    codes, uniques = factorize(values)
    read = [normalise.boolean(str(u)) for u in uniques]
    known = np.array([r is not None for r in read] + [False])[codes]
    truth = np.array([bool(r) for r in read] + [False])[codes]
    return pd.Series(pd.arrays.BooleanArray(truth, ~known), index=values.index)


def _numbers(values: pd.Series, contract: SourceContract) -> np.ndarray:
    """float64 (NaN where missing or not a number), parsed by Arrow; separators as the contract says."""
    if pd.api.types.is_float_dtype(values.dtype):  # an expression's numeric result: already numbers
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    thousands = contract.csv.get("thousands")
    decimal = contract.csv.get("decimal", ".")
    array = as_strings(values)
    if not thousands and decimal == ".":
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):  # fast path: plain numbers
            return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    text = pc.replace_substring_regex(array, r"\s", "")  # "1 299,50", "- 5"
    if thousands:
        text = pc.replace_substring(text, thousands, "")
    if decimal != ".":
        text = pc.replace_substring(text, decimal, ".")
    try:
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # some cells are not plain numbers
        pass
    plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_NUMBER), False)
    out = pc.cast(pc.if_else(plain, text, None), pa.float64()).to_numpy(zero_copy_only=False)
    others = np.flatnonzero(~plain.to_numpy(zero_copy_only=False) & text.is_valid().to_numpy(zero_copy_only=False))
    if others.size:  # the few others ('inf', '1_000', 'abc') one by one, as pandas reads them
        series = pd.Series(text.take(pa.array(others)).to_numpy(zero_copy_only=False), dtype=object)
        out[others] = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _mask(flags: np.ndarray, like: pd.Series) -> pd.Series:
    return pd.Series(flags, index=like.index)


def _on_uniques(text: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Parse each distinct value once: exports repeat timestamps, dates and prices a lot."""
    codes, uniques = factorize(text)
    if len(uniques) > 0.5 * len(text):
        return parse(text)
    parsed = parse(pd.Series(uniques, dtype=object)).to_numpy()
    if not len(parsed):
        return parse(text)
    out = parsed[np.where(codes < 0, 0, codes)]
    series = pd.Series(out, index=text.index, dtype=parsed.dtype)
    return series.mask(codes < 0)


def _parse_naive(text: pd.Series, fmt: str | None) -> pd.Series:
    """Strict parsing: 30 February or a year past 2262 is missing, not rolled over (pyarrow's strptime rolls)."""
    return _on_uniques(text, lambda t: _to_datetime(t, fmt))


def _to_datetime(text: pd.Series, fmt: str | None, utc: bool = False) -> pd.Series:
    """pandas' parser without its own cache of distinct values: `_on_uniques` has already looked for repeats, and
    the cache costs 3-6x the parse when most values are distinct (order times)."""
    return pd.to_datetime(text.astype(object), format=fmt or "ISO8601", errors="coerce", utc=utc, cache=False)


def timestamps(values: pd.Series, fmt: str | None, timezone: str) -> pd.Series:
    """UTC timestamps; values with an offset keep it, naive values are read in the contract's zone."""
    text = values.str.strip()
    aware = matches(text, _OFFSET)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        out[aware] = _on_uniques(text[aware], lambda t: _to_datetime(t, fmt, utc=True))
    naive = ~aware & text.notna().to_numpy()
    if naive.any():
        parsed = _parse_naive(text[naive], fmt)
        out[naive] = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
    return out


def coerce_column(
    values: pd.Series, column: Column, mapping: ColumnMapping, contract: SourceContract
) -> tuple[pd.Series, pd.Series, str]:
    """(coerced series, mask of cells present but unparseable, what was expected)."""
    present = values.notna()
    no_problem = pd.Series(False, index=values.index)
    if pd.api.types.is_float_dtype(values.dtype) and column.type not in ("int", "float"):
        values = pd.Series(  # an expression's number feeding a text, date or flag column
            pd.arrays.ArrowStringArray(
                pa.chunked_array([pa.array(values.to_numpy(na_value=np.nan)).cast(pa.string())])
            ),
            index=values.index,
        ).mask(~present.to_numpy(dtype=bool))
    if mapping.strip_suffix:
        values = values.str.removesuffix(mapping.strip_suffix)
    if mapping.startswith is not None:
        flags = values.str.strip().str.startswith(mapping.startswith).fillna(False)
        return flags.astype(bool), no_problem, "flag"
    if mapping.value_map is not None:
        table = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in mapping.value_map.items()}
        mapped = values.str.strip().astype(object).map(table)
        bad = present & mapped.isna()
        if bad.any():
            return mapped, bad, f"one of {sorted(mapping.value_map)}"
        values = mapped.astype("string[pyarrow]")
    kind = column.type
    if kind in ("int", "float"):
        numbers = _numbers(values, contract)
        if kind == "int":
            with np.errstate(invalid="ignore"):
                whole = np.isfinite(numbers) & (numbers == np.floor(numbers)) & (np.abs(numbers) < 2.0**63)
            bad = present.to_numpy(dtype=bool) & ~whole
            ints = np.where(whole, numbers, 0).astype(np.int64)
            integers = pd.Series(pd.arrays.IntegerArray(ints, ~whole), index=values.index)
            return integers, _mask(bad, values), "a whole number"
        unusable = ~np.isfinite(numbers)  # 'inf' and '1e400' parse, but no price or amount is infinite
        floats = pd.Series(pd.arrays.FloatingArray(np.where(unusable, 0.0, numbers), unusable), index=values.index)
        return floats, _mask(present.to_numpy(dtype=bool) & unusable, values), "a finite number"
    if kind == "timestamp":
        stamps = timestamps(values, mapping.format, contract.timezone)
        return stamps, present & stamps.isna(), f"a timestamp like {mapping.format or 'ISO 8601'}"
    if kind == "date":  # calendar dates carry no time zone: never shifted
        text = values.str.strip()
        days = _parse_naive(text if mapping.format else text.str.slice(0, 10), mapping.format or "%Y-%m-%d")
        return days.dt.normalize(), present & days.isna(), f"a date like {mapping.format or 'YYYY-MM-DD'}"
    converters = {
        "bool": (normalise.boolean, "true/false"),
        "country": (normalise.country_code, "an ISO 3166 country"),
        "currency": (normalise.currency_code, "an ISO 4217 currency"),
        "email": (normalise.email, "an e-mail address"),
    }
    if kind == "bool":
        flags = _booleans(values)
        return flags, present & flags.isna(), converters[kind][1]
    if kind in converters:
        convert, expected = converters[kind]
        converted = _by_unique(values, convert)
        return converted, present & converted.isna(), expected
    cleaned = map_text(values, _clean_text)
    return cleaned.mask(cleaned.eq("")), no_problem, "text"


def _clean_text(values: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(pc.utf8_trim_whitespace(values), r"\s+", " ")


def mask_pans(series: pd.Series) -> tuple[pd.Series, int]:
    """Mask card numbers in a text column; only cells with a long digit run go through the detector, once per
    distinct value."""
    if series.empty:
        return series, 0
    positions = np.flatnonzero(matches(series, _PAN_CANDIDATE))
    if not positions.size:
        return series, 0
    codes, uniques = pd.factorize(series.iloc[positions].astype(object))
    masked = [pan.mask_text(str(u)) for u in uniques]
    found = np.array([bool(hits) for _, hits in masked])[codes]
    if not found.any():
        return series, 0
    values = series.astype(object).to_numpy(copy=True)
    values[positions] = np.array([text for text, _ in masked], dtype=object)[codes]
    return pd.Series(values, index=series.index, dtype="string[pyarrow]"), int(found.sum())


def coerce(raw: pd.DataFrame, header: list[str], contract: SourceContract, notes: Notes) -> Coerced:
    """Every output column (canonical and custom attributes) coerced, checked, and each failure handled by its
    check's action. Columns are mapped first, then checked, so columns derived from a card number are checked too."""
    schema = contract.schema or contract.canonical.columns
    out: dict[str, pd.Series] = {}
    texts: dict[str, pd.Series] = {}
    failures: dict[str, list[Failure]] = {}
    missing: list[str] = []
    masked_counts: dict[str, int] = {}
    for name, column in schema.items():
        mapping = contract.columns.get(name)
        if mapping is None:
            out.setdefault(name, _empty(column, raw.index))  # card_bin / card_last4 may come from the PAN
            continue
        values, expression_failures = _values(raw, header, name, mapping, contract)
        if values is None:
            missing.extend(c for c in _missing_sources(raw, header, mapping) if c not in missing)
            out[name] = _empty(column, raw.index)
            continue
        if column.type == "pan":
            out[name], out["card_bin"], out["card_last4"] = card_fields(values)
            masked_counts[name] = int(values.notna().sum())
            continue
        coerced, bad, expected = coerce_column(values, column, mapping, contract)
        texts[name] = values
        failures[name] = expression_failures + _parse_failures(name, values, bad, expected)
        if column.type in ("string", "text"):
            coerced, changed = mask_pans(coerced)
            if changed:
                masked_counts[name] = changed
        out[name] = coerced
    frame = pd.DataFrame(out, index=raw.index)
    for name, column in schema.items():
        if name not in failures and name in contract.columns:
            continue  # its source is missing: the file is quarantined whole
        parsed = failures.get(name, [])
        unparsed = np.zeros(len(frame), dtype=bool)
        for failure in parsed:
            unparsed[failure.positions] = True
        found = parsed + check_failures(frame[name], column, unparsed)
        if found:
            frame[name] = settle(
                texts.get(name, frame[name]),
                frame[name],
                found,
                column,
                _recoerce(column, contract.columns.get(name), contract),
                notes,
                shown,
            )
    return Coerced(frame, masked_counts, missing)


def _parse_failures(name: str, values: pd.Series, bad: pd.Series, expected: str) -> list[Failure]:
    hits = np.flatnonzero(bad.to_numpy(dtype=bool))
    if not hits.size:
        return []
    return [
        Failure("parse", hits, [f"{name}: expected {expected}, got {shown(v)!r}" for v in values.iloc[hits].tolist()])
    ]


def _recoerce(column: Column, mapping: ColumnMapping | None, contract: SourceContract) -> Recoerce:
    """Parse and check repaired text of a few cells the way the column's own cells are."""

    def run(text: pd.Series) -> tuple[pd.Series, list[Failure]]:
        values = text.astype("string[pyarrow]")
        coerced, bad, expected = coerce_column(values, column, mapping or ColumnMapping(column.name), contract)
        parsed = _parse_failures(column.name, values, bad, expected)
        return coerced, parsed + check_failures(coerced, column, bad.to_numpy(dtype=bool))

    return run


def _values(
    raw: pd.DataFrame, header: list[str], name: str, mapping: ColumnMapping, contract: SourceContract
) -> tuple[pd.Series | None, list[Failure]]:
    """A mapped column's input cells (or an expression's result), and the rows where the expression failed."""
    if mapping.expr is None:
        return _source(raw, header, mapping), []
    if any(c not in raw.columns for c in mapping.expr.columns):
        return None, []
    result = derived.evaluate(mapping.expr, name, lambda c: raw[c], lambda s: _numbers(s, contract), shown, raw.index)
    positions = np.flatnonzero(result.failed)
    return result.values, [Failure("parse", positions, result.messages)] if positions.size else []


def _missing_sources(raw: pd.DataFrame, header: list[str], mapping: ColumnMapping) -> list[str]:
    if mapping.expr is not None:
        return [
            f"{c} (for {mapping.target}: {mapping.expr.text})" for c in mapping.expr.columns if c not in raw.columns
        ]
    return [mapping.source or f"#{mapping.source_index}"]


_EMPTY_DTYPES = {
    "int": "Int64",
    "float": "Float64",
    "bool": "boolean",
    "timestamp": "datetime64[ns, UTC]",
    "date": "datetime64[ns]",
}


def _empty(column: Column, index: pd.Index) -> pd.Series:
    """An all-missing column with its canonical type, so every file of a dataset has one schema."""
    return pd.Series(
        pd.NA if column.type not in ("timestamp", "date") else pd.NaT,
        index=index,
        dtype=_EMPTY_DTYPES.get(column.type, "string[pyarrow]"),
    )


def _source(raw: pd.DataFrame, header: list[str], mapping: ColumnMapping) -> pd.Series | None:
    if mapping.row_number:  # 1-based position among the file's data rows, for exports without line numbers
        return (raw[ROW] + 1).astype(str).astype("string[pyarrow]")
    if mapping.constant is not None:
        return pd.Series(str(mapping.constant), index=raw.index, dtype="string[pyarrow]")
    if mapping.source_index is not None:
        return raw.iloc[:, mapping.source_index] if mapping.source_index < len(header) else None
    if mapping.source not in raw.columns:
        return None
    return raw[mapping.source]


def card_fields(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The masked card number, its BIN (first six) and last four. The full number goes no further."""
    digits = values.str.replace(r"\D", "", regex=True)
    long_enough = digits.str.len().fillna(0).to_numpy() >= 12
    card_bin = digits.str.slice(0, 6).where(long_enough)
    last4 = digits.str.slice(-4).where(long_enough)
    masked = values.astype(object).map(lambda v: None if v is None or v is pd.NA else pan.mask_digits(str(v).strip()))
    return masked.astype("string[pyarrow]"), card_bin, last4
