"""Where pulse inputs and results live: prod datasets in, `pulse/<table>/` datasets + serving documents out.

* inputs: `s3://$PROD_BUCKET/country_kpis/` and `customer_transactions/` (every partition).
* outputs: `s3://$PROD_BUCKET/pulse/<table>/date=<as_of>/part-0.parquet` (one partition per analysis date),
  and the versioned serving documents with their metadata under
  `s3://$ARTIFACTS_BUCKET/models/global-market-pulse/<version>/` plus a `current.json` pointer (with the
  previous good versions, so serving can fall back). Partitions and versions are kept by the platform's
  `PartitionedDataset` and `VersionedArtifacts`.
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
    CorruptObjectError,
    ObjectNotFoundError,
    PartitionedDataset,
    S3BlobStore,
    VersionedArtifacts,
    codec,
)
from retail_platform.storage.blobstore import S3Client

INPUT_DATASETS = ("country_kpis", "customer_transactions")
PULSE_PREFIX = "pulse"
MODEL_PREFIX = "models/global-market-pulse"
KEEP_PREVIOUS = 5
LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels", "holidays")


TRANSACTION_COLUMNS = ["date", "country", "customer_id", "is_cancellation"]


def serving_versions(s3: S3Client, artifacts_bucket: str) -> VersionedArtifacts:
    return VersionedArtifacts(
        S3BlobStore(s3, artifacts_bucket), MODEL_PREFIX, keep_previous=KEEP_PREVIOUS, subject="pulse results"
    )


def read_dataset(s3: S3Client, bucket: str, dataset: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Every partition of a prod dataset, fetched by a small thread pool (S3 latency, not CPU, bounds this)."""
    return PartitionedDataset(S3BlobStore(s3, bucket), dataset).read(columns=columns)


def load_inputs(s3: S3Client, prod_bucket: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    kpis = read_dataset(s3, prod_bucket, "country_kpis")
    transactions = read_dataset(s3, prod_bucket, "customer_transactions", TRANSACTION_COLUMNS)
    return kpis, transactions


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def write_results(s3: S3Client, prod_bucket: str, artifacts_bucket: str, result: PulseResult) -> dict[str, Any]:
    """Write every table under prod and the serving documents under artifacts; move current.json last."""
    prod = S3BlobStore(s3, prod_bucket)
    written = [
        PartitionedDataset(prod, f"{PULSE_PREFIX}/{name}").write(result.as_of, table.reset_index(drop=True))
        for name, table in result.tables.items()
    ]
    version = result.version
    meta = {
        "version": version,
        "as_of": result.as_of,
        "training_window": {"start": result.start, "end": result.as_of},
        "inputs": [f"s3://{prod_bucket}/{d}/" for d in INPUT_DATASETS],
        "input_fingerprint": result.input_fingerprint,
        "config": asdict(result.config),
        "reporting_currency": result.reporting_currency,
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
    serving_versions(s3, artifacts_bucket).publish(version, files, as_of=result.as_of)
    return {"version": version, "as_of": result.as_of, "tables": written}


def load_serving(s3: S3Client, artifacts_bucket: str) -> tuple[dict[str, Any], str]:
    """The current serving documents, or the newest previous version that still loads."""
    versions = serving_versions(s3, artifacts_bucket)
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
