"""Batch path: on ProdDatasetUpdated (copilot_mart, country_kpis) rebuild the copilot's versioned snapshot.

The "model" of the copilot is its entity catalogue (countries, categories, products with their descriptions)
plus a compacted copy of the tables it answers from (written by DuckDB from the prod partitions, never loaded
into pandas), so that a cold start mirrors a few objects instead of one per partition. It is saved under
models/retail-copilot/<version>/ with metadata (inputs and their freshness, library versions, a self-check of
the engine: per-country filtered totals against one grouped query) and a current.json pointer that keeps the
previous versions for fallback. A daily digest (headline figures per country) goes to prod as
copilot_digest/date=<latest>/part-0.parquet.
"""

from __future__ import annotations

import hashlib
import platform
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from retail_copilot.engine import QueryEngine
from retail_copilot.entities import from_warehouse, reporting_currency
from retail_copilot.errors import PlanError
from retail_copilot.periods import Period
from retail_copilot.plan import QueryPlan
from retail_copilot.sqlplan import KPIS, MART, ORDERS, Query
from retail_copilot.store import CopilotData
from retail_copilot.warehouse import DuckWarehouse
from retail_platform.storage import codec

DIGEST_SCHEMA = pa.schema(
    [
        ("date", pa.timestamp("ns")),
        ("country", pa.string()),
        ("metric", pa.string()),
        ("window", pa.string()),
        ("value", pa.float64()),
        ("previous_value", pa.float64()),
        ("change_pct", pa.float64()),
        ("model_version", pa.string()),
    ]
)


def version_of(files: dict[str, bytes]) -> str:
    """A version id that changes when the inputs change: UTC time + a content hash."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + digest.hexdigest()[:10]


def self_check(engine: QueryEngine) -> dict[str, Any]:
    """Every country's totals of the last 28 days, each asked as its own filtered query, against one grouped
    query over all countries (two different SQL shapes over the same rows must agree)."""
    last = engine.last
    period = Period(last - pd.Timedelta(days=27).to_pytimedelta(), last, "last 28 days")
    checked = mismatches = 0
    for metric in ("units", "revenue"):
        grouped = engine.breakdown(QueryPlan("breakdown", metric, period, group_by="country")).details["groups"]
        for country in engine.catalog.countries:
            got = engine.totals(QueryPlan("totals", metric, period, countries=[country])).value or 0.0
            checked += 1
            mismatches += int(not np.isclose(got, grouped.get(country, 0.0), rtol=1e-9, atol=0.005))
    return {"checked": checked, "mismatches": mismatches}


def digest(engine: QueryEngine, version: str) -> pd.DataFrame:
    """Headline figures per country (and ALL): last 7 days vs the 7 before, last 28 days vs the 28 before."""
    rows = []
    last = engine.last
    for days in (7, 28):
        current = Period(last - pd.Timedelta(days=days - 1).to_pytimedelta(), last, f"last {days} days")
        for country in [None, *engine.catalog.countries]:
            for metric in ("revenue", "units", "orders"):
                plan = QueryPlan("compare", metric, current, countries=[country] if country else [])
                try:
                    result = engine.compare(plan)
                except ValueError:
                    continue
                details = result.details
                rows.append(
                    {
                        "date": pd.Timestamp(last),
                        "country": country or "ALL",
                        "metric": metric,
                        "window": f"{days}d",
                        "value": details.get("current", result.value),
                        "previous_value": details.get("previous"),
                        "change_pct": details.get("change_pct"),
                        "model_version": version,
                    }
                )
    frame = pd.DataFrame(rows, columns=[f.name for f in DIGEST_SCHEMA])
    for column in ("value", "previous_value", "change_pct"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def rows(warehouse: Any, source: str) -> int:
    """Rows of a prepared source, by SQL on either engine."""
    table = warehouse.tables.name(source)
    return int(warehouse.fetch(Query(f"SELECT COUNT(*) AS n FROM {table}")).iloc[0]["n"])  # noqa: S608


def library_versions() -> dict[str, str]:
    import duckdb
    import pyarrow

    versions = {
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "pyarrow": pyarrow.__version__,
    }
    try:
        import rapidfuzz

        versions["rapidfuzz"] = rapidfuzz.__version__
    except ImportError:  # pragma: no cover - pinned in the image
        pass
    return versions


def rebuild(data: CopilotData, currency: str = "EUR", engine_name: str = "duckdb") -> dict[str, Any]:
    """Query prod (DuckDB, or Athena for large data), save a new version, move current.json, write the digest.

    On DuckDB the version holds a compacted copy of the tables; on Athena only the catalogue (the serving
    path queries Athena too). Returns a summary."""
    try:
        warehouse = data.warehouse(engine_name)
    except PlanError:
        return {"status": "skipped", "reason": "prod copilot_mart is empty"}
    sources = [s for s in (MART, KPIS, ORDERS) if s in warehouse.tables.columns]
    copied = isinstance(warehouse, DuckWarehouse)
    tables: dict[str, bytes] = {}
    if copied:  # prod scanned once into the snapshot's files; every later query reads those
        warehouse, tables = warehouse.compact()
    catalog = from_warehouse(warehouse)
    engine = QueryEngine(warehouse, catalog, reporting_currency(warehouse, currency))
    if engine.empty:
        return {"status": "skipped", "reason": "prod copilot_mart is empty"}
    inputs = {source: data.info(source, rows(warehouse, source)).to_dict() for source in sources}
    version = version_of(tables or {"inputs": codec.json_bytes(inputs)})
    check = self_check(engine)
    metadata = {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(),
        "kind": "entity catalogue + compacted copilot_mart/country_kpis/customer_transactions snapshot",
        "training_window": {"first": catalog.first_date, "last": catalog.last_date},
        "inputs": inputs,
        "entities": {
            "countries": len(catalog.countries),
            "categories": len(catalog.categories),
            "products": len(catalog.products),
        },
        "features": ["country", "category", "sku", "description", "units", "revenue_reporting", "orders"],
        "attributes": {"dimensions": list(catalog.dimensions), "measures": catalog.measures},
        "metrics": {"self_check": check},
        "libraries": library_versions(),
        "reporting_currency": engine.currency,
        "engine": "duckdb" if copied else "athena",
        "retraining_policy": "rebuilt on every ProdDatasetUpdated of copilot_mart or country_kpis",
    }
    files = {
        **tables,
        "catalog.json": codec.json_bytes(catalog.to_dict()),
        "metadata.json": codec.json_bytes(metadata),
    }
    prefix = data.snapshots.stage(version, files)
    if check["mismatches"]:
        # never promote a version whose engine disagrees with itself; the previous one stays current
        return {"status": "rejected", "version": version, "self_check": check}
    data.snapshots.point_to(version)
    digest_frame = digest(engine, version)
    digest_key = data.dataset("copilot_digest").write(
        catalog.last_date, pa.Table.from_pandas(digest_frame, schema=DIGEST_SCHEMA, preserve_index=False)
    )
    return {
        "status": "rebuilt",
        "version": version,
        "model_key": prefix,
        "digest_key": digest_key,
        "digest_rows": len(digest_frame),
        "self_check": check,
        "window": metadata["training_window"],
    }
