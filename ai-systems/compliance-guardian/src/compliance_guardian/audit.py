"""Audit of datasets (curated and prod) for card data: findings by dataset, column, row and position.

Most cells cannot hold card data, so the audit never looks at them one by one in Python. Per column:

* a type that cannot hold a card number (floats, booleans, dates, timestamps, decimals, nested) is skipped;
* integers are candidates only from 12 digits on (a PAN stored as a number);
* text is prefiltered by Arrow's regex kernel (RE2, vectorised): a candidate holds a run of at least 12
  digits separated by at most single blanks, dashes or dots (every PAN and track-data match has one), or
  names a CVV or an expiry date.

Only candidates go through the detector (`retail_platform.pii.sensitive`: Luhn, IIN ranges, context), and,
as before, only those with at least 12 digits in all: the findings equal a cell-by-cell scan of every value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from retail_platform.pii import sensitive

FINDING_COLUMNS = ("dataset", "partition", "key", "column", "row", "kind", "start", "end", "brand", "confidence")
MIN_DIGITS = 12  # fewer digits in a cell: no PAN, no track data (a CVV or expiry alone is not audited)
# RE2 (no look-around): a candidate PAN run, or a word naming a CVV / an expiry date
_CANDIDATE = (
    r"\d(?:[ .\-]?\d){11}"
    r"|(?i:cvv|cvc|cid|csc|security code|sicherheitscode|cryptogramme|exp|valid thru|gültig bis)"
)
_SMALLEST_CANDIDATE_INT = 10 ** (MIN_DIGITS - 1)


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame(columns=list(FINDING_COLUMNS))


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The column as strings when its type can hold card data (integers of 12+ digits as their digits), else
    None. Non-candidate integers become null, so only their candidates are formatted."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)  # decoded once; small next to the regex pass
        kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_integer(kind):
        big = pc.greater_equal(pc.abs(column), _SMALLEST_CANDIDATE_INT)
        return pc.if_else(big, column, pa.scalar(None, type=kind)).cast(pa.string())
    return None


def candidate_rows(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Positions of the cells of one column that may hold card data (see the module docstring)."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    text = _as_text(column)
    if text is None or len(text) == 0:
        return np.empty(0, dtype=np.int64)
    hit = pc.fill_null(pc.match_substring_regex(text, _CANDIDATE), False)
    return np.flatnonzero(hit.to_numpy(zero_copy_only=False))


def audit_table(table: pa.Table, dataset: str, partition: str = "", key: str = "") -> pd.DataFrame:
    """Every card-data finding in a table (the values themselves are never kept); `row` is the position."""
    rows: list[dict[str, Any]] = []
    for name in table.column_names:
        column = table.column(name)
        positions = candidate_rows(column)
        if not positions.size:
            continue
        values = _as_text(column).take(pa.array(positions))  # type: ignore[union-attr]
        enough = pc.greater_equal(pc.count_substring_regex(values, r"\d"), MIN_DIGITS).to_numpy(zero_copy_only=False)
        found = _scan(values.filter(pa.array(enough)).to_pylist())
        for row, findings in zip(positions[enough], found, strict=True):
            rows.extend(_finding(dataset, partition, key, str(name), int(row), f) for f in findings)
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def _scan(values: list[str]) -> list[list[sensitive.Finding]]:
    """The detector's findings of each value; a value repeated in the column is scanned once."""
    seen: dict[str, list[sensitive.Finding]] = {}
    return [seen[v] if v in seen else seen.setdefault(v, sensitive.find_card_data(v)) for v in values]


def _finding(dataset: str, partition: str, key: str, column: str, row: int, f: sensitive.Finding) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "partition": partition,
        "key": key,
        "column": column,
        "row": row,
        "kind": f.kind,
        "start": f.start,
        "end": f.end,
        "brand": f.brand,
        "confidence": f.confidence,
    }


def audit_frame(frame: pd.DataFrame, dataset: str, partition: str = "", key: str = "") -> pd.DataFrame:
    """`audit_table` of a pandas frame; `row` is the frame's index label of the cell."""
    table = pa.table({str(name): _arrow_column(frame[name]) for name in frame.columns})
    found = audit_table(table, dataset, partition, key)
    if not found.empty:
        found["row"] = [int(label) for label in frame.index[found["row"].to_numpy()]]
    return found


def _arrow_column(series: pd.Series) -> pa.Array:
    """A column as Arrow; an object column of mixed types keeps its strings only (other values cannot be text)."""
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([v if isinstance(v, str) else None for v in series], type=pa.string())


def concat(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    kept = [f for f in frames if not f.empty]
    return pd.concat(kept, ignore_index=True) if kept else empty_findings()
