"""retail-copilot's built image, invoked with every event file in events/retail-copilot/ as `sam local invoke` runs
them, and once read-only as a non-root user.

Prod data: seeded generated copilot_mart / country_kpis partitions written to the moto server the containers reach,
in buckets of this test's own: the pipeline images' tests write their own copilot_mart to the shared local buckets,
and a snapshot over both would answer about other data. Sessions live in moto's DynamoDB.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retail_platform import s3io
from tests.e2e.api import start_function_api
from tests.support import EVENTS
from tests.unit.retail_copilot.synthetic import make_frames

FUNCTION = "AiSystemsStack/RetailCopilotFunction"
BUCKETS = {
    "RAW_BUCKET": "rc-raw",
    "CURATED_BUCKET": "rc-curated",
    "PROD_BUCKET": "rc-prod",
    "ARTIFACTS_BUCKET": "rc-artifacts",
}
PROD, ARTIFACTS = BUCKETS["PROD_BUCKET"], BUCKETS["ARTIFACTS_BUCKET"]
ENV = {**BUCKETS, "ENVIRONMENT": "local", "COPILOT_SESSIONS_TABLE": "local-copilot-sessions"}
ORDER = [  # batch first (it writes the snapshot), then the ask, its follow-up, and the session
    "eventbridge-prod-dataset-updated-copilot-mart",
    "eventbridge-prod-dataset-updated-country-kpis",
    "http-post-copilot-ask",
    "http-post-copilot-ask-follow-up",
    "http-get-copilot-session",
]


@pytest.fixture(scope="module")
def prod(moto_server):
    """Generated prod partitions (the last 45 days of the generated frames)."""
    client = moto_server.client("s3")
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for bucket in BUCKETS.values():
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
    mart, kpis = make_frames(seed=7, days=45, end="2011-12-09")
    for dataset, frame in (("copilot_mart", mart), ("country_kpis", kpis)):
        for day, part in frame.groupby("date"):
            key = f"{dataset}/date={day.date().isoformat()}/part-0.parquet"
            s3io.write_parquet(client, PROD, key, part.reset_index(drop=True))
    return client, mart


def test_every_event_file_is_covered():
    assert sorted(ORDER) == sorted(p.stem for p in (EVENTS / "retail-copilot").glob("*.json"))


@pytest.mark.parametrize("name", ORDER)
def test_retail_copilot_image(invoke, prod, name):
    s3, mart = prod
    response = invoke(FUNCTION, EVENTS / "retail-copilot" / f"{name}.json", dict(ENV))
    if name.startswith("eventbridge"):
        assert response["status"] == "rebuilt" and response["self_check"]["mismatches"] == 0
        pointer = s3io.read_json(s3, ARTIFACTS, "models/retail-copilot/current.json")
        assert pointer["version"] == response["version"]
        assert any(True for _ in s3io.list_keys(s3, PROD, "copilot_digest/"))
        return
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    version = s3io.read_json(s3, ARTIFACTS, "models/retail-copilot/current.json")["version"]
    assert body["model_version"] == version
    if name == "http-post-copilot-ask":
        november = mart[(mart["date"] >= "2011-11-01") & (mart["date"] <= "2011-11-30") & (mart["country"] == "GB")]
        best = november.groupby("sku")["units"].sum().max()
        assert body["status"] == "answered"
        assert body["table"]["rows"][0][1] == best
    elif name == "http-post-copilot-ask-follow-up":
        assert body["filters"]["countries"] == ["FR"] and body["turn"] >= 2
    else:
        assert body["turns"] >= 2 and body["last_plan"]["countries"] == ["FR"]


def test_bad_payload_is_a_4xx_from_the_image(invoke, prod, tmp_path: Path):
    event = json.loads((EVENTS / "retail-copilot" / "http-post-copilot-ask.json").read_text())
    event["body"] = "{not json"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(event))
    response = invoke(FUNCTION, bad, dict(ENV))
    assert response["statusCode"] == 400 and "not valid JSON" in json.loads(response["body"])["message"]


def test_image_runs_read_only_as_non_root(sam_app, run_readonly_nonroot, prod):
    event = json.loads((EVENTS / "retail-copilot" / "http-post-copilot-ask.json").read_text())
    event["body"] = json.dumps({"question": "How many units did we sell in Germany last week?"})
    response = run_readonly_nonroot(sam_app.image_tag(FUNCTION), event, dict(ENV))
    assert "errorMessage" not in response, response
    assert response["statusCode"] == 200 and json.loads(response["body"])["status"] == "answered"


def test_each_route_once_through_start_api(sam_app, moto_server, prod):
    api = start_function_api(sam_app, moto_server, FUNCTION, dict(ENV))
    try:
        status, body = api.post("/copilot/ask", {"question": "Revenue in Germany last month", "session_id": "api-1"})
        assert status == 200, api.logs()
        assert body["status"] == "answered" and body["model_version"]
        status, body = api.get("/copilot/sessions/api-1")
        assert status == 200 and body["turns"] >= 1, api.logs()
        status, body = api.post("/copilot/ask", b"{not json")
        assert status == 400 and "not valid JSON" in body["message"]
    finally:
        api.stop()
