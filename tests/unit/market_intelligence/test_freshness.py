"""Events whose prod inputs are unchanged since the last completed run answer "up to date" without refitting; a
changed partition refits; a trends run's result is reused by the forecast run that follows on the same inputs."""

from __future__ import annotations

import pandas as pd
import pytest
from market_intelligence import batch, freshness, steps, synthetic
from market_intelligence.config import MarketSettings
from market_intelligence.forecast import Options
from market_intelligence.store import Buckets

from retail_platform.storage import MemoryBlobStore, codec

FAST = Options(models=("seasonal_naive", "drift", "ets"), folds=1)
SHARD = 40


def seeded() -> Buckets:
    prod = MemoryBlobStore("prod")
    series, _ = synthetic.markets(n_weeks=40, categories=("apparel", "home"), countries=("DE", "FR"))
    for month, part in series.groupby(pd.to_datetime(series["date"]).dt.strftime("%Y-%m").to_numpy()):
        codec.write_parquet(prod, f"market_series/month={month}/part-0.parquet", part)
    sales, mapping = synthetic.daily_sales(n_days=120, elasticities={"apparel": -1.8, "home": -0.6})
    codec.write_parquet(prod, "daily_sales/month=2022-09/part-0.parquet", sales)
    mart = mapping.assign(date=sales["date"].min(), country="DE", units=1, orders=1)
    codec.write_parquet(prod, "copilot_mart/month=2022-09/part-0.parquet", mart)
    return Buckets(prod, MemoryBlobStore("artifacts"))


@pytest.fixture
def counted(monkeypatch):
    """How often each piece of work really ran."""
    calls = {"trends": 0, "shards": 0}
    analyse, run_shard = batch.analyse_trends, batch.sharded.run_shard

    def analyse_counted(*args, **kwargs):
        calls["trends"] += 1
        return analyse(*args, **kwargs)

    def shard_counted(*args, **kwargs):
        calls["shards"] += 1
        return run_shard(*args, **kwargs)

    monkeypatch.setattr(batch, "analyse_trends", analyse_counted)
    monkeypatch.setattr(batch.sharded, "run_shard", shard_counted)
    return calls


def run(buckets: Buckets, dataset: str, options: Options = FAST) -> batch.BatchResult:
    return batch.run(buckets, dataset, options, SHARD)


def test_second_market_series_event_on_unchanged_inputs_is_up_to_date(counted):
    buckets = seeded()
    first = run(buckets, "market_series")
    models_before = sorted(buckets.artifacts.list("models/"))
    again = run(buckets, "market_series")
    assert not first.up_to_date and again.up_to_date
    assert counted == {"trends": 1, "shards": 1}  # nothing refitted, no trends recomputed
    assert sorted(buckets.artifacts.list("models/")) == models_before  # no new model version
    assert again.version == first.version and again.summary()["written"] == first.summary()["written"]
    pd.testing.assert_frame_equal(again.forecasts, first.forecasts)
    assert again.long is not None and again.scores is not None  # the report is drawn from the stored results


def test_daily_sales_event_after_a_completed_run_is_up_to_date(counted):
    buckets = seeded()
    first = run(buckets, "market_series")
    after = run(buckets, "daily_sales")
    assert after.up_to_date and counted["trends"] == 1
    assert any(k.startswith("market_trends/") for k in after.summary()["written"])
    assert after.version == first.version


def test_forecast_run_reuses_the_trends_of_a_daily_sales_event_on_the_same_inputs(counted):
    buckets = seeded()
    trends_first = run(buckets, "daily_sales")
    full = run(buckets, "market_series")
    assert not full.up_to_date and counted == {"trends": 1, "shards": 1}
    reused = full.trends.drop(columns=["model_version", "as_of"]).reset_index(drop=True)
    fresh = batch.analyse_trends(full.long, batch.price_elasticity(buckets.prod), batch.dimensions.DEFAULT)
    pd.testing.assert_frame_equal(reused, fresh.reset_index(drop=True))
    assert (full.trends["model_version"] == full.version).all()
    assert trends_first.trends_key == full.trends_key  # the same analysis date, rewritten with the new version


def test_a_changed_market_series_partition_refits(counted):
    buckets = seeded()
    first = run(buckets, "market_series")
    key = sorted(buckets.prod.list("market_series/"))[-1]
    part = codec.read_parquet(buckets.prod, key)
    codec.write_parquet(buckets.prod, key, part.assign(revenue_reporting=part["revenue_reporting"] * 1.5))
    second = run(buckets, "market_series")
    assert not second.up_to_date and second.version != first.version and counted["shards"] == 2


def test_changed_daily_sales_refresh_trends_but_keep_the_forecast(counted):
    buckets = seeded()
    first = run(buckets, "market_series")
    sales = codec.read_parquet(buckets.prod, "daily_sales/month=2022-09/part-0.parquet")
    codec.write_parquet(buckets.prod, "daily_sales/month=2022-09/part-0.parquet", sales.iloc[: len(sales) // 2])
    second = run(buckets, "market_series")
    assert not second.up_to_date and counted == {"trends": 2, "shards": 1}
    assert second.version == first.version and second.forecast_key is None  # trends only, current model kept


def test_other_options_are_other_work(counted):
    buckets = seeded()
    run(buckets, "market_series")
    other = run(buckets, "market_series", Options(models=("seasonal_naive", "drift"), folds=1))
    assert not other.up_to_date and counted["shards"] == 2


def test_plan_step_says_up_to_date_after_a_completed_run():
    buckets = seeded()
    cfg = MarketSettings(FAST, SHARD)
    planned = steps.plan(buckets, cfg)
    assert planned["status"] == "planned"
    for item in planned["shards"]:
        steps.forecast_shard(buckets.artifacts, {"step": "forecast_shard", **item})
    steps.merge(buckets, {"step": "merge", "version": planned["version"]})
    again = steps.plan(buckets, cfg)
    assert again == {"version": planned["version"], "n_series": 0, "shards": [], "status": "up_to_date"}
    forced = steps.plan(buckets, cfg, force=True)  # a refit on demand plans the same markets all the same
    assert forced["status"] == "planned" and forced["n_series"] == planned["n_series"]
    assert len(forced["shards"]) == len(planned["shards"])


def test_a_missing_stored_result_is_recomputed(counted):
    buckets = seeded()
    first = run(buckets, "market_series")
    buckets.prod.delete([first.trends_key])
    again = run(buckets, "daily_sales")
    assert not again.up_to_date and counted["trends"] == 2


def test_fingerprints_follow_the_bytes_of_each_input_dataset():
    buckets = seeded()
    base = freshness.fingerprints(buckets.prod, FAST, SHARD, batch.dimensions.DEFAULT)
    assert base == freshness.fingerprints(buckets.prod, FAST, SHARD, batch.dimensions.DEFAULT)
    assert freshness.fingerprints(buckets.prod, FAST, 10, batch.dimensions.DEFAULT).forecast != base.forecast
    buckets.prod.put("copilot_mart/month=2022-10/part-0.parquet", b"other bytes")
    changed = freshness.fingerprints(buckets.prod, FAST, SHARD, batch.dimensions.DEFAULT)
    assert changed.forecast == base.forecast and changed.trends != base.trends  # copilot_mart feeds trends only
