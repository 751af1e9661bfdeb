"""global-market-pulse through its handler with every file in events/global-market-pulse/, against moto.

Prod data comes from the real pipeline: the UCI Online Retail sample through raw-to-curated and
curated-to-prod (full rebuild), once per module; each test starts from those prod objects.
"""

from __future__ import annotations

import copy
import json

import pytest

from retail_platform import s3io
from retail_platform.exceptions import BadEventError
from tests.integration.pulse_inputs import PROD, prod_from_pipeline, restore
from tests.support import DATA, EVENTS, event, handler

ARTIFACTS = "local-artifacts"
FUNCTION = "global-market-pulse"
MODELS = "models/global-market-pulse"


@pytest.fixture(scope="module")
def prod_snapshot(endpoint):
    """country_kpis and customer_transactions objects built by the pipeline from the UCI sample."""
    return prod_from_pipeline(
        endpoint, DATA / "online-retail" / "online_retail_sample.csv", "uci-online-retail/online_retail_sample.csv"
    )


@pytest.fixture
def pulse(s3, prod_snapshot, monkeypatch):
    """The handler module with a fresh serving cache, over a prod bucket holding the pipeline's outputs."""
    monkeypatch.setenv("MARKET_PULSE_REPORT", "0")  # the local run's HTML section: one test below
    restore(s3, prod_snapshot)
    module = handler(FUNCTION)
    module._reader = None
    yield module
    module._reader = None


def body(response: dict) -> dict:
    assert response["headers"]["Content-Type"].startswith("application/json")
    return json.loads(response["body"])


def event_files() -> list[str]:
    return sorted(p.stem for p in (EVENTS / FUNCTION).glob("*.json"))


def test_every_event_file_is_covered():
    assert set(event_files()) == {
        "prod-dataset-updated-country-kpis",
        "prod-dataset-updated-customer-transactions",
        "http-get-pulse",
        "http-get-pulse-country",
    }


@pytest.mark.parametrize("case", [c for c in event_files() if c.startswith("prod-dataset-updated")])
def test_batch_writes_pulse_datasets_and_versioned_results(pulse, s3, lambda_context, case):
    result = pulse.lambda_handler(event(FUNCTION, case), lambda_context)
    assert result["status"] == "ok" and result["as_of"] == "2011-12-09"
    version = result["model_version"]
    kpis = s3io.read_parquet_prefix(s3, PROD, "country_kpis/")
    for table in ("pulse", "growth", "anomalies", "country_tests", "pair_tests", "shares", "seasonality", "granger"):
        assert f"pulse/{table}/date=2011-12-09/part-0.parquet" in result["tables"]
    stored = s3io.read_parquet(s3, PROD, "pulse/pulse/date=2011-12-09/part-0.parquet")
    assert set(stored["country"]) == set(kpis["country"])
    assert stored["pulse_index"].between(0, 100).all() and stored["explanation"].str.len().gt(20).all()
    growth = s3io.read_parquet(s3, PROD, "pulse/growth/date=2011-12-09/part-0.parquet")
    defined = growth.dropna(subset=["growth", "ci_low"])  # undefined where the reference window nets <= 0
    assert len(defined) >= 3  # the sample is sparse: most small markets have weeks without sales
    inside = (defined["ci_low"] <= defined["growth_sa"]) & (defined["growth_sa"] <= defined["ci_high"])
    assert inside.mean() >= 0.9
    pointer = s3io.read_json(s3, ARTIFACTS, f"{MODELS}/current.json")
    assert pointer["version"] == version
    meta = s3io.read_json(s3, ARTIFACTS, f"{MODELS}/{version}/metadata.json")
    assert meta["training_window"] == {"start": "2010-12-01", "end": "2011-12-09"}
    assert meta["library_versions"]["statsmodels"] == "0.14.5"
    serving = s3io.read_json(s3, ARTIFACTS, f"{MODELS}/{version}/serving.json")
    assert set(serving["countries"]) == set(kpis["country"])


def test_batch_is_deterministic(pulse, s3, lambda_context):
    first = pulse.lambda_handler(event(FUNCTION, "prod-dataset-updated-country-kpis"), lambda_context)
    table = s3io.read_bytes(s3, PROD, "pulse/pulse/date=2011-12-09/part-0.parquet")
    second = pulse.lambda_handler(event(FUNCTION, "prod-dataset-updated-customer-transactions"), lambda_context)
    assert first["model_version"] == second["model_version"]
    assert s3io.read_bytes(s3, PROD, "pulse/pulse/date=2011-12-09/part-0.parquet") == table


def test_the_local_run_gets_a_report_section_with_a_chart(pulse, lambda_context, monkeypatch):
    monkeypatch.setenv("MARKET_PULSE_REPORT", "1")
    result = pulse.lambda_handler(event(FUNCTION, "prod-dataset-updated-country-kpis"), lambda_context)
    assert "Global market pulse as of 2011-12-09" in result["report_html"]
    assert '<img alt="chart" src="data:image/png;base64,' in result["report_html"]


def test_other_datasets_are_ignored(pulse, lambda_context):
    other = event(FUNCTION, "prod-dataset-updated-country-kpis")
    other["detail"]["dataset"] = "payment_transactions"
    assert pulse.lambda_handler(other, lambda_context)["status"] == "ignored"


def test_malformed_event_is_a_clear_error(pulse, lambda_context):
    with pytest.raises(BadEventError, match="unsupported event"):
        pulse.lambda_handler({"hello": "world"}, lambda_context)


def test_routes_answer_from_stored_results(pulse, lambda_context):
    batch = pulse.lambda_handler(event(FUNCTION, "prod-dataset-updated-country-kpis"), lambda_context)
    overview = pulse.lambda_handler(event(FUNCTION, "http-get-pulse"), lambda_context)
    assert overview["statusCode"] == 200
    payload = body(overview)
    assert payload["model_version"] == batch["model_version"] and payload["count"] == 10
    indexes = [row["pulse_index"] for row in payload["countries"]]
    assert indexes == sorted(indexes, reverse=True)
    country = pulse.lambda_handler(event(FUNCTION, "http-get-pulse-country"), lambda_context)
    assert country["statusCode"] == 200
    detail = body(country)
    assert detail["country"] == "GB" and detail["model_version"] == batch["model_version"]
    assert {row["window"] for row in detail["growth"]} >= {"wow", "mom"}
    assert detail["explanation"].startswith("GB: pulse")


def _with(case: str, **changes) -> dict:
    request = copy.deepcopy(event(FUNCTION, case))
    request.update(changes)
    return request


@pytest.mark.parametrize(
    ("request_event", "status", "phrase"),
    [
        (_with("http-get-pulse-country", rawPath="/pulse/ZZ", pathParameters={"country": "ZZ"}), 404, "'ZZ'"),
        (_with("http-get-pulse-country", rawPath="/pulse/G1", pathParameters={"country": "G1"}), 400, "two-letter"),
        (_with("http-get-pulse", queryStringParameters={"limit": "0"}), 400, "limit must be"),
        (_with("http-get-pulse", queryStringParameters={"limit": "ten"}), 400, "limit must be"),
        (_with("http-get-pulse", queryStringParameters={"sort": "alpha"}), 400, "sort must be"),
        (_with("http-get-pulse", queryStringParameters={"country": "GB"}), 400, "unknown query parameter"),
        (_with("http-get-pulse", body="x" * 10_000), 413, "too large"),
        (_with("http-get-pulse", rawQueryString="a=" + "b" * 5000), 414, "too long"),
    ],
    ids=["unknown-country", "bad-country", "limit-zero", "limit-text", "bad-sort", "unknown-param", "body", "query"],
)
def test_bad_requests_get_a_clear_4xx(pulse, lambda_context, request_event, status, phrase):
    if status == 404:  # the other requests are refused before any stored result is read
        pulse.lambda_handler(event(FUNCTION, "prod-dataset-updated-country-kpis"), lambda_context)
    response = pulse.lambda_handler(request_event, lambda_context)
    assert response["statusCode"] == status
    message = body(response)["message"]
    assert phrase in message and "Traceback" not in message


def test_before_any_batch_run_the_routes_say_so(pulse, lambda_context):
    response = pulse.lambda_handler(event(FUNCTION, "http-get-pulse"), lambda_context)
    assert response["statusCode"] == 503
    assert "batch analysis has not run" in body(response)["message"]


def test_serving_falls_back_to_the_last_good_version(pulse, s3, lambda_context):
    old = pulse.lambda_handler(event(FUNCTION, "prod-dataset-updated-country-kpis"), lambda_context)
    last_day = sorted(s3io.list_keys(s3, PROD, "country_kpis/"))[-1]
    s3.delete_object(Bucket=PROD, Key=last_day)  # the next run sees an earlier as-of date: a new version
    new = pulse.lambda_handler(event(FUNCTION, "prod-dataset-updated-country-kpis"), lambda_context)
    assert new["model_version"] != old["model_version"]
    s3.put_object(Bucket=ARTIFACTS, Key=f"{MODELS}/{new['model_version']}/serving.json", Body=b"{not json")
    pulse._reader = None
    response = pulse.lambda_handler(event(FUNCTION, "http-get-pulse"), lambda_context)
    assert response["statusCode"] == 200
    assert body(response)["model_version"] == old["model_version"]
