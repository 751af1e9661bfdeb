"""Forecasting fanned out over shards of markets: plan -> forecast each shard -> merge.

Every market's model selection is independent of the others' (the Keras global model is trained across the
markets of its shard), so a batch splits into shards of `shard_size` markets that run anywhere:

* in Lambda, the MarketForecastStateMachine runs Plan -> Map over the shards -> Merge, one invocation each
  (ai-systems/statemachine/market-forecast.asl.json), so a retailer with hundreds of category x country
  markets is not bound by one invocation's 15 minutes;
* `batch.run` runs the same three steps one after the other in one process (sam local invoke, the main job).

The run's input and each shard's results live under runs/market-intelligence-hub/<version>/ in the
artifacts bucket; a shard re-run overwrites its own files, so a retried Map iteration duplicates nothing.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from market_intelligence import coverage, store
from market_intelligence.dimensions import DEFAULT as DEFAULT_DIMENSIONS
from market_intelligence.exceptions import InputError
from market_intelligence.forecast import Forecaster, Options
from market_intelligence.series import infer_frequency
from retail_platform.exceptions import ObjectNotFoundError
from retail_platform.observability import logger
from retail_platform.storage import codec
from retail_platform.storage.blobstore import BlobStore

RUN_PREFIX = f"runs/{store.SYSTEM}/"
FORECAST_COLUMNS = [
    "series_id",
    "ds",
    "step",
    "yhat",
    "yhat_lower",
    "yhat_upper",
    "model",
    "members",
    "cv_mase",
    "cv_mape",
    "interval",
]
SCORE_COLUMNS = ["series_id", "model", "cv_mase", "cv_mape", "selected", "n_obs", "n_outliers", "level_shift"]
DEFAULT_SHARD_SIZE = 40


def run_prefix(version: str) -> str:
    return f"{RUN_PREFIX}{version}/"


def horizon_for(long: pd.DataFrame, options: Options) -> int:
    """One horizon for every shard: the option if set, else from the typical series length of the whole run
    (markets with revenue only: a market whose amounts have no FX rate has no length to speak of)."""
    if options.horizon:
        return int(options.horizon)
    known = long.dropna(subset=["y"])
    if known.empty:
        raise InputError("no market has revenue in the reporting currency: nothing to forecast")
    freq = infer_frequency(known["ds"])
    typical = int(known.groupby("series_id")["ds"].nunique().median())
    return min(freq.horizon, max(1, (typical - 6) // 2))


def plan(
    artifacts: BlobStore,
    long: pd.DataFrame,
    version: str,
    as_of: str,
    options: Options,
    shard_size: int,
    notes: list[str] | None = None,
    dims: tuple[str, ...] = DEFAULT_DIMENSIONS,
    fingerprints: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Write the run's input and its shard list; returns the Map's items (one small dict per shard).

    Only the markets with enough revenue history (`coverage.assess`) go into shards; the whole input is kept
    for the trends, and `notes` (what was left out) travel with the plan to the merge, as do the inputs'
    `fingerprints` (`freshness`), which the merge records once every result is written.
    """
    if shard_size < 1:
        raise InputError(f"shard size must be at least 1, got {shard_size}")
    ids = coverage.assess(long).forecastable
    if not ids:
        raise InputError("market_series has no markets to forecast")
    shards = [ids[i : i + shard_size] for i in range(0, len(ids), shard_size)]
    fixed = dataclasses.replace(options, horizon=horizon_for(long[long["series_id"].isin(ids)], options))
    prefix = run_prefix(version)
    codec.write_parquet(artifacts, f"{prefix}input.parquet", long)
    codec.write_json(
        artifacts,
        f"{prefix}plan.json",
        {
            "version": version,
            "as_of": as_of,
            "shards": shards,
            "options": dataclasses.asdict(fixed),
            "skipped": list(notes or []),
            "dimensions": list(dims),
            "fingerprints": fingerprints,
        },
    )
    return {
        "version": version,
        "as_of": as_of,
        "n_series": len(ids),
        "shards": [{"version": version, "shard": i} for i in range(len(shards))],
        "skipped": list(notes or []),
    }


def read_plan(artifacts: BlobStore, version: str) -> dict[str, Any]:
    try:
        return codec.read_json(artifacts, f"{run_prefix(version)}plan.json")
    except ObjectNotFoundError as e:  # throttling and other S3 failures propagate: the state machine retries them
        raise InputError(f"no plan for run {version!r}: run the Plan step first") from e


def _options(document: dict[str, Any]) -> Options:
    values = dict(document)
    values["models"] = tuple(values["models"])
    return Options(**values)


def run_shard(artifacts: BlobStore, version: str, shard: int) -> dict[str, Any]:
    """Cross-validate, select and forecast the markets of one shard; its results go next to the plan."""
    started = time.perf_counter()
    document = read_plan(artifacts, version)
    if not isinstance(shard, int) or not 0 <= shard < len(document["shards"]):
        raise InputError(f"run {version} has shards 0..{len(document['shards']) - 1}, not {shard!r}")
    ids = set(document["shards"][shard])
    prefix = run_prefix(version)
    long = codec.read_parquet(artifacts, f"{prefix}input.parquet")
    forecaster = Forecaster(_options(document["options"]))
    try:
        forecasts, scores, _ = forecaster.run(long[long["series_id"].isin(ids)])
    except InputError as e:  # none of the shard's markets survived cleaning: an empty shard, not a failed run
        forecasts, scores = pd.DataFrame(columns=FORECAST_COLUMNS), pd.DataFrame(columns=SCORE_COLUMNS)
        logger.warning("shard has nothing to forecast", extra={"version": version, "shard": shard, "error": str(e)})
    codec.write_parquet(artifacts, f"{prefix}shard-{shard:04d}/forecasts.parquet", forecasts)
    codec.write_parquet(artifacts, f"{prefix}shard-{shard:04d}/scores.parquet", scores)
    global_key = None
    if forecaster.global_model is not None:
        global_key = f"{store.MODEL_PREFIX}{version}/global_nn-shard-{shard:04d}.keras"
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
            path = Path(tmp) / "global_nn.keras"
            forecaster.global_model.save(path)
            artifacts.put(global_key, path.read_bytes(), "application/octet-stream")
    codec.write_json(
        artifacts,
        f"{prefix}shard-{shard:04d}/done.json",
        {"series": len(ids), "global_model": global_key, "timings": forecaster.timings},
    )
    return {
        "version": version,
        "shard": shard,
        "series": len(ids),
        "global_model": global_key,
        "seconds": round(time.perf_counter() - started, 2),
    }


def gather(artifacts: BlobStore, version: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict]:
    """Every shard's forecasts and scores, their global model keys and timings; InputError if one is missing."""
    document = read_plan(artifacts, version)
    prefix = run_prefix(version)
    forecasts, scores, global_keys, timings = [], [], [], {}
    missing = []
    for i in range(len(document["shards"])):
        try:
            done = codec.read_json(artifacts, f"{prefix}shard-{i:04d}/done.json")
        except ObjectNotFoundError:  # not done yet; a failed read is an error, not a missing shard
            missing.append(i)
            continue
        forecasts.append(codec.read_parquet(artifacts, f"{prefix}shard-{i:04d}/forecasts.parquet"))
        scores.append(codec.read_parquet(artifacts, f"{prefix}shard-{i:04d}/scores.parquet"))
        if done.get("global_model"):
            global_keys.append(done["global_model"])
        for name, seconds in (done.get("timings") or {}).items():
            timings[name] = timings.get(name, 0.0) + float(seconds)
    if missing:
        raise InputError(f"run {version}: shards {missing} have no results yet; merge after every shard is done")
    return pd.concat(forecasts, ignore_index=True), pd.concat(scores, ignore_index=True), global_keys, timings
