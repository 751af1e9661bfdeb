"""compliance-guardian through its handler, with every file in events/compliance-guardian/, against moto's server.

Prod `payment_transactions` partitions are the seeded sample generator's payments mapped onto the prod
contract's columns (BIN and last four only), one partition per day, as curated-to-prod lays them out.
The module trains the fraud model once (the first event) and reuses it for the routes.
"""

from __future__ import annotations

import base64
import json

import boto3
import pandas as pd
import pytest

from retail_platform import s3io
from retail_platform.local.endpoint import BUCKET_ENV
from retail_platform.sampledata import SMALL_PROFILE, generate
from retail_platform.storage import PartitionedDataset, S3BlobStore, overlaps
from tests.support import EVENTS, handler

PROD, ARTIFACTS, CURATED = "local-prod", "local-artifacts", "local-curated"
FUNCTION = "compliance-guardian"
EVENT_DIR = EVENTS / FUNCTION
PANS = ("4111111111111111", "4111 1111 1111 1111", "5555555555554444")
PROD_NAMES = {
    "id": "payment_id",
    "created": "payment_ts",
    "customer_ref": "customer_id",
    "order_ref": "order_id",
    "payment_method": "method",
    "bin_country": "card_country",
    "account_created": "account_created_ts",
}


def load(name: str) -> dict:
    return json.loads((EVENT_DIR / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def world(endpoint, tmp_path_factory):
    """Prod payments for 92 days, a curated partition with a leaked PAN; buckets emptied afterwards."""
    monkey = pytest.MonkeyPatch()
    monkey.setenv("TEXT_MODEL_TEXTS", "400")
    monkey.setenv("TEXT_MODEL_EPOCHS", "1")
    from compliance_guardian.config import get_guardian_settings

    get_guardian_settings.cache_clear()
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    root = tmp_path_factory.mktemp("cg-sample")
    generate(root, seed=7, **SMALL_PROFILE)
    raw = pd.concat(pd.read_parquet(p) for p in sorted((root / "sample" / "payments").glob("*.parquet")))
    prod = raw.rename(columns=PROD_NAMES)
    prod["card_bin"], prod["card_last4"] = prod["card_number"].str[:6], prod["card_number"].str[-4:]
    prod = prod.drop(columns=["card_number"])
    prod["date"] = prod["payment_ts"].dt.strftime("%Y-%m-%d")
    for day, part in prod.groupby("date"):
        s3io.write_parquet(s3, PROD, f"payment_transactions/date={day}/part-0.parquet", part.reset_index(drop=True))
    leaked = pd.DataFrame({"order_id": ["1", "2"], "notes": ["leave at door", "my card 4111 1111 1111 1111 exp 01/27"]})
    s3io.write_parquet(s3, CURATED, "orders/date=2023-12-31/part-abc.parquet", leaked)
    s3io.write_parquet(s3, PROD, "copilot_mart/date=2023-12-31/part-0.parquet", leaked)
    yield s3
    monkey.undo()
    get_guardian_settings.cache_clear()
    for bucket in BUCKET_ENV.values():
        keys = list(s3io.list_keys(s3, bucket, ""))
        s3io.delete_keys(s3, bucket, keys)


@pytest.fixture(scope="module")
def fn():
    return handler(FUNCTION)


@pytest.fixture(scope="module")
def scored(world, fn, lambda_context_module):
    return fn.lambda_handler(load("prod-dataset-updated-payment_transactions"), lambda_context_module)


@pytest.fixture(scope="module")
def lambda_context_module():
    from retail_platform.local.run import LocalContext

    return LocalContext("compliance-guardian")


def call(fn, ctx, name: str, body=None, query=None, raw_body: str | None = None) -> tuple[int, dict]:
    event = load(name)
    if body is not None:
        event["body"] = json.dumps(body)
    if raw_body is not None:
        event["body"] = raw_body
    if query is not None:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    response = fn.lambda_handler(event, ctx)
    return response["statusCode"], json.loads(response["body"])


def test_payment_event_trains_the_model_and_writes_alerts(world, scored):
    fraud = scored["fraud"]
    assert fraud["status"] == "scored"
    assert fraud["model"]["trained"] is True
    metrics = fraud["model"]["metrics_holdout"]["model"]
    assert metrics["pr_auc"] > 0.5
    pointer = s3io.read_json(world, ARTIFACTS, "models/compliance-guardian/fraud/current.json")
    assert pointer["version"] == fraud["model_version"]
    assert {"model.json", "metadata.json"} <= set(pointer["files"])
    total_alerts = 0
    assert fraud["days"]
    alerts_of = PartitionedDataset(S3BlobStore(world, PROD), "fraud_alerts")
    for day in fraud["days"]:  # 2023-12-13 holds a card-testing burst of the sample data
        alerts = alerts_of.read_partition(day)
        assert fraud["days"][day]["scored"] > 0
        assert len(alerts) == fraud["days"][day]["alerts"]
        total_alerts += len(alerts)
        if len(alerts):
            assert (alerts["fraud_probability"] >= alerts["threshold"]).all()
            assert (alerts["model_version"] == fraud["model_version"]).all()
            assert all(json.loads(r) for r in alerts["reasons"])
    assert total_alerts >= 5
    assert "report_html" in scored and "compliance-guardian" in scored["report_html"]
    assert not any(p in json.dumps(scored, default=str) for p in PANS)


def test_second_event_reuses_the_current_model(world, scored, fn, lambda_context_module):
    again = fn.lambda_handler(load("prod-dataset-updated-payment_transactions"), lambda_context_module)
    info = again["fraud"]["model"]
    assert (info["trained"], info["reason"]) == (False, "current")
    # the report still says why the threshold is what it is, and the holdout's precision and recall at it
    assert info["threshold"] == scored["fraud"]["model"]["threshold"]
    assert info["threshold"]["objective"] == "precision:0.5" and info["threshold"]["why"]
    assert info["metrics_holdout"] == scored["fraud"]["model"]["metrics_holdout"]
    assert "recall@threshold" in again["report_html"] and "from the objective" in again["report_html"]
    assert again["fraud"]["model_version"] == scored["fraud"]["model_version"]


@pytest.mark.parametrize(
    "dataset", ["daily_sales", "customer_transactions", "market_series", "country_kpis", "copilot_mart"]
)
def test_every_dataset_event_audits_its_partitions(world, fn, lambda_context_module, dataset):
    result = fn.lambda_handler(load(f"prod-dataset-updated-{dataset}"), lambda_context_module)
    assert "fraud" not in result
    audited = result["audit"]["by_partition"]
    assert audited and all(any(overlaps(label, p) for p in audited) for label in result["partitions"])
    findings = PartitionedDataset(S3BlobStore(world, PROD), "pci_findings")
    for label, count in audited.items():
        (key,) = [k for k in findings.keys([label]) if k.endswith(f"/part-{dataset}.parquet")]
        found = s3io.read_parquet(world, PROD, key)
        assert len(found) == count
        if dataset == "copilot_mart" and overlaps(label, "2023-12-31"):
            assert found[["column", "row", "kind"]].values.tolist() == [["notes", 1, "pan"], ["notes", 1, "expiry"]]
        else:
            assert found.empty


def test_schedule_audits_curated_and_trains_the_text_model(world, fn, lambda_context_module):
    result = fn.lambda_handler(load("schedule"), lambda_context_module)
    found = {name: n for name, n in result["curated_audit"]["by_dataset"].items() if n}  # other tests' data: 0
    assert found == {"orders": 2}
    assert result["text_model"]["status"] == "trained"
    assert s3io.read_json(world, ARTIFACTS, "models/compliance-guardian/text-risk/current.json")["version"]
    status, body = call(
        fn, lambda_context_module, "api-compliance-scan", {"text": "cvv 123 card 4111111111111111", "classify": True}
    )
    assert status == 200
    assert body["classification"]["label"] in body["classification"]["scores"]
    assert body["text_model_version"] == result["text_model"]["version"]


def test_scan_route(fn, lambda_context_module):
    status, body = call(fn, lambda_context_module, "api-compliance-scan")
    assert status == 200
    assert [f["kind"] for f in body["findings"]] == ["pan", "expiry", "cvv"]
    assert "4111 11** **** 1111" in body["masked_text"] and "+44 20 7946 0958" in body["masked_text"]
    assert body["model_version"] == body["detector_version"]
    assert not any(p in json.dumps(body) for p in PANS)


def test_score_route_ranks_card_testing_above_a_regular_payment(scored, fn, lambda_context_module):
    status, body = call(fn, lambda_context_module, "api-fraud-score")
    assert status == 200, body
    assert body["model_version"] == scored["fraud"]["model_version"]
    by_id = {s["payment_id"]: s for s in body["scores"]}
    assert by_id["pi_test_0002"]["fraud_probability"] > by_id["pi_test_0003"]["fraud_probability"]
    assert by_id["pi_test_0003"]["is_alert"] is False
    assert all(isinstance(s["reasons"], list) for s in body["scores"])


@pytest.mark.parametrize(
    ("name", "kwargs", "status", "message"),
    [
        ("api-compliance-scan", {"raw_body": "{not json"}, 400, "not valid JSON"),
        ("api-compliance-scan", {"raw_body": ""}, 400, "empty"),
        ("api-compliance-scan", {"body": {"records": "x"}}, 400, "records"),
        ("api-compliance-scan", {"body": {"text": "a" * 300_000}}, 413, "limit"),
        ("api-fraud-score", {"body": {"transaction": {"payment_id": "x"}}}, 400, "payment_ts is required"),
        (
            "api-fraud-score",
            {"body": {"transaction": {"payment_id": "x", "payment_ts": "t", "amount": "9"}}},
            400,
            "number",
        ),
        ("api-fraud-score", {"body": {"transactions": [{"payment_id": "x"}] * 101}}, 413, "at most"),
        (
            "api-fraud-score",
            {
                "body": {
                    "transaction": {
                        "payment_id": "x",
                        "payment_ts": "2024-01-01T00:00:00Z",
                        "amount": 1,
                        "card_number": "4111111111111111",
                    }
                }
            },
            400,
            "never a full card number",
        ),
        (
            "api-fraud-score",
            {"body": {"transaction": {"payment_id": "x", "payment_ts": "yesterday", "amount": 1}}},
            400,
            "payment_ts",
        ),
    ],
)
def test_bad_requests_get_a_4xx_json_message(scored, fn, lambda_context_module, name, kwargs, status, message):
    got, body = call(fn, lambda_context_module, name, **kwargs)
    assert got == status
    assert message in body["message"]
    assert "Traceback" not in json.dumps(body) and "4111111111111111" not in json.dumps(body)


def test_unknown_model_version_is_404(scored, fn, lambda_context_module):
    status, body = call(fn, lambda_context_module, "api-fraud-score", query={"model_version": "nope"})
    assert status == 404 and "nope" in body["message"]


def test_unknown_route_is_404_and_base64_bodies_work(fn, lambda_context_module):
    event = load("api-compliance-scan")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/compliance/other"
    assert fn.lambda_handler(event, lambda_context_module)["statusCode"] == 404
    event = load("api-compliance-scan")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert fn.lambda_handler(event, lambda_context_module)["statusCode"] == 200


def test_unsupported_event_is_refused(fn, lambda_context_module):
    from retail_platform.exceptions import BadEventError

    with pytest.raises(BadEventError, match="unsupported event"):
        fn.lambda_handler({"hello": "world"}, lambda_context_module)


def test_a_model_of_own_feature_columns_scores_through_the_route(scored, world, fn, lambda_context_module):
    """A model trained by `fraud-train --features` on the retailer's own columns, stored as a version in the
    artifacts bucket, scores those fields of each transaction (its metadata carries its feature list)."""
    from compliance_guardian.fraud.features import own_features
    from compliance_guardian.fraud.model import train
    from tests.support import DATA

    table = pd.read_csv(DATA / "creditcard-fraud-ulb-sample" / "creditcard_sample.csv.gz").sort_values("Time")
    table["Time"] = pd.to_datetime(table["Time"], unit="s", utc=True)
    own = ["Amount", "V4", "V10", "V12", "V14", "V17"]
    model, _ = train(table.reset_index(drop=True), "Class", features=own_features(table, own), time_column="Time")
    for name, body in model.to_files().items():
        s3io.write_bytes(
            world, ARTIFACTS, f"models/compliance-guardian/fraud/{model.version}/{name}", body, "application/json"
        )
    rows = table.loc[table["Class"] == 1, own].head(2).to_dict("records")
    items = [
        {"payment_id": f"own{i}", "payment_ts": "2024-01-01T00:00:00Z", "amount": r["Amount"], **r}
        for i, r in enumerate(rows)
    ]
    status, body = call(
        fn, lambda_context_module, "api-fraud-score", {"transactions": items}, {"model_version": model.version}
    )
    assert status == 200 and body["model_version"] == model.version
    expected = model.probabilities(pd.DataFrame(rows)[own].astype("float32"))
    assert [s["fraud_probability"] for s in body["scores"]] == pytest.approx(expected.round(6).tolist(), abs=1e-6)
    status, body = call(
        fn,
        lambda_context_module,
        "api-fraud-score",
        {"transaction": {k: v for k, v in items[0].items() if k != "V14"}},
        {"model_version": model.version},
    )
    assert status == 400 and "V14" in body["message"]
