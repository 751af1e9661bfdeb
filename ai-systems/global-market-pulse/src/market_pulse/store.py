"""Where pulse inputs and results live: prod datasets in, `pulse/<table>/` datasets + serving documents out.

* inputs: `s3://$PROD_BUCKET/country_kpis/` and `customer_transactions/` (every partition).
* outputs: `s3://$PROD_BUCKET/pulse/<table>/date=<as_of>/part-0.parquet` (one partition per analysis date),
  and the versioned serving documents with their metadata under
  `s3://$ARTIFACTS_BUCKET/models/global-market-pulse/<version>/` plus a `current.json` pointer (with the
  previous good versions, so serving can fall back).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from importlib import metadata
from typing import Any

import pandas as pd

from market_pulse.analysis import PulseResult, documents
from market_pulse.exceptions import NoResultsError
from retail_platform import s3io
from retail_platform.exceptions import ObjectNotFoundError, StorageError
from retail_platform.observability import logger

INPUT_DATASETS = ("country_kpis", "customer_transactions")
PULSE_PREFIX = "pulse"
MODEL_PREFIX = "models/global-market-pulse"
KEEP_PREVIOUS = 5
LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels", "holidays")


TRANSACTION_COLUMNS = ["date", "country", "customer_id", "is_cancellation"]
READ_THREADS = 16


def read_dataset(s3: Any, bucket: str, dataset: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Every partition of a prod dataset, fetched by a small thread pool (S3 latency, not CPU, bounds this)."""
    import io
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq

    keys = sorted(k for k in s3io.list_keys(s3, bucket, f"{dataset}/") if k.endswith(".parquet"))

    def read(key: str) -> pd.DataFrame:
        table = pq.read_table(io.BytesIO(s3io.read_bytes(s3, bucket, key)))
        if columns:
            table = table.select([c for c in columns if c in table.column_names])
        return table.to_pandas()

    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        frames = [f for f in pool.map(read, keys) if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_inputs(s3: Any, prod_bucket: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    kpis = read_dataset(s3, prod_bucket, "country_kpis")
    transactions = read_dataset(s3, prod_bucket, "customer_transactions", TRANSACTION_COLUMNS)
    return kpis, transactions


def table_key(table: str, as_of: str) -> str:
    return f"{PULSE_PREFIX}/{table}/date={as_of}/part-0.parquet"


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def write_results(s3: Any, prod_bucket: str, artifacts_bucket: str, result: PulseResult) -> dict[str, Any]:
    """Write every table under prod and the serving documents under artifacts; move current.json last."""
    written = []
    for name, table in result.tables.items():
        key = table_key(name, result.as_of)
        s3io.write_parquet(s3, prod_bucket, key, table.reset_index(drop=True))
        written.append(key)
    version = result.version
    base = f"{MODEL_PREFIX}/{version}"
    s3io.write_json(s3, artifacts_bucket, f"{base}/serving.json", documents(result))
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
    s3io.write_json(s3, artifacts_bucket, f"{base}/metadata.json", meta)
    try:
        pointer = s3io.read_json(s3, artifacts_bucket, f"{MODEL_PREFIX}/current.json")
    except (ObjectNotFoundError, ValueError):
        pointer = {}
    history = [v for v in [pointer.get("version"), *pointer.get("previous", [])] if v and v != version]
    s3io.write_json(
        s3,
        artifacts_bucket,
        f"{MODEL_PREFIX}/current.json",
        {"version": version, "previous": history[:KEEP_PREVIOUS], "as_of": result.as_of},
    )
    return {"version": version, "as_of": result.as_of, "tables": written}


def load_serving(s3: Any, artifacts_bucket: str) -> tuple[dict[str, Any], str]:
    """The current serving documents, or the newest previous version that still loads."""
    try:
        pointer = s3io.read_json(s3, artifacts_bucket, f"{MODEL_PREFIX}/current.json")
    except ObjectNotFoundError as e:
        raise NoResultsError("no pulse results yet: the batch analysis has not run") from e
    except ValueError as e:
        raise NoResultsError("the pulse results pointer current.json is not valid JSON") from e
    current = pointer.get("version")
    for version in [current, *pointer.get("previous", [])]:
        if not version:
            continue
        try:
            docs = s3io.read_json(s3, artifacts_bucket, f"{MODEL_PREFIX}/{version}/serving.json")
        except (ObjectNotFoundError, StorageError, ValueError) as e:
            logger.warning("pulse results version unreadable", extra={"version": version, "error": type(e).__name__})
            continue
        if isinstance(docs, dict) and isinstance(docs.get("countries"), dict):
            if version != current:
                logger.warning(
                    "serving a previous pulse results version", extra={"version": version, "current": current}
                )
            return docs, version
        logger.warning("pulse results version malformed", extra={"version": version})
    raise NoResultsError("no loadable pulse results: every recorded version is missing or corrupt")
