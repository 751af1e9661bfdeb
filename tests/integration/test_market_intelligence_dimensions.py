"""Custom string attributes of a real export as market dimensions (MARKET_DIMENSIONS, issue #15).

The real Superstore export (tests/data/superstore-tableau, its built-in contract `superstore-tableau` keeps
region and segment as custom attributes) goes through raw-to-curated and curated-to-prod; market intelligence
then runs with MARKET_DIMENSIONS=region,segment. Every market's weekly revenue that the run forecast from is
compared with sums computed here from the raw CSV with pandas, and the routes answer by those dimensions.
"""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import combinations

import pandas as pd
import pytest
from market_intelligence import api

from retail_platform import s3io
from retail_platform.local.endpoint import BUCKET_ENV
from retail_platform.local.run import invoke, object_created_event
from tests.support import DATA, event, handler

RAW, PROD, ARTIFACTS = BUCKET_ENV["RAW_BUCKET"], BUCKET_ENV["PROD_BUCKET"], BUCKET_ENV["ARTIFACTS_BUCKET"]
SOURCE = DATA / "superstore-tableau" / "superstore_orders_sample.csv"
FUNCTION = "market-intelligence-hub"
DIMENSIONS = ("region", "segment")


def golden_weekly() -> pd.Series:
    """Weekly sales per region x segment with ALL totals, from the raw file (the contract's rules restated:
    a line needs a positive quantity and sales >= 0). Only whole weeks: a first or last week the export covers
    partly (it starts or ends mid-week) is left out."""
    raw = pd.read_csv(SOURCE, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    sales = pd.to_numeric(raw["Sales"].str.replace(r"[$,]", "", regex=True))
    ok = (pd.to_numeric(raw["Quantity"]) > 0) & (sales >= 0)
    day = pd.to_datetime(raw["Order Date"], format="%m/%d/%Y")
    lines = pd.DataFrame(
        {
            "week": day - pd.to_timedelta(day.dt.weekday, unit="D"),
            "region": raw["Region"],
            "segment": raw["Segment"],
            "sales": sales,
        }
    )[ok]
    whole = (lines["week"] >= day[ok].min()) & (lines["week"] + pd.Timedelta(days=6) <= day[ok].max())
    lines = lines[whole]
    sums = []
    for k in range(3):
        for rolled in combinations(DIMENSIONS, k):
            level = lines.assign(**dict.fromkeys(rolled, "ALL"))
            sums.append(level.groupby(["region", "segment", "week"])["sales"].sum())
    golden = pd.concat(sums)
    golden.index = pd.MultiIndex.from_arrays(
        [golden.index.get_level_values(0) + "|" + golden.index.get_level_values(1), golden.index.get_level_values(2)],
        names=["series_id", "ds"],
    )
    return golden


@pytest.fixture
def prod_from_superstore(s3, monkeypatch):
    monkeypatch.setenv("REPORTING_CURRENCY", "AUTO")  # a one-currency shop: revenue in its own USD, no FX file
    rebuild = handler("curated-to-prod")  # its settings are read once at import: another test file may have set EUR
    monkeypatch.setattr(rebuild, "SETTINGS", replace(rebuild.SETTINGS, reporting_currency="AUTO"))
    key = f"superstore-tableau/{SOURCE.name}"
    body = SOURCE.read_bytes()
    s3.put_object(Bucket=RAW, Key=key, Body=body)
    curated = invoke("raw-to-curated", object_created_event(RAW, key, len(body)))
    invoke("curated-to-prod", {"partitions": {k: sorted(v) for k, v in curated["partitions"].items()}})
    for name, value in {"MARKET_MODELS": "seasonal_naive,drift,ets", "MARKET_FOLDS": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MARKET_DIMENSIONS", ",".join(DIMENSIONS))
    api.clear_cache()
    yield s3
    api.clear_cache()


def test_region_and_segment_markets_match_the_raw_export(prod_from_superstore, lambda_context):
    s3 = prod_from_superstore
    fn = handler(FUNCTION)
    out = fn.lambda_handler(event(FUNCTION, "eventbridge-market-series-updated"), lambda_context)
    golden = golden_weekly()
    assert out["status"] == "done" and out["n_series"] == golden.index.get_level_values(0).nunique() == 20, out
    assert out["model_version"], out["skipped"]  # 5 regions x 4 segments (with ALL), every one forecast
    long = s3io.read_parquet(s3, ARTIFACTS, f"runs/{FUNCTION}/{out['model_version']}/input.parquet")
    got = long.set_index(["series_id", "ds"])["y"]
    assert got.reindex(golden.index).to_numpy() == pytest.approx(golden.to_numpy(), abs=0.01)
    assert (got.drop(golden.index) == 0).all()  # the weeks without a sale in a market, and only those, are 0
    forecasts = s3io.read_parquet(s3, PROD, out["written"][0])
    assert set(forecasts["dimensions"]) == {"region,segment"}
    assert set(zip(forecasts["region"], forecasts["segment"], strict=True)) == {
        tuple(sid.split("|")) for sid in golden.index.get_level_values(0)
    }
    trends = s3io.read_parquet(s3, PROD, out["written"][1])
    assert len(trends) == 20 and set(trends["region"]) == {"Central", "East", "South", "West", "ALL"}
    estimated = trends.dropna(subset=["elasticity"])  # category is not a dimension: the shop's pooled estimate
    assert set(estimated["elasticity_scope"]) <= {"market", "pooled"}
    assert (estimated["elasticity_scope"] == "market").sum() <= 1  # only ALL|ALL is its own population

    def route(case: str, **query: str) -> tuple[int, dict]:
        request = dict(event(FUNCTION, case), queryStringParameters=query or None)
        request["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
        response = fn.lambda_handler(request, lambda_context)
        return response["statusCode"], json.loads(response["body"])

    status, trend = route("http-get-market-trends", region="West", segment="Consumer")
    assert status == 200 and trend["market"] == {"region": "West", "segment": "Consumer"}
    assert trend["n_obs"] == len(got.loc["West|Consumer"])
    status, forecast = route("http-get-market-forecast", region="west")
    assert status == 200 and forecast["market"] == {"region": "West", "segment": "ALL"} and forecast["forecast"]
    status, error = route("http-get-market-trends", country="US")
    assert status == 400 and "use region and segment" in error["message"]
    status, error = route("http-get-market-trends", region="North")
    assert status == 404 and "unknown market" in error["message"]


def test_a_dimension_that_prod_does_not_carry_is_named_in_the_error(prod_from_superstore, lambda_context, monkeypatch):
    from market_intelligence.exceptions import InputError

    monkeypatch.setenv("MARKET_DIMENSIONS", "channel")
    with pytest.raises(InputError, match=r"no column\(s\) \['channel'\].*region.*segment"):
        handler(FUNCTION).lambda_handler(event(FUNCTION, "eventbridge-market-series-updated"), lambda_context)
