"""demand-insights-engine: thin Lambda entry point.

Routes by event shape:
* HTTP API v2 (`GET /demand/forecast`, `GET /demand/customers/{id}`) -> answers from stored results;
* `ProdDatasetUpdated` (daily_sales -> forecasts + inventory advice; customer_transactions -> customer
  insights) and the EventBridge schedule (both) -> the batch path;
* anything else -> BadEventError.
"""

from __future__ import annotations

from typing import Any

from demand_insights import service
from demand_insights.exceptions import InputDataError, NotFoundError, RequestError
from retail_platform import aws, http
from retail_platform.events import EVENT_SOURCE, PROD_DATASET_UPDATED, prod_dataset_updated_entries, put_events
from retail_platform.exceptions import BadEventError
from retail_platform.observability import logger, metrics, record_model_scores, tracer
from retail_platform.settings import get_settings

SETTINGS = get_settings()
BUCKETS = service.Buckets(prod=SETTINGS.prod_bucket, artifacts=SETTINGS.artifacts_bucket)
TASKS = {"daily_sales": ("forecast",), "customer_transactions": ("customers",)}
MAX_QUERY_CHARS = 1024
MAX_BODY_BYTES = 1024

app = http.resolver("GET /demand/forecast, GET /demand/customers/{id}")
http.map_errors(app, {RequestError: 400, NotFoundError: 404})
FORECASTS = service.ResultCache("demand_forecasts")
ADVICE = service.ResultCache("inventory_advice")
CUSTOMERS = service.ResultCache("customer_insights")


def _guard_size() -> None:
    http.refuse_oversized(app, MAX_BODY_BYTES, MAX_QUERY_CHARS)


@app.get("/demand/forecast")
@tracer.capture_method
def get_forecast() -> dict[str, Any]:
    _guard_size()
    sku, country, horizon = service.parse_forecast_query(app.current_event.query_string_parameters)
    s3 = aws.client("s3")
    _, forecasts = FORECASTS.get(s3, BUCKETS.prod)
    try:
        _, advice = ADVICE.get(s3, BUCKETS.prod)
    except NotFoundError:
        advice = None
    return service.forecast_answer(forecasts, advice, sku, country, horizon)


@app.get("/demand/customers/<customer_id>")
@tracer.capture_method
def get_customer(customer_id: str) -> dict[str, Any]:
    _guard_size()
    cid = service.parse_customer_id(customer_id)
    _, table = CUSTOMERS.get(aws.client("s3"), BUCKETS.prod)
    return service.customer_answer(table, cid)


def _tasks(event: dict[str, Any]) -> tuple[str, ...]:
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return ("forecast", "customers")
    if event.get("source") == EVENT_SOURCE and event.get("detail-type") == PROD_DATASET_UPDATED:
        detail = event.get("detail")
        if not isinstance(detail, dict) or not isinstance(detail.get("dataset"), str):
            raise BadEventError("ProdDatasetUpdated event without detail.dataset")
        return TASKS.get(detail["dataset"], ())
    raise BadEventError(
        "unsupported event: expected an HTTP API v2 request, a ProdDatasetUpdated event or a Scheduled Event"
    )


def _report(outputs: list[dict[str, Any]]) -> str | None:
    try:
        from demand_insights.report import section
    except ImportError:  # pragma: no cover - the report module is always shipped
        return None
    return section(outputs)


def run_batch(event: dict[str, Any]) -> dict[str, Any]:
    tasks = _tasks(event)
    if not tasks:
        dataset = event.get("detail", {}).get("dataset")
        logger.info("dataset not used by this system", extra={"dataset": dataset})
        return {"status": "ignored", "dataset": dataset}
    s3 = aws.client("s3")
    outputs = []
    for task in tasks:
        try:
            out = service.run_forecasts(s3, BUCKETS) if task == "forecast" else service.run_customers(s3, BUCKETS)
        except InputDataError as e:  # not enough data yet: say so, do not fail the async invocation forever
            logger.warning("batch task skipped", extra={"task": task, "reason": str(e)})
            outputs.append({"task": task, "status": "skipped", "reason": str(e)})
            continue
        metrics.add_metric(name=f"DemandInsights{task.title()}Runs", unit="Count", value=1)
        record_model_scores(f"demand-{task}", out.get("model_version"), out.get("metrics"))
        outputs.append(out)
    written = {k: v for out in outputs for k, v in out.get("partitions", {}).items()}
    emitted = 0
    for dataset, days in written.items():
        entries = prod_dataset_updated_entries(SETTINGS.event_bus_name, dataset, SETTINGS.prod_bucket, days)
        try:
            emitted += put_events(aws.client("events"), entries)
        except Exception as e:  # announcing is best effort: the data is already written
            logger.warning("could not emit ProdDatasetUpdated", extra={"dataset": dataset, "error": str(e)[:200]})
    report = _report(outputs)
    result = {
        "status": "ok",
        "tasks": [{k: v for k, v in out.items() if not k.startswith("_")} for out in outputs],
        "prod_datasets": written,
        "events_emitted": emitted,
    }
    if report:
        result["report_html"] = report
    return result


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise BadEventError(f"event must be a JSON object, got {type(event).__name__}")
    if http.is_http_event(event):
        return app.resolve(event, context)
    return run_batch(event)
