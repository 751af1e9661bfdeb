"""Decode a raw object into rows of strings, one per data row, whatever its format.

Every data row of the file becomes exactly one row here (ragged or undecodable rows included, with a
reason), so that conservation can be checked downstream: rows in = rows curated + rows quarantined.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from retail_platform.contracts import SourceContract
from retail_platform.exceptions import UnreadableFileError

ROW = "_source_row"
READ_ERROR = "_read_error"


@dataclass
class RawTable:
    """Raw cells as strings (None = missing), the file's header, and per-row read errors."""

    frame: pd.DataFrame
    header: list[str]
    notes: list[str] = field(default_factory=list)


def decompress(body: bytes, key: str) -> bytes:
    if not (key.endswith(".gz") or body[:2] == b"\x1f\x8b"):
        return body
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as e:
        raise UnreadableFileError(f"{key}: gzip stream is corrupt or truncated ({e})") from e


def _decode(data: bytes, encoding: str, notes: list[str]) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        notes.append(f"bytes not valid {encoding} at offset {e.start}: affected rows are quarantined")
        return data.decode(encoding, errors="surrogateescape")
    except LookupError as e:
        raise UnreadableFileError(f"unknown encoding {encoding!r} in the contract") from e


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _from_records(header: list[str], records: list[list[str | None]], errors: list[str | None]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header)
    frame[ROW] = range(len(frame))
    frame[READ_ERROR] = errors
    return frame


def read_csv(text: str, contract: SourceContract) -> RawTable:
    options = contract.csv
    delimiter = options.get("delimiter", ",")
    quotechar = options.get("quotechar", '"')
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        return RawTable(_from_records([], [], []), [])
    except csv.Error as e:
        raise UnreadableFileError(f"CSV header cannot be parsed: {e}") from e
    header = [h.lstrip("\ufeff").strip() for h in header]
    width = len(header)
    na = set(contract.na_values)
    records: list[list[str | None]] = []
    errors: list[str | None] = []
    try:
        for fields in reader:
            if not fields:
                continue  # blank line: not a data row
            error = None
            if len(fields) != width:
                error = f"expected {width} fields, found {len(fields)} (delimiter {delimiter!r})"
                fields = (fields + [""] * width)[:width]
            if any(_has_surrogates(f) for f in fields):
                error = f"bytes not valid {options.get('encoding', 'utf-8')}"
                fields = [f.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for f in fields]
            records.append([None if f.strip() in na else f for f in fields])
            errors.append(error)
    except csv.Error as e:
        raise UnreadableFileError(f"CSV cannot be parsed after {len(records)} rows: {e}") from e
    return RawTable(_from_records(header, records, errors), header)


def read_jsonl(text: str, contract: SourceContract) -> RawTable:
    rows: list[dict[str, object] | None] = []
    errors: list[str | None] = []
    header: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
            if not isinstance(value, dict):
                raise ValueError("a JSON Lines record must be an object")
            rows.append(value)
            errors.append(None)
            header.extend(k for k in value if k not in header)
        except ValueError as e:
            rows.append(None)
            errors.append(f"line {number} is not valid JSON: {str(e)[:80]}")
    na = set(contract.na_values)
    records = []
    for row in rows:
        cells: list[str | None] = []
        for name in header:
            value = None if row is None else row.get(name)
            if value is not None and not isinstance(value, str):
                value = json.dumps(value) if isinstance(value, dict | list) else str(value)
            cells.append(None if value is None or value.strip() in na else value)
        records.append(cells)
    return RawTable(_from_records(header, records, errors), header)


def read_parquet(data: bytes) -> RawTable:
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as e:
        raise UnreadableFileError(f"not a readable Parquet file: {e}") from e
    frame = table.to_pandas()
    header = list(frame.columns)
    cells = frame.astype(object).where(frame.notna(), None)
    records = [[None if v is None else str(v) for v in row] for row in cells.itertuples(index=False)]
    return RawTable(_from_records(header, records, [None] * len(records)), header)


def read_object(body: bytes, key: str, contract: SourceContract) -> RawTable:
    """Rows of a raw object as strings, honouring the contract's format and CSV conventions."""
    data = decompress(body, key)
    if contract.format == "parquet":
        return read_parquet(data)
    notes: list[str] = []
    text = _decode(data, contract.csv.get("encoding", "utf-8"), notes)
    table = read_csv(text, contract) if contract.format == "csv" else read_jsonl(text, contract)
    if contract.format == "jsonl":
        bad = [
            i
            for i, v in enumerate(table.frame.drop(columns=[ROW, READ_ERROR]).itertuples(index=False))
            if any(isinstance(c, str) and _has_surrogates(c) for c in v)
        ]
        table.frame.loc[bad, READ_ERROR] = "bytes not valid for the declared encoding"
    table.notes.extend(notes)
    return table
