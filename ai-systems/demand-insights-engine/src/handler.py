"""demand-insights-engine: thin Lambda entry point; declares its routes and the prod datasets it reads.

* HTTP API v2 (`GET /demand/forecast`, `GET /demand/customers/{id}`) -> answers from stored results;
* `ProdDatasetUpdated` (daily_sales -> forecasts + inventory advice; customer_transactions -> customer
  insights) and the EventBridge schedule (both) -> the batch path (demand_insights/batch.py);
* anything else -> BadEventError.
"""

from __future__ import annotations

from typing import Any

from demand_insights import service
from demand_insights.batch import ALL_TASKS, TASKS_OF_DATASET, run_batch
from demand_insights.config import get_demand_settings
from demand_insights.exceptions import NotFoundError, RequestError
from retail_platform import aws, http
from retail_platform.observability import logger, metrics, tracer
from retail_platform.routing import DatasetUpdated, Router, Scheduled
from retail_platform.settings import get_settings

SETTINGS = get_settings()
get_demand_settings()  # checked at cold start
MAX_QUERY_CHARS = 1024
MAX_BODY_BYTES = 1024

router = Router("demand-insights-engine", "GET /demand/forecast, GET /demand/customers/{id}", consumes=TASKS_OF_DATASET)
app = router.http
http.map_errors(app, {RequestError: 400, NotFoundError: 404})
FORECASTS = service.ResultCache("demand_forecasts")
ADVICE = service.ResultCache("inventory_advice")
CUSTOMERS = service.ResultCache("customer_insights")


def stores() -> service.Stores:
    """The prod and artifacts buckets on S3 (unit tests put MemoryBlobStores here)."""
    return service.Stores.on_s3(aws.client("s3"), SETTINGS.prod_bucket, SETTINGS.artifacts_bucket)


@app.get("/demand/forecast")
@tracer.capture_method
def get_forecast() -> dict[str, Any]:
    http.refuse_oversized(app, MAX_BODY_BYTES, MAX_QUERY_CHARS)
    sku, country, horizon = service.parse_forecast_query(app.current_event.query_string_parameters)
    forecasts, advice = service.forecasts_with_advice(FORECASTS, ADVICE, stores().prod)
    return service.forecast_answer(forecasts, advice, sku, country, horizon)


@app.get("/demand/customers/<customer_id>")
@tracer.capture_method
def get_customer(customer_id: str) -> dict[str, Any]:
    http.refuse_oversized(app, MAX_BODY_BYTES, MAX_QUERY_CHARS)
    _, table = CUSTOMERS.get(stores().prod)
    return service.customer_answer(table, service.parse_customer_id(customer_id))


@router.dataset_updated
def on_update(update: DatasetUpdated) -> dict[str, Any]:
    """daily_sales or customer_transactions changed (partition labels "YYYY-MM" or "YYYY-MM-DD"): the tasks
    reading it rerun on the whole history, so the labels (checked by the router) are only logged as months."""
    logger.info("dataset updated", extra={"dataset": update.dataset, "months": update.months})
    return _batch(TASKS_OF_DATASET[update.dataset])


@router.scheduled
def on_schedule(_: Scheduled) -> dict[str, Any]:
    return _batch(ALL_TASKS)


def _batch(tasks: tuple[str, ...]) -> dict[str, Any]:
    logger.info("demand batch", extra={"tasks": list(tasks)})
    return run_batch(stores(), aws.client("events"), SETTINGS.event_bus_name, tasks)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return router.resolve(event, context)
