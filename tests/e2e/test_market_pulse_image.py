"""global-market-pulse's built image, invoked with every file in events/global-market-pulse/.

Prod data: the UCI Online Retail export through the pipeline's own images (raw-to-curated, then a
curated-to-prod full rebuild) on the moto server the containers reach.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retail_platform import s3io
from retail_platform.local.endpoint import BUCKET_ENV
from tests.e2e.api import start_function_api
from tests.support import DATA, EVENTS

FUNCTION = "AiSystemsStack/GlobalMarketPulseFunction"
RAW, PROD, ARTIFACTS = BUCKET_ENV["RAW_BUCKET"], BUCKET_ENV["PROD_BUCKET"], BUCKET_ENV["ARTIFACTS_BUCKET"]
UCI_KEY = "uci-online-retail/online_retail_sample.csv"


def event_files() -> list[Path]:
    return sorted((EVENTS / "global-market-pulse").glob("*.json"))


@pytest.fixture(scope="module")
def prod(moto_server, invoke):
    client = moto_server.client("s3")
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for bucket in BUCKET_ENV.values():
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
    client.upload_file(str(DATA / "online-retail" / "online_retail_sample.csv"), RAW, UCI_KEY)
    if not any(True for _ in s3io.list_keys(client, PROD, "country_kpis/")):
        invoke(
            "PipelineStack/RawToCuratedFunction",
            EVENTS / "raw-to-curated" / "stepfunctions-task.json",
            dict(BUCKET_ENV),
        )
        invoke(
            "PipelineStack/CuratedToProdFunction", EVENTS / "curated-to-prod" / "full-rebuild.json", dict(BUCKET_ENV)
        )
    return client


@pytest.fixture(scope="module")
def batch(invoke, prod) -> dict:
    """The image's batch path, invoked once with the country_kpis event file (results for the routes)."""
    return invoke(FUNCTION, EVENTS / "global-market-pulse" / "prod-dataset-updated-country-kpis.json", dict(BUCKET_ENV))


@pytest.mark.parametrize("event_file", event_files(), ids=lambda p: p.stem)
def test_pulse_image(invoke, prod, batch, event_file):
    if event_file.stem == "prod-dataset-updated-country-kpis":
        response = batch  # this file's invocation
    else:
        response = invoke(FUNCTION, event_file, dict(BUCKET_ENV))
    if event_file.stem.startswith("prod-dataset-updated"):
        assert response["status"] == "ok" and response["model_version"] == batch["model_version"]
        as_of = response["as_of"]
        stored = s3io.read_parquet(prod, PROD, f"pulse/pulse/date={as_of}/part-0.parquet")
        kpis = s3io.read_parquet_prefix(prod, PROD, "country_kpis/")
        assert set(stored["country"]) == set(kpis["country"])
        pointer = s3io.read_json(prod, ARTIFACTS, "models/global-market-pulse/current.json")
        assert pointer["version"] == batch["model_version"]
    else:
        assert response["statusCode"] == 200, response
        payload = json.loads(response["body"])
        assert payload["model_version"] == batch["model_version"]
        if event_file.stem == "http-get-pulse-country":
            assert payload["country"] == "GB" and payload["growth"]
        else:
            assert 0 < payload["count"] <= 10


def test_pulse_image_runs_read_only_as_non_root(sam_app, run_readonly_nonroot, prod, batch):
    request = json.loads((EVENTS / "global-market-pulse" / "http-get-pulse-country.json").read_text())
    response = run_readonly_nonroot(sam_app.image_tag(FUNCTION), request, dict(BUCKET_ENV))
    assert "errorMessage" not in response, response
    assert response["statusCode"] == 200 and json.loads(response["body"])["model_version"] == batch["model_version"]


def test_pulse_image_unknown_country_is_a_404(invoke, prod, batch, tmp_path):
    request = json.loads((EVENTS / "global-market-pulse" / "http-get-pulse-country.json").read_text())
    request["rawPath"], request["pathParameters"] = "/pulse/ZZ", {"country": "ZZ"}
    bad = tmp_path / "unknown-country.json"
    bad.write_text(json.dumps(request))
    response = invoke(FUNCTION, bad, dict(BUCKET_ENV))
    assert response["statusCode"] == 404 and "ZZ" in json.loads(response["body"])["message"]


def test_each_route_once_through_start_api(sam_app, moto_server, batch):
    api = start_function_api(sam_app, moto_server, FUNCTION, dict(BUCKET_ENV))
    try:
        status, body = api.get("/pulse?limit=5&sort=pulse")
        assert status == 200, api.logs()
        assert 0 < body["count"] <= 5 and body["model_version"] == batch["model_version"]
        status, body = api.get("/pulse/GB")
        assert status == 200 and body["country"] == "GB", api.logs()
        status, body = api.get("/pulse/ZZ")
        assert status == 404 and "ZZ" in body["message"]
    finally:
        api.stop()
