"""The real market-intelligence-hub handler on `MemoryBlobStore`s (no S3 endpoint): prod inputs in the pipeline's
monthly partitions (`month=YYYY-MM/`) or the older daily ones, ProdDatasetUpdated events with month or day labels,
and the routes answering from what the batch path wrote."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
from market_intelligence import api, synthetic
from market_intelligence.store import Buckets

from retail_platform.exceptions import BadEventError
from retail_platform.local.run import LocalContext
from retail_platform.routing import parse_dataset_updated
from retail_platform.storage import MemoryBlobStore, codec
from tests.support import LOCAL_BUCKETS, event, handler

FUNCTION = "market-intelligence-hub"
FAST = {"MARKET_MODELS": "seasonal_naive,drift,ets", "MARKET_FOLDS": "1"}


def write_partitioned(store: MemoryBlobStore, name: str, frame: pd.DataFrame, grain: str) -> None:
    """`frame` as the pipeline writes a prod dataset: one object per month (or per day, the older layout)."""
    dates = pd.to_datetime(frame["date"])
    labels = dates.dt.strftime("%Y-%m") if grain == "month" else dates.dt.strftime("%Y-%m-%d")
    field = "month" if grain == "month" else "date"
    for label, part in frame.groupby(labels.to_numpy()):
        codec.write_parquet(store, f"{name}/{field}={label}/part-0.parquet", part)


@pytest.fixture
def fn(monkeypatch):
    for name, bucket in LOCAL_BUCKETS.items():
        monkeypatch.setenv(name, bucket)
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    module = handler(FUNCTION)
    buckets = Buckets(MemoryBlobStore("local-prod"), MemoryBlobStore("local-artifacts"))
    monkeypatch.setattr(module, "buckets", lambda: buckets)
    api.clear_cache()
    yield module, buckets
    api.clear_cache()


def seed(prod: MemoryBlobStore, grain: str) -> pd.DataFrame:
    series, _ = synthetic.markets(n_weeks=40, categories=("apparel", "home"), countries=("DE", "FR"))
    write_partitioned(prod, "market_series", series, grain)
    sales, mapping = synthetic.daily_sales(n_days=120, elasticities={"apparel": -1.8, "home": -0.6})
    write_partitioned(prod, "daily_sales", sales, grain)
    mart = mapping.assign(date=sales["date"].min(), country="DE", units=1, orders=1)
    write_partitioned(prod, "copilot_mart", mart, grain)
    return series


def with_labels(case: str, labels: list[str]) -> dict:
    sent = copy.deepcopy(event(FUNCTION, case))
    sent["detail"]["partitions"] = labels
    return sent


@pytest.mark.parametrize(("grain", "labels"), [("month", ["2022-09", "2022-10"]), ("day", ["2022-10-03"])])
def test_batch_path_reads_monthly_or_daily_prod_partitions(fn, grain, labels):
    module, buckets = fn
    series = seed(buckets.prod, grain)
    context = LocalContext(FUNCTION)
    out = module.lambda_handler(with_labels("eventbridge-market-series-updated", labels), context)
    n_markets = series[["category", "country"]].drop_duplicates().shape[0]
    assert out["status"] == "done" and out["n_series"] == n_markets == 7  # 2 categories x (DE, FR, ALL) + ALL|ALL
    forecasts = codec.read_parquet(buckets.prod, out["written"][0])
    assert out["written"][0].startswith("market_forecasts/date=")  # the system's own snapshots keep their layout
    assert forecasts["series_id"].nunique() == n_markets
    expected_last = pd.Timestamp(series["date"].max()) + pd.Timedelta(weeks=1)
    assert forecasts["ds"].min() == expected_last  # the first forecast week follows the data's last week
    response = module.lambda_handler(event(FUNCTION, "http-get-market-forecast"), context)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["model_version"] == out["model_version"]
    trends = module.lambda_handler(event(FUNCTION, "http-get-market-trends"), context)
    assert trends["statusCode"] == 200 and json.loads(trends["body"])["market"] == {"category": "ALL", "country": "ALL"}


def test_daily_sales_event_with_month_labels_refreshes_trends(fn):
    module, buckets = fn
    seed(buckets.prod, "month")
    out = module.lambda_handler(with_labels("eventbridge-daily-sales-updated", ["2022-08"]), LocalContext(FUNCTION))
    assert out["status"] == "done" and [k.split("/")[0] for k in out["written"]] == ["market_trends"]
    trends = codec.read_parquet(buckets.prod, out["written"][0])
    apparel = trends[trends["category"] == "apparel"].iloc[0]
    assert abs(apparel["elasticity"] - -1.8) < 0.3  # truth of the generated SKU sales: -1.8


def test_a_label_that_is_neither_month_nor_day_is_a_bad_event(fn):
    module, buckets = fn
    with pytest.raises(BadEventError, match="'2024-13'"):
        module.lambda_handler(with_labels("eventbridge-market-series-updated", ["2024-13"]), LocalContext(FUNCTION))
    assert list(buckets.prod.list("")) == []  # nothing ran


def test_month_and_day_labels_map_to_their_month():
    def update(labels: list[str]) -> dict:
        return event(FUNCTION, "eventbridge-market-series-updated") | {
            "detail": {"dataset": "market_series", "partitions": labels}
        }

    assert parse_dataset_updated(update(["2024-03-25", "2024-03", "2024-02-29", "2023-12"])).months == [
        "2023-12",
        "2024-02",
        "2024-03",
    ]
    for bad in ("2024-3", "2023-02-29", "2024-03-25T00:00", "month=2024-03", "", " 2023-12 "):
        with pytest.raises(BadEventError, match="neither a day YYYY-MM-DD nor a month"):
            parse_dataset_updated(update([bad]))
