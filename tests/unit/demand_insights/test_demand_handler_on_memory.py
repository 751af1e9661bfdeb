"""The real demand-insights-engine handler on `MemoryBlobStore`s (no S3 endpoint): daily_sales and
customer_transactions in the pipeline's monthly partitions (`month=YYYY-MM/`) or the older daily ones,
ProdDatasetUpdated events with month or day labels, and the routes answering from what the batch wrote."""

from __future__ import annotations

import copy
import json

import pytest

from demand_insights import synthetic
from demand_insights.store import Stores
from retail_platform.exceptions import BadEventError
from retail_platform.local.run import LocalContext
from retail_platform.storage import MemoryBlobStore, codec
from tests.support import LOCAL_BUCKETS, event, handler
from tests.unit.prod_on_memory import RecordingEvents, write_partitioned

FUNCTION = "demand-insights-engine"


@pytest.fixture
def fn(monkeypatch):
    for name, bucket in LOCAL_BUCKETS.items():
        monkeypatch.setenv(name, bucket)
    monkeypatch.setenv("DEMAND_MAX_TRAIN_ROWS", "20000")
    monkeypatch.setenv("DEMAND_NUM_ROUNDS", "40")
    module = handler(FUNCTION)
    stores = Stores(MemoryBlobStore("local-prod"), MemoryBlobStore("local-artifacts"))
    events = RecordingEvents()
    monkeypatch.setattr(module, "stores", lambda: stores)
    monkeypatch.setattr(module.aws, "client", lambda service, *a, **k: events)
    for cache in (module.FORECASTS, module.ADVICE, module.CUSTOMERS):
        monkeypatch.setattr(cache, "ttl", 0.0)
        monkeypatch.setattr(cache, "_loaded", None)
    return module, stores, events


def updated(case: str, labels: list[str]) -> dict:
    sent = copy.deepcopy(event(FUNCTION, case))
    sent["detail"]["partitions"] = labels
    return sent


@pytest.mark.parametrize(("grain", "labels"), [("month", ["2023-11", "2023-12"]), ("day", ["2023-12-31"])])
def test_daily_sales_in_monthly_or_daily_partitions_feed_forecasts_and_the_route(fn, grain, labels):
    module, stores, events = fn
    sales = synthetic.prod_daily_sales()
    written = write_partitioned(stores.prod, "daily_sales", sales, grain)
    assert len(written) == (4 if grain == "month" else 120)
    out = module.lambda_handler(updated("prod-dataset-updated-daily_sales", labels), LocalContext(FUNCTION))
    task = out["tasks"][0]
    assert task["trained"] and task["series"] == sales[["sku", "country"]].drop_duplicates().shape[0] == 12
    assert task["history"] == {"start": "2023-09-03", "end": "2023-12-31", "steps": 120}
    forecasts = codec.read_parquet(stores.prod, "demand_forecasts/date=2023-12-31/part-0.parquet")
    assert len(forecasts) == 12 * 28  # the engine's own outputs keep one partition per analysis day
    sent = {json.loads(e["Detail"])["dataset"]: json.loads(e["Detail"])["partitions"] for e in events.entries}
    assert sent == {"demand_forecasts": ["2023-12-31"], "inventory_advice": ["2023-12-31"]}
    response = module.lambda_handler(event(FUNCTION, "api-get-forecast"), LocalContext(FUNCTION))
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and body["model_version"] == task["model_version"]
    assert [s["country"] for s in body["series"]] == ["GB"] and len(body["series"][0]["days"]) == 14


def test_customer_transactions_by_month_feed_customer_insights(fn):
    module, stores, _ = fn
    tx = synthetic.prod_customer_transactions()
    write_partitioned(stores.prod, "customer_transactions", tx, "month")
    out = module.lambda_handler(
        updated("prod-dataset-updated-customer_transactions", ["2023-12"]), LocalContext(FUNCTION)
    )
    task = out["tasks"][0]
    assert task["task"] == "customers" and task["customers"] == tx["customer_id"].nunique()
    response = module.lambda_handler(event(FUNCTION, "api-get-customer"), LocalContext(FUNCTION))
    assert response["statusCode"] == 200 and json.loads(response["body"])["customer_id"] == "10149"


@pytest.mark.parametrize("label", ["2024-13", "2023-02-29", "2023-12-31T00:00"])
def test_a_label_that_is_neither_day_nor_month_is_a_bad_event(fn, label):
    module, stores, _ = fn
    with pytest.raises(BadEventError, match="is neither a day"):
        module.lambda_handler(updated("prod-dataset-updated-daily_sales", [label]), LocalContext(FUNCTION))
    assert list(stores.prod.list("")) == [] and list(stores.artifacts.list("")) == []
