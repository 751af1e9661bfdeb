"""The five AI systems' handlers on their events/ files: routes, typed batch events, refusals, error shapes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from retail_platform.exceptions import BadEventError
from tests.support import EVENTS, event
from tests.unit.handlers.conftest import Recorder, body, load

PULSE, DEMAND, MARKET, GUARDIAN, COPILOT = (
    "global-market-pulse",
    "demand-insights-engine",
    "market-intelligence-hub",
    "compliance-guardian",
    "retail-copilot",
)


def batch_cases(function: str) -> list[str]:
    return sorted(p.stem for p in (EVENTS / function).glob("*.json") if not p.stem.startswith(("api-", "http-")))


@pytest.mark.parametrize("function", [PULSE, DEMAND, MARKET, GUARDIAN, COPILOT])
def test_every_system_refuses_what_it_does_not_handle_in_one_shape(function, context):
    with pytest.raises(BadEventError, match=f"^unsupported event: {function} expects an HTTP API v2 request"):
        load(function).lambda_handler({"hello": "world"}, context)


@pytest.mark.parametrize("function", [PULSE, DEMAND, MARKET, GUARDIAN, COPILOT])
def test_every_system_answers_an_unknown_route_with_the_error_shape(function, context):
    request = event(
        function,
        next(
            p.stem
            for p in sorted((EVENTS / function).glob("*.json"))
            if "-" in p.stem and p.stem.startswith(("api-", "http-"))
        ),
    )
    request["rawPath"] = request["requestContext"]["http"]["path"] = "/nowhere"
    status, answer = body(load(function).lambda_handler(request, context))
    assert status == 404 and answer["error"] == "Not Found"
    assert answer["message"].startswith(f"unknown route {request['requestContext']['http']['method']} /nowhere")


# --- global-market-pulse ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", batch_cases(PULSE))
def test_pulse_batch_runs_on_each_consumed_dataset(monkeypatch, clients, context, case):
    fn = load(PULSE)
    run = Recorder({"status": "ok", "countries": 3, "anomalies": 1})
    monkeypatch.setattr(fn, "run_batch", run)
    monkeypatch.setenv("MARKET_PULSE_REPORT", "0")
    assert fn.lambda_handler(event(PULSE, case), context) == run.answer
    [((stores, events, settings), options)] = run.calls
    assert (stores.prod.bucket, stores.artifacts.bucket) == (fn.SETTINGS.prod_bucket, fn.SETTINGS.artifacts_bucket)
    assert (events, settings, options) == (
        clients["events"],
        fn.SETTINGS,
        {"report": False, "dimensions": ("country",)},
    )


def test_pulse_routes_answer_from_the_reader(monkeypatch, context):
    from market_pulse.exceptions import UnknownCountryError

    fn = load(PULSE)

    def country(code: str) -> dict:
        raise UnknownCountryError(code)

    monkeypatch.setattr(fn, "_reader", SimpleNamespace(overview=lambda params: {"params": params}, country=country))
    assert body(fn.lambda_handler(event(PULSE, "http-get-pulse"), context)) == (
        200,
        {"params": {"limit": "10", "sort": "pulse"}},
    )
    assert body(fn.lambda_handler(event(PULSE, "http-get-pulse-country"), context)) == (
        404,
        {"error": "Not Found", "message": "no pulse results for country 'GB'"},
    )


# --- demand-insights-engine ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "tasks"),
    [
        ("prod-dataset-updated-daily_sales", ("forecast",)),
        ("prod-dataset-updated-customer_transactions", ("customers",)),
        ("schedule", ("forecast", "customers")),
    ],
)
def test_demand_batch_runs_the_tasks_of_its_event(monkeypatch, clients, context, case, tasks):
    fn = load(DEMAND)
    run = Recorder({"status": "ok"})
    monkeypatch.setattr(fn, "run_batch", run)
    assert fn.lambda_handler(event(DEMAND, case), context) == {"status": "ok"}
    [((stores, *rest), options)] = run.calls
    assert (stores.prod.bucket, stores.artifacts.bucket) == (fn.SETTINGS.prod_bucket, fn.SETTINGS.artifacts_bucket)
    assert (rest, options) == ([clients["events"], fn.SETTINGS.event_bus_name, tasks], {})


def test_demand_routes(monkeypatch, clients, context):
    from demand_insights.exceptions import NotFoundError

    fn = load(DEMAND)

    class NoResults:
        def get(self, prod):
            raise NotFoundError("no demand_forecasts partition in prod yet")

    monkeypatch.setattr(fn, "FORECASTS", NoResults())
    assert body(fn.lambda_handler(event(DEMAND, "api-get-forecast"), context)) == (
        404,
        {"error": "Not Found", "message": "no demand_forecasts partition in prod yet"},
    )
    answer = Recorder({"customer_id": "10149"})
    monkeypatch.setattr(fn, "CUSTOMERS", SimpleNamespace(get=lambda prod: ("2011-12-09", "table")))
    monkeypatch.setattr(fn.service, "customer_answer", answer)
    assert body(fn.lambda_handler(event(DEMAND, "api-get-customer"), context)) == (200, {"customer_id": "10149"})
    assert answer.calls == [(("table", "10149"), {})]
    too_long = event(DEMAND, "api-get-forecast") | {"rawQueryString": "sku=" + "x" * 2000}
    assert body(fn.lambda_handler(too_long, context))[0] == 414


# --- market-intelligence-hub --------------------------------------------------------------------------------


def batch_result(n_series: int) -> SimpleNamespace:
    return SimpleNamespace(summary=lambda: {"n_series": n_series}, n_series=n_series, scores=None, trends=None)


@pytest.mark.parametrize(
    ("case", "dataset"),
    [
        ("eventbridge-daily-sales-updated", "daily_sales"),
        ("eventbridge-market-series-updated", "market_series"),
        ("schedule-weekly-refit", "schedule"),
    ],
)
def test_market_batch_runs_the_whole_forecast(monkeypatch, clients, context, case, dataset):
    fn = load(MARKET)
    whole = Recorder(batch_result(4))
    monkeypatch.setattr(fn.steps, "whole", whole)
    assert fn.lambda_handler(event(MARKET, case), context) == {"status": "done", "dataset": dataset, "n_series": 4}
    (buckets, got, cfg), _ = whole.calls[0]
    assert (buckets.prod.bucket, buckets.artifacts.bucket, got) == ("local-prod", "local-artifacts", dataset)
    assert cfg.shard_size >= 1


def test_market_state_machine_steps(monkeypatch, clients, context):
    fn = load(MARKET)
    monkeypatch.setattr(fn.steps, "plan", Recorder({"status": "planned"}))
    monkeypatch.setattr(fn.steps, "forecast_shard", Recorder({"shard": 0, "series": 3}))
    monkeypatch.setattr(fn.steps, "merge", Recorder(batch_result(7)))
    assert fn.lambda_handler(event(MARKET, "stepfunctions-plan"), context) == {"status": "planned"}
    assert fn.steps.plan.calls[0][1] == {"force": False}  # the state machine's plan: up to date when unchanged
    assert fn.lambda_handler(event(MARKET, "stepfunctions-plan-refit"), context) == {"status": "planned"}
    assert fn.steps.plan.calls[1][1] == {"force": True}  # the README's step-by-step run plans all the same
    with pytest.raises(BadEventError, match="'force' as true or false"):
        fn.lambda_handler({"step": "plan", "force": "yes"}, context)
    assert fn.lambda_handler(event(MARKET, "stepfunctions-forecast-shard"), context) == {"shard": 0, "series": 3}
    shard_event = fn.steps.forecast_shard.calls[0][0][1]
    assert (shard_event["version"], shard_event["shard"]) == ("20240101-0123456789", 0)
    merged = fn.lambda_handler(event(MARKET, "stepfunctions-merge"), context)
    assert merged == {"status": "done", "dataset": "market_series", "n_series": 7}


def test_market_step_input_is_checked():
    from market_intelligence import steps

    with pytest.raises(BadEventError, match="needs the run's version"):
        steps.version({"step": "merge"})
    with pytest.raises(BadEventError, match="needs 'shard'"):
        steps.forecast_shard(None, {"step": "forecast_shard", "version": "v1", "shard": True})


@pytest.mark.parametrize(
    ("case", "route"), [("http-get-market-forecast", "forecast"), ("http-get-market-trends", "trends")]
)
def test_market_routes_pass_their_query(monkeypatch, clients, context, case, route):
    fn = load(MARKET)
    answer = Recorder({"route": route})
    monkeypatch.setattr(fn.api, route, answer)
    assert body(fn.lambda_handler(event(MARKET, case), context)) == (200, {"route": route})
    assert answer.calls[0][0][-1] == {"category": "ALL", "country": "ALL"}


# --- compliance-guardian ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in batch_cases(GUARDIAN) if c != "schedule"])
def test_guardian_audits_every_dataset_event(monkeypatch, clients, context, case):
    from compliance_guardian import jobs

    fn = load(GUARDIAN)
    update = Recorder({"fraud": {"days": {"2023-12-13": {"alerts": 2, "scored": 40}}}})
    monkeypatch.setattr(jobs, "on_dataset_updated", update)
    sent = event(GUARDIAN, case)
    assert fn.lambda_handler(sent, context) == update.answer
    (s3, events, _, _, dataset, days), _ = update.calls[0]
    assert (s3, events, dataset, days) == (
        clients["s3"],
        clients["events"],
        sent["detail"]["dataset"],
        sent["detail"]["partitions"],
    )
    assert jobs.fraud_counts(update.answer) == (2, 40)


def test_guardian_schedule_runs_the_nightly_audit(monkeypatch, clients, context):
    from compliance_guardian import jobs

    nightly = Recorder({"curated_audit": {}})
    monkeypatch.setattr(jobs, "nightly", nightly)
    assert load(GUARDIAN).lambda_handler(event(GUARDIAN, "schedule"), context) == {"curated_audit": {}}
    assert nightly.calls[0][0][0] is clients["s3"]


def test_guardian_scan_masks_the_card_number(context):
    status, answer = body(load(GUARDIAN).lambda_handler(event(GUARDIAN, "api-compliance-scan"), context))
    assert status == 200 and answer["findings"] and answer["model_version"] == answer["detector_version"]
    assert "4111 1111 1111 1111" not in answer["masked_text"]


def test_guardian_fraud_score_errors_are_classified(monkeypatch, context):
    from compliance_guardian.exceptions import ModelUnavailableError, NotFoundError

    fn = load(GUARDIAN)
    request = event(GUARDIAN, "api-fraud-score")

    def unavailable(version=None):
        raise ModelUnavailableError("no fraud model has been trained yet")

    monkeypatch.setattr(fn._models, "fraud", unavailable)
    assert body(fn.lambda_handler(request, context))[0] == 503

    def unknown(version=None):
        raise NotFoundError(f"unknown fraud model version {version!r}")

    monkeypatch.setattr(fn._models, "fraud", unknown)
    pinned = request | {"queryStringParameters": {"model_version": "v9"}, "rawQueryString": "model_version=v9"}
    assert body(fn.lambda_handler(pinned, context)) == (
        404,
        {"error": "Not Found", "message": "unknown fraud model version 'v9'"},
    )
    scores = Recorder([{"is_alert": True}, {"is_alert": False}])
    monkeypatch.setattr(fn._models, "fraud", lambda version=None: SimpleNamespace(version="v2", threshold=0.7))
    monkeypatch.setattr(fn.api, "score_transactions", scores)
    assert body(fn.lambda_handler(request, context)) == (
        200,
        {"model_version": "v2", "threshold": 0.7, "scores": scores.answer},
    )


# --- retail-copilot -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", batch_cases(COPILOT))
def test_copilot_rebuilds_on_its_datasets(monkeypatch, context, case):
    fn = load(COPILOT)
    rebuild = Recorder({"status": "rebuilt"})
    monkeypatch.setattr(fn.SERVICE, "rebuild", rebuild)
    assert fn.lambda_handler(event(COPILOT, case), context) == {"status": "rebuilt"}
    assert rebuild.calls == [((), {})]


def test_copilot_routes(monkeypatch, context):
    fn = load(COPILOT)
    ask = Recorder({"status": "answered", "intent": "top", "turn": 2})
    monkeypatch.setattr(fn.SERVICE, "ask", ask)
    monkeypatch.setattr(fn.SERVICE, "session", lambda session_id: None)
    assert body(fn.lambda_handler(event(COPILOT, "http-post-copilot-ask-follow-up"), context)) == (200, ask.answer)
    assert ask.calls == [(("and in France?", "demo-session-1"), {})]
    assert body(fn.lambda_handler(event(COPILOT, "http-get-copilot-session"), context)) == (
        404,
        {"error": "Not Found", "message": "no session 'demo-session-1' (unknown or expired)"},
    )
    empty = event(COPILOT, "http-post-copilot-ask") | {"body": ""}
    assert body(fn.lambda_handler(empty, context))[0] == 400
