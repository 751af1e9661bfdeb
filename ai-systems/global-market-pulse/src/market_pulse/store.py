"""Where pulse inputs and results live: prod datasets in, `pulse/<table>/` datasets + serving documents out.

* inputs: `s3://$PROD_BUCKET/country_kpis/` and `customer_transactions/`: every object, whatever the
  partition grain (`month=YYYY-MM/` or `date=YYYY-MM-DD/`), read as per-market daily aggregates by DuckDB
  (prod_sql.py), never row by row into pandas.
* outputs: `s3://$PROD_BUCKET/pulse/<table>/date=<as_of>/part-0.parquet` (one partition per analysis date),
  and the versioned serving documents with their metadata under
  `s3://$ARTIFACTS_BUCKET/models/global-market-pulse/<version>/` plus a `current.json` pointer (with the
  previous good versions, so serving can fall back). Partitions and versions are kept by the platform's
  `PartitionedDataset` and `VersionedArtifacts`.

Every function takes the buckets as `BlobStore`s (`Stores`): S3 in Lambda, `MemoryBlobStore` in unit tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from importlib import metadata
from typing import Any

import pandas as pd

from market_pulse.analysis import PulseResult, documents
from market_pulse.exceptions import NoResultsError
from retail_platform.storage import (
    BlobStore,
    CorruptObjectError,
    ObjectNotFoundError,
    PartitionedDataset,
    VersionedArtifacts,
    codec,
)
from retail_platform.storage import SystemStores as Stores  # prod (inputs, pulse tables) + artifacts (serving)

INPUT_DATASETS = ("country_kpis", "customer_transactions")
PULSE_PREFIX = "pulse"
MODEL_PREFIX = "models/global-market-pulse"
KEEP_PREVIOUS = 5
LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels", "holidays")


OUTPUT_GRAIN = "day"  # pulse tables keep one partition per analysis date (an AI system's own layout)


def serving_versions(artifacts: BlobStore) -> VersionedArtifacts:
    return VersionedArtifacts(artifacts, MODEL_PREFIX, keep_previous=KEEP_PREVIOUS, subject="pulse results")


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def write_results(stores: Stores, result: PulseResult) -> dict[str, Any]:
    """Write every table under prod and the serving documents under artifacts; move current.json last."""
    written = [
        PartitionedDataset(stores.prod, f"{PULSE_PREFIX}/{name}", grain=OUTPUT_GRAIN).write(
            result.as_of, table.reset_index(drop=True)
        )
        for name, table in result.tables.items()
    ]
    version = result.version
    meta = {
        "version": version,
        "as_of": result.as_of,
        "training_window": {"start": result.start, "end": result.as_of},
        "inputs": [f"s3://{stores.prod.bucket}/{d}/" for d in INPUT_DATASETS],
        "input_fingerprint": result.input_fingerprint,
        "config": asdict(result.config),
        "reporting_currency": result.reporting_currency,
        "dimension": result.dimension,  # what a market is: country, or custom attributes (markets.py)
        "features": ["revenue", "orders", "customers", "units", "cancelled_orders", "new_customers"],
        "metrics": {
            "countries": len(result.tables["pulse"]),
            "anomalies": len(result.tables["anomalies"]),
            "significant_country_changes": int(result.tables["country_tests"].get("significant", pd.Series()).sum()),
            "granger_relations": int(result.tables["granger"].get("significant", pd.Series()).sum()),
        },
        "library_versions": library_versions(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tables": written,
    }
    files = {"serving.json": codec.json_bytes(documents(result)), "metadata.json": codec.json_bytes(meta)}
    serving_versions(stores.artifacts).publish(version, files, as_of=result.as_of)
    return {"version": version, "as_of": result.as_of, "tables": written}


def load_serving(artifacts: BlobStore) -> tuple[dict[str, Any], str]:
    """The current serving documents, or the newest previous version that still loads."""
    versions = serving_versions(artifacts)
    try:
        pointer = versions.read_pointer()
    except ObjectNotFoundError as e:
        raise NoResultsError("no pulse results yet: the batch analysis has not run") from e
    except CorruptObjectError as e:
        raise NoResultsError("the pulse results pointer current.json is not valid JSON") from e

    def serving(version: str) -> dict[str, Any]:
        docs = versions.read_json(version, "serving.json")
        if not (isinstance(docs, dict) and isinstance(docs.get("countries"), dict)):
            raise CorruptObjectError(f"{versions.key(version, 'serving.json')} has no countries")
        return docs

    loaded = versions.load(serving, pointer)
    if loaded is None:
        raise NoResultsError("no loadable pulse results: every recorded version is missing or corrupt")
    return loaded
