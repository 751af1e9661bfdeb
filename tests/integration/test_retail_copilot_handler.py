"""retail-copilot through its handler with every event file in events/retail-copilot/, against the moto server.

Prod data comes from the real pipeline handlers: the Online Retail sample (31 October and November 2011) and a
small ECB-shaped FX file through raw-to-curated, then curated-to-prod.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re

import boto3
import pytest

from retail_platform import s3io
from tests.support import DATA, EVENTS, handler

RAW, CURATED, PROD, ARTIFACTS = "local-raw", "local-curated", "local-prod", "local-artifacts"
TABLE = "local-copilot-sessions"  # the default when ENVIRONMENT=local
UCI_KEY = "uci-online-retail/online_retail_2011-11.csv"
UCI_NOVEMBER = b"".join(
    row
    for n, row in enumerate((DATA / "online-retail" / "online_retail_sample.csv").read_bytes().splitlines(True))
    if n == 0 or re.search(rb'"(10/31/2011|11/\d+/2011|12/\d+/2011) ', row)
)


def fx_csv(first: str, last: str, rate: float = 0.85) -> bytes:
    """EUR -> GBP on every business day of a range (a fixed test rate; ECB-shaped)."""
    import pandas as pd

    lines = [b"KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE"]
    for day in pd.bdate_range(first, last):
        lines.append(f"EXR.D.GBP.EUR.SP00.A,D,GBP,EUR,SP00,A,{day.date().isoformat()},{rate:.5f}".encode())
    return b"\n".join(lines) + b"\n"


def build_prod(s3, ctx, csv: bytes, fx: bytes) -> dict:
    partitions: dict[str, list[str]] = {}
    for key, body in ((UCI_KEY, csv), ("sample/fx_rates/fx_rates-2011.csv", fx)):
        s3.put_object(Bucket=RAW, Key=key, Body=body)
        result = handler("raw-to-curated").lambda_handler({"bucket": RAW, "key": key}, ctx)
        for dataset, days in result["partitions"].items():
            partitions[dataset] = sorted(set(partitions.get(dataset, [])) | set(days))
    return handler("curated-to-prod").lambda_handler({"partitions": partitions}, ctx)


def load(name: str) -> dict:
    return json.loads((EVENTS / "retail-copilot" / f"{name}.json").read_text())


def http(body: str | None, path: str = "/copilot/ask", method: str = "POST", b64: bool = False) -> dict:
    event = copy.deepcopy(load("http-post-copilot-ask"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    if body is None:
        event.pop("body", None)
    else:
        event["body"] = base64.b64encode(body.encode()).decode() if b64 else body
    event["isBase64Encoded"] = b64
    return event


@pytest.fixture(scope="module")
def prod_data(endpoint):
    """Prod built once for the module (the per-test bucket cleanup of conftest is not used here)."""
    from retail_platform.local.run import LocalContext

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    for bucket in (RAW, CURATED, PROD, ARTIFACTS):
        s3io.delete_keys(s3, bucket, list(s3io.list_keys(s3, bucket, "")))
    result = build_prod(s3, LocalContext("pipeline"), UCI_NOVEMBER, fx_csv("2011-10-24", "2011-12-09"))
    assert "copilot_mart" in result["prod_datasets"]
    yield s3
    for bucket in (RAW, CURATED, PROD, ARTIFACTS):
        s3io.delete_keys(s3, bucket, list(s3io.list_keys(s3, bucket, "")))


@pytest.fixture(scope="module")
def copilot(prod_data):
    return handler("retail-copilot")


def call(copilot, event, ctx):
    response = copilot.lambda_handler(event, ctx)
    return response["statusCode"], json.loads(response["body"])


def test_batch_events_write_a_versioned_snapshot_and_the_digest(copilot, prod_data, lambda_context):
    s3 = prod_data
    results = []
    for name in ("eventbridge-prod-dataset-updated-copilot-mart", "eventbridge-prod-dataset-updated-country-kpis"):
        results.append(copilot.lambda_handler(load(name), lambda_context))
    for result in results:
        assert result["status"] == "rebuilt", result
        assert result["self_check"]["mismatches"] == 0 and result["self_check"]["checked"] > 0
        assert "<ul>" in result["report_html"]
    pointer = s3io.read_json(s3, ARTIFACTS, "models/retail-copilot/current.json")
    assert pointer["version"] == results[-1]["version"]
    assert results[0]["version"] in pointer["previous"] or results[0]["version"] == pointer["version"]
    prefix = f"models/retail-copilot/{pointer['version']}/"
    metadata = s3io.read_json(s3, ARTIFACTS, prefix + "metadata.json")
    assert metadata["training_window"] == {"first": "2011-10-31", "last": "2011-12-09"}
    assert metadata["libraries"]["pandas"] and metadata["inputs"]["copilot_mart"]["partitions"] >= 2
    digest = s3io.read_parquet(s3, PROD, results[-1]["digest_key"])
    mart = s3io.read_parquet_prefix(s3, PROD, "copilot_mart/")
    row = digest[(digest["country"] == "ALL") & (digest["metric"] == "units") & (digest["window"] == "7d")].iloc[0]
    last = mart["date"].max()
    expected = mart.loc[mart["date"] > last - __import__("pandas").Timedelta(days=7), "units"].sum()
    assert row["value"] == pytest.approx(expected)


def test_datasets_it_does_not_snapshot_are_ignored(copilot, prod_data, lambda_context):
    event = load("eventbridge-prod-dataset-updated-copilot-mart")
    event["detail"]["dataset"] = "payment_transactions"
    assert copilot.lambda_handler(event, lambda_context)["status"] == "ignored"


def test_ask_follow_up_and_session_events(copilot, prod_data, lambda_context):
    s3 = prod_data
    copilot.lambda_handler(load("eventbridge-prod-dataset-updated-copilot-mart"), lambda_context)
    version = s3io.read_json(s3, ARTIFACTS, "models/retail-copilot/current.json")["version"]
    status, first = call(copilot, load("http-post-copilot-ask"), lambda_context)
    assert status == 200 and first["status"] == "answered" and first["model_version"] == version
    mart = s3io.read_parquet_prefix(s3, PROD, "copilot_mart/")
    november = mart[(mart["date"] >= "2011-11-01") & (mart["date"] <= "2011-11-30") & (mart["country"] == "GB")]
    top = november.groupby("sku")["units"].sum().sort_values(ascending=False)
    assert first["table"]["rows"][0][1] == top.iloc[0]
    assert first["period"]["start"] == "2011-11-01" and first["filters"]["countries"] == ["GB"]
    assert first["datasets"][0]["name"] == "copilot_mart" and first["datasets"][0]["latest_partition"] in (
        "2011-12",
        "2011-12-09",
    )

    status, second = call(copilot, load("http-post-copilot-ask-follow-up"), lambda_context)
    assert status == 200 and second["turn"] == first["turn"] + 1
    assert second["filters"]["countries"] == ["FR"] and second["period"] == first["period"]

    status, session = call(copilot, load("http-get-copilot-session"), lambda_context)
    assert status == 200 and session["turns"] == second["turn"] and session["last_plan"]["countries"] == ["FR"]
    item = boto3.client("dynamodb", endpoint_url=os.environ["LOCAL_ENDPOINT_URL"], region_name="us-east-1").get_item(
        TableName=TABLE, Key={"pk": {"S": "SESSION#demo-session-1"}, "sk": {"S": "META"}}
    )["Item"]
    assert int(item["expires_at"]["N"]) > 0


def test_card_numbers_never_come_back_or_reach_the_table(copilot, prod_data, lambda_context):
    body = json.dumps({"question": "revenue for card 4111 1111 1111 1111 last month", "session_id": "pan-check"})
    status, answer = call(copilot, http(body), lambda_context)
    assert status == 200 and "4111 1111" not in json.dumps(answer)
    items = boto3.client("dynamodb", endpoint_url=os.environ["LOCAL_ENDPOINT_URL"], region_name="us-east-1").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "SESSION#pan-check"}},
    )["Items"]
    assert items and "4111 1111" not in json.dumps(items)


@pytest.mark.parametrize(
    ("event", "status", "message"),
    [
        (http("{not json"), 400, "not valid JSON"),
        (http("[1, 2]"), 400, "JSON object"),
        (http(json.dumps({"session_id": "x"})), 400, "'question' is required"),
        (http(json.dumps({"question": 42})), 400, "must be a string"),
        (http(json.dumps({"question": "   "})), 400, "must not be empty"),
        (http(json.dumps({"question": "x" * 600})), 400, "too long"),
        (http(json.dumps({"question": "revenue", "sql": "drop"})), 400, "unknown field"),
        (http(json.dumps({"question": "revenue", "session_id": "bad id!"})), 400, "session_id"),
        (http(json.dumps({"question": "revenue " * 1000})), 413, "too large"),
        (http(None), 400, "request body is empty"),
        ({**http("{}"), "body": "%%%", "isBase64Encoded": True}, 400, "base64"),
        (http(None, "/copilot/sessions/never-seen", "GET"), 404, "no session"),
        (http(None, "/copilot/nothing", "GET"), 404, "unknown route"),
    ],
    ids=[
        "malformed-json",
        "not-an-object",
        "missing-question",
        "wrong-type",
        "empty",
        "too-long",
        "unknown-field",
        "bad-session-id",
        "oversized",
        "no-body",
        "bad-base64",
        "unknown-session",
        "unknown-route",
    ],
)
def test_bad_requests_get_a_clear_4xx(copilot, prod_data, lambda_context, event, status, message):
    got, body = call(copilot, event, lambda_context)
    assert got == status and message in body["message"]
    assert "Traceback" not in json.dumps(body)


def test_base64_body_is_accepted(copilot, prod_data, lambda_context):
    status, answer = call(copilot, http(json.dumps({"question": "total units last week"}), b64=True), lambda_context)
    assert status == 200 and answer["status"] == "answered"


def test_unknown_event_is_a_clear_error(copilot, lambda_context):
    from retail_platform.exceptions import BadEventError

    with pytest.raises(BadEventError, match="unsupported event"):
        copilot.lambda_handler({"hello": "world"}, lambda_context)
