"""Curate one raw object, batch by batch: read, coerce, validate, detect, dedupe, account for every row.

Phase 1 runs per batch (memory bounded by the batch): every row is either kept as a candidate or
quarantined with its reasons. Phase 2, once the whole file is seen, applies what needs the whole file
(the latest version of a business key wins) and hands each output part to a sink. The engine is pure:
the handler's sink writes to S3, tests use the in-memory one.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from curation import detectors, reading
from curation.arrowcols import as_strings, factorize, forget_encodings, row_hashes
from curation.coercion import coerce
from curation.partitioning import by_partition
from curation.problems import Notes, RowNotes
from curation.validation import apply_rules
from retail_platform.contracts import SourceContract
from retail_platform.pii import iin, pan

_PAN_RUN = rf"\d(?:[ .\-]?\d){{{iin.MIN_LENGTH - 1}}}"  # a candidate PAN: as pan.find_pans reads runs

EXAMPLES_PER_REASON = 5
LINEAGE = ("_warnings", "_repairs", "_source_key", "_source_row")
RAW_PREFIX = "raw_"
# held candidates past this go to local disk: the function has 3,072 MB, and a batch in flight takes about 1 GB
SPILL_BYTES = 512 << 20


class Sink(Protocol):
    def curated(self, label: str, part: int, table: pa.Table) -> None: ...  # label: see curation.partitioning
    def quarantine(self, part: int, frame: pd.DataFrame) -> None: ...


@dataclass
class MemorySink:
    """Collects outputs in memory (tests, small files)."""

    curated_parts: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)
    quarantine_parts: dict[int, pd.DataFrame] = field(default_factory=dict)

    def curated(self, label: str, part: int, table: pa.Table) -> None:
        self.curated_parts[(label, part)] = table.to_pandas()

    def quarantine(self, part: int, frame: pd.DataFrame) -> None:
        self.quarantine_parts[part] = frame


@dataclass
class CurationResult:
    curated: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict
    also: dict[str, CurationResult] = field(default_factory=dict)  # further datasets of the same export


def object_id(key: str) -> str:
    """Stable id of a raw object, used in every output's name so re-runs overwrite, never duplicate."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def reason_kind(reason: str) -> str:
    """`order_ts: expected a timestamp…, got 'x'` -> `order_ts: expected a timestamp…`; rules stay whole."""
    if ", got " in reason:
        return reason.split(", got ")[0]
    if reason.startswith("exact duplicate of source row"):
        return "exact duplicate"
    if reason.startswith("duplicate business key"):
        return reason.split(": superseded")[0]
    return reason


@dataclass
class _Stats:
    rows_in: int = 0
    rows_quarantined: int = 0
    rows_curated: int = 0
    non_null: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, dict] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)
    pans_masked: dict[str, int] = field(default_factory=dict)
    missing_columns: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    superseded: int = 0
    collapsed: int = 0
    flags: dict[str, dict] = field(default_factory=dict)
    repairs: int = 0
    detector_notes: list[dict] = field(default_factory=list)
    detector_seconds: float = 0.0
    profile: dict | None = None

    def note_flag(self, flag: detectors.Flag, action: str, source_row: int, message: str, rows: int = 1) -> None:
        label = f"{flag.detector}:{flag.column or '(row)'}"
        entry = self.flags.setdefault(label, {"rows": 0, "action": action, "examples": []})
        entry["rows"] += rows
        if len(entry["examples"]) < EXAMPLES_PER_REASON:
            entry["examples"].append({"source_row": source_row, "flag": message})

    def note_reasons(self, messages: dict[int, list[str]], rows: np.ndarray) -> None:
        for position, row_reasons in messages.items():
            for reason in dict.fromkeys(row_reasons):
                entry = self.reasons.setdefault(reason_kind(reason), {"rows": 0, "examples": []})
                entry["rows"] += 1
                if len(entry["examples"]) < EXAMPLES_PER_REASON:
                    source_row = None if rows[position] < 0 else int(rows[position])
                    entry["examples"].append({"source_row": source_row, "reason": reason})


class Curation:
    """One raw object's curation. `add(batch)` per batch, then `finish()` once."""

    def __init__(
        self,
        key: str,
        contract: SourceContract,
        sink: Sink,
        spill_rows: int | None = None,
        detect: bool = True,
        spill_bytes: int = SPILL_BYTES,
    ) -> None:
        self.key = key
        self.sink = sink
        self.detect = detect
        self.policy = detectors.QualityPolicy.from_mapping({**contract.canonical.quality, **contract.quality})
        self.contract = contract
        self.canonical = contract.canonical
        self.schema = contract.schema or self.canonical.columns  # canonical columns, then custom attributes
        self.types = {name: column.type for name, column in self.schema.items()}
        self._identity = [c for c in self.schema if c not in contract.aggregate]  # equal here: a repeat
        self._contents: list[np.ndarray] = []
        self._aggregates: list[pd.DataFrame] = []
        self.stats = _Stats()
        self._seen_hashes = np.empty(0, dtype=np.uint64)
        self._seen_rows = np.empty(0, dtype=np.int64)
        self._keys: list[np.ndarray] = []
        self._key_rows: list[np.ndarray] = []
        self._parts: list[pa.Table | Path] = []
        self._held_rows = 0
        self._held_bytes = 0
        self._spill_rows = spill_rows
        self._spill_bytes = spill_bytes
        self._workdir: Path | None = None
        self._quarantine_parts = 0
        self._aggregated: tuple[np.ndarray, pd.DataFrame] | None = None  # (source rows, a key's shared values)
        self._detector_memo: dict = {}  # structure the detectors found in the first batch (see detectors.run)

    # --- phase 1 -------------------------------------------------------------------------------------
    def add(self, batch: reading.RawBatch) -> None:
        try:
            self._add(batch)
        finally:
            forget_encodings()

    def _add(self, batch: reading.RawBatch) -> None:
        raw = batch.frame.reset_index(drop=True)
        stats = self.stats
        stats.header = stats.header or batch.header
        data_columns = [c for c in raw.columns if c != reading.ROW]
        rows = raw[reading.ROW].to_numpy(dtype=np.int64)
        stats.rows_in += len(raw) + len(batch.errors)
        if batch.errors:
            self._quarantine_errors(batch.errors, data_columns)
        if raw.empty:
            return
        notes = Notes(len(raw))
        reasons, warnings, repairs = notes.reasons, notes.warnings, notes.repairs
        coerced = coerce(raw, batch.header, self.contract, notes)
        for name, count in coerced.pans_masked.items():
            stats.pans_masked[name] = stats.pans_masked.get(name, 0) + count
        if coerced.missing_columns:
            stats.missing_columns = coerced.missing_columns
            hint = (
                f" (the header has {len(batch.header)} column(s): is the delimiter right?)"
                if len(batch.header) < 3
                else ""
            )
            reasons.add(np.ones(len(raw), dtype=bool), f"file is missing columns {coerced.missing_columns}{hint}")
        frame = coerced.frame
        for name, count in apply_rules(frame, self.canonical.rules + self.contract.rules, reasons, warnings).items():
            stats.rules[name] = stats.rules.get(name, 0) + count
        # a further dataset's repeats are many lines of one order/product/customer: they collapse in phase 2
        duplicate = np.zeros(len(raw), dtype=bool)
        if not self.contract.collapse:
            duplicate = self._exact_duplicates(raw, data_columns, rows, reasons)
        if self.detect and not coerced.missing_columns:  # every row but exact copies, failing a check or not
            self._run_detectors(frame, rows, notes, np.flatnonzero(~duplicate))

        rejected = reasons.flagged()
        stats.note_reasons(reasons.messages(), rows)
        for kind, count in warnings.counts(lambda m: m.split(": expected ")[0]).items():
            stats.warnings[kind] = stats.warnings.get(kind, 0) + count
        if rejected.any():
            self._quarantine(raw.loc[rejected, data_columns], rows[rejected], reasons.joined()[rejected])
        keep = ~rejected
        candidates = frame.loc[keep].copy()
        candidates["_warnings"] = warnings.joined()[keep]
        candidates["_repairs"] = repairs.joined()[keep]
        candidates["_source_key"] = self.key
        candidates["_source_row"] = rows[keep]
        if self.canonical.business_key:
            self._keys.append(row_hashes(candidates, list(self.canonical.business_key)))
            self._key_rows.append(rows[keep])
            if self.contract.collapse:
                self._contents.append(row_hashes(candidates, self._identity))
                self._aggregates.append(candidates[list(self.contract.aggregate)].reset_index(drop=True))
        table = pa.Table.from_pandas(candidates, preserve_index=False)
        kept = pa.array(keep)
        for column in data_columns:  # kept for the few rows a later version of their key supersedes
            table = table.append_column(f"{RAW_PREFIX}{column}", as_strings(raw[column]).filter(kept))
        self._hold(table)

    def _run_detectors(self, frame: pd.DataFrame, rows: np.ndarray, notes: Notes, eligible: np.ndarray) -> None:
        """Data-quality detectors on the batch's rows (those failing a check too, so every problem is reported);
        the contract's policy decides each flag. A further dataset's identical rows are looked at once (an order
        of ten lines is one order) and a flag applies to every copy."""
        if eligible.size == 0:
            return
        groups = _identical_groups(frame, eligible, self._identity) if self.contract.collapse else None
        looked_at = eligible if groups is None else groups[0]
        every_row = looked_at.size == len(frame)  # ascending positions: then all of them, in order
        batch = frame if every_row else frame.iloc[looked_at].reset_index(drop=True)  # frame: a RangeIndex
        started = time.perf_counter()
        detection = detectors.run(
            batch,
            self.types,
            self.policy,
            with_profile=self.stats.profile is None and not self.contract.collapse,
            memo=self._detector_memo,
        )
        self.stats.detector_seconds += time.perf_counter() - started
        self.stats.detector_notes.extend(detection.notes)
        if detection.profile is not None:
            self.stats.profile = detection.profile
        for flag in detection.flags:
            positions = np.array([looked_at[flag.row]]) if groups is None else groups[1](flag.row)
            action = self.policy.action_for(flag.detector, flag.column)
            where = f"{flag.detector} {flag.column}" if flag.column else flag.detector
            message = f"{where}: expected {flag.expected}, got {flag.observed!r} (confidence {flag.confidence:.2f})"
            if action == "repair" and flag.repair is not None and flag.column is not None:
                frame.iloc[positions, frame.columns.get_loc(flag.column)] = flag.repair
                change = f"{flag.column}: {flag.observed!r} -> {flag.repair!r} ({flag.detector})"
                notes.repairs.add_positions(positions, [change] * len(positions))
                self.stats.repairs += len(positions)
            elif action == "quarantine":
                notes.reasons.add_positions(positions, [message] * len(positions))
            else:
                notes.warnings.add_positions(positions, [message] * len(positions))
            self.stats.note_flag(flag, action, int(rows[positions[0]]), message, len(positions))

    def _exact_duplicates(
        self, raw: pd.DataFrame, columns: list[str], rows: np.ndarray, reasons: RowNotes
    ) -> np.ndarray:
        """Rows equal (every raw cell) to an earlier row of the file get that reason; returns their mask."""
        hashes = row_hashes(raw, columns)
        first_in_batch = _first_of_equal(hashes, rows)
        original = np.where(first_in_batch != rows, first_in_batch, -1)
        if self._seen_hashes.size:
            at = np.searchsorted(self._seen_hashes, hashes)
            at_clipped = np.minimum(at, self._seen_hashes.size - 1)
            found = self._seen_hashes[at_clipped] == hashes
            original = np.where(found, self._seen_rows[at_clipped], original)
        duplicate = original >= 0  # reported beside the row's other problems, if it has any
        positions = np.flatnonzero(duplicate)
        reasons.add_positions(positions, [f"exact duplicate of source row {original[p]}" for p in positions])
        new = original < 0
        merged_h = np.concatenate([self._seen_hashes, hashes[new]])
        merged_r = np.concatenate([self._seen_rows, rows[new]])
        order = np.argsort(merged_h, kind="stable")
        self._seen_hashes, self._seen_rows = merged_h[order], merged_r[order]
        return duplicate

    def _quarantine(self, raw_rows: pd.DataFrame, rows: np.ndarray, reasons: np.ndarray) -> None:
        frame = pd.DataFrame({"_reasons": reasons.astype(object), "_source_row": rows.astype("int64")})
        frame["_source_key"] = self.key
        for column in raw_rows.columns:
            frame[f"{RAW_PREFIX}{column}"] = _masked_strings(raw_rows[column])
        self._write_quarantine(frame)

    def _write_quarantine(self, frame: pd.DataFrame) -> None:
        self.sink.quarantine(self._quarantine_parts, frame.reset_index(drop=True))
        self._quarantine_parts += 1
        self.stats.rows_quarantined += len(frame)

    def _quarantine_errors(self, errors: list[tuple[int | None, str, str]], columns: list[str]) -> None:
        rows = np.array([-1 if r is None else r for r, _, _ in errors], dtype=np.int64)
        reasons = np.array([f"unreadable row: {reason}" for _, reason, _ in errors], dtype=object)
        texts = pd.Series([text for _, _, text in errors], dtype=object)
        self.stats.note_reasons({i: [r] for i, r in enumerate(reasons)}, rows)
        frame = pd.DataFrame({"_reasons": reasons, "_source_row": rows})
        frame["_source_key"] = self.key
        frame["_raw_line"] = _masked_strings(texts)
        self._write_quarantine(frame)

    def _hold(self, table: pa.Table) -> None:
        """Keep a batch's candidates (as Arrow: converted from pandas once, compact) until phase 2: in memory while
        they take at most `spill_bytes` (or `spill_rows`), past that on local disk, all of them."""
        self._held_rows += table.num_rows
        self._held_bytes += table.nbytes
        too_many = self._spill_rows is not None and self._held_rows > self._spill_rows
        if too_many or self._held_bytes > self._spill_bytes:  # big file: candidates on local disk, not in memory
            if self._workdir is None:
                self._workdir = Path(tempfile.mkdtemp(prefix="curation-"))
                self._parts = [self._spill(p, i) if isinstance(p, pa.Table) else p for i, p in enumerate(self._parts)]
            self._parts.append(self._spill(table, len(self._parts)))
        else:
            self._parts.append(table)

    def _spill(self, table: pa.Table, name: int | str) -> Path:
        """Arrow IPC, uncompressed: writing is a copy and phase 2 maps it back without decoding (Parquet cost 4x)."""
        assert self._workdir is not None
        path = self._workdir / (f"part-{name:05d}.arrow" if isinstance(name, int) else f"{name}.arrow")
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        return path

    # --- phase 2 -------------------------------------------------------------------------------------
    def finish(self) -> dict:
        try:
            superseded_by, collapsed = self._supersession()
            held = []
            for index, part in enumerate(self._parts):
                if not isinstance(part, Path):
                    held.append(self._curated(part, superseded_by, collapsed))
                    continue
                mapped = _read_spilled(part)
                curated = self._curated(mapped, superseded_by, collapsed)
                if curated.num_rows < mapped.num_rows:  # filtered: a copy in memory; back to disk, mapped
                    curated = _read_spilled(self._spill(curated, f"curated-{index:05d}"))
                held.append(curated)
            if held:
                schema = pa.unify_schemas([t.schema for t in held], promote_options="permissive")
                for label, part, table in by_partition([t.cast(schema) for t in held], self.canonical.partition_by):
                    self.sink.curated(label, part, table)
        finally:
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
        return self.report()

    def _supersession(self) -> tuple[dict[int, int], np.ndarray]:
        """(source row -> the later source row with the same business key, which wins; rows that collapse).

        In the primary dataset every older version of a key is superseded (quarantined with the reason). In a
        further dataset an older row equal to the key's latest one collapses into it (an order's header on each
        of its lines) and only a row with other values is superseded; `aggregate` columns are computed over the
        key's rows first (e.g. a customer's first order date) and left out of the comparison.
        """
        none = np.empty(0, dtype=np.int64)
        if not self._keys:
            return {}, none
        keys = np.concatenate(self._keys)
        rows = np.concatenate(self._key_rows)  # ascending: batches and their rows come in file order
        last = pd.Series(rows).groupby(keys).transform("max").to_numpy()
        older = last != rows
        if not self.contract.collapse:
            return dict(zip(rows[older].tolist(), last[older].tolist(), strict=True)), none
        contents = np.concatenate(self._contents)
        same = contents == pd.Series(contents).groupby(keys).transform("last").to_numpy()
        if self.contract.aggregate:
            values = pd.concat(self._aggregates, ignore_index=True)
            shared = {c: values[c].groupby(keys).transform(how) for c, how in self.contract.aggregate.items()}
            self._aggregated = (rows, pd.DataFrame(shared))
        conflict = older & ~same
        return dict(zip(rows[conflict].tolist(), last[conflict].tolist(), strict=True)), rows[older & same]

    def _curated(self, table: pa.Table, superseded_by: dict[int, int], collapsed: np.ndarray) -> pa.Table:
        """A held batch's curated rows: rows a later version of their key supersedes go to quarantine; rows that
        repeat their key's latest values collapse into it (counted, neither curated nor quarantined)."""
        if collapsed.size:
            repeat = np.isin(table["_source_row"].to_numpy(), collapsed)
            self.stats.collapsed += int(repeat.sum())
            table = table.filter(pa.array(~repeat))
        raw_columns = [c for c in table.column_names if c.startswith(RAW_PREFIX)]
        if superseded_by:
            rows = table["_source_row"].to_numpy()
            old = np.isin(rows, np.fromiter(superseded_by, dtype=np.int64))
            if old.any():
                key = list(self.canonical.business_key)
                reasons = np.array(
                    [f"duplicate business key {key}: superseded by source row {superseded_by[r]}" for r in rows[old]],
                    dtype=object,
                )
                self.stats.note_reasons({i: [r] for i, r in enumerate(reasons)}, rows[old])
                self.stats.superseded += int(old.sum())
                raw = table.select(raw_columns).filter(pa.array(old)).to_pandas()
                self._quarantine(raw.rename(columns=lambda c: c[len(RAW_PREFIX) :]), rows[old], reasons)
                table = table.drop_columns(raw_columns).filter(pa.array(~old))
        curated = self._with_aggregates(table.drop_columns([c for c in raw_columns if c in table.column_names]))
        self.stats.rows_curated += curated.num_rows
        for name in self.schema:
            non_null = curated.num_rows - curated[name].null_count
            self.stats.non_null[name] = self.stats.non_null.get(name, 0) + non_null
        return curated

    def _with_aggregates(self, table: pa.Table) -> pa.Table:
        if self._aggregated is None or not table.num_rows:
            return table
        rows, shared = self._aggregated
        at = np.searchsorted(rows, table["_source_row"].to_numpy())
        for name in shared.columns:
            field_ = table.schema.field(name)
            values = pa.array(shared[name].iloc[at].reset_index(drop=True), type=field_.type, from_pandas=True)
            table = table.set_column(table.schema.get_field_index(name), field_, values)
        return table

    def report(self) -> dict:
        s, contract = self.stats, self.contract
        mapped = {c for m in contract.columns.values() for c in m.source_columns} | {
            s.header[m.source_index]
            for m in contract.columns.values()
            if m.source_index is not None and m.source_index < len(s.header)
        }
        if contract.collapse or contract.also:  # the export's other datasets read their columns too
            primary = [contract] if contract.also else []
            mapped |= {c for o in primary + list(contract.also) for m in o.columns.values() for c in m.source_columns}
        valid = s.rows_curated + s.superseded + s.collapsed
        return {
            "source_key": self.key,
            "object_id": object_id(self.key),
            "contract": contract.name,
            "dataset": self.canonical.name,
            "rows_in": s.rows_in,
            "rows_curated": s.rows_curated,
            "rows_quarantined": s.rows_quarantined,
            "rows_collapsed": s.collapsed,
            "conservation_ok": s.rows_in == s.rows_curated + s.rows_quarantined + s.collapsed,
            "validity": round((s.rows_curated + s.collapsed) / s.rows_in, 4) if s.rows_in else None,
            "uniqueness": round(1 - (s.superseded + s.collapsed) / valid, 4) if valid else None,
            "completeness": {
                name: round(s.non_null.get(name, 0) / s.rows_curated, 4) if s.rows_curated else None
                for name in self.schema
            },
            "attributes": {
                name: {
                    "type": column.type,
                    **(
                        {"expr": contract.columns[name].expr.text}
                        if contract.columns[name].expr
                        else {"source": contract.columns[name].source}
                    ),
                }
                for name, column in contract.attributes.items()
            },
            "failed_checks": dict(sorted(s.reasons.items(), key=lambda kv: (-kv[1]["rows"], kv[0]))),
            "rules_flagged": s.rules,
            "warnings": s.warnings,
            "pans_masked": s.pans_masked,
            "missing_columns": s.missing_columns,
            "extra_columns": [h for h in s.header if h not in mapped],
            "detector_flags": dict(sorted(s.flags.items(), key=lambda kv: (-kv[1]["rows"], kv[0]))),
            "repairs": s.repairs,
            "detector_notes": s.detector_notes,
            "detector_seconds": round(s.detector_seconds, 3),
            "profile": s.profile,
        }


def _identical_groups(
    frame: pd.DataFrame, eligible: np.ndarray, columns: list[str]
) -> tuple[np.ndarray, Callable[[int], np.ndarray]]:
    """Rows among `eligible` (ascending positions) with equal values in `columns`: the first row of each group, in
    file order, and a function giving the rows of the i-th group."""
    hashes = row_hashes(frame.iloc[eligible].reset_index(drop=True), columns)
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(order)]
    firsts = eligible[order[starts]]
    by_first = np.argsort(firsts, kind="stable")

    def members(i: int) -> np.ndarray:
        group = by_first[i]
        return eligible[order[starts[group] : ends[group]]]

    return firsts[by_first], members


def _first_of_equal(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row, the first row (in batch order) with the same key."""
    if not len(keys):
        return rows.copy()
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first = np.empty_like(rows)
    first[order] = np.repeat(rows[order[starts]], np.diff(np.r_[starts, len(keys)]))
    return first


def _read_spilled(path: Path) -> pa.Table:
    """A spilled part, memory-mapped: its pages are read as the part is sliced and written, then released."""
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _masked_strings(values: pd.Series) -> pd.Series:
    """Original cell text for quarantine, with any card number masked (each distinct value checked once; only
    those holding a run of MIN_LENGTH digits, blanks, dashes or dots between them allowed, can hold one)."""
    codes, uniques = factorize(values)
    texts = [str(u) for u in uniques]
    runs = pc.match_substring_regex(pa.array(texts, type=pa.string()), _PAN_RUN).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(runs).tolist():
        texts[i] = pan.mask_text(texts[i])[0]
    return pd.Series(np.array([*texts, None], dtype=object)[codes], dtype="string")


def curate_stream(
    stream: BinaryIO,
    key: str,
    contract: SourceContract,
    sink: Sink,
    *,
    size: int | None = None,
    batch_rows: int = reading.DEFAULT_BATCH_ROWS,
    detect: bool = True,
    also_sinks: Mapping[str, Sink] | None = None,
) -> dict:
    """Curate an object read from a stream, handing outputs to the sink; returns the quality report.

    A contract feeding several datasets (`datasets:`) reads the file once: each batch goes through every
    dataset's curation. `also_sinks` maps each further dataset to its sink; their reports come back under the
    primary report's `also` (dataset -> report), each with its own conservation figures.
    """
    missing = [o.dataset for o in contract.also if o.dataset not in (also_sinks or {})]
    if missing:
        raise ValueError(f"no sink for the further datasets {missing} of contract {contract.name!r}")
    curations = [Curation(key, contract, sink, detect=detect)]
    curations += [Curation(key, other, (also_sinks or {})[other.dataset], detect=detect) for other in contract.also]
    batches = reading.prefetched(reading.iter_batches(stream, key, contract, size=size, batch_rows=batch_rows))
    with contextlib.closing(batches):  # a failing batch stops the reader thread too
        for batch in batches:
            for curation in curations:
                curation.add(batch)
    reports = [curation.finish() for curation in curations]
    if contract.also:
        reports[0]["also"] = {other.dataset: r for other, r in zip(contract.also, reports[1:], strict=True)}
    return reports[0]


def curate(
    body: bytes,
    key: str,
    contract: SourceContract,
    *,
    batch_rows: int = reading.DEFAULT_BATCH_ROWS,
    detect: bool = True,
) -> CurationResult:
    """Curate an object held in memory (tests, small files): all outputs as frames."""
    import io

    sink = MemorySink()
    others = {o.dataset: MemorySink() for o in contract.also}
    report = curate_stream(
        io.BytesIO(body),
        key,
        contract,
        sink,
        size=len(body),
        batch_rows=batch_rows,
        detect=detect,
        also_sinks=others,
    )
    result = _result(sink, report)
    result.also = {name: _result(others[name], r) for name, r in report.get("also", {}).items()}
    return result


def _result(sink: MemorySink, report: dict) -> CurationResult:
    curated = [f for _, f in sorted(sink.curated_parts.items())]
    quarantine = [f for _, f in sorted(sink.quarantine_parts.items())]
    return CurationResult(
        pd.concat(curated, ignore_index=True) if curated else pd.DataFrame(),
        pd.concat(quarantine, ignore_index=True) if quarantine else pd.DataFrame(),
        report,
    )
