"""demand-insights-engine's built image, invoked with every file in events/demand-insights-engine/.

Prod inputs (daily_sales, customer_transactions) are written to the moto server the containers reach,
one Parquet partition per day as the pipeline writes them; assertions are on the responses and on what
lands in the prod and artifacts buckets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demand_insights import synthetic
from retail_platform import s3io
from retail_platform.local.endpoint import BUCKET_ENV
from tests.e2e.api import start_function_api
from tests.support import EVENTS

FUNCTION = "AiSystemsStack/DemandInsightsEngineFunction"
PROD, ARTIFACTS = BUCKET_ENV["PROD_BUCKET"], BUCKET_ENV["ARTIFACTS_BUCKET"]
ENV = {**BUCKET_ENV, "DEMAND_MAX_TRAIN_ROWS": "20000", "DEMAND_NUM_ROUNDS": "40"}
BATCH_FIRST = [
    "prod-dataset-updated-daily_sales",
    "prod-dataset-updated-customer_transactions",
    "schedule",
    "api-get-forecast",
    "api-get-customer",
]


def event_files() -> list[Path]:
    files = {p.stem: p for p in (EVENTS / "demand-insights-engine").glob("*.json")}
    assert set(files) == set(BATCH_FIRST), "a new event file needs a case here"
    return [files[name] for name in BATCH_FIRST]


@pytest.fixture(scope="module")
def prod(moto_server):
    client = moto_server.client("s3")
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for bucket in BUCKET_ENV.values():
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
    for dataset, frame in (
        ("daily_sales", synthetic.prod_daily_sales()),
        ("customer_transactions", synthetic.prod_customer_transactions()),
    ):
        for day, part in frame.groupby(frame["date"].dt.strftime("%Y-%m-%d")):
            s3io.write_parquet(client, PROD, f"{dataset}/date={day}/part-0.parquet", part.reset_index(drop=True))
    return client


@pytest.mark.parametrize("event_file", event_files(), ids=lambda p: p.stem)
def test_demand_insights_image(invoke, prod, event_file):
    response = invoke(FUNCTION, event_file, ENV)
    name = event_file.stem
    if name.startswith("api-"):
        assert response["statusCode"] == 200, response
        body = json.loads(response["body"])
        assert body["model_version"]
        if name == "api-get-forecast":
            assert body["sku"] == "SKU-10001" and len(body["series"][0]["days"]) == 14
        else:
            assert body["customer_id"] == "10149" and 0 <= body["churn_probability"] <= 1
        return
    assert response["status"] == "ok" and response["tasks"], response
    for task in response["tasks"]:
        assert task.get("status") != "skipped", task
        for key in task["keys"]:
            assert s3io.read_bytes(prod, PROD, key)
        kind = "forecast" if task["task"] == "forecast" else "churn"
        pointer = s3io.read_json(prod, ARTIFACTS, f"models/demand-insights-engine/{kind}/current.json")
        assert pointer["version"]


def test_demand_insights_image_runs_read_only_as_non_root(sam_app, run_readonly_nonroot, prod):
    event = json.loads((EVENTS / "demand-insights-engine" / "prod-dataset-updated-daily_sales.json").read_text())
    response = run_readonly_nonroot(sam_app.image_tag(FUNCTION), event, ENV)
    assert "errorMessage" not in response, response
    assert response["status"] == "ok"


def test_demand_insights_image_bad_request_is_a_clear_400(invoke, prod, tmp_path):
    request = json.loads((EVENTS / "demand-insights-engine" / "api-get-forecast.json").read_text())
    request["queryStringParameters"] = {"sku": "SKU-10001", "horizon": "999"}
    bad = tmp_path / "bad-horizon.json"
    bad.write_text(json.dumps(request))
    response = invoke(FUNCTION, bad, ENV)
    assert response["statusCode"] == 400
    assert "between 1 and 365" in json.loads(response["body"])["message"]


def test_each_route_once_through_start_api(sam_app, moto_server, prod):
    api = start_function_api(sam_app, moto_server, FUNCTION, ENV)
    try:
        status, body = api.get("/demand/forecast?sku=SKU-10001&country=GB&horizon=7")
        assert status == 200, api.logs()
        assert body["sku"] == "SKU-10001" and len(body["series"][0]["days"]) == 7 and body["model_version"]
        status, body = api.get("/demand/customers/10149")
        assert status == 200 and body["customer_id"] == "10149", api.logs()
        status, body = api.get("/demand/forecast?sku=SKU-10001&horizon=999")
        assert status == 400 and "between 1 and 365" in body["message"]
    finally:
        api.stop()
