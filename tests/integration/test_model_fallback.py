"""A corrupt model artifact or serving snapshot, for every AI system that keeps versions behind a current.json:
serving falls back to the newest version that still loads and says so in a log line (the response names the
version it answers from); with no good version left the HTTP route answers 503 with a message.

Artifacts are written here directly (small, hand-made versions) so that no model has to be trained; the
end-to-end fallbacks after a real batch run are in the per-system handler tests.
"""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from retail_platform import s3io
from retail_platform.observability import logger as platform_logger
from retail_platform.storage import S3BlobStore
from tests.support import event, handler

PROD, ARTIFACTS = "local-prod", "local-artifacts"
GARBAGE = b"\x00\x9f garbage \xff" * 40


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def said(self, message: str, **fields) -> bool:
        return any(
            r.getMessage() == message and all(getattr(r, k, None) == v for k, v in fields.items()) for r in self.records
        )


@pytest.fixture
def logs():
    """The platform logger's records (Powertools does not propagate to the root logger, so caplog misses them)."""
    captured = Captured()
    target = platform_logger._logger
    target.addHandler(captured)
    yield captured
    target.removeHandler(captured)


def status_and_body(response: dict) -> tuple[int, dict]:
    body = response["body"]
    assert "Traceback" not in body and 'File "' not in body
    return response["statusCode"], json.loads(body)


# --- global-market-pulse: serving.json per version ------------------------------------------------------------


def pulse_docs(as_of: str) -> dict:
    entry = {"country": "GB", "pulse": 1.5, "revenue_change": 0.1}
    return {"as_of": as_of, "reporting_currency": "EUR", "summary": [entry], "countries": {"GB": dict(entry)}}


def test_pulse_corrupt_current_version_falls_back_then_503(s3, lambda_context, logs):
    fn = handler("global-market-pulse")
    models = "models/global-market-pulse"
    for version, as_of in (("v1", "2011-12-01"), ("v2", "2011-12-05"), ("v3", "2011-12-09")):
        s3io.write_json(s3, ARTIFACTS, f"{models}/{version}/serving.json", pulse_docs(as_of))
    s3io.write_json(s3, ARTIFACTS, f"{models}/current.json", {"version": "v3", "previous": ["v2", "v1"]})
    s3.put_object(Bucket=ARTIFACTS, Key=f"{models}/v3/serving.json", Body=GARBAGE)
    fn._reader = None
    try:
        status, body = status_and_body(
            fn.lambda_handler(event("global-market-pulse", "http-get-pulse"), lambda_context)
        )
        assert status == 200 and body["model_version"] == "v2" and body["as_of"] == "2011-12-05"
        assert logs.said("pulse results version unreadable", version="v3")
        assert logs.said("serving a previous pulse results version", version="v2", current="v3")
        for version in ("v2", "v1"):
            s3.put_object(Bucket=ARTIFACTS, Key=f"{models}/{version}/serving.json", Body=b'{"countries": "cut off')
        fn._reader = None
        request = event("global-market-pulse", "http-get-pulse-country")
        status, body = status_and_body(fn.lambda_handler(request, lambda_context))
        assert status == 503 and "every recorded version is missing or corrupt" in body["message"]
    finally:
        fn._reader = None


# --- market-intelligence-hub: model versions and the forecast partitions it serves ------------------------------


def test_market_intelligence_keeps_several_previous_versions_and_skips_corrupt_metadata(s3, logs):
    handler("market-intelligence-hub")
    from market_intelligence import store

    scores = pd.DataFrame({"series_id": ["ALL|ALL"], "model": ["ets"], "cv_mase": [0.9], "cv_mape": [0.1]})
    for version in ("m1", "m2", "m3", "m4"):
        store.save_model(S3BlobStore(s3, ARTIFACTS), version, {"version": version}, scores)
    pointer = s3io.read_json(s3, ARTIFACTS, store.CURRENT_KEY)
    assert pointer["version"] == "m4" and pointer["previous"] == ["m3", "m2", "m1"]  # was a single version
    s3.put_object(Bucket=ARTIFACTS, Key=f"{store.MODEL_PREFIX}m4/metadata.json", Body=GARBAGE)
    s3.delete_object(Bucket=ARTIFACTS, Key=f"{store.MODEL_PREFIX}m3/metadata.json")
    assert store.load_current(S3BlobStore(s3, ARTIFACTS)) == {"version": "m2"}  # two bad versions in a row
    assert logs.said("serving a previous model version", version="m2", current="m4")
    # a pointer written before this change (previous: one version, not a list) still falls back
    s3io.write_json(s3, ARTIFACTS, store.CURRENT_KEY, {"version": "m4", "previous": "m1"})
    assert store.load_current(S3BlobStore(s3, ARTIFACTS)) == {"version": "m1"}
    store.save_model(S3BlobStore(s3, ARTIFACTS), "m5", {"version": "m5"}, scores)
    assert s3io.read_json(s3, ARTIFACTS, store.CURRENT_KEY)["previous"] == ["m4", "m1"]


def forecast_frame(version: str, as_of: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": ["ALL", "ALL"],
            "country": ["ALL", "ALL"],
            "series_id": ["ALL|ALL", "ALL|ALL"],
            "step": [1, 2],
            "ds": pd.to_datetime(["2011-12-12", "2011-12-19"]),
            "yhat": [100.0, 110.0],
            "yhat_lower": [90.0, 95.0],
            "yhat_upper": [110.0, 125.0],
            "model": ["ets", "ets"],
            "members": ["ets", "ets"],
            "cv_mase": [0.9, 0.9],
            "cv_mape": [0.1, 0.1],
            "interval": [0.8, 0.8],
            "model_version": [version, version],
            "as_of": [as_of, as_of],
        }
    )


def test_market_intelligence_corrupt_newest_forecasts_fall_back_then_503(s3, lambda_context, logs):
    fn = handler("market-intelligence-hub")
    from market_intelligence import api

    for version, day in (("m1", "2011-11-28"), ("m2", "2011-12-05")):
        s3io.write_parquet(s3, PROD, f"market_forecasts/date={day}/part-0.parquet", forecast_frame(version, day))
    s3.put_object(Bucket=PROD, Key="market_forecasts/date=2011-12-05/part-0.parquet", Body=GARBAGE)
    api.clear_cache()
    try:
        request = event("market-intelligence-hub", "http-get-market-forecast")
        status, body = status_and_body(fn.lambda_handler(request, lambda_context))
        assert status == 200 and body["as_of"] == "2011-11-28" and body["model_version"] == "m1"
        assert logs.said("unreadable results partition", dataset="market_forecasts", date="2011-12-05")
        assert logs.said("serving an earlier results partition", date="2011-11-28", newest="2011-12-05")
        s3.put_object(Bucket=PROD, Key="market_forecasts/date=2011-11-28/part-0.parquet", Body=GARBAGE)
        api.clear_cache()
        status, body = status_and_body(fn.lambda_handler(request, lambda_context))
        assert status == 503 and "none can be read" in body["message"]
    finally:
        api.clear_cache()


# --- compliance-guardian: the fraud model's versions --------------------------------------------------------------


def test_compliance_guardian_store_falls_back_and_the_route_answers_503_when_all_are_corrupt(s3, lambda_context, logs):
    fn = handler("compliance-guardian")
    from compliance_guardian.store import ModelStore

    store = ModelStore(s3, ARTIFACTS, "fraud")
    for version in ("f1", "f2", "f3"):
        store.save(version, {"model.json": json.dumps({"v": version}).encode()}, {})
    s3.put_object(Bucket=ARTIFACTS, Key=f"{store.prefix}f3/model.json", Body=GARBAGE)
    model, version = store.load(lambda files: json.loads(files["model.json"]))
    assert version == "f2" and model == {"v": "f2"}
    assert logs.said("model version unreadable", version="f3")
    assert logs.said("serving a previous model version", version="f2")
    # the real loader on the stored bytes: none of them is an XGBoost model, so nothing loads
    fn._models.clear()
    try:
        status, body = status_and_body(
            fn.lambda_handler(event("compliance-guardian", "api-fraud-score"), lambda_context)
        )
    finally:
        fn._models.clear()
    assert status == 503 and "every stored version is unreadable" in body["message"]


# --- demand-insights-engine: the forecast model (batch) --------------------------------------------------------


def test_demand_insights_corrupt_lightgbm_model_is_skipped(s3, logs):
    handler("demand-insights-engine")
    from demand_insights import forecast, store

    meta = json.dumps({"training_window": {"end": "2023-12-31"}}).encode()
    store.save_model(
        S3BlobStore(s3, ARTIFACTS), "forecast", "d1", {"model.txt": b"tree\nversion=v4\n", "metadata.json": meta}
    )
    # valid UTF-8 that LightGBM refuses: it used to raise LightGBMError, which the fallback did not catch
    store.save_model(
        S3BlobStore(s3, ARTIFACTS), "forecast", "d2", {"model.txt": b"tree\nnot a model\n", "metadata.json": meta}
    )
    assert store.load_model(S3BlobStore(s3, ARTIFACTS), "forecast", forecast.ForecastModel.from_files) is None
    assert logs.said("model version unreadable", kind="forecast", version="d2")
    assert logs.said("model version unreadable", kind="forecast", version="d1")
    seen = []

    def loader(files):
        seen.append(files["model.txt"])
        return forecast.ForecastModel.from_files(files) if len(seen) == 1 else "older model"

    assert store.load_model(S3BlobStore(s3, ARTIFACTS), "forecast", loader) == "older model"
    assert logs.said("using a previous model version", kind="forecast", version="d1", current="d2")


# --- retail-copilot: the serving snapshot --------------------------------------------------------------------------


def test_retail_copilot_corrupt_snapshot_falls_back_to_the_previous_one(s3, logs):
    handler("retail-copilot")
    from retail_copilot.store import CopilotData

    prefix = "models/retail-copilot"
    mart = pd.DataFrame(
        {"date": ["2011-12-09"], "country": ["GB"], "category": ["Home"], "sku": ["A1"], "units": [3]}
        | {"revenue_reporting": [4.5], "orders": [1], "customers": [1]}
    )
    for version in ("c1", "c2"):
        s3io.write_json(s3, ARTIFACTS, f"{prefix}/{version}/metadata.json", {"inputs": {}})
        s3io.write_parquet(s3, ARTIFACTS, f"{prefix}/{version}/copilot_mart.parquet", mart)
        s3io.write_parquet(s3, ARTIFACTS, f"{prefix}/{version}/country_kpis.parquet", mart)
        s3io.write_json(s3, ARTIFACTS, f"{prefix}/{version}/catalog.json", {})
    s3io.write_json(s3, ARTIFACTS, f"{prefix}/current.json", {"version": "c2", "previous": ["c1"]})
    s3.put_object(Bucket=ARTIFACTS, Key=f"{prefix}/c2/copilot_mart.parquet", Body=GARBAGE)
    data = CopilotData.on_s3(s3, PROD, "local-curated", ARTIFACTS)
    snapshot = data.load_current()
    assert snapshot is not None and snapshot.version == "c1" and snapshot.tables().rows("copilot_mart") == 1
    assert logs.said("serving a previous snapshot version", version="c1", current="c2")
    s3.put_object(Bucket=ARTIFACTS, Key=f"{prefix}/c1/country_kpis.parquet", Body=GARBAGE)
    assert data.load_current() is None  # the service then answers from the prod datasets ("live")
    assert logs.said("no readable snapshot version", current="c2")
