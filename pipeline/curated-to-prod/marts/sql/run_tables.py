"""Custom attributes on the Athena path: found in the curated objects' Parquet footers, catalogued for one run.

The stack's Glue tables (`curated_<dataset>`, tools/catalog.py) declare the contract columns only: custom
attributes differ per retailer and are not in any contract, and Athena ignores Parquet columns a table does not
declare. So an Athena rebuild
1. reads the schema of every curated object of a dataset from its Parquet footer (a ranged GET of the object's
   tail on S3, no data read), and takes the union of the columns that are not canonical, lineage or partition
   columns: the attributes DuckDB would see through `union_by_name`;
2. for each dataset that has some, creates a run-scoped copy of the stack's table (`curated_<dataset>_run_<id>`:
   the same location, SerDe and partition projection, read from Glue with `GetTable`) with the attribute
   columns appended, and points the run's queries at it;
3. drops those copies when the run ends, failed or not. The stack's own tables are never altered (a
   `sam deploy` would put them back), and a copy left by a killed run is harmless and named by its run id.
Glue lowercases column names, so an attribute reaches prod through Athena under its lowercased name.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from marts.schema import arrow_kind
from marts.sql.inputs import HIVE_COLUMNS
from retail_platform.contracts import load_canonical
from retail_platform.sql import SqlError
from retail_platform.storage.blobstore import BlobStore, S3BlobStore

TAIL_BYTES = 64 * 1024  # one ranged GET holds the footer of any curated object (a few KiB per column chunk)
FOOTER_THREADS = 16
GLUE_TYPES = {"int": "bigint", "float": "double", "bool": "boolean", "date": "timestamp", "timestamp": "timestamp"}
SQL_TYPES = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "TIMESTAMP", "timestamp": "TIMESTAMP"}
# what the table copy takes from GetTable's answer (the rest is read-only metadata CreateTable refuses)
TABLE_INPUT_KEYS = (
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "TableType",
    "Parameters",
)


def _schema_of_tail(tail: bytes, size_hint: str) -> pa.Schema:
    footer = int.from_bytes(tail[-8:-4], "little")
    if tail[-4:] != b"PAR1" or footer + 8 > len(tail):
        raise SqlError(f"{size_hint}: not a Parquet object (or its footer is larger than {len(tail)} bytes)")
    return pq.read_schema(pa.BufferReader(b"PAR1" + tail[-(footer + 8) :]))


def parquet_schema(store: BlobStore, key: str) -> pa.Schema:
    """The schema in the footer of one Parquet object: on S3 only the object's tail is fetched."""
    if isinstance(store, S3BlobStore):
        try:
            tail = store.client.get_object(Bucket=store.bucket, Key=key, Range=f"bytes=-{TAIL_BYTES}")["Body"].read()
        except ClientError as e:
            raise SqlError(f"s3://{store.bucket}/{key}: footer not readable: {e}") from e
        if len(tail) >= 8 and int.from_bytes(tail[-8:-4], "little") + 8 > len(tail):
            return pq.read_schema(io.BytesIO(store.get(key)))  # an unusually wide object: read it whole
        return _schema_of_tail(tail, f"s3://{store.bucket}/{key}")
    return pq.read_schema(io.BytesIO(store.get(key)))


def attribute_fields(store: BlobStore, dataset: str) -> list[pa.Field]:
    """The custom attribute columns of a curated dataset's objects (union over every object's footer), with
    lowercased names, sorted; a column typed differently across objects takes the wider type (else string)."""
    keys = [k for k in store.list(f"{dataset}/") if k.endswith(".parquet")]
    if not keys:
        return []
    with ThreadPoolExecutor(max_workers=min(FOOTER_THREADS, len(keys))) as pool:
        schemas = list(pool.map(lambda key: parquet_schema(store, key), keys))
    canonical = load_canonical(dataset).columns
    found: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for column in schema:
            name = column.name.lower()
            if name in canonical or name.startswith("_") or name in HIVE_COLUMNS:
                continue
            found.setdefault(name, []).append(column.type)
    return [pa.field(name, _widest(types)) for name, types in sorted(found.items())]


def _widest(types: list[pa.DataType]) -> pa.DataType:
    distinct = list(dict.fromkeys(t for t in types if not pa.types.is_null(t)))
    if not distinct:
        return pa.string()
    try:
        return pa.unify_schemas([pa.schema([("c", t)]) for t in distinct], promote_options="permissive").field("c").type
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.string()


def sql_columns(fields: Iterable[pa.Field]) -> dict[str, str]:
    """Attribute fields as (column -> DuckDB-style type) for `marts.sql.inputs` (`kind_of` reads them back)."""
    return {f.name: SQL_TYPES.get(arrow_kind(f.type), "VARCHAR") for f in fields}


@dataclass
class RunTables:
    """Run-scoped copies of the stack's curated tables, with attribute columns appended (module docstring)."""

    glue: Any  # a boto3 Glue client
    database: str
    run_id: str
    created: list[str] = field(default_factory=list)

    def create(self, dataset: str, fields: list[pa.Field]) -> str:
        """The name of a copy of `curated_<dataset>` that also declares `fields`; the stack's table is unchanged."""
        source, name = f"curated_{dataset}", f"curated_{dataset}_run_{self.run_id}"
        try:
            table = self.glue.get_table(DatabaseName=self.database, Name=source)["Table"]
            given = {k: table[k] for k in TABLE_INPUT_KEYS if k in table}
            descriptor = dict(given["StorageDescriptor"])
            declared = {c["Name"].lower() for c in descriptor.get("Columns", [])}
            declared |= {c["Name"].lower() for c in given.get("PartitionKeys", [])}
            extra = [
                {"Name": f.name, "Type": GLUE_TYPES.get(arrow_kind(f.type), "string"), "Comment": "custom attribute"}
                for f in fields
                if f.name not in declared
            ]
            descriptor["Columns"] = [*descriptor.get("Columns", []), *extra]
            self.glue.create_table(
                DatabaseName=self.database, TableInput={**given, "Name": name, "StorageDescriptor": descriptor}
            )
        except ClientError as e:
            raise SqlError(f"Glue table {self.database}.{name} for the custom attributes of {dataset}: {e}") from e
        self.created.append(name)
        return name

    def drop(self) -> None:
        """Delete every copy this run created (a copy already gone is fine)."""
        for name in self.created:
            try:
                self.glue.delete_table(DatabaseName=self.database, Name=name)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") != "EntityNotFoundException":
                    raise SqlError(f"Glue table {self.database}.{name} not dropped: {e}") from e
        self.created.clear()
