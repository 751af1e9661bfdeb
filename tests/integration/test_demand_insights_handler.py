"""demand-insights-engine through its handler with every file in events/demand-insights-engine/.

Prod inputs are written as the pipeline writes them (one Parquet partition per day, prod contract
columns): daily_sales from the seeded demand generator (SKU-100xx in GB and DE, 120 days to the last day
of the events), customer_transactions with customer 10149 (the id the route event asks for).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from demand_insights import synthetic
from retail_platform import s3io
from retail_platform.exceptions import BadEventError
from tests.support import EVENTS, event, handler

PROD, ARTIFACTS = "local-prod", "local-artifacts"
FUNCTION = "demand-insights-engine"
MODELS = "models/demand-insights-engine"


@pytest.fixture
def demand(monkeypatch):
    monkeypatch.setenv("DEMAND_MAX_TRAIN_ROWS", "20000")
    monkeypatch.setenv("DEMAND_NUM_ROUNDS", "40")
    module = handler(FUNCTION)
    for cache in (module.FORECASTS, module.ADVICE, module.CUSTOMERS):
        monkeypatch.setattr(cache, "ttl", 0.0)
    return module


def daily_sales() -> pd.DataFrame:
    return synthetic.prod_daily_sales()


def customer_transactions() -> pd.DataFrame:
    return synthetic.prod_customer_transactions()


def put_partitions(s3, dataset: str, frame: pd.DataFrame) -> None:
    for day, part in frame.groupby(frame["date"].dt.strftime("%Y-%m-%d")):
        s3io.write_parquet(s3, PROD, f"{dataset}/date={day}/part-0.parquet", part.reset_index(drop=True))


def run(demand, lambda_context, case: str) -> dict:
    return demand.lambda_handler(event(FUNCTION, case), lambda_context)


def api(demand, lambda_context, case: str, **changes) -> tuple[int, dict]:
    request = event(FUNCTION, case)
    request.update(changes)
    response = demand.lambda_handler(request, lambda_context)
    return response["statusCode"], json.loads(response["body"])


def test_every_event_file_is_covered_here():
    assert {p.stem for p in (EVENTS / FUNCTION).glob("*.json")} == {
        "prod-dataset-updated-daily_sales",
        "prod-dataset-updated-customer_transactions",
        "schedule",
        "api-get-forecast",
        "api-get-customer",
    }


def test_daily_sales_event_writes_forecasts_advice_and_a_versioned_model(s3, demand, lambda_context):
    put_partitions(s3, "daily_sales", daily_sales())
    result = run(demand, lambda_context, "prod-dataset-updated-daily_sales")
    task = result["tasks"][0]
    assert task["trained"] and task["series"] == 12
    assert result["prod_datasets"] == {"demand_forecasts": ["2023-12-31"], "inventory_advice": ["2023-12-31"]}
    forecasts = s3io.read_parquet(s3, PROD, "demand_forecasts/date=2023-12-31/part-0.parquet")
    assert len(forecasts) == 12 * 28 and (forecasts["model_version"] == task["model_version"]).all()
    assert (forecasts["p10"] <= forecasts["p90"]).all()
    advice = s3io.read_parquet(s3, PROD, "inventory_advice/date=2023-12-31/part-0.parquet")
    assert len(advice) == 12 and advice["reorder_point"].notna().all()
    pointer = s3io.read_json(s3, ARTIFACTS, f"{MODELS}/forecast/current.json")
    assert pointer["version"] == task["model_version"]
    metadata = s3io.read_json(s3, ARTIFACTS, f"{MODELS}/forecast/{pointer['version']}/metadata.json")
    assert metadata["training_window"]["end"] == "2023-12-31" and "lightgbm" in metadata["library_versions"]
    assert "holdout" in metadata and metadata["holdout"]["rows"] > 0
    # the same data again: the retraining policy reuses the stored model
    again = run(demand, lambda_context, "prod-dataset-updated-daily_sales")["tasks"][0]
    assert not again["trained"] and again["model_version"] == task["model_version"]


def test_a_broken_current_model_falls_back_to_the_previous_version(s3, demand, lambda_context):
    put_partitions(s3, "daily_sales", daily_sales())
    first = run(demand, lambda_context, "schedule")["tasks"][0]["model_version"]
    # a newer version whose files are missing: the pointer names it, loading falls back to `first`
    s3io.write_json(s3, ARTIFACTS, f"{MODELS}/forecast/current.json", {"version": "broken", "previous": [first]})
    again = run(demand, lambda_context, "prod-dataset-updated-daily_sales")["tasks"][0]
    assert again["model_version"] == first and not again["trained"]


def test_customer_transactions_event_writes_customer_insights(s3, demand, lambda_context):
    put_partitions(s3, "customer_transactions", customer_transactions())
    result = run(demand, lambda_context, "prod-dataset-updated-customer_transactions")
    task = result["tasks"][0]
    assert task["task"] == "customers" and task["metrics"]["roc_auc"] > 0.5
    day = result["prod_datasets"]["customer_insights"][0]
    table = s3io.read_parquet(s3, PROD, f"customer_insights/date={day}/part-0.parquet")
    assert table["customer_id"].is_unique and "10149" in set(table["customer_id"])
    assert s3io.read_json(s3, ARTIFACTS, f"{MODELS}/churn/current.json")["version"] == task["model_version"]


def test_schedule_runs_both_and_the_routes_answer_from_stored_results(s3, demand, lambda_context):
    status, body = api(demand, lambda_context, "api-get-forecast")
    assert status == 404 and "no demand_forecasts" in body["message"]
    put_partitions(s3, "daily_sales", daily_sales())
    put_partitions(s3, "customer_transactions", customer_transactions())
    result = run(demand, lambda_context, "schedule")
    assert {t["task"] for t in result["tasks"]} == {"forecast", "customers"}
    assert "report_html" in result and "<h4>" in result["report_html"]

    status, body = api(demand, lambda_context, "api-get-forecast")
    assert status == 200
    assert body["sku"] == "SKU-10001" and body["horizon"] == 14 and body["model_version"]
    (series,) = body["series"]
    assert series["country"] == "GB" and len(series["days"]) == 14
    assert all(d["p10"] <= d["p50"] <= d["p90"] for d in series["days"])
    assert "reorder_point" in series["inventory"]

    status, body = api(demand, lambda_context, "api-get-customer")
    assert status == 200 and body["customer_id"] == "10149"
    assert body["segment"] and 0 <= body["churn_probability"] <= 1 and body["model_version"]


BAD_QUERIES = [
    ({"sku": "SKU-99999", "country": "GB"}, 404, "no forecast"),
    ({"sku": "SKU-10001", "horizon": "0"}, 400, "between 1 and 365"),
    ({"sku": "SKU-10001", "horizon": "366"}, 400, "between 1 and 365"),
    ({"sku": "SKU-10001", "horizon": "many"}, 400, "integer"),
    ({"country": "GB"}, 400, "'sku' is required"),
    ({"sku": "SKU-10001", "country": "Britain"}, 400, "alpha-2"),
    ({"sku": "SKU-10001", "debug": "1"}, 400, "unknown query parameters"),
]


def test_bad_forecast_requests_get_a_clear_4xx(s3, demand, lambda_context):
    put_partitions(s3, "daily_sales", daily_sales())
    run(demand, lambda_context, "prod-dataset-updated-daily_sales")
    for query, status, message in BAD_QUERIES:
        got, body = api(demand, lambda_context, "api-get-forecast", queryStringParameters=query)
        assert got == status and message in body["message"], (query, got, body)
        assert "Traceback" not in json.dumps(body)


def test_unknown_customer_oversized_query_and_unknown_route(s3, demand, lambda_context):
    put_partitions(s3, "customer_transactions", customer_transactions())
    run(demand, lambda_context, "prod-dataset-updated-customer_transactions")
    status, body = api(
        demand, lambda_context, "api-get-customer", pathParameters={"id": "nobody"}, rawPath="/demand/customers/nobody"
    )
    assert status == 404 and "nobody" in body["message"]
    request = event(FUNCTION, "api-get-customer")
    request["requestContext"]["http"]["path"] = request["rawPath"] = "/demand/customers/bad%20id!"
    status, body = api(
        demand,
        lambda_context,
        "api-get-customer",
        **{k: request[k] for k in ("rawPath",)},
        requestContext=request["requestContext"],
    )
    assert status == 400
    huge = "sku=" + "A" * 5000
    status, body = api(
        demand, lambda_context, "api-get-forecast", rawQueryString=huge, queryStringParameters={"sku": "A" * 5000}
    )
    assert status == 414 and "too long" in body["message"]
    request = event(FUNCTION, "api-get-forecast")
    request["requestContext"]["http"]["path"] = request["rawPath"] = "/demand/nothing"
    status, body = api(
        demand, lambda_context, "api-get-forecast", rawPath="/demand/nothing", requestContext=request["requestContext"]
    )
    assert status == 404


def test_other_datasets_are_ignored_and_malformed_events_refused(demand, lambda_context):
    other = event(FUNCTION, "prod-dataset-updated-daily_sales")
    other["detail"]["dataset"] = "market_series"
    assert demand.lambda_handler(other, lambda_context)["status"] == "ignored"
    with pytest.raises(BadEventError, match="unsupported event"):
        demand.lambda_handler({"hello": "world"}, lambda_context)


def test_a_short_history_gets_the_seasonal_naive_baseline_and_says_so(s3, demand, lambda_context):
    sales = daily_sales().query("date >= '2023-12-02'")  # 30 days: too few to train the model on
    put_partitions(s3, "daily_sales", sales)
    result = run(demand, lambda_context, "prod-dataset-updated-daily_sales")
    task = result["tasks"][0]
    assert task["model_version"] == "baseline-seasonal-naive" and not task["trained"]
    assert any("30 daily steps of history" in note and "seasonal-naive" in note for note in task["skipped"])
    forecasts = s3io.read_parquet(s3, PROD, "demand_forecasts/date=2023-12-31/part-0.parquet")
    assert len(forecasts) == 12 * 28
    assert ((forecasts["p10"] <= forecasts["mean"]) & (forecasts["mean"] <= forecasts["p90"])).all()
    # the golden point: the same weekday one week before the origin (horizons 1-7) for every series
    last_week = sales.loc[sales["date"] > "2023-12-24"].assign(series_id=lambda f: f["sku"] + "|" + f["country"])
    golden = last_week.set_index(["series_id", last_week["date"].dt.dayofweek])["units"]
    first = forecasts.loc[forecasts["horizon"] <= 7]
    got = first.set_index(["series_id", pd.to_datetime(first["target_date"]).dt.dayofweek])["mean"]
    pd.testing.assert_series_equal(got.sort_index(), golden.astype(float).sort_index(), check_names=False)
    assert "Skipped:" in result["report_html"]


def test_no_inventory_and_no_customers_are_said_not_crashed(s3, demand, lambda_context):
    sales = daily_sales().drop(columns=["on_hand", "stockout_flag"], errors="ignore")
    put_partitions(s3, "daily_sales", sales)
    result = run(demand, lambda_context, "schedule")
    forecast_task, customers_task = result["tasks"]
    assert any(note.startswith("no inventory data") for note in forecast_task["skipped"])
    assert forecast_task["mean_outside_p10_p90"] == 0.0
    assert customers_task["status"] == "skipped" and "no customer_transactions" in customers_task["reason"]
    assert "no inventory data" in result["report_html"] and "stock-out risk (next" not in result["report_html"]
    assert "customer analytics" in result["report_html"]
