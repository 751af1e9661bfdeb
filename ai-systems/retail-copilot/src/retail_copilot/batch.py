"""Batch path: on ProdDatasetUpdated (copilot_mart, country_kpis) rebuild the copilot's versioned snapshot.

The "model" of the copilot is its entity catalogue (countries, categories, products with their descriptions)
plus a compacted copy of the two datasets it answers from, so that a cold start reads four objects instead of
one per partition. It is saved under models/retail-copilot/<version>/ with metadata (inputs and their
freshness, library versions, a self-check of the engine against plain pandas) and a current.json pointer that
keeps the previous versions for fallback. A daily digest (headline figures per country) goes to prod as
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

from retail_copilot.attributes import currency_label
from retail_copilot.catalog import Catalog
from retail_copilot.engine import QueryEngine, prepare_kpis, prepare_mart
from retail_copilot.periods import Period
from retail_copilot.plan import QueryPlan
from retail_copilot.store import ORDERS, S3Data
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


def version_of(mart: pd.DataFrame, kpis: pd.DataFrame) -> str:
    """A version id that changes when the inputs change: UTC time + a content hash."""
    digest = hashlib.sha256()
    for frame in (mart, kpis):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + digest.hexdigest()[:10]


def self_check(engine: QueryEngine, mart: pd.DataFrame) -> dict[str, Any]:
    """The engine's totals for every country and the last 28 days against a direct pandas sum."""
    last = engine.last
    start = last - pd.Timedelta(days=27).to_pytimedelta()
    period = Period(start, last, "last 28 days")
    checked = mismatches = 0
    window = mart.loc[(mart["date"] >= pd.Timestamp(start)) & (mart["date"] <= pd.Timestamp(last))]
    for country in engine.catalog.countries:
        for metric, column in (("units", "units"), ("revenue", "revenue_reporting")):
            expected = float(window.loc[window["country"] == country, column].sum())
            got = engine.totals(QueryPlan("totals", metric, period, countries=[country])).value or 0.0
            checked += 1
            mismatches += int(not np.isclose(got, expected, rtol=1e-9, atol=0.005))
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


def library_versions() -> dict[str, str]:
    import pyarrow

    versions = {
        "python": platform.python_version(),
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


def rebuild(data: S3Data, currency: str = "EUR") -> dict[str, Any]:
    """Read the inputs, save a new version, move current.json, write the digest. Returns a summary."""
    mart_raw, mart_info = data.read_dataset("copilot_mart")
    kpis_raw, kpi_info = data.read_dataset("country_kpis")
    if mart_raw.empty:
        return {"status": "skipped", "reason": "prod copilot_mart is empty"}
    mart, kpis = prepare_mart(mart_raw), prepare_kpis(kpis_raw)
    orders, orders_info = data.read_orders()
    catalog = Catalog.from_mart(mart)
    currency = currency_label(mart, currency)
    engine = QueryEngine(mart, kpis, catalog, currency, orders)
    version = version_of(mart, kpis)
    check = self_check(engine, mart)
    metadata = {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(),
        "kind": "entity catalogue + compacted copilot_mart/country_kpis snapshot",
        "training_window": {"first": catalog.first_date, "last": catalog.last_date},
        "inputs": {"copilot_mart": mart_info.to_dict(), "country_kpis": kpi_info.to_dict()}
        | ({ORDERS: orders_info.to_dict()} if orders is not None else {}),
        "entities": {
            "countries": len(catalog.countries),
            "categories": len(catalog.categories),
            "products": len(catalog.products),
        },
        "features": ["country", "category", "sku", "description", "units", "revenue_reporting", "orders"],
        "attributes": {"dimensions": list(catalog.dimensions), "measures": catalog.measures},
        "metrics": {"self_check": check},
        "libraries": library_versions(),
        "reporting_currency": currency,
        "retraining_policy": "rebuilt on every ProdDatasetUpdated of copilot_mart or country_kpis",
    }
    files = {
        "copilot_mart.parquet": codec.parquet_bytes(mart),
        "country_kpis.parquet": codec.parquet_bytes(kpis),
        **({f"{ORDERS}.parquet": codec.parquet_bytes(orders)} if orders is not None else {}),
        "catalog.json": codec.json_bytes(catalog.to_dict()),
        "metadata.json": codec.json_bytes(metadata),
    }
    prefix = data.snapshots.stage(version, files)
    if check["mismatches"]:
        # never promote a version whose engine disagrees with pandas; the previous one stays current
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
