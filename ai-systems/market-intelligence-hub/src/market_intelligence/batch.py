"""The batch path: read prod market_series (+ daily_sales, copilot_mart for SKU categories), forecast every
market, analyse trends and price elasticity, write prod market_forecasts / market_trends and the model."""

from __future__ import annotations

import hashlib
import json
import math
import platform
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market_intelligence import coverage, dimensions, freshness, prod_sql, sharded, store, trends
from market_intelligence.elasticity import estimate
from market_intelligence.exceptions import InputError
from market_intelligence.forecast import Options
from market_intelligence.series import infer_frequency, prepare
from market_intelligence.store import Buckets
from retail_platform.exceptions import ObjectNotFoundError
from retail_platform.storage import codec
from retail_platform.storage.blobstore import BlobStore

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
    skipped: list[str] = field(default_factory=list)  # what this data did not allow, in words
    up_to_date: bool = False  # the inputs had not changed since the last completed run: its results, not refitted

    def summary(self) -> dict:
        return {
            "as_of": self.as_of,
            "model_version": self.version,
            "n_series": self.n_series,
            "written": [k for k in (self.forecast_key, self.trends_key) if k],
            "model_prefix": self.model_prefix,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "skipped": list(self.skipped),
            "up_to_date": self.up_to_date,
        }


def market_long(market_series: pd.DataFrame, dims: tuple[str, ...] = dimensions.DEFAULT) -> pd.DataFrame:
    """Weekly markets -> long table (series_id = the dimensions' values joined by "|", e.g. category|country;
    ds; y = revenue in the reporting currency)."""
    need = {"date", *dims, "revenue_reporting"}
    missing = need - set(market_series.columns)
    if missing:
        raise InputError(f"market_series lacks columns: {sorted(missing)}")
    frame = market_series.dropna(subset=["date", *dims])
    long = pd.DataFrame(
        {
            "series_id": dimensions.series_ids(frame, dims),
            "ds": pd.to_datetime(frame["date"]),
            "y": pd.to_numeric(frame["revenue_reporting"], errors="coerce"),
        }
    )
    return zero_weeks_without_sales(long)


def read_markets(prod: BlobStore, dims: tuple[str, ...]) -> pd.DataFrame:
    """Weekly revenue per market: prod market_series for category x country (the default), else summed from
    copilot_mart's daily rows over the custom dimensions (empty when the dataset is not in prod)."""
    if dimensions.is_default(dims):
        weekly = store.read_dataset(prod, "market_series", columns=["date", *dims, "revenue_reporting"])
    else:
        weekly = prod_sql.weekly_markets(prod, dims)  # summed by DuckDB: copilot_mart is never loaded whole
    if weekly.empty:
        return weekly
    return full_weeks(weekly, prod_sql.days_observed(prod))


def full_weeks(weekly: pd.DataFrame, span: tuple[pd.Timestamp, pd.Timestamp] | None) -> pd.DataFrame:
    """Without the week the first day observed falls in when that day is not a Monday, and the week of the
    last day when it is not a Sunday: a week the data covers only partly (a quarter starting on a Sunday has a
    one-day first week) would read as a slump, bend the trend and start the forecast from a part-week.
    Weeks away from the span's edges are kept; unchanged without a span or when nothing whole would remain."""
    if span is None:
        return weekly
    days = pd.to_datetime(weekly["date"])
    if (days.dt.weekday != 0).any():
        return weekly  # not weekly Mondays: nothing to tell
    first, last = (d.normalize() for d in span)
    partial = []
    if first.weekday() != 0:
        partial.append(first - pd.Timedelta(days=first.weekday()))
    if last.weekday() != 6:
        partial.append(last - pd.Timedelta(days=last.weekday()))
    whole = ~days.isin(partial)
    if not whole.any():
        return weekly  # under a week of data: nothing whole to keep, the coverage notes say it is too short
    return weekly[whole].reset_index(drop=True)


def zero_weeks_without_sales(long: pd.DataFrame) -> pd.DataFrame:
    """A market without a row in a week sold nothing that week (the mart writes rows for sales only): its
    revenue that week is 0, not a gap to interpolate (a sparse market would get made-up sales otherwise).

    Weekly data only (every date a Monday, weekly spacing), from each market's first week to the data's last;
    a market without any known revenue (no FX rate) stays unknown rather than becoming zeros.
    """
    dates = long["ds"].drop_duplicates()
    if len(dates) < 2 or (dates.dt.weekday != 0).any():
        return long.reset_index(drop=True)
    try:
        if infer_frequency(dates).code != "W":
            return long.reset_index(drop=True)
    except InputError:
        return long.reset_index(drop=True)
    known = long.dropna(subset=["y"])
    first = known.groupby("series_id")["ds"].min()
    weeks = pd.date_range(dates.min(), dates.max(), freq="W-MON")
    grid = pd.MultiIndex.from_product([first.index, weeks], names=["series_id", "ds"]).to_frame(index=False)
    grid = grid[grid["ds"] >= grid["series_id"].map(first)]
    filled = grid.merge(long, on=["series_id", "ds"], how="left", indicator=True)
    filled.loc[filled["_merge"] == "left_only", "y"] = 0.0  # a week without a row; a null amount stays unknown
    filled = filled.drop(columns="_merge")
    without_revenue = long[~long["series_id"].isin(first.index)]
    return pd.concat([filled, without_revenue], ignore_index=True).sort_values(["series_id", "ds"], ignore_index=True)


def version_of(
    long: pd.DataFrame,
    as_of: str,
    options: Options,
    shard_size: int | None = None,
    dims: tuple[str, ...] = dimensions.DEFAULT,
) -> str:
    """Input, options, market dimensions and sharding (the global model is trained per shard) fix the version."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(long, index=False).values.tobytes())
    digest.update(json.dumps(options.__dict__, sort_keys=True, default=str).encode())
    if shard_size is not None:
        digest.update(f"shard_size={shard_size}".encode())
    if not dimensions.is_default(dims):  # the default leaves earlier versions' names unchanged
        digest.update(f"dimensions={','.join(dims)}".encode())
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


def analyse_trends(
    long: pd.DataFrame, elasticity: pd.DataFrame | None, dims: tuple[str, ...] = dimensions.DEFAULT
) -> pd.DataFrame:
    """One trend row per market with enough revenue history (`coverage.MIN_TREND_PERIODS`).

    Elasticity is estimated per category (all other dimensions pooled) and for the whole shop: a market gets
    the estimate of its category (or the whole shop's when category is not a dimension or is ALL), with
    `elasticity_scope` "market" when that estimate is the market's own (every other dimension ALL) and
    "pooled" otherwise; `elasticity_estimated_for` names the market the estimate belongs to."""
    known = long.dropna(subset=["y"])
    if known["ds"].nunique() < coverage.MIN_TREND_PERIODS:
        return pd.DataFrame()
    freq = infer_frequency(known["ds"])
    rows = []
    by_category = {} if elasticity is None else {r["category"]: r for r in elasticity.to_dict("records")}
    for series_id, group in long.groupby("series_id", sort=True):
        try:
            p = prepare(str(series_id), group, freq)
        except InputError:
            continue
        report = trends.analyse(p)
        values = dict(zip(dims, str(series_id).split("|", len(dims) - 1), strict=False))
        category = values.get("category", dimensions.ALL)
        own = {name: (category if name == "category" else dimensions.ALL) for name in dims}
        scope = "market" if own == values else "pooled"
        el = by_category.get(category)
        estimated_for = "|".join(own[name] for name in dims) if el else None
        report.summary = trends.summarise(report, el, None if scope == "market" else estimated_for)
        row = report.to_dict()
        row["changepoints"] = json.dumps(row["changepoints"])
        row["anomalies"] = json.dumps(row["anomalies"])
        row.update(values)
        row.update(
            dimensions=",".join(dims),
            elasticity=_num(el, "elasticity"),
            elasticity_ci_low=_num(el, "ci_low"),
            elasticity_ci_high=_num(el, "ci_high"),
            elasticity_p=_num(el, "p_value"),
            elasticity_scope=scope if el else None,
            elasticity_estimated_for=estimated_for,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _num(row: dict | None, key: str) -> float:
    if not row:
        return float("nan")
    value = row.get(key)
    return float(value) if value is not None and not (isinstance(value, float) and math.isnan(value)) else math.nan


def price_elasticity(prod: BlobStore, notes: list[str] | None = None) -> pd.DataFrame | None:
    """Elasticity per category from prod daily_sales (None, with a note, when the data cannot give one)."""
    notes = [] if notes is None else notes
    try:
        panel = prod_sql.weekly_sku_panel(prod)  # summed per SKU-week by DuckDB, not loaded whole
    except ValueError as e:
        notes.append(f"price elasticity skipped: {e}")
        return None
    if panel is None or panel.empty:
        notes.append("no daily_sales in prod: price elasticity skipped")
        return None
    table = estimate(panel)
    if table.empty or table["elasticity"].isna().all():
        notes.append(
            "too little price variation within SKUs (or too few SKU-weeks with sales) to estimate a price elasticity"
        )
    return table


def run(
    buckets: Buckets,
    dataset: str,
    options: Options | None = None,
    shard_size: int = sharded.DEFAULT_SHARD_SIZE,
    dims: tuple[str, ...] = dimensions.DEFAULT,
) -> BatchResult:
    """Recompute what `dataset` affects: market_series -> forecasts + trends; daily_sales -> trends.

    Forecasting runs the sharded steps (plan, every shard, merge) one after the other in this process; the
    MarketForecastStateMachine runs the same steps as separate invocations when a batch outgrows one. When
    no market has the history a forecast needs, the trends are still refreshed and the result says why.
    Work whose inputs are unchanged since the last completed run (`freshness`) is not done again: the event
    gets that run's results, marked `up_to_date`.
    """
    started = time.perf_counter()
    options = options or Options()
    prints = freshness.fingerprints(buckets.prod, options, shard_size, dims)
    record = freshness.last_complete(buckets.artifacts)
    trends_done = freshness.matches(record, "trends", prints.trends)
    forecast_done = freshness.matches(record, "forecast", prints.forecast)
    if dataset not in ("market_series", "schedule"):
        forecast_done = None  # a daily_sales event asks for trends only
    elif not forecast_done:
        planned = start(buckets, options, shard_size, dims, prints)
        if planned["version"] is not None:
            for item in planned["shards"]:
                sharded.run_shard(buckets.artifacts, item["version"], item["shard"])
            return merge(buckets, planned["version"], started)
        return trends_only(buckets, started, planned["skipped"], dims, prints)
    if trends_done:
        stored = from_stored(buckets, trends_done, forecast_done, dims, started)
        if stored is not None:
            return stored
    return trends_only(buckets, started, dims=dims, prints=prints)


def from_stored(
    buckets: Buckets,
    trends_entry: dict[str, Any],
    forecast_entry: dict[str, Any] | None,
    dims: tuple[str, ...],
    started: float,
) -> BatchResult | None:
    """The results of the last completed run (None when one of its files is gone: then the work is redone)."""
    try:
        trend_frame = codec.read_parquet(buckets.prod, trends_entry["key"])
        forecasts = scores = None
        if forecast_entry:
            forecasts = codec.read_parquet(buckets.prod, forecast_entry["key"])
            scores = store.read_scores(buckets.artifacts, forecast_entry["version"])
    except (ObjectNotFoundError, KeyError):
        return None
    long = market_long(read_markets(buckets.prod, dims), dims)
    entry = forecast_entry or trends_entry
    return BatchResult(
        as_of=entry.get("as_of"),
        version=entry.get("version"),
        n_series=int(long["series_id"].nunique()),
        forecast_key=forecast_entry["key"] if forecast_entry else None,
        trends_key=trends_entry["key"],
        model_prefix=(forecast_entry or {}).get("model_prefix"),
        timings={"total_s": time.perf_counter() - started},
        forecasts=forecasts,
        trends=trend_frame,
        scores=scores,
        long=long,
        skipped=list(entry.get("skipped") or []),
        up_to_date=True,
    )


def trends_for(
    buckets: Buckets, long: pd.DataFrame, notes: list[str], dims: tuple[str, ...], prints: freshness.Fingerprints
) -> pd.DataFrame:
    """Trends and elasticity of `long`, or the frame of the last trends run when it read exactly these inputs."""
    entry = freshness.matches(freshness.last_complete(buckets.artifacts), "trends", prints.trends if prints else None)
    if entry:
        try:
            frame = codec.read_parquet(buckets.prod, entry["key"])
            notes.extend(n for n in entry.get("notes") or [] if n not in notes)
            return frame
        except (ObjectNotFoundError, KeyError):
            pass
    return analyse_trends(long, price_elasticity(buckets.prod, notes), dims)


def _no_input(dims: tuple[str, ...]) -> str:
    source = "market_series" if dimensions.is_default(dims) else dimensions.SOURCE_DATASET
    return f"no {source} in prod (it is built from order_lines)"


def trends_only(
    buckets: Buckets,
    started: float,
    notes: list[str] | None = None,
    dims: tuple[str, ...] = dimensions.DEFAULT,
    prints: freshness.Fingerprints | None = None,
) -> BatchResult:
    """Trends and elasticity of the markets under the current model version (no forecasting)."""
    series = read_markets(buckets.prod, dims)
    notes = list(notes or [])
    if series.empty:
        note = f"{_no_input(dims)}: market trends and forecasts skipped"
        return BatchResult(None, None, 0, None, None, None, {"total_s": time.perf_counter() - started}, skipped=[note])
    long = market_long(series, dims)
    if not notes:
        notes = coverage.assess(long).notes
    as_of = str(pd.to_datetime(series["date"]).max().date())
    t0 = time.perf_counter()
    elasticity_notes: list[str] = []
    trend_frame = analyse_trends(long, price_elasticity(buckets.prod, elasticity_notes), dims)
    notes.extend(elasticity_notes)
    version = store.current_version(buckets.artifacts)
    trend_frame["model_version"] = version
    trend_frame["as_of"] = as_of
    trends_key = store.write_partition(buckets.prod, store.TRENDS, as_of, trend_frame)
    freshness.remember(
        buckets.artifacts,
        "trends",
        prints.trends if prints else None,
        key=trends_key,
        version=version,
        as_of=as_of,
        notes=elasticity_notes,
        skipped=notes,
    )
    timings = {"trends_s": time.perf_counter() - t0, "total_s": time.perf_counter() - started}
    n_series = int(long["series_id"].nunique())
    return BatchResult(as_of, version, n_series, None, trends_key, None, timings, None, trend_frame, None, long, notes)


def start(
    buckets: Buckets,
    options: Options,
    shard_size: int,
    dims: tuple[str, ...] = dimensions.DEFAULT,
    prints: freshness.Fingerprints | None = None,
) -> dict[str, Any]:
    """The Plan step: read the markets, fix the run's version and horizon, split the markets into shards.

    `version` is None (nothing to forecast) when prod has no market_series (or copilot_mart, for custom
    dimensions) or no market has enough revenue history; `skipped` says what was left out and why.
    """
    series = read_markets(buckets.prod, dims)
    if series.empty:
        note = f"{_no_input(dims)}: market forecasts skipped"
        return {"version": None, "as_of": None, "n_series": 0, "shards": [], "skipped": [note]}
    long = market_long(series, dims)
    as_of = str(pd.to_datetime(series["date"]).max().date())
    covered = coverage.assess(long)
    if not covered.forecastable:
        notes = [*covered.notes, "no market has enough revenue history to forecast: market forecasts skipped"]
        return {"version": None, "as_of": as_of, "n_series": 0, "shards": [], "skipped": notes}
    version = version_of(long, as_of, options, shard_size, dims)
    return sharded.plan(
        buckets.artifacts, long, version, as_of, options, shard_size, covered.notes, dims, freshness.as_dict(prints)
    )


def merge(buckets: Buckets, version: str, started: float | None = None) -> BatchResult:
    """The Merge step: every shard's forecasts and scores, trends and elasticity, the model version and pointer."""
    started = time.perf_counter() if started is None else started
    document = sharded.read_plan(buckets.artifacts, version)
    as_of = document["as_of"]
    long = codec.read_parquet(buckets.artifacts, f"{sharded.run_prefix(version)}input.parquet")
    forecasts, scores, global_keys, timings = sharded.gather(buckets.artifacts, version)
    notes = list(document.get("skipped") or [])
    dims = tuple(document.get("dimensions") or dimensions.DEFAULT)
    prints = document.get("fingerprints")
    prints = freshness.Fingerprints(**prints) if prints else None
    t0 = time.perf_counter()
    trend_frame = trends_for(buckets, long, notes, dims, prints)
    timings["trends_s"] = time.perf_counter() - t0
    values = dimensions.split_ids(forecasts["series_id"], dims)
    for position, name in enumerate(dims):
        forecasts.insert(position, name, values[name])
    forecasts["dimensions"] = ",".join(dims)
    forecasts["model_version"] = version
    forecasts["as_of"] = as_of
    forecast_key = store.write_partition(buckets.prod, store.FORECASTS, as_of, forecasts)
    metadata = {
        "system": store.SYSTEM,
        "version": version,
        "as_of": as_of,
        "training_window": {"start": str(long["ds"].min().date()), "end": str(long["ds"].max().date())},
        "inputs": {
            "dataset": "market_series" if dimensions.is_default(dims) else dimensions.SOURCE_DATASET,
            "rows": len(long),
            "series": int(long["series_id"].nunique()),
        },
        "target": f"revenue_reporting per week and market ({'|'.join(dims)})",
        "dimensions": list(dims),
        "features": {
            "local": "own history; yearly Fourier terms; level-shift step; country holidays per period",
            "global_nn": f"last {2 * int(document['options']['horizon'])} values scaled by their mean + season "
            "position, one model per shard of markets",
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
    model_prefix = store.save_model(buckets.artifacts, version, metadata, scores)
    trend_frame["model_version"] = version
    trend_frame["as_of"] = as_of
    trends_key = store.write_partition(buckets.prod, store.TRENDS, as_of, trend_frame)
    if prints is not None:  # recorded after every result is written: a failed merge leaves the work to redo
        common = {"version": version, "as_of": as_of, "skipped": notes, "notes": notes}
        freshness.remember(buckets.artifacts, "trends", prints.trends, key=trends_key, **common)
        freshness.remember(
            buckets.artifacts, "forecast", prints.forecast, key=forecast_key, model_prefix=model_prefix, **common
        )
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
        notes,
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
