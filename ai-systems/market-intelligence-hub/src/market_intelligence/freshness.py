"""Whether a batch event brings anything new: fingerprints of the prod inputs, kept with the last completed run.

The main job sends one ProdDatasetUpdated event per prod dataset, and in AWS a rebuild publishes market_series
and daily_sales one after the other, so the batch path is asked twice for the same inputs. Each result records
the fingerprint of what it read: the ETag and size of every object of its input datasets (one S3 listing per
dataset, nothing downloaded; stores without listing metadata hash the bytes) with the settings that shape it.

* forecasts depend on the market source (market_series, or copilot_mart for custom dimensions), the model
  options, the shard size and the dimensions;
* trends depend on the market source, daily_sales and copilot_mart (elasticity) and the dimensions.

An event whose fingerprints match the last completed run's answers "up to date" from the stored results; a
changed partition changes the fingerprint and the work is done again. The record lives in the artifacts bucket
(`runs/market-intelligence-hub/last-complete.json`) and is written only after the results it names. Two runs
finishing at the same moment may each keep only their own entry (read, update, write): the cost is a refit on
the next event, never a stale answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from market_intelligence import dimensions, store
from retail_platform.exceptions import ObjectNotFoundError
from retail_platform.sql.mirror import listed
from retail_platform.storage import codec
from retail_platform.storage.blobstore import BlobStore

STATE_KEY = f"runs/{store.SYSTEM}/last-complete.json"
TREND_INPUTS = ("daily_sales", "copilot_mart")


@dataclass(frozen=True)
class Fingerprints:
    forecast: str
    trends: str


def _datasets_digest(prod: BlobStore, names: tuple[str, ...]) -> hashlib._Hash:
    digest = hashlib.sha256()
    for name in sorted(set(names)):
        for key, tag in sorted(listed(prod, f"{name}/")):
            if not key.endswith(".parquet"):
                continue
            if tag is None:  # no listing metadata (the in-memory store): the bytes are the fingerprint
                tag = hashlib.sha1(prod.get(key), usedforsecurity=False).hexdigest()
            digest.update(f"{key}\0{tag}\n".encode())
    return digest


def fingerprints(prod: BlobStore, options: Any, shard_size: int, dims: tuple[str, ...]) -> Fingerprints:
    """The forecast and trend fingerprints of the current prod inputs under these settings."""
    source = ("market_series",) if dimensions.is_default(dims) else (dimensions.SOURCE_DATASET,)
    settings = json.dumps(
        {"options": options.__dict__, "shard_size": shard_size, "dimensions": list(dims)}, sort_keys=True, default=str
    )
    forecast = _datasets_digest(prod, source)
    forecast.update(settings.encode())
    trends = _datasets_digest(prod, source + TREND_INPUTS)
    trends.update(json.dumps(list(dims)).encode())
    return Fingerprints(forecast.hexdigest(), trends.hexdigest())


def last_complete(artifacts: BlobStore) -> dict[str, Any]:
    """The record of the last completed runs: {"forecast": {...}, "trends": {...}} (empty before the first)."""
    try:
        record = codec.read_json(artifacts, STATE_KEY)
    except ObjectNotFoundError:
        return {}
    return record if isinstance(record, dict) else {}


def matches(record: dict[str, Any], kind: str, fingerprint: str | None) -> dict[str, Any] | None:
    """The stored entry of `kind` ("forecast" or "trends") when it was made from exactly these inputs."""
    entry = record.get(kind)
    if fingerprint is None or not isinstance(entry, dict) or entry.get("fingerprint") != fingerprint:
        return None
    return entry


def remember(artifacts: BlobStore, kind: str, fingerprint: str | None, **entry: Any) -> None:
    """Record a completed run of `kind` (after its results are written); a forecast run also made trends."""
    if fingerprint is None:
        return
    record = last_complete(artifacts)
    record[kind] = {"fingerprint": fingerprint, **entry}
    codec.write_json(artifacts, STATE_KEY, record)


def as_dict(prints: Fingerprints | None) -> dict[str, str] | None:
    return None if prints is None else asdict(prints)
