"""market-intelligence-hub Lambda entry point: routes by event shape.

* HTTP API v2 (GET /market/forecast, GET /market/trends): answered from stored results.
* ProdDatasetUpdated (market_series, daily_sales) and schedules: the batch path.
"""

from __future__ import annotations

from typing import Any

from market_intelligence import api
from market_intelligence.exceptions import InputError, UnavailableError
from market_intelligence.exceptions import NotFoundError as MarketNotFoundError

from retail_platform import aws, http
from retail_platform.events import PROD_DATASET_UPDATED
from retail_platform.exceptions import BadEventError
from retail_platform.observability import logger, metrics, record_model_scores, tracer
from retail_platform.settings import get_settings

MAX_QUERY_CHARS = 2048
app = http.resolver("GET /market/forecast, GET /market/trends")
http.map_errors(app, {InputError: 400, MarketNotFoundError: 404, UnavailableError: 503})


def _s3():
    return aws.client("s3")


def _params() -> dict[str, str]:
    http.refuse_oversized(app, MAX_QUERY_CHARS, MAX_QUERY_CHARS)
    return dict(app.current_event.query_string_parameters or {})


@app.get("/market/forecast")
@tracer.capture_method
def get_forecast() -> dict:
    settings = get_settings()
    return api.forecast(_s3(), settings.prod_bucket, settings.artifacts_bucket, _params())


@app.get("/market/trends")
@tracer.capture_method
def get_trends() -> dict:
    return api.trends(_s3(), get_settings().prod_bucket, _params())


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
    from market_intelligence.config import options_from_env, shard_size_from_env

    result = batch.run(
        _s3(), settings.prod_bucket, settings.artifacts_bucket, dataset, options_from_env(), shard_size_from_env()
    )
    return _done(dataset, result)


def _done(dataset: str, result: Any) -> dict:
    out = {"status": "done", "dataset": dataset, **result.summary()}
    metrics.add_metric(name="MarketSeriesAnalysed", unit="Count", value=result.n_series)
    if result.scores is not None and not result.scores.empty:
        scores = result.scores
        chosen = scores[scores["selected"]]
        record_model_scores(
            "market-forecast",
            result.version,
            {"mean_cv_mase_selected": float(chosen["cv_mase"].mean()), "series": float(len(chosen))},
        )
    if result.trends is not None:
        try:
            from market_intelligence import report

            out["report_html"] = report.fragment(result.long, result.forecasts, result.trends, result.version)
        except ImportError:  # charts are optional
            pass
    logger.info("batch done", extra={k: v for k, v in out.items() if k != "report_html"})
    return out


def _step(event: dict) -> dict:
    """One step of the MarketForecastStateMachine: plan, forecast_shard (a Map iteration) or merge."""
    from market_intelligence import batch, sharded
    from market_intelligence.config import options_from_env, shard_size_from_env

    settings = get_settings()
    step, version = event["step"], event.get("version")
    if step == "plan":
        planned = batch.start(
            _s3(), settings.prod_bucket, settings.artifacts_bucket, options_from_env(), shard_size_from_env()
        )
        logger.info("forecast run planned", extra={k: planned[k] for k in ("version", "n_series")})
        return {**planned, "status": "planned" if planned["version"] else "empty"}
    if not isinstance(version, str) or not version:
        raise BadEventError(f"step {step!r} needs the run's version (a string) from the plan step")
    if step == "forecast_shard":
        shard = event.get("shard")
        if not isinstance(shard, int) or isinstance(shard, bool):
            raise BadEventError("step 'forecast_shard' needs 'shard' (an integer from the plan step)")
        done = sharded.run_shard(_s3(), settings.artifacts_bucket, version, shard)
        logger.info("forecast shard done", extra=done)
        return done
    return _done("market_series", batch.merge(_s3(), settings.prod_bucket, settings.artifacts_bucket, version))


STEPS = ("plan", "forecast_shard", "merge")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    if http.is_http_event(event):
        return app.resolve(event, context)
    if isinstance(event, dict) and (
        event.get("detail-type") in (PROD_DATASET_UPDATED, "Scheduled Event") or event.get("source") == "aws.events"
    ):
        return _batch(event)
    if isinstance(event, dict) and event.get("step") in STEPS:
        return _step(event)
    raise BadEventError(
        "unsupported event: expected an HTTP API v2 request, ProdDatasetUpdated, a schedule or a state machine "
        f"step ({', '.join(STEPS)})"
    )
