"""Stream a raw object as batches of string cells, whatever its format, compression or size.

Every data row of the file ends up in exactly one batch, either as a row of cells or as a read error
(a row with the wrong number of fields, invalid bytes, a line that is not JSON) with its text, so that
conservation holds downstream: rows in = rows curated + rows quarantined.

CSV is parsed by pyarrow's streaming reader; JSON Lines and Parquet are read batch by batch too. Memory
stays bounded by the batch size, not the file size. Decompression is bounded against gzip bombs.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import queue
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from retail_platform.contracts import SourceContract
from retail_platform.exceptions import UnreadableFileError

ROW = "_source_row"
DEFAULT_BATCH_ROWS = 250_000
MAX_EXPANSION = 250  # decompressed/compressed ratio above which a gzip stream is treated as a bomb
MIN_BOMB_BYTES = 256 * 1024 * 1024
WHITESPACE = "whitespace"  # csv.delimiter of files whose fields are separated by runs of blanks
_LINE_BLANKS = re.compile(rb"(?m)^[ \t]+|[ \t\r]+$")  # blanks (and a CR) at either end of each line
_FIELD_GAP = re.compile(rb"[ \t]+")


@dataclass
class RawBatch:
    """Cells as strings (`string[pyarrow]`, missing = <NA>) with `_source_row`, plus unreadable rows."""

    frame: pd.DataFrame
    header: list[str]
    errors: list[tuple[int | None, str, str]] = field(default_factory=list)  # (source row, reason, text)


class BoundedReader(io.RawIOBase):
    """Decompress a gzip stream lazily, refusing to expand past a bound (gzip bombs)."""

    def __init__(self, raw: BinaryIO, compressed_size: int | None, key: str) -> None:
        self._gzip = gzip.GzipFile(fileobj=raw, mode="rb")
        self._limit = max(MIN_BOMB_BYTES, (compressed_size or 0) * MAX_EXPANSION)
        self._read = 0
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            data = self._gzip.read(len(buffer))
        except (OSError, EOFError, zlib.error) as e:
            raise UnreadableFileError(f"{self._key}: gzip stream is corrupt or truncated ({e})") from e
        self._read += len(data)
        if self._read > self._limit:
            raise UnreadableFileError(
                f"{self._key}: decompresses past {self._limit:,} bytes (more than {MAX_EXPANSION}x): "
                "refused as a gzip bomb"
            )
        buffer[: len(data)] = data
        return len(data)


def open_stream(raw: BinaryIO, key: str, size: int | None) -> BinaryIO:
    """The object's bytes, decompressed when the key ends in .gz or the stream starts with gzip magic."""
    buffered = io.BufferedReader(raw) if not hasattr(raw, "peek") else raw  # type: ignore[arg-type]
    magic = buffered.peek(2)[:2]
    if key.endswith(".gz") or magic == b"\x1f\x8b":
        return io.BufferedReader(BoundedReader(buffered, size, key), buffer_size=1 << 20)
    return buffered


def _cells(text: pa.Array | pa.ChunkedArray, na_values: set[str]) -> pd.Series:
    """A column of cell strings as `string[pyarrow]`; blank cells and the contract's NA markers become missing.

    One chunk, so that every later step reads it without combining it again. Blank (empty or only whitespace,
    as `utf8_trim_whitespace` reads it) is found without trimming every cell, and cells become missing by a new
    validity bitmap over the same text buffers, not by a copy of the text."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)
    blank = pc.or_(pc.utf8_is_space(text), pc.equal(pc.binary_length(text), 0))
    if na_values - {""}:
        markers = pa.array(sorted(na_values), type=pa.string())
        blank = pc.or_(pc.is_in(pc.utf8_trim_whitespace(text), value_set=markers), blank)
    keep = pc.fill_null(pc.and_(pc.is_valid(text), pc.invert(blank)), False)
    if text.offset == 0 and keep.offset == 0 and pa.types.is_string(text.type):
        cells = pa.Array.from_buffers(pa.string(), len(text), [keep.buffers()[1], *text.buffers()[1:]])
    else:
        cells = pc.if_else(keep, text, pa.scalar(None, type=pa.string())).cast(pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([cells], type=pa.string())))


def _strings(table: pa.Table, encoding: str, na_values: set[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Binary columns -> string columns; returns the frame and a mask of rows with invalid bytes."""
    columns: dict[str, pd.Series] = {}
    invalid = np.zeros(table.num_rows, dtype=bool)
    for name in table.column_names:
        column = table.column(name)
        try:
            text = column.cast(pa.string()) if encoding.replace("-", "").lower() in ("utf8", "utf8sig") else None
        except pa.ArrowInvalid:
            text = None
        if text is None:
            values = column.to_pylist()
            decoded = []
            for i, v in enumerate(values):
                if v is None:
                    decoded.append(None)
                    continue
                try:
                    decoded.append(v.decode(encoding))
                except UnicodeDecodeError:
                    invalid[i] = True
                    decoded.append(v.decode(encoding, errors="replace"))
            text = pa.array(decoded, type=pa.string())
        columns[name] = _cells(text, na_values)
    return pd.DataFrame(columns), invalid


def _csv_header(stream: BinaryIO, contract: SourceContract) -> list[str]:
    """The column names: the contract's `csv.column_names` for a header-less file, else the first line's cells."""
    if not contract.csv.get("header", True):
        return [str(name) for name in contract.csv["column_names"]]
    encoding = contract.csv.get("encoding", "utf-8")
    head = stream.peek(1 << 16) if hasattr(stream, "peek") else b""  # type: ignore[union-attr]
    first = head.split(b"\n", 1)[0] if head else b""
    text = first.decode(encoding, errors="replace").lstrip("\ufeff")
    if _whitespace_separated(contract):
        return text.split()
    reader = csv.reader(
        [text], delimiter=contract.csv.get("delimiter", ","), quotechar=contract.csv.get("quotechar", '"')
    )
    return [h.strip() for h in next(reader, [])]


def _whitespace_separated(contract: SourceContract) -> bool:
    return contract.csv.get("delimiter") == WHITESPACE


class WhitespaceFields(io.RawIOBase):
    """A whitespace-separated text (fields split by runs of spaces or tabs, blanks at line ends ignored) as
    tab-separated text, so pyarrow's CSV reader parses it. Whole chunks go through two byte regexes (C speed);
    a chunk ends at a line end, so no run is cut in two. Quotes are not interpreted: in such files (fixed-width
    exports, pandas' whitespace separator) a field never holds a blank."""

    def __init__(self, raw: BinaryIO, chunk: int = 1 << 20) -> None:
        self._raw = raw
        self._chunk = chunk
        self._carry = b""
        self._out = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._out and not self._eof:
            data = self._raw.read(self._chunk)
            if not data:
                self._eof = True
                text, self._carry = self._carry, b""
            else:
                data = self._carry + data
                cut = data.rfind(b"\n") + 1
                text, self._carry = data[:cut], data[cut:]
            text = _LINE_BLANKS.sub(b"", text)
            self._out = _FIELD_GAP.sub(b"\t", text)

    def readinto(self, buffer) -> int:  # type: ignore[override]
        self._fill()
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


def iter_csv(stream: BinaryIO, contract: SourceContract, batch_rows: int) -> Iterator[RawBatch]:
    options = contract.csv
    encoding = options.get("encoding", "utf-8")
    na_values = set(contract.na_values)
    if not stream.peek(1):  # type: ignore[union-attr]
        yield RawBatch(pd.DataFrame({ROW: pd.Series([], dtype="int64")}), [])
        return
    header = _csv_header(stream, contract)
    has_header = bool(options.get("header", True))
    delimiter, quote = options.get("delimiter", ","), options.get("quotechar", '"')
    if delimiter == WHITESPACE:
        stream, delimiter, quote = io.BufferedReader(WhitespaceFields(stream), buffer_size=1 << 20), "\t", False
    unique = [f"{h}\x00{i}" if header.count(h) > 1 else h for i, h in enumerate(header)]  # duplicate names
    ragged: list[tuple[str, str]] = []

    def on_invalid(row) -> str:
        ragged.append((f"expected {row.expected_columns} fields, found {row.actual_columns}", row.text))
        return "skip"

    is_utf8 = encoding.replace("-", "").lower() in ("utf8", "utf8sig")
    try:
        reader = pa_csv.open_csv(
            stream,
            read_options=pa_csv.ReadOptions(
                encoding="utf8" if is_utf8 else encoding,
                column_names=unique,
                skip_rows=int(has_header),
                block_size=8 << 20,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char=quote,
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.binary() for name in unique}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise UnreadableFileError(f"CSV cannot be parsed: {e}") from e
    next_row = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = 0

    def flush() -> RawBatch:
        nonlocal next_row, pending, pending_rows
        table = pa.Table.from_batches(pending, schema=reader.schema) if pending else reader.schema.empty_table()
        frame, invalid = _strings(table, "utf-8", na_values)  # pyarrow has transcoded other encodings to UTF-8
        frame.columns = header
        rows = np.arange(next_row, next_row + len(frame), dtype="int64")
        frame[ROW] = rows
        errors = [(int(r), f"bytes not valid {encoding}", "") for r in rows[invalid]]
        frame = frame.loc[~invalid].reset_index(drop=True)
        next_row += len(rows)
        errors += [(None, reason, text) for reason, text in ragged]
        ragged.clear()
        pending, pending_rows = [], 0
        return RawBatch(frame, header, errors)

    try:
        for batch in reader:
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= batch_rows:
                yield flush()
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise UnreadableFileError(f"CSV cannot be parsed after {next_row + pending_rows} rows: {e}") from e
    if pending or ragged or next_row == 0:
        yield flush()


def iter_jsonl(stream: BinaryIO, contract: SourceContract, batch_rows: int) -> Iterator[RawBatch]:
    encoding = contract.csv.get("encoding", "utf-8")
    na_values = set(contract.na_values)
    header: list[str] = []
    records: list[dict] = []
    rows: list[int] = []
    errors: list[tuple[int | None, str, str]] = []
    row = 0

    def flush() -> RawBatch:
        # cell by cell from the records: a DataFrame would turn a missing key into NaN ('nan') and 1 into 1.0
        frame = pd.DataFrame(
            {
                name: _cells(pa.array([_as_text(r.get(name)) for r in records], type=pa.string()), na_values)
                for name in header
            },
            index=pd.RangeIndex(len(records)),
        )
        frame[ROW] = np.asarray(rows, dtype="int64")
        batch = RawBatch(frame, list(header), list(errors))
        records.clear()
        rows.clear()
        errors.clear()
        return batch

    for line in stream:
        if not line.strip():
            continue
        try:
            value = json.loads(line.decode(encoding))
            if not isinstance(value, dict):
                raise ValueError("a JSON Lines record must be an object")
            header.extend(k for k in value if k not in header)
            records.append(value)
            rows.append(row)
        except UnicodeDecodeError:
            errors.append((row, f"bytes not valid {encoding}", ""))
        except ValueError as e:
            errors.append((row, f"not valid JSON: {str(e)[:80]}", line[:200].decode(encoding, errors="replace")))
        row += 1
        if len(records) + len(errors) >= batch_rows:
            yield flush()
    if records or errors or row == 0:
        yield flush()


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def iter_parquet(stream: BinaryIO, contract: SourceContract, batch_rows: int) -> Iterator[RawBatch]:
    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowInvalid, OSError) as e:
        raise UnreadableFileError(f"not a readable Parquet file: {e}") from e
    na_values = set(contract.na_values)
    header = parquet.schema_arrow.names
    row = 0
    empty = True
    for batch in parquet.iter_batches(batch_size=batch_rows):
        empty = False
        columns = {}
        for name in header:
            column = batch.column(name)
            if pa.types.is_timestamp(column.type) and column.type.tz is None:
                column = column.cast(pa.string())  # naive: read in the contract's zone downstream
            elif not pa.types.is_string(column.type):
                column = column.cast(pa.string())
            columns[name] = _cells(column, na_values)
        frame = pd.DataFrame(columns)
        frame[ROW] = np.arange(row, row + len(frame), dtype="int64")
        row += len(frame)
        yield RawBatch(frame, header)
    if empty:
        yield RawBatch(
            pd.DataFrame(
                {**{h: pd.Series([], dtype="string[pyarrow]") for h in header}, ROW: pd.Series([], dtype="int64")}
            ),
            header,
        )


def prefetched(batches: Iterator[RawBatch], depth: int = 1) -> Iterator[RawBatch]:
    """The same batches, the next one read on a thread while the caller works on the current one.

    Parsing and the Arrow string work release the GIL, so reading overlaps the curation's Python work (the
    function has about 1.7 vCPUs at 3,072 MB). At most `depth` batches wait ahead (memory: one batch more).
    A reading error is raised to the caller at the batch where it happened; a caller that stops early stops
    the reader.
    """
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        ahead.put(("batch", batch), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ahead.put(("end", done))
        except BaseException as e:  # handed to the caller, raised there
            ahead.put(("error", e))

    reader = threading.Thread(target=produce, name="curation-reader", daemon=True)
    reader.start()
    try:
        while True:
            kind, item = ahead.get()
            if kind == "error":
                raise item
            if kind == "end":
                return
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting to hand over a batch, then let it finish
            with contextlib.suppress(queue.Empty):
                ahead.get_nowait()
            reader.join(timeout=0.1)


def iter_batches(
    raw: BinaryIO, key: str, contract: SourceContract, *, size: int | None = None, batch_rows: int = DEFAULT_BATCH_ROWS
) -> Iterator[RawBatch]:
    """Batches of an object's rows, in file order."""
    if contract.format == "parquet":
        data = open_stream(raw, key, size).read()  # Parquet needs random access: footer first
        yield from iter_parquet(io.BytesIO(data), contract, batch_rows)
        return
    stream = open_stream(raw, key, size)
    if contract.format == "csv":
        yield from iter_csv(stream, contract, batch_rows)
    else:
        yield from iter_jsonl(stream, contract, batch_rows)
