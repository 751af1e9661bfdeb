"""Build prod marts with DuckDB, one calendar month of output at a time, so memory is bounded by a month.

Curated datasets are relations `curated_<dataset>`: parquet objects of the curated store mirrored by
`retail_platform.sql` (`register_store`), or already-read frames (`from_inputs`, the tests' way in). For
each month the partitioned inputs are normalised into temporary tables over the month's read window (a
day before it for payments' orders, six days after it for the weeks starting in it), the line facts are
materialised once, and each mart's query returns the month's rows, conformed to its contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from marts import attributes, currency
from marts.curated import CuratedInputs
from marts.schema import cast_to, conform, conformed, contract, empty
from marts.sql import inputs as sql_inputs
from marts.sql.queries import MARTS, Context, statement
from retail_platform.contracts import load_canonical
from retail_platform.sql import SqlEngine
from retail_platform.storage.blobstore import BlobStore

PARTITIONED = ("order_lines", "orders", "payments", "prices", "inventory")
WHOLE = ("fx_rates", "products", "customers")  # read whole: lookups, and rates forward-filled from the past
CURATED = PARTITIONED + WHOLE
BEFORE = timedelta(days=1)  # payments look up orders a day around them
AFTER = timedelta(days=6)  # a week keyed by its Monday reads up to the Sunday after
ROWS_PER_BATCH = 1_000_000  # order lines built at once: months are batched up to this, a larger month alone
_ARROW = {"int": pa.float64(), "float": pa.float64(), "bool": pa.bool_()}
_ARROW_TIME = {"timestamp": pa.timestamp("us", tz="UTC"), "date": pa.timestamp("us")}
_PANDAS = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


def curated_schema(dataset: str) -> pa.Schema:
    """The Arrow schema of an empty curated dataset (its canonical columns and lineage)."""
    spec = load_canonical(dataset)
    fields = [
        pa.field(name, _ARROW.get(c.type) or _ARROW_TIME.get(c.type) or pa.string()) for name, c in spec.columns.items()
    ]
    return pa.schema([*fields, pa.field("_source_key", pa.string()), pa.field("_source_row", pa.int64())])


def months(days: Iterable[date]) -> dict[tuple[int, int], list[date]]:
    by_month: dict[tuple[int, int], list[date]] = {}
    for day in sorted(set(days)):
        by_month.setdefault((day.year, day.month), []).append(day)
    return by_month


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


class SqlMarts:
    """The marts of one run over the curated relations registered in `engine`."""

    def __init__(self, engine: SqlEngine, rows_per_batch: int = ROWS_PER_BATCH) -> None:
        self.engine = engine
        self.rows_per_batch = rows_per_batch
        self.partitioned_files = False  # curated relations are views over partition files (`from_store`)

    @classmethod
    def from_inputs(cls, inputs: CuratedInputs, engine: SqlEngine, **options: int) -> SqlMarts:
        """Marts over frames already read (normalised or not: the SQL normalises again, idempotently)."""
        marts = cls(engine, **options)
        for name in CURATED:
            frame = getattr(inputs, name)
            engine.register_table(f"curated_{name}", pa.Table.from_pandas(frame, preserve_index=False))
        return marts

    @classmethod
    def from_store(
        cls,
        store: BlobStore,
        engine: SqlEngine,
        reads: Mapping[str, Iterable[str] | None] | None = None,
        **options: int,
    ) -> SqlMarts:
        """Marts over the curated objects of `store`: `reads` gives, per dataset, the partition labels (day
        or month) to mirror, None for all of it; datasets it leaves out are read whole."""
        marts = cls(engine, **options)
        reads = reads or {}
        for name in CURATED:
            periods = reads.get(name)
            engine.register(
                f"curated_{name}",
                store,
                f"{name}/",
                periods=None if periods is None else list(periods),
                empty=curated_schema(name),
                hive_partitioning=False,
                object_column=sql_inputs.OBJECT,
            )
        marts.partitioned_files = True
        return marts

    # ------------------------------------------------------------------ context

    def _columns(self, name: str) -> dict[str, str]:
        return dict(self.engine.columns(f"curated_{name}"))

    def _normalise(self, name: str, window: tuple[datetime, datetime] | None) -> list[sql_inputs.Attribute]:
        select, attrs = sql_inputs.normalised(name, f"curated_{name}", self._columns(name), window is not None)
        params = {"lo": window[0], "hi": window[1]} if window else None
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE norm_{name} AS {select}", params)
        return attrs

    def currencies(self) -> set[str]:
        """The currencies of the amounts the marts convert (`marts.currency.currencies`, read by SQL)."""
        self._whole()
        union = " UNION ".join(
            f"SELECT DISTINCT CAST(currency AS VARCHAR) AS c FROM curated_{name}"  # noqa: S608 - a dataset name
            for name in currency.AMOUNT_SOURCES
            if "currency" in self._columns(name)
        )
        return {r["c"] for r in self.engine.query(union).to_pylist() if r["c"] is not None} if union else set()

    def _whole(self) -> None:
        """The curated views over every object again (after a batch narrowed them to its months)."""
        if self.partitioned_files:
            for name in PARTITIONED:
                self.engine.narrow(f"curated_{name}", None)

    def context(self, reporting: str) -> Context:
        """Normalise the whole lookups (once per run) and read what shapes the SQL."""
        self._whole()
        attrs = {name: self._normalise(name, None) for name in WHOLE}
        pairs = self.engine.query(
            "SELECT DISTINCT base_currency, quote_currency FROM norm_fx_rates WHERE rate IS NOT NULL AND rate > 0 "
            "AND base_currency <> quote_currency AND base_currency IS NOT NULL AND quote_currency IS NOT NULL"
        ).to_pylist()
        return Context(
            reporting=reporting,
            pairs=tuple(sorted((p["base_currency"], p["quote_currency"]) for p in pairs)),
            lines=tuple(sql_inputs.attributes_of("order_lines", self._columns("order_lines"))),
            products=tuple(attrs["products"]),
            customers=tuple(attrs["customers"]),
        )

    # ------------------------------------------------------------------ build

    def span_tables(self, ctx: Context, first: date, last: date, datasets: Iterable[str]) -> dict[str, pa.Table]:
        """Every row of `datasets` dated in [first, last] (weekly ones: weeks starting in it), conformed to
        its contract by the SQL itself (`conformed`): Arrow tables ready to be written, no pandas on the way."""
        window = (_midnight(first - BEFORE), _midnight(last + AFTER))
        if self.partitioned_files:  # scan only the objects of the months the window touches, not the history
            touched = sorted(_months_between(*window))
            for name in PARTITIONED:
                self.engine.narrow(f"curated_{name}", touched)
        lines = []
        for name in PARTITIONED:
            attrs = self._normalise(name, window)
            if name == "order_lines":
                lines = attrs
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE facts AS {sql_inputs.facts(lines)}")
        out = {"out_lo": _midnight(first), "out_hi": _midnight(last)}
        tables = {}
        for name in datasets:
            ctes, select = MARTS[name](ctx)
            working = statement(ctes, select)
            shape = self.engine.query(f"SELECT * FROM ({working}) AS m LIMIT 0", out).schema  # noqa: S608 - our SQL
            text, schema = conformed(name, working, shape)
            tables[name] = cast_to(self.engine.query(text, {**out, "reporting": ctx.reporting}), schema)
        return tables

    def span(self, ctx: Context, first: date, last: date, datasets: Iterable[str]) -> dict[str, pd.DataFrame]:
        """`span_tables` as conformed pandas frames (the service's and the tests' way out)."""
        frames = {}
        for name, table in self.span_tables(ctx, first, last, datasets).items():
            spec = contract(name).columns  # attributes travel PREFIX-named in frames (`marts.attributes`)
            table = table.rename_columns([c if c in spec else attributes.PREFIX + c for c in table.column_names])
            frames[name] = conform(table.to_pandas(types_mapper=_PANDAS.get), name, ctx.reporting)
        return frames

    def lines_per_month(self) -> dict[tuple[int, int], int]:
        """Curated order lines per month of their timestamp (what bounds a batch's memory)."""
        self._whole()
        rows = self.engine.query(
            "SELECT year(order_ts) AS y, month(order_ts) AS m, count(*) AS n FROM "
            "(SELECT TRY_CAST(order_ts AS TIMESTAMPTZ) AS order_ts FROM curated_order_lines) AS l GROUP BY 1, 2"
        ).to_pylist()
        return {(r["y"], r["m"]): r["n"] for r in rows if r["y"] is not None}

    def batches(self, targets: Mapping[str, set[date]]) -> list[tuple[date, date, list[str]]]:
        """Consecutive target months grouped while their order lines fit `rows_per_batch`: (first, last, datasets)."""
        by_month: dict[tuple[int, int], set[str]] = {}
        for name, days in targets.items():
            for key in months(days):
                by_month.setdefault(key, set()).add(name)
        counts = self.lines_per_month()
        batches: list[tuple[date, date, list[str]]] = []
        rows = 0
        for key, names in sorted(by_month.items()):
            first, last = _month_bounds(*key)
            lines = counts.get(key, 0)
            if batches and rows + lines <= self.rows_per_batch:
                start, _, before = batches[-1]
                batches[-1] = (start, last, sorted(set(before) | names))
                rows += lines
            else:
                batches.append((first, last, sorted(names)))
                rows = lines
        return batches

    def tables(self, targets: Mapping[str, Iterable[date]], reporting: str) -> Iterator[dict[str, pa.Table]]:
        """Per batch of months (oldest first), the target partitions' rows of each dataset as conformed Arrow
        tables (what a writer encodes as Parquet directly)."""
        wanted = {name: set(days) for name, days in targets.items() if days}
        if not wanted:
            return
        ctx = self.context(reporting)
        for first, last, names in self.batches(wanted):
            tables = self.span_tables(ctx, first, last, [n for n in names if n in wanted])
            yield {name: _on_table(table, wanted[name]) for name, table in tables.items()}

    def months(self, targets: Mapping[str, Iterable[date]], reporting: str) -> Iterator[dict[str, pd.DataFrame]]:
        """Per batch of months (oldest first), the target partitions' rows of each dataset."""
        wanted = {name: set(days) for name, days in targets.items() if days}
        if not wanted:
            return
        ctx = self.context(reporting)
        for first, last, names in self.batches(wanted):
            frames = self.span(ctx, first, last, [n for n in names if n in wanted])
            yield {name: _on(frame, wanted[name]) for name, frame in frames.items()}

    def build(self, targets: Mapping[str, Iterable[date]], reporting: str) -> dict[str, pd.DataFrame]:
        """Every target partition of every dataset in one frame per dataset (`marts.build.build_marts`)."""
        parts: dict[str, list[pd.DataFrame]] = {}
        for frames in self.months(targets, reporting):
            for name, frame in frames.items():
                parts.setdefault(name, []).append(frame)
        out = {}
        for name, days in targets.items():
            if not days:
                continue
            frames = [f for f in parts.get(name, []) if not f.empty]
            out[name] = pd.concat(frames, ignore_index=True) if frames else empty(name)
        return out


def _on_table(table: pa.Table, days: set[date]) -> pa.Table:
    """The rows of a conformed table dated on one of `days` (all of them when every date is wanted)."""
    if not table.num_rows:
        return table
    dates = table.column("date").cast(pa.timestamp("us")).cast(pa.date32())
    keep = pc.is_in(dates, value_set=pa.array(sorted(days), type=pa.date32()))
    return table if pc.all(keep).as_py() else table.filter(keep)


def _months_between(lo: datetime, hi: datetime) -> set[str]:
    """Every "YYYY-MM" from lo's month to hi's."""
    labels, year, month = set(), lo.year, lo.month
    while (year, month) <= (hi.year, hi.month):
        labels.add(f"{year:04d}-{month:02d}")
        year, month = year + month // 12, month % 12 + 1
    return labels


def _on(frame: pd.DataFrame, days: set[date]) -> pd.DataFrame:
    wanted = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in days))
    return frame.loc[frame["date"].isin(wanted)].reset_index(drop=True)


def build_from_store(
    curated: BlobStore,
    reads: Mapping[str, Iterable[str] | None],
    targets: Mapping[str, Iterable[date]],
    reporting: str,
    cache_dir: str | None = None,
    memory_limit: str | None = None,
) -> Iterator[dict[str, pd.DataFrame]]:
    """The service's entry point: curated objects of the partitions in `reads` (labels, day or month; None:
    all) in, per batch of months (oldest first) the conformed frames of the `targets` out, so that each
    batch can be written before the next is built. `reporting`: an ISO code (AUTO resolved by the caller,
    e.g. from `SqlMarts.currencies`)."""
    with SqlEngine(cache_dir=cache_dir, memory_limit=memory_limit) as engine:
        yield from SqlMarts.from_store(curated, engine, reads).months(targets, reporting)
