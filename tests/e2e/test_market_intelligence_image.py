"""market-intelligence-hub's built image, invoked with every file in events/market-intelligence-hub/.

Prod data: seeded synthetic markets (two years of weeks), daily SKU sales and the SKU -> category mapping,
in buckets of this test's own (so other systems' e2e tests on the same moto server are unaffected). The
batch runs every model (Prophet's cmdstan fit and the Keras global model happen inside the image).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from market_intelligence import synthetic

from retail_platform import s3io
from tests.e2e.api import start_function_api
from tests.support import EVENTS

FUNCTION = "AiSystemsStack/MarketIntelligenceHubFunction"
BUCKETS = {
    "RAW_BUCKET": "mih-raw",
    "CURATED_BUCKET": "mih-curated",
    "PROD_BUCKET": "mih-prod",
    "ARTIFACTS_BUCKET": "mih-artifacts",
}
ENV = {**BUCKETS, "MARKET_FOLDS": "2", "MARKET_EPOCHS": "20"}
PROD, ARTIFACTS = BUCKETS["PROD_BUCKET"], BUCKETS["ARTIFACTS_BUCKET"]


def event_files() -> list[Path]:
    return sorted((EVENTS / "market-intelligence-hub").glob("*.json"))


@pytest.fixture(scope="module")
def prod(moto_server):
    client = moto_server.client("s3")
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for bucket in BUCKETS.values():
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
    series, _ = synthetic.markets(n_weeks=104, categories=("apparel", "home"), countries=("DE", "FR"))
    for day, part in series.groupby("date"):
        s3io.write_parquet(client, PROD, f"market_series/date={day}/part-0.parquet", part)
    sales, mapping = synthetic.daily_sales(n_days=90, elasticities={"apparel": -1.8, "home": -0.6})
    for day, part in sales.groupby("date"):
        s3io.write_parquet(client, PROD, f"daily_sales/date={day}/part-0.parquet", part)
    mart = mapping.assign(date=sales["date"].min(), country="DE", units=1, orders=1)
    s3io.write_parquet(client, PROD, f"copilot_mart/date={sales['date'].min()}/part-0.parquet", mart)
    return client


@pytest.fixture(scope="module")
def batch(invoke, prod) -> dict:
    response = invoke(FUNCTION, EVENTS / "market-intelligence-hub" / "eventbridge-market-series-updated.json", ENV)
    assert response["status"] == "done", response
    return response


def test_batch_fits_every_model_inside_the_image(prod, batch):
    scores = s3io.read_parquet(
        prod, ARTIFACTS, f"models/market-intelligence-hub/{batch['model_version']}/validation_scores.parquet"
    )
    assert {"prophet", "ets", "sarimax", "global_nn", "seasonal_naive", "drift"} <= set(scores["model"])
    forecasts = s3io.read_parquet(prod, PROD, batch["written"][0])
    assert forecasts["series_id"].nunique() == 7 and forecasts["yhat"].notna().all()
    # the final global model is refitted and stored exactly when some market's forecast uses it
    keys = set(s3io.list_keys(prod, ARTIFACTS, f"models/market-intelligence-hub/{batch['model_version']}/"))
    uses_global = forecasts["members"].str.split(",").apply(lambda ms: "global_nn" in ms).any()
    # stored as global_nn.keras, or per forecast shard as global_nn-shard-NNNN.keras (the batch path's shards)
    assert any(re.search(r"/global_nn(-shard-\d{4})?\.keras$", k) for k in keys) == uses_global


@pytest.mark.parametrize("event_file", event_files(), ids=lambda p: p.stem)
def test_market_image(invoke, prod, batch, event_file):
    if event_file.stem == "eventbridge-market-series-updated":
        return  # the module's batch fixture invoked it
    if event_file.stem.startswith("stepfunctions-"):
        return  # the state machine's steps need the version of a plan: test_state_machine_steps_inside_the_image
    response = invoke(
        FUNCTION,
        event_file,
        ENV if not event_file.stem.startswith("schedule") else {**ENV, "MARKET_MODELS": "seasonal_naive,drift,ets"},
    )
    if event_file.stem.startswith("http-"):
        assert response["statusCode"] == 200, response
        body = json.loads(response["body"])
        assert body["model_version"] == batch["model_version"]
        assert body["market"] == {"category": "ALL", "country": "ALL"}
    else:
        assert response["status"] == "done" and any(k.startswith("market_trends/") for k in response["written"])


def test_image_runs_read_only_as_non_root(sam_app, run_readonly_nonroot, prod, batch):
    request = json.loads((EVENTS / "market-intelligence-hub" / "http-get-market-forecast.json").read_text())
    response = run_readonly_nonroot(sam_app.image_tag(FUNCTION), request, ENV)
    assert response["statusCode"] == 200, response
    daily = json.loads((EVENTS / "market-intelligence-hub" / "eventbridge-market-series-updated.json").read_text())
    response = run_readonly_nonroot(
        sam_app.image_tag(FUNCTION),
        daily,
        {**ENV, "MARKET_MODELS": "ets,prophet,global_nn", "MARKET_FOLDS": "1", "MARKET_EPOCHS": "5"},
    )
    assert response["status"] == "done", response


def test_each_route_once_through_start_api(sam_app, moto_server, prod, batch):
    current = s3io.read_json(prod, ARTIFACTS, "models/market-intelligence-hub/current.json")["version"]
    api = start_function_api(sam_app, moto_server, FUNCTION, ENV)
    try:
        status, body = api.get("/market/forecast?category=ALL&country=ALL")
        assert status == 200, api.logs()
        assert body["model_version"] == current  # the latest batch of this module (not always the fixture's)
        assert body["market"] == {"category": "ALL", "country": "ALL"}
        status, body = api.get("/market/trends?category=ALL&country=ALL")
        assert status == 200 and body["model_version"] == current, api.logs()
    finally:
        api.stop()


def test_state_machine_steps_inside_the_image(invoke, prod, batch, tmp_path: Path):
    """Plan -> every shard -> merge, each a separate invocation of the image, as MarketForecastStateMachine runs."""
    env = {**ENV, "MARKET_MODELS": "seasonal_naive,drift,ets", "MARKET_FOLDS": "1", "MARKET_SHARD_SIZE": "4"}
    planned = invoke(FUNCTION, EVENTS / "market-intelligence-hub" / "stepfunctions-plan.json", env)
    assert planned["status"] == "planned" and planned["n_series"] == 7 and len(planned["shards"]) == 2
    template = json.loads((EVENTS / "market-intelligence-hub" / "stepfunctions-forecast-shard.json").read_text())
    for item in planned["shards"]:
        step = tmp_path / f"shard-{item['shard']}.json"
        step.write_text(json.dumps({**template, **item}))
        done = invoke(FUNCTION, step, env)
        assert done["shard"] == item["shard"] and done["series"] in (3, 4), done
    merge = json.loads((EVENTS / "market-intelligence-hub" / "stepfunctions-merge.json").read_text())
    step = tmp_path / "merge.json"
    step.write_text(json.dumps({**merge, "version": planned["version"]}))
    merged = invoke(FUNCTION, step, env)
    assert merged["status"] == "done" and merged["model_version"] == planned["version"]
    forecasts = s3io.read_parquet(prod, PROD, merged["written"][0])
    assert forecasts["series_id"].nunique() == 7 and not forecasts.duplicated(["series_id", "ds"]).any()
    pointer = s3io.read_json(prod, ARTIFACTS, "models/market-intelligence-hub/current.json")
    assert pointer["version"] == planned["version"]
