"""`SqlEngine`: DuckDB over parquet datasets of `BlobStore`s, one view per dataset.

    engine = SqlEngine(cache_dir="/tmp/sql")
    engine.register("order_lines", curated_store, "order_lines/", periods=["2024-03"])
    table = engine.query("SELECT sku, sum(quantity) AS units FROM order_lines WHERE country = $c GROUP BY sku",
                         {"c": "GB"})

Datasets are mirrored into the local cache (`ParquetMirror`) and scanned by `read_parquet(...,
hive_partitioning = true, union_by_name = true)`: DuckDB reads only the columns and row groups a query
needs, and a dataset is never loaded whole into pandas. Parameters are always bound (`?` or `$name`),
never formatted into the text. Memory is capped (`memory_limit`) and large operators spill to
`temp_directory`, so a Lambda's RAM bounds speed, not correctness.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from retail_platform.exceptions import PlatformError
from retail_platform.sql.mirror import DEFAULT_CACHE, ParquetMirror
from retail_platform.storage.blobstore import BlobStore

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PARTITION = re.compile(r"(?:^|/)(?:date|month)=(\d{4}-\d{2}(?:-\d{2})?)/")
Params = Sequence[Any] | Mapping[str, Any] | None
LAMBDA_SHARE = 0.6  # of the function's memory for DuckDB: the rest holds Python, pandas results and Arrow


class SqlError(PlatformError):
    """A query failed, or a dataset cannot be registered (bad name, no objects and no schema)."""


def quote_identifier(name: str) -> str:
    """`name` as a double-quoted SQL identifier (for generated column lists: user attribute names)."""
    return '"' + str(name).replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _label_matches(label: str | None, wanted: set[str]) -> bool:
    """A partition label (day or month) against wanted labels of either grain: they overlap."""
    if label is None:
        return False
    return any(label.startswith(w) or w.startswith(label) for w in wanted)


class SqlEngine:
    """One in-memory DuckDB database; datasets are views over mirrored parquet files."""

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] | None = None,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir or DEFAULT_CACHE)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.connection = duckdb.connect(":memory:")
        self.connection.execute("SET TimeZone = 'UTC'")  # days of timestamps are UTC days, as in Athena
        spill = self.cache_dir / "_spill"
        spill.mkdir(exist_ok=True)
        self.connection.execute(f"SET temp_directory = {_literal(str(spill))}")
        memory_limit = memory_limit or default_memory_limit()
        if memory_limit:
            self.connection.execute(f"SET memory_limit = {_literal(memory_limit)}")
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")
        self._mirrors: dict[tuple[int, str], ParquetMirror] = {}
        self._lock = threading.Lock()
        self.files: dict[str, list[Path]] = {}
        self._hive: dict[str, bool] = {}
        self._object_columns: dict[str, str] = {}
        self._schemas: dict[str, list[tuple[str, str]] | None] = {}  # columns over all of a dataset's files

    def mirror(self, store: BlobStore) -> ParquetMirror:
        with self._lock:
            key = (id(store), store.bucket)
            if key not in self._mirrors:
                self._mirrors[key] = ParquetMirror(store, self.cache_dir)
            return self._mirrors[key]

    # ------------------------------------------------------------------ datasets

    def register(
        self,
        name: str,
        store: BlobStore,
        prefix: str,
        periods: Iterable[str] | None = None,
        keys: Iterable[str] | None = None,
        empty: pa.Schema | None = None,
        hive_partitioning: bool = True,
        object_column: str | None = None,
    ) -> int:
        """View `name` over the parquet objects under `prefix` (only the partitions overlapping `periods`,
        day or month labels, or only `keys`, when given). Returns the number of files.

        With no object, the view is an empty table of the `empty` schema; without one, `SqlError`.
        `hive_partitioning`: add the key's partition columns (`month`, `date`) as VARCHAR columns;
        `object_column`: a column of that name holding each row's file (whose path ends with its object key)."""
        self._check_name(name)
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        wanted = None if periods is None else set(periods)
        where = None if wanted is None else (lambda key: _label_matches(_partition(key), wanted))
        files = self.mirror(store).sync(prefix, keys, where)
        self.files[name] = files
        self._hive[name] = hive_partitioning
        if object_column is not None:
            self._check_name(object_column)
            self._object_columns[name] = object_column
        if files:
            self._view(name, files)
            self._schemas[name] = self.columns(name)
        else:
            self.register_table(name, self._empty(name, prefix, empty))
            self._schemas[name] = None
        return len(files)

    def _view(self, name: str, files: Sequence[Path], columns: Sequence[tuple[str, str]] | None = None) -> None:
        """View `name` over `files`; with `columns`, exactly those (column, type), NULL where the files lack one."""
        paths = "[" + ", ".join(_literal(str(p)) for p in files) + "]"
        named = f", filename = {_literal(self._object_columns[name])}" if name in self._object_columns else ""
        scan = (
            f"read_parquet({paths}, hive_partitioning = {str(self._hive.get(name, True)).lower()}, "
            f"hive_types_autocast = false, union_by_name = true{named})"
        )
        select = "*"
        if columns is not None:
            present = {r[0] for r in self.connection.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}  # noqa: S608
            select = ", ".join(
                quote_identifier(c) if c in present else f"CAST(NULL AS {t}) AS {quote_identifier(c)}"
                for c, t in columns
            )
        # a checked identifier, escaped paths of our own cache and column types DuckDB itself reported
        self.connection.execute(f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS SELECT {select} FROM {scan}")  # noqa: S608

    def narrow(self, name: str, periods: Iterable[str] | None) -> int:
        """Point the registered view `name` at only its files of partitions overlapping `periods` (day or month
        labels; None: all of them again), keeping every column it had over all its files (NULL where the
        chosen files lack one), so that a query of one batch of months does not scan the whole history.
        Files without a partition label are always kept. Returns the number of files scanned."""
        files, columns = self.files.get(name), self._schemas.get(name)
        if not files or columns is None:
            return 0
        wanted = None if periods is None else set(periods)
        chosen = [p for p in files if wanted is None or _kept(_partition(p.as_posix()), wanted)]
        if chosen:
            self._view(name, chosen, None if len(chosen) == len(files) else columns)
        else:
            types = ", ".join(f"CAST(NULL AS {t}) AS {quote_identifier(c)}" for c, t in columns)
            self.connection.execute(f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS SELECT {types} WHERE false")
        return len(chosen)

    def register_table(self, name: str, table: pa.Table) -> None:
        """View `name` over an Arrow table held in memory (small lookups, test inputs)."""
        self._check_name(name)
        self.connection.register(f"__arrow_{name}", table)
        view = f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS SELECT * FROM __arrow_{name}"  # noqa: S608
        self.connection.execute(view)  # `name` is a checked identifier

    @staticmethod
    def _empty(name: str, prefix: str, schema: pa.Schema | None) -> pa.Table:
        if schema is None:
            raise SqlError(f"dataset {name!r}: no parquet object under {prefix!r} and no schema for an empty view")
        return schema.empty_table()

    @staticmethod
    def _check_name(name: str) -> None:
        if not IDENTIFIER.match(name) or name.startswith("__"):
            raise SqlError(f"dataset name {name!r} must be a plain identifier (letters, digits, underscores)")

    def columns(self, name: str) -> list[tuple[str, str]]:
        """(column, DuckDB type) of a registered view."""
        self._check_name(name)
        rows = self.connection.execute(f"DESCRIBE {quote_identifier(name)}").fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    # ------------------------------------------------------------------ queries

    def query(self, sql: str, params: Params = None) -> pa.Table:
        """The result of one SELECT as an Arrow table; parameters bound, never formatted in."""
        try:
            relation = self.connection.sql(sql, params=params)
            return relation.to_arrow_table() if relation is not None else pa.table({})
        except duckdb.Error as e:
            raise SqlError(f"query failed: {e}") from e

    def query_df(self, sql: str, params: Params = None) -> Any:
        """`query` as a pandas frame (for small results: aggregates, one month of a mart)."""
        return self.query(sql, params).to_pandas()

    def execute(self, sql: str, params: Params = None) -> None:
        """A statement without a result (CREATE TEMP TABLE ... AS, SET ...)."""
        try:
            self.connection.execute(sql, params)
        except duckdb.Error as e:
            raise SqlError(f"statement failed: {e}") from e

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> SqlEngine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def default_memory_limit() -> str | None:
    """In Lambda, 60% of the function's memory (DuckDB would size itself on the host's); else DuckDB's own."""
    size = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    return f"{int(int(size) * LAMBDA_SHARE)}MB" if size.isdigit() else None


def _kept(label: str | None, wanted: set[str]) -> bool:
    return label is None or _label_matches(label, wanted)


def _partition(key: str) -> str | None:
    match = PARTITION.search(key)
    return match.group(1) if match else None
