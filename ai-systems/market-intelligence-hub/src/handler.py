"""market-intelligence-hub Lambda entry point: routes by event shape.

* HTTP API v2 (GET /market/forecast, GET /market/trends): answered from stored results.
* ProdDatasetUpdated (market_series, daily_sales) and schedules: the batch path.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from market_intelligence import api
from market_intelligence.exceptions import InputError
from market_intelligence.exceptions import NotFoundError as MarketNotFoundError

from retail_platform import aws
from retail_platform.events import PROD_DATASET_UPDATED
from retail_platform.exceptions import BadEventError
from retail_platform.observability import logger, metrics, tracer
from retail_platform.settings import get_settings

MAX_QUERY_CHARS = 2048
app = APIGatewayHttpResolver()


def _s3():
    return aws.client("s3")


def _params() -> dict[str, str]:
    event = app.current_event
    raw = event.raw_event.get("rawQueryString") or ""
    if len(raw) > MAX_QUERY_CHARS or len(event.raw_event.get("body") or "") > MAX_QUERY_CHARS:
        raise _TooLarge(f"request too large (limit {MAX_QUERY_CHARS} characters)")
    return dict(event.query_string_parameters or {})


class _TooLarge(Exception):
    pass


@app.get("/market/forecast")
@tracer.capture_method
def get_forecast() -> dict:
    settings = get_settings()
    return api.forecast(_s3(), settings.prod_bucket, settings.artifacts_bucket, _params())


@app.get("/market/trends")
@tracer.capture_method
def get_trends() -> dict:
    return api.trends(_s3(), get_settings().prod_bucket, _params())


@app.exception_handler(InputError)
def _bad_request(e: InputError) -> Response:
    return Response(400, content_types.APPLICATION_JSON, {"message": str(e)})


@app.exception_handler(MarketNotFoundError)
def _not_found(e: MarketNotFoundError) -> Response:
    return Response(404, content_types.APPLICATION_JSON, {"message": str(e)})


@app.exception_handler(_TooLarge)
def _too_large(e: _TooLarge) -> Response:
    return Response(413, content_types.APPLICATION_JSON, {"message": str(e)})


@app.exception_handler(Exception)
def _internal(e: Exception) -> Response:
    logger.exception("route failed")
    return Response(500, content_types.APPLICATION_JSON, {"message": "internal error; see the function log"})


def _batch(event: dict) -> dict:
    from market_intelligence import batch

    detail = event.get("detail") or {}
    if event.get("detail-type") == PROD_DATASET_UPDATED:
        dataset = detail.get("dataset")
        if dataset not in batch.CONSUMES:
            logger.info("ignoring dataset", extra={"dataset": dataset})
            return {"status": "ignored", "dataset": dataset}
    else:
        dataset = "schedule"
    settings = get_settings()
    from market_intelligence.config import options_from_env

    result = batch.run(_s3(), settings.prod_bucket, settings.artifacts_bucket, dataset, options_from_env())
    out = {"status": "done", "dataset": dataset, **result.summary()}
    metrics.add_metric(name="MarketSeriesAnalysed", unit="Count", value=result.n_series)
    if result.trends is not None:
        try:
            from market_intelligence import report

            out["report_html"] = report.fragment(result.long, result.forecasts, result.trends, result.version)
        except ImportError:  # charts are optional
            pass
    logger.info("batch done", extra={k: v for k, v in out.items() if k != "report_html"})
    return out


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    if isinstance(event, dict) and event.get("version") == "2.0" and "requestContext" in event:
        return app.resolve(event, context)
    if isinstance(event, dict) and (
        event.get("detail-type") in (PROD_DATASET_UPDATED, "Scheduled Event") or event.get("source") == "aws.events"
    ):
        return _batch(event)
    raise BadEventError("unsupported event: expected an HTTP API v2 request, ProdDatasetUpdated or a schedule")
