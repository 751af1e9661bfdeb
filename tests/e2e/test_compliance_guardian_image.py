"""compliance-guardian's image: `sam local invoke` with every file in events/compliance-guardian/, one
read-only non-root run, and each route once through `sam local start-api` (tests/e2e/api.py).

Prod payment partitions are the seeded sample generator's payments mapped onto the prod contract's
columns; the first event trains the fraud model inside the container (on the last 40 days, to keep the
invocation inside the function timeout), the schedule trains a small text model.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from retail_platform import s3io
from retail_platform.sampledata import SMALL_PROFILE, generate
from tests.e2e import harness
from tests.e2e.api import start_api
from tests.support import EVENTS, LOCAL_BUCKETS

FUNCTION = "AiSystemsStack/ComplianceGuardianFunction"
EVENT_DIR = EVENTS / "compliance-guardian"
PANS = ("4111111111111111", "4111 1111 1111 1111")
ENV = {
    **LOCAL_BUCKETS,
    "LOCAL_ENDPOINT_URL": "",
    "FRAUD_TRAINING_DAYS": "40",
    "TEXT_MODEL_TEXTS": "300",
    "TEXT_MODEL_EPOCHS": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "RetailPlatformLocal",
}
PROD_NAMES = {
    "id": "payment_id",
    "created": "payment_ts",
    "customer_ref": "customer_id",
    "order_ref": "order_id",
    "payment_method": "method",
    "bin_country": "card_country",
    "account_created": "account_created_ts",
}
ORDER = [
    "prod-dataset-updated-payment_transactions",
    "prod-dataset-updated-daily_sales",
    "prod-dataset-updated-customer_transactions",
    "prod-dataset-updated-market_series",
    "prod-dataset-updated-country_kpis",
    "prod-dataset-updated-copilot_mart",
    "schedule",
    "api-compliance-scan",
    "api-fraud-score",
]


def test_every_event_file_is_covered():
    assert sorted(ORDER) == sorted(p.stem for p in EVENT_DIR.glob("*.json"))


@pytest.fixture(scope="module")
def prod_data(moto_server, tmp_path_factory):
    s3 = moto_server.client()
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in LOCAL_BUCKETS.values():
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
    root = tmp_path_factory.mktemp("cg-e2e")
    generate(root, seed=7, **SMALL_PROFILE)
    raw = pd.concat(pd.read_parquet(p) for p in sorted((root / "sample" / "payments").glob("*.parquet")))
    prod = raw.rename(columns=PROD_NAMES)
    prod["card_bin"], prod["card_last4"] = prod["card_number"].str[:6], prod["card_number"].str[-4:]
    prod = prod.drop(columns=["card_number"])
    for day, part in prod.groupby(prod["payment_ts"].dt.strftime("%Y-%m-%d")):
        s3io.write_parquet(
            s3, "local-prod", f"payment_transactions/date={day}/part-0.parquet", part.reset_index(drop=True)
        )
    leaked = pd.DataFrame({"order_id": ["1", "2"], "notes": ["leave at door", "card 4111 1111 1111 1111"]})
    s3io.write_parquet(s3, "local-curated", "orders/date=2023-12-31/part-abc.parquet", leaked)
    harness.PLANTED.add(("local-curated", "orders/date=2023-12-31/part-abc.parquet"))  # the audit must find it
    return s3


@pytest.fixture(scope="module")
def responses(invoke, prod_data):
    return {name: invoke(FUNCTION, EVENT_DIR / f"{name}.json", ENV) for name in ORDER}


def test_batch_events_write_alerts_findings_and_models(responses, prod_data):
    first = responses["prod-dataset-updated-payment_transactions"]
    assert first["fraud"]["status"] == "scored" and first["fraud"]["model"]["trained"] is True
    alerts = sum(
        len(s3io.read_parquet(prod_data, "local-prod", f"fraud_alerts/date={day}/part-0.parquet"))
        for day in first["fraud"]["days"]  # alerts stay one object per scored day, whatever the event's labels
    )
    assert alerts == sum(d["alerts"] for d in first["fraud"]["days"].values()) >= 1
    pointer = s3io.read_json(prod_data, "local-artifacts", "models/compliance-guardian/fraud/current.json")
    assert pointer["version"] == first["fraud"]["model_version"]
    for name in ORDER[1:6]:
        assert responses[name]["audit"]["partitions"] >= 1
    schedule = responses["schedule"]
    assert schedule["curated_audit"]["findings"] == 1
    assert schedule["text_model"]["status"] == "trained"
    assert not any(p in json.dumps(responses, default=str) for p in PANS)


def test_routes_answer_through_invoke(responses):
    scan = responses["api-compliance-scan"]
    assert scan["statusCode"] == 200
    body = json.loads(scan["body"])
    assert [f["kind"] for f in body["findings"]] == ["pan", "expiry", "cvv"]
    score = responses["api-fraud-score"]
    assert score["statusCode"] == 200, score
    scores = json.loads(score["body"])
    assert scores["model_version"] == responses["prod-dataset-updated-payment_transactions"]["fraud"]["model_version"]


def test_readonly_nonroot_run(responses, sam_app, run_readonly_nonroot):
    event = json.loads((EVENT_DIR / "api-fraud-score.json").read_text())
    response = run_readonly_nonroot(sam_app.image_tag(FUNCTION), event, ENV)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["scores"]


def test_each_route_once_through_start_api(responses, sam_app, moto_server):
    env = {**ENV, "LOCAL_ENDPOINT_URL": moto_server.container_url}
    api = start_api(sam_app, {FUNCTION: env, "ComplianceGuardianFunction": env})
    try:
        status, body = api.post("/compliance/scan", {"text": "card 4111 1111 1111 1111"})
        assert status == 200, api.logs()
        assert body["masked_text"] == "card 4111 11** **** 1111"
        transaction = json.loads(json.loads((EVENT_DIR / "api-fraud-score.json").read_text())["body"])
        status, body = api.post("/fraud/score", transaction)
        assert status == 200, api.logs()
        assert len(body["scores"]) == 3 and body["model_version"]
        status, body = api.post("/fraud/score", b"{nope")
        assert status == 400 and "not valid JSON" in body["message"]
    finally:
        api.stop()
