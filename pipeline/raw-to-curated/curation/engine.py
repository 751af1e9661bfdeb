"""Curate one raw object: read, coerce, validate, dedupe, and account for every row.

`curate` is pure (bytes in, frames and a report out); the handler does the S3 I/O around it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from curation import reading
from curation.coercion import coerce
from curation.validation import apply_rules, column_checks
from retail_platform.contracts import SourceContract
from retail_platform.pii import pan

EXAMPLES_PER_REASON = 5


@dataclass
class CurationResult:
    curated: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict


def object_id(key: str) -> str:
    """Stable id of a raw object, used in every output's name so re-runs overwrite, never duplicate."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _reason_kind(reason: str) -> str:
    """`order_ts: expected a timestamp…` -> `order_ts: expected a timestamp`; rule names stay whole."""
    return reason.split(", got ")[0] if ", got " in reason else reason.split(" (")[0]


def _exact_duplicates(raw: pd.DataFrame, data_columns: list[str]) -> pd.Series:
    """For each row, the source row it exactly repeats (or NA)."""
    if raw.empty or not data_columns:
        return pd.Series(pd.NA, index=raw.index, dtype="Int64")
    signature = pd.util.hash_pandas_object(raw[data_columns].astype("string").fillna("\x00"), index=False)
    first = raw[reading.ROW].groupby(signature.to_numpy()).transform("first")
    return first.where(first != raw[reading.ROW]).astype("Int64")


def curate(body: bytes, key: str, contract: SourceContract) -> CurationResult:
    canonical = contract.canonical
    table = reading.read_object(body, key, contract)
    raw = table.frame
    data_columns = [c for c in raw.columns if c not in (reading.ROW, reading.READ_ERROR)]
    coerced = coerce(raw, table.header, contract)
    frame, reasons = coerced.frame, coerced.reasons
    warnings: list[list[str]] = [[] for _ in range(len(frame))]

    for i, error in enumerate(raw[reading.READ_ERROR].tolist()):
        if error:
            reasons[i].insert(0, f"unreadable row: {error}")
    if coerced.missing_columns:
        hint = (
            f" (the header has {len(table.header)} column(s): is the delimiter right?)" if len(table.header) < 3 else ""
        )
        for r in reasons:
            r.insert(0, f"file is missing columns {coerced.missing_columns}{hint}")
    column_checks(frame, canonical, reasons)
    rule_counts = apply_rules(frame, canonical.rules + contract.rules, reasons, warnings)

    repeats = _exact_duplicates(raw, data_columns)
    for i, original in enumerate(repeats.tolist()):
        if original is not pd.NA and not reasons[i]:
            reasons[i].append(f"exact duplicate of source row {original}")

    valid = pd.Series([not r for r in reasons], index=frame.index)
    if canonical.business_key and valid.any():
        keyed = frame.loc[valid, list(canonical.business_key)]
        superseded = keyed.duplicated(keep="last")
        last_row = (
            raw.loc[valid, reading.ROW]
            .groupby([keyed[k].astype(str) for k in canonical.business_key])
            .transform("last")
        )
        for idx in superseded[superseded].index:
            pos = frame.index.get_loc(idx)
            reasons[pos].append(
                f"duplicate business key {list(canonical.business_key)}: superseded by source row {last_row[idx]}"
            )
        valid = pd.Series([not r for r in reasons], index=frame.index)

    curated = frame.loc[valid].copy()
    curated["_warnings"] = ["; ".join(w) or None for w, ok in zip(warnings, valid, strict=True) if ok]
    curated["_source_key"] = key
    curated["_source_row"] = raw.loc[valid, reading.ROW].astype("int64").to_numpy()
    curated = curated.reset_index(drop=True)

    quarantine = _quarantine_frame(raw, data_columns, reasons, valid, key)
    report = _report(contract, key, raw, curated, quarantine, reasons, warnings, rule_counts, coerced, table)
    return CurationResult(curated, quarantine, report)


def _quarantine_frame(raw, data_columns, reasons, valid, key) -> pd.DataFrame:
    rejected = raw.loc[~valid, data_columns].copy()
    for column in rejected.columns:  # quarantine keeps original values, with any card number masked
        rejected[column] = pan.mask_values(rejected[column].tolist())[0]
    rejected.columns = [f"raw_{c}" if c else f"raw_col{i}" for i, c in enumerate(rejected.columns)]
    rejected = rejected.astype(object).where(rejected.notna(), None).astype("string")
    rejected.insert(0, "_reasons", ["; ".join(r) for r, ok in zip(reasons, valid, strict=True) if not ok])
    rejected.insert(1, "_source_row", raw.loc[~valid, reading.ROW].astype("int64").to_numpy())
    rejected.insert(2, "_source_key", key)
    return rejected.reset_index(drop=True)


def _report(contract, key, raw, curated, quarantine, reasons, warnings, rule_counts, coerced, table) -> dict:
    canonical = contract.canonical
    rows_in = len(raw)
    by_reason: dict[str, dict] = {}
    for row_reasons, source_row in zip(reasons, raw[reading.ROW].tolist(), strict=True):
        for reason in row_reasons:
            entry = by_reason.setdefault(_reason_kind(reason), {"rows": 0, "examples": []})
            entry["rows"] += 1
            if len(entry["examples"]) < EXAMPLES_PER_REASON:
                entry["examples"].append({"source_row": int(source_row), "reason": reason})
    warning_counts: dict[str, int] = {}
    for row_warnings in warnings:
        for w in row_warnings:
            warning_counts[w] = warning_counts.get(w, 0) + 1
    mapped = {m.source for m in contract.columns.values() if m.source} | {
        table.header[m.source_index]
        for m in contract.columns.values()
        if m.source_index is not None and m.source_index < len(table.header)
    }
    completeness = {
        name: round(float(curated[name].notna().mean()), 4) if len(curated) else None for name in canonical.columns
    }
    key_unique = None
    if canonical.business_key and len(curated):
        key_unique = round(1 - float(curated.duplicated(list(canonical.business_key)).mean()), 4)
    return {
        "source_key": key,
        "object_id": object_id(key),
        "contract": contract.name,
        "dataset": canonical.name,
        "rows_in": rows_in,
        "rows_curated": len(curated),
        "rows_quarantined": len(quarantine),
        "conservation_ok": rows_in == len(curated) + len(quarantine),
        "validity": round(len(curated) / rows_in, 4) if rows_in else None,
        "uniqueness": key_unique,
        "completeness": completeness,
        "failed_checks": dict(sorted(by_reason.items(), key=lambda kv: -kv[1]["rows"])),
        "rules_flagged": rule_counts,
        "warnings": warning_counts,
        "pans_masked": coerced.pans_masked,
        "missing_columns": coerced.missing_columns,
        "extra_columns": [h for h in table.header if h not in mapped],
        "read_notes": table.notes,
    }
