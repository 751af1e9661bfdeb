"""market-intelligence-hub handler with every events/market-intelligence-hub file against the moto server.

Data: seeded synthetic markets (weekly category x country + totals), daily SKU sales with a known elasticity
per category and the SKU -> category mapping, written as the prod datasets the pipeline would write.
"""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
from market_intelligence import api, synthetic

from retail_platform import s3io
from retail_platform.local.endpoint import BUCKET_ENV
from tests.support import event, handler

PROD, ARTIFACTS = BUCKET_ENV["PROD_BUCKET"], BUCKET_ENV["ARTIFACTS_BUCKET"]
FUNCTION = "market-intelligence-hub"
FAST = {"MARKET_MODELS": "seasonal_naive,drift,ets,sarimax", "MARKET_FOLDS": "2"}
ROUTES_ONLY = {"MARKET_MODELS": "seasonal_naive,drift,ets", "MARKET_FOLDS": "1"}


def seed_prod(s3) -> None:
    series, _truth = synthetic.markets(n_weeks=60, categories=("apparel", "home"), countries=("DE", "FR"))
    for day, part in series.groupby("date"):
        s3io.write_parquet(s3, PROD, f"market_series/date={day}/part-0.parquet", part)
    sales, mapping = synthetic.daily_sales(n_days=120, elasticities={"apparel": -1.8, "home": -0.6})
    for day, part in sales.groupby("date"):
        s3io.write_parquet(s3, PROD, f"daily_sales/date={day}/part-0.parquet", part)
    mart = mapping.assign(date=sales["date"].min(), country="DE", units=1, orders=1)
    s3io.write_parquet(s3, PROD, f"copilot_mart/date={sales['date'].min()}/part-0.parquet", mart)


@pytest.fixture
def fn(s3, monkeypatch):
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    api.clear_cache()
    return handler(FUNCTION)


def http(case: str, **query) -> dict:
    request = event(FUNCTION, case)
    if query:
        request = copy.deepcopy(request)
        request["queryStringParameters"] = query
        request["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    return request


def body(response: dict) -> dict:
    return json.loads(response["body"])


def test_market_series_event_writes_forecasts_trends_and_model(fn, s3, lambda_context):
    seed_prod(s3)
    out = fn.lambda_handler(event(FUNCTION, "eventbridge-market-series-updated"), lambda_context)
    assert out["status"] == "done" and out["n_series"] == 7  # 2 categories x (DE, FR, ALL) + ALL|ALL
    forecasts = s3io.read_parquet(s3, PROD, out["written"][0])
    trends = s3io.read_parquet(s3, PROD, out["written"][1])
    assert out["written"][0].startswith("market_forecasts/date=") and out["written"][1].startswith("market_trends/")
    assert set(forecasts["model"]) <= {"seasonal_naive", "drift", "ets", "sarimax", "ensemble"}
    assert (forecasts["yhat_lower"] <= forecasts["yhat"]).all() and (forecasts["yhat"] <= forecasts["yhat_upper"]).all()
    assert forecasts["cv_mase"].notna().all() and (forecasts["model_version"] == out["model_version"]).all()
    assert len(trends) == 7 and trends["summary"].str.len().gt(20).all()
    apparel = trends[trends["category"] == "apparel"].iloc[0]
    assert abs(apparel["elasticity"] - -1.8) < 0.3 and apparel["elasticity_ci_high"] < 0  # truth: -1.8
    pointer = s3io.read_json(s3, ARTIFACTS, "models/market-intelligence-hub/current.json")
    assert pointer["version"] == out["model_version"]
    meta = s3io.read_json(s3, ARTIFACTS, f"models/market-intelligence-hub/{pointer['version']}/metadata.json")
    assert meta["training_window"]["end"] and meta["library_versions"]["statsmodels"]
    assert "<img" in out["report_html"]


def test_daily_sales_event_refreshes_trends_only(fn, s3, lambda_context):
    seed_prod(s3)
    out = fn.lambda_handler(event(FUNCTION, "eventbridge-daily-sales-updated"), lambda_context)
    assert out["status"] == "done" and len(out["written"]) == 1 and out["written"][0].startswith("market_trends/")
    assert not list(s3io.list_keys(s3, PROD, "market_forecasts/"))


def test_events_on_unchanged_prod_are_up_to_date_and_a_changed_object_refits(fn, s3, lambda_context, monkeypatch):
    """Fingerprints from the S3 listing (ETag, size): a second event on the same objects is answered from the
    stored results; a rewritten market_series object with other values is a new run."""
    for key, value in ROUTES_ONLY.items():
        monkeypatch.setenv(key, value)
    seed_prod(s3)
    first = fn.lambda_handler(event(FUNCTION, "eventbridge-market-series-updated"), lambda_context)
    again = fn.lambda_handler(event(FUNCTION, "eventbridge-daily-sales-updated"), lambda_context)
    assert not first["up_to_date"] and again["up_to_date"] and again["model_version"] == first["model_version"]
    assert again["written"] == first["written"][1:] and again["report_html"]  # the trends it was asked for
    key = sorted(s3io.list_keys(s3, PROD, "market_series/"))[-1]
    part = s3io.read_parquet(s3, PROD, key)
    s3io.write_parquet(s3, PROD, key, part.assign(revenue_reporting=part["revenue_reporting"] * 2))
    changed = fn.lambda_handler(event(FUNCTION, "eventbridge-market-series-updated"), lambda_context)
    assert not changed["up_to_date"] and changed["model_version"] != first["model_version"]


def test_schedule_and_routes(fn, s3, lambda_context, monkeypatch):
    for key, value in ROUTES_ONLY.items():
        monkeypatch.setenv(key, value)
    seed_prod(s3)
    out = fn.lambda_handler(event(FUNCTION, "schedule-weekly-refit"), lambda_context)
    assert out["dataset"] == "schedule" and len(out["written"]) == 2
    forecast = fn.lambda_handler(http("http-get-market-forecast"), lambda_context)
    assert forecast["statusCode"] == 200, forecast
    answer = body(forecast)
    assert answer["model_version"] == out["model_version"] and answer["market"] == {"category": "ALL", "country": "ALL"}
    assert answer["forecast"] and answer["validation"]["cv_mase"] is not None
    assert {m["model"] for m in answer["models_compared"]} >= {"seasonal_naive", "ets"}
    trends = fn.lambda_handler(http("http-get-market-trends", category="apparel", country="DE"), lambda_context)
    assert trends["statusCode"] == 200
    t = body(trends)
    assert t["direction"] in {"up", "down", "flat"} and t["market"]["country"] == "DE"
    assert t["model_version"] == out["model_version"]


def test_routes_reject_bad_input_and_unknown_markets(fn, s3, lambda_context):
    seed_prod(s3)
    fn.lambda_handler(event(FUNCTION, "eventbridge-daily-sales-updated"), lambda_context)
    bad = fn.lambda_handler(http("http-get-market-trends", category="apparel", country="Germany"), lambda_context)
    assert bad["statusCode"] == 400 and "two-letter" in body(bad)["message"]
    extra = fn.lambda_handler(http("http-get-market-trends", region="x"), lambda_context)
    assert extra["statusCode"] == 400 and "unknown query parameters" in body(extra)["message"]
    unknown = fn.lambda_handler(http("http-get-market-trends", category="nope", country="DE"), lambda_context)
    assert unknown["statusCode"] == 404 and "unknown market" in body(unknown)["message"]
    none_yet = fn.lambda_handler(http("http-get-market-forecast"), lambda_context)
    assert none_yet["statusCode"] == 404 and "no forecasts" in body(none_yet)["message"]
    huge = http("http-get-market-trends")
    huge["rawQueryString"] = "category=" + "a" * 5000
    huge["queryStringParameters"] = {"category": "a" * 5000}
    too_large = fn.lambda_handler(huge, lambda_context)
    assert too_large["statusCode"] == 414 and "too long" in body(too_large)["message"]
    for response in (bad, extra, unknown, none_yet, too_large):
        assert "Traceback" not in response["body"]


def test_other_datasets_and_empty_prod(fn, s3, lambda_context):
    ignored = copy.deepcopy(event(FUNCTION, "eventbridge-market-series-updated"))
    ignored["detail"]["dataset"] = "payment_transactions"
    assert fn.lambda_handler(ignored, lambda_context)["status"] == "ignored"
    empty = fn.lambda_handler(event(FUNCTION, "eventbridge-market-series-updated"), lambda_context)
    assert empty["status"] == "done" and empty["n_series"] == 0 and empty["written"] == []


def test_state_machine_steps_fan_out_over_shards_and_match_one_process(fn, s3, lambda_context, monkeypatch):
    """Plan -> forecast_shard per Map item -> merge gives the forecasts one in-process run gives."""
    from market_intelligence.exceptions import InputError

    from retail_platform.exceptions import BadEventError

    seed_prod(s3)
    monkeypatch.setenv("MARKET_SHARD_SIZE", "3")
    planned = fn.lambda_handler({"step": "plan"}, lambda_context)
    assert planned["status"] == "planned" and planned["n_series"] == 7
    assert [item["shard"] for item in planned["shards"]] == [0, 1, 2]  # 3 + 3 + 1 markets
    with pytest.raises(InputError, match=r"shards \[0, 1, 2\] have no results yet"):
        fn.lambda_handler({"step": "merge", "version": planned["version"]}, lambda_context)
    for item in planned["shards"]:
        done = fn.lambda_handler({"step": "forecast_shard", **item}, lambda_context)
        assert done["series"] == (1 if item["shard"] == 2 else 3)
    fn.lambda_handler({"step": "forecast_shard", **planned["shards"][0]}, lambda_context)  # a retried iteration
    merged = fn.lambda_handler({"step": "merge", "version": planned["version"]}, lambda_context)
    assert merged["status"] == "done" and merged["model_version"] == planned["version"] and merged["n_series"] == 7
    sharded = s3io.read_parquet(s3, PROD, merged["written"][0])
    assert not sharded.duplicated(["series_id", "ds"]).any() and sharded["series_id"].nunique() == 7

    monkeypatch.setenv("MARKET_SHARD_SIZE", "100")
    whole = fn.lambda_handler(event(FUNCTION, "eventbridge-market-series-updated"), lambda_context)
    assert whole["model_version"] != planned["version"]  # the shard size is part of the version
    single = s3io.read_parquet(s3, PROD, whole["written"][0])
    key = ["series_id", "ds"]
    pd.testing.assert_frame_equal(
        sharded.sort_values(key).reset_index(drop=True)[[*key, "model", "yhat"]],
        single.sort_values(key).reset_index(drop=True)[[*key, "model", "yhat"]],
    )
    with pytest.raises(BadEventError, match="needs 'shard'"):
        fn.lambda_handler({"step": "forecast_shard", "version": planned["version"]}, lambda_context)
    with pytest.raises(InputError, match=r"shards 0\.\.2"):
        fn.lambda_handler({"step": "forecast_shard", "version": planned["version"], "shard": 9}, lambda_context)
    with pytest.raises(InputError, match="no plan for run"):
        fn.lambda_handler({"step": "merge", "version": "19700101-nothing"}, lambda_context)


def test_unsupported_event_is_a_clear_error(fn, lambda_context):
    from retail_platform.exceptions import BadEventError

    with pytest.raises(BadEventError, match="unsupported event"):
        fn.lambda_handler({"hello": "world"}, lambda_context)


def test_frames_are_readable_as_written(s3):
    frame = pd.DataFrame({"a": [1]})
    s3io.write_parquet(s3, PROD, "market_trends/date=2024-01-01/part-0.parquet", frame)
    assert s3io.read_parquet(s3, PROD, "market_trends/date=2024-01-01/part-0.parquet").equals(frame)
