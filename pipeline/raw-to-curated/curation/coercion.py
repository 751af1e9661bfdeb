"""Map raw string cells onto canonical columns and coerce them to canonical types.

Each cell that cannot be parsed leaves the value missing and adds a reason to its row, such as
`order_ts: unparseable timestamp '31/02/2023'`; the row is then quarantined by validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retail_platform import normalise
from retail_platform.contracts import Column, ColumnMapping, SourceContract
from retail_platform.pii import pan

MAX_SHOWN = 40


@dataclass
class Coerced:
    frame: pd.DataFrame
    reasons: list[list[str]]
    pans_masked: dict[str, int] = field(default_factory=dict)
    missing_columns: list[str] = field(default_factory=list)


def _shown(value: object) -> str:
    """A raw value for a reason message: PANs masked, long values cut."""
    text, _ = pan.mask_text(str(value))
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _source_series(raw: pd.DataFrame, header: list[str], mapping: ColumnMapping) -> pd.Series | None:
    n = len(raw)
    if mapping.constant is not None:
        return pd.Series([str(mapping.constant)] * n, index=raw.index, dtype=object)
    if mapping.source_index is not None:
        if mapping.source_index >= len(header):
            return None
        return raw.iloc[:, mapping.source_index]
    if mapping.source not in raw.columns:
        return None
    return raw[mapping.source]


def _numbers(values: pd.Series, contract: SourceContract) -> pd.Series:
    text = values.astype("string").str.strip()
    thousands = contract.csv.get("thousands")
    decimal = contract.csv.get("decimal", ".")
    if thousands:
        text = text.str.replace(thousands, "", regex=False)
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    text = text.str.replace(r"^\s*([+-]?)\s*", r"\1", regex=True)
    return pd.to_numeric(text, errors="coerce")


_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def _timestamps(values: pd.Series, fmt: str | None, timezone: str) -> pd.Series:
    """UTC timestamps; values with an offset keep it, naive values are read in the contract's zone."""
    text = values.astype("string").str.strip()
    aware = text.str.contains(_OFFSET, regex=True).fillna(False).astype(bool)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format=fmt or "ISO8601", errors="coerce", utc=True)
    naive = ~aware & text.notna()
    if naive.any():
        parsed = pd.to_datetime(text[naive], format=fmt or "ISO8601", errors="coerce")
        out[naive] = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
    return out


def coerce_column(values: pd.Series, column: Column, mapping: ColumnMapping, contract: SourceContract):
    """(coerced series, mask of cells that were present but unparseable, what was expected)."""
    present = values.notna()
    if mapping.strip_suffix:
        values = values.where(
            ~values.astype("string").str.endswith(mapping.strip_suffix).fillna(False),
            values.astype("string").str[: -len(mapping.strip_suffix)],
        )
    if mapping.startswith is not None:
        return (
            values.astype("string").str.strip().str.startswith(mapping.startswith).fillna(False).astype(bool),
            pd.Series(False, index=values.index),
            "flag",
        )
    if mapping.value_map is not None:
        mapped = values.map(lambda v: mapping.value_map.get(str(v).strip()) if v is not None else None)
        bad = present & mapped.isna()
        values = mapped.map(lambda v: None if v is None else str(v).lower() if isinstance(v, bool) else str(v))
        if bad.any():
            return values, bad, f"one of {sorted(mapping.value_map)}"
    kind = column.type
    if kind in ("int", "float"):
        numbers = _numbers(values, contract)
        bad = present & numbers.isna()
        if kind == "int":
            fractional = numbers.notna() & (numbers != np.floor(numbers.fillna(0)))
            bad |= fractional
            numbers = numbers.where(~fractional).astype("Int64")
        return numbers, bad, f"a {'whole ' if kind == 'int' else ''}number"
    if kind == "timestamp":
        stamps = _timestamps(values, mapping.format, contract.timezone)
        return stamps, present & stamps.isna(), f"a timestamp like {mapping.format or 'ISO 8601'}"
    if kind == "date":  # calendar dates carry no time zone: never shifted
        text = values.astype("string").str.strip().str[:10] if mapping.format is None else values.astype("string")
        days = pd.to_datetime(text, format=mapping.format or "%Y-%m-%d", errors="coerce")
        return days.dt.normalize(), present & days.isna(), f"a date like {mapping.format or 'YYYY-MM-DD'}"
    if kind == "bool":
        flags = values.map(lambda v: None if v is None else normalise.boolean(str(v)))
        return flags.astype("boolean"), present & flags.isna(), "true/false"
    if kind == "country":
        codes = values.map(lambda v: None if v is None else normalise.country_code(str(v)))
        return codes.astype(object), present & codes.isna(), "an ISO 3166 country"
    if kind == "currency":
        codes = values.map(lambda v: None if v is None else normalise.currency_code(str(v)))
        return codes.astype(object), present & codes.isna(), "an ISO 4217 currency"
    if kind == "email":
        cleaned = values.map(lambda v: None if v is None else normalise.email(str(v)))
        return cleaned.astype(object), present & cleaned.isna(), "an e-mail address"
    cleaned = values.map(lambda v: None if v is None else normalise.clean_text(str(v)))
    return cleaned.astype(object), pd.Series(False, index=values.index), "text"


def _mask_column(series: pd.Series, policy: str) -> tuple[pd.Series, int]:
    masked, changed = pan.mask_values(series.tolist(), policy)
    return pd.Series(masked, index=series.index, dtype=object), changed


def coerce(raw: pd.DataFrame, header: list[str], contract: SourceContract) -> Coerced:
    canonical = contract.canonical
    out = pd.DataFrame(index=raw.index)
    reasons: list[list[str]] = [[] for _ in range(len(raw))]
    positions = {idx: i for i, idx in enumerate(raw.index)}
    missing: list[str] = []
    masked_counts: dict[str, int] = {}
    for name, column in canonical.columns.items():
        mapping = contract.columns.get(name)
        if mapping is None:
            if name not in out.columns:  # card_bin / card_last4 may already be derived from the PAN
                out[name] = pd.Series([None] * len(raw), index=raw.index, dtype=object)
            continue
        values = _source_series(raw, header, mapping)
        if values is None:
            missing.append(mapping.source or f"#{mapping.source_index}")
            out[name] = pd.Series([None] * len(raw), index=raw.index, dtype=object)
            continue
        if column.type == "pan":
            out[name], masked_counts[name] = _derive_card_fields(values, out)
            continue
        coerced, bad, expected = coerce_column(values.astype(object), column, mapping, contract)
        for idx in bad[bad].index:
            reasons[positions[idx]].append(f"{name}: expected {expected}, got {_shown(values[idx])!r}")
        if column.type in ("string", "text"):
            coerced, changed = _mask_column(coerced, "bin_last4")
            if changed:
                masked_counts[name] = changed
        out[name] = coerced
    return Coerced(out, reasons, masked_counts, missing)


_NON_DIGIT = re.compile(r"\D")


def _derive_card_fields(values: pd.Series, out: pd.DataFrame) -> tuple[pd.Series, int]:
    """Mask a card-number column; derive card_bin / card_last4 beside it. The PAN itself is dropped."""
    digits = values.map(lambda v: None if v is None else _NON_DIGIT.sub("", str(v)) or None)
    out["card_bin"] = digits.map(lambda d: d[:6] if d and len(d) >= 12 else None)
    out["card_last4"] = digits.map(lambda d: d[-4:] if d and len(d) >= 12 else None)
    masked = values.map(lambda v: None if v is None else pan.mask_digits(str(v).strip()))
    return masked.astype(object), int(values.notna().sum())
