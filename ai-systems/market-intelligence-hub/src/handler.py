"""market-intelligence-hub Lambda entry point: GET /market/forecast and /market/trends from stored results; the batch
path on ProdDatasetUpdated (market_series, daily_sales) or a schedule; the MarketForecastStateMachine steps (plan,
forecast_shard per Map item, merge: market_intelligence/steps.py)."""

from __future__ import annotations

from typing import Any

from market_intelligence import api, steps
from market_intelligence.batch_result import done
from market_intelligence.config import CONSUMES, get_market_settings
from market_intelligence.exceptions import InputError, UnavailableError
from market_intelligence.exceptions import NotFoundError as MarketNotFoundError
from market_intelligence.store import Buckets

from retail_platform import aws, http
from retail_platform.observability import logger, metrics, tracer
from retail_platform.routing import DatasetUpdated, Router, Scheduled
from retail_platform.settings import get_settings

SETTINGS = get_settings()
get_market_settings()  # checked at cold start
MAX_QUERY_CHARS = 2048
router = Router("market-intelligence-hub", "GET /market/forecast, GET /market/trends", consumes=CONSUMES)
app = router.http
http.map_errors(app, {InputError: 400, MarketNotFoundError: 404, UnavailableError: 503})


def buckets() -> Buckets:
    """The prod and artifacts buckets on S3 (tests put `MemoryBlobStore`s in their place)."""
    return Buckets.on_s3(aws.client("s3"), SETTINGS.prod_bucket, SETTINGS.artifacts_bucket)


def _params() -> dict[str, str]:
    http.refuse_oversized(app, MAX_QUERY_CHARS, MAX_QUERY_CHARS)
    return dict(app.current_event.query_string_parameters or {})


@app.get("/market/forecast")
@tracer.capture_method
def get_forecast() -> dict:
    return api.forecast(buckets(), _params())


@app.get("/market/trends")
@tracer.capture_method
def get_trends() -> dict:
    return api.trends(buckets().prod, _params())


@router.scheduled
@router.dataset_updated
def run(trigger: DatasetUpdated | Scheduled) -> dict:
    dataset = trigger.dataset if isinstance(trigger, DatasetUpdated) else "schedule"
    if isinstance(trigger, DatasetUpdated):  # labels checked by the router; the refit reads all history
        logger.info("prod dataset updated", extra={"dataset": dataset, "months": trigger.months})
    return done(dataset, steps.whole(buckets(), dataset, get_market_settings()))


@router.step("plan")
def plan(event: dict) -> dict:
    return steps.plan(buckets(), get_market_settings(), force=steps.forced(event))


@router.step("forecast_shard")
def forecast_shard(event: dict) -> dict:
    return steps.forecast_shard(buckets().artifacts, event)


@router.step("merge")
def merge(event: dict) -> dict:
    return done("market_series", steps.merge(buckets(), event))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    return router.resolve(event, context)
