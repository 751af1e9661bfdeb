"""The batch path: read prod market_series (+ daily_sales, copilot_mart for SKU categories), forecast every
market, analyse trends and price elasticity, write prod market_forecasts / market_trends and the model."""

from __future__ import annotations

import hashlib
import json
import math
import platform
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from market_intelligence import sharded, store, trends
from market_intelligence.elasticity import estimate, weekly_sku_panel
from market_intelligence.exceptions import InputError
from market_intelligence.forecast import Options
from market_intelligence.series import infer_frequency, prepare
from retail_platform import s3io

CONSUMES = ("market_series", "daily_sales")
RETRAINING_POLICY = (
    "Refit on every ProdDatasetUpdated event of market_series (new weeks) and nightly on the schedule; "
    "model selection is re-run each time by rolling-origin cross-validation."
)


@dataclass
class BatchResult:
    as_of: str | None
    version: str | None
    n_series: int
    forecast_key: str | None
    trends_key: str | None
    model_prefix: str | None
    timings: dict
    forecasts: pd.DataFrame | None = None
    trends: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    long: pd.DataFrame | None = None

    def summary(self) -> dict:
        return {
            "as_of": self.as_of,
            "model_version": self.version,
            "n_series": self.n_series,
            "written": [k for k in (self.forecast_key, self.trends_key) if k],
            "model_prefix": self.model_prefix,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
        }


def market_long(market_series: pd.DataFrame) -> pd.DataFrame:
    """market_series -> long table (series_id = category|country, ds, y = revenue in reporting currency)."""
    need = {"date", "category", "country", "revenue_reporting"}
    missing = need - set(market_series.columns)
    if missing:
        raise InputError(f"market_series lacks columns: {sorted(missing)}")
    frame = market_series.copy()
    frame["y"] = pd.to_numeric(frame["revenue_reporting"], errors="coerce")
    return pd.DataFrame(
        {
            "series_id": frame["category"].astype(str) + "|" + frame["country"].astype(str),
            "ds": pd.to_datetime(frame["date"]),
            "y": frame["y"],
        }
    )


def version_of(long: pd.DataFrame, as_of: str, options: Options, shard_size: int | None = None) -> str:
    """Input, options and sharding (the global model is trained per shard) fix the version."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(long, index=False).values.tobytes())
    digest.update(json.dumps(options.__dict__, sort_keys=True, default=str).encode())
    if shard_size is not None:
        digest.update(f"shard_size={shard_size}".encode())
    return f"{as_of.replace('-', '')}-{digest.hexdigest()[:10]}"


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("pandas", "numpy", "statsmodels", "prophet", "cmdstanpy", "tensorflow-cpu", "keras", "scipy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def analyse_trends(long: pd.DataFrame, elasticity: pd.DataFrame | None) -> pd.DataFrame:
    freq = infer_frequency(long["ds"])
    rows = []
    by_category = {} if elasticity is None else {r["category"]: r for r in elasticity.to_dict("records")}
    for series_id, group in long.groupby("series_id", sort=True):
        try:
            p = prepare(str(series_id), group, freq)
        except InputError:
            continue
        report = trends.analyse(p)
        category, _, country = str(series_id).partition("|")
        el = by_category.get(category)
        report.summary = trends.summarise(report, el)
        row = report.to_dict()
        row["changepoints"] = json.dumps(row["changepoints"])
        row["anomalies"] = json.dumps(row["anomalies"])
        row.update(
            category=category,
            country=country,
            elasticity=_num(el, "elasticity"),
            elasticity_ci_low=_num(el, "ci_low"),
            elasticity_ci_high=_num(el, "ci_high"),
            elasticity_p=_num(el, "p_value"),
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _num(row: dict | None, key: str) -> float:
    if not row:
        return float("nan")
    value = row.get(key)
    return float(value) if value is not None and not (isinstance(value, float) and math.isnan(value)) else math.nan


def price_elasticity(s3: Any, bucket: str) -> pd.DataFrame | None:
    daily = store.read_dataset(s3, bucket, "daily_sales")
    if daily.empty:
        return None
    mapping = store.read_dataset(s3, bucket, "copilot_mart")
    mapping = mapping[["sku", "category"]] if not mapping.empty else pd.DataFrame(columns=["sku", "category"])
    return estimate(weekly_sku_panel(daily, mapping))


def run(
    s3: Any,
    prod_bucket: str,
    artifacts_bucket: str,
    dataset: str,
    options: Options | None = None,
    shard_size: int = sharded.DEFAULT_SHARD_SIZE,
) -> BatchResult:
    """Recompute what `dataset` affects: market_series -> forecasts + trends; daily_sales -> trends.

    Forecasting runs the sharded steps (plan, every shard, merge) one after the other in this process; the
    MarketForecastStateMachine runs the same steps as separate invocations when a batch outgrows one.
    """
    started = time.perf_counter()
    options = options or Options()
    if dataset in ("market_series", "schedule"):
        planned = start(s3, prod_bucket, artifacts_bucket, options, shard_size)
        if planned["version"] is None:
            return BatchResult(None, None, 0, None, None, None, {"total_s": time.perf_counter() - started})
        for item in planned["shards"]:
            sharded.run_shard(s3, artifacts_bucket, item["version"], item["shard"])
        return merge(s3, prod_bucket, artifacts_bucket, planned["version"], started)
    series = store.read_dataset(s3, prod_bucket, "market_series")
    if series.empty:
        return BatchResult(None, None, 0, None, None, None, {"total_s": time.perf_counter() - started})
    long = market_long(series)
    as_of = str(pd.to_datetime(series["date"]).max().date())
    t0 = time.perf_counter()
    trend_frame = analyse_trends(long, price_elasticity(s3, prod_bucket))
    version = store.current_version(s3, artifacts_bucket)
    trend_frame["model_version"] = version
    trend_frame["as_of"] = as_of
    trends_key = store.write_partition(s3, prod_bucket, store.TRENDS, as_of, trend_frame)
    timings = {"trends_s": time.perf_counter() - t0, "total_s": time.perf_counter() - started}
    return BatchResult(
        as_of, version, int(long["series_id"].nunique()), None, trends_key, None, timings, None, trend_frame, None, long
    )


def start(s3: Any, prod_bucket: str, artifacts_bucket: str, options: Options, shard_size: int) -> dict[str, Any]:
    """The Plan step: read market_series, fix the run's version and horizon, split the markets into shards."""
    series = store.read_dataset(s3, prod_bucket, "market_series")
    if series.empty:
        return {"version": None, "as_of": None, "n_series": 0, "shards": []}
    long = market_long(series)
    as_of = str(pd.to_datetime(series["date"]).max().date())
    version = version_of(long, as_of, options, shard_size)
    return sharded.plan(s3, artifacts_bucket, long, version, as_of, options, shard_size)


def merge(s3: Any, prod_bucket: str, artifacts_bucket: str, version: str, started: float | None = None) -> BatchResult:
    """The Merge step: every shard's forecasts and scores, trends and elasticity, the model version and pointer."""
    started = time.perf_counter() if started is None else started
    document = sharded.read_plan(s3, artifacts_bucket, version)
    as_of = document["as_of"]
    long = s3io.read_parquet(s3, artifacts_bucket, f"{sharded.run_prefix(version)}input.parquet")
    forecasts, scores, global_keys, timings = sharded.gather(s3, artifacts_bucket, version)
    t0 = time.perf_counter()
    trend_frame = analyse_trends(long, price_elasticity(s3, prod_bucket))
    timings["trends_s"] = time.perf_counter() - t0
    parts = forecasts["series_id"].str.split("|", n=1, expand=True)
    forecasts.insert(0, "category", parts[0])
    forecasts.insert(1, "country", parts[1])
    forecasts["model_version"] = version
    forecasts["as_of"] = as_of
    forecast_key = store.write_partition(s3, prod_bucket, store.FORECASTS, as_of, forecasts)
    metadata = {
        "system": store.SYSTEM,
        "version": version,
        "as_of": as_of,
        "training_window": {"start": str(long["ds"].min().date()), "end": str(long["ds"].max().date())},
        "inputs": {"dataset": "market_series", "rows": len(long), "series": int(long["series_id"].nunique())},
        "target": "revenue_reporting per week and market (category|country)",
        "features": {
            "local": "own history; yearly Fourier terms; level-shift step; country holidays per period",
            "global_nn": f"last {2 * int(forecasts['step'].max())} values scaled by their mean + season position, "
            "one model per shard of markets",
        },
        "options": document["options"],
        "shards": len(document["shards"]),
        "global_models": global_keys,
        "selection": "rolling-origin cross-validation, lowest mean MASE; ensemble = mean of best 3",
        "metrics": _metric_summary(scores),
        "library_versions": library_versions(),
        "retraining_policy": RETRAINING_POLICY,
        "seed": 7,
    }
    model_prefix = store.save_model(s3, artifacts_bucket, version, metadata, scores)
    trend_frame["model_version"] = version
    trend_frame["as_of"] = as_of
    trends_key = store.write_partition(s3, prod_bucket, store.TRENDS, as_of, trend_frame)
    timings["total_s"] = time.perf_counter() - started
    return BatchResult(
        as_of,
        version,
        int(long["series_id"].nunique()),
        forecast_key,
        trends_key,
        model_prefix,
        timings,
        forecasts,
        trend_frame,
        scores,
        long,
    )


def _metric_summary(scores: pd.DataFrame) -> dict:
    if scores is None or scores.empty:
        return {}
    mean = scores.groupby("model")["cv_mase"].mean().round(4).to_dict()
    selected = scores[scores["selected"]]
    naive = scores[scores["model"] == "seasonal_naive"].set_index("series_id")["cv_mase"]
    chosen = selected.set_index("series_id")["cv_mase"]
    both = chosen.index.intersection(naive.index)
    return {
        "mean_cv_mase_by_model": mean,
        "mean_cv_mase_selected": float(np.round(chosen.mean(), 4)),
        "selected_counts": selected["model"].value_counts().to_dict(),
        "share_selected_beats_seasonal_naive": float((chosen[both] < naive[both]).mean()) if len(both) else None,
    }
