"""global-market-pulse Lambda handler: routes by event shape, nothing else.

* HTTP API v2 (`GET /pulse`, `GET /pulse/{country}`): served from the stored results (Powertools resolver).
* EventBridge `ProdDatasetUpdated` for country_kpis / customer_transactions, or a schedule: the batch path.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # Lambda has 1-2 vCPUs: BLAS thread pools only oversubscribe them

from typing import Any  # noqa: E402

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types  # noqa: E402
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError  # noqa: E402
from market_pulse.exceptions import NoResultsError, PulseInputError, UnknownCountryError  # noqa: E402
from market_pulse.service import CONSUMED_DATASETS, PulseReader, run_batch  # noqa: E402

from retail_platform import aws  # noqa: E402
from retail_platform.exceptions import BadEventError  # noqa: E402
from retail_platform.observability import logger, metrics, tracer  # noqa: E402
from retail_platform.settings import get_settings  # noqa: E402

SETTINGS = get_settings()
MAX_BODY_BYTES = 4096
MAX_QUERY_CHARS = 2048
app = APIGatewayHttpResolver()
_reader: PulseReader | None = None


def reader() -> PulseReader:
    global _reader
    if _reader is None:
        _reader = PulseReader(aws.client("s3"), SETTINGS.artifacts_bucket)
    return _reader


def _error(status: int, message: str) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message})


def _refuse_oversized() -> Response | None:
    event = app.current_event
    if len(event.get("body") or "") > MAX_BODY_BYTES:
        return _error(413, f"request body too large: at most {MAX_BODY_BYTES} bytes (GET /pulse takes no body)")
    if len(event.get("rawQueryString") or "") > MAX_QUERY_CHARS:
        return _error(414, f"query string too long: at most {MAX_QUERY_CHARS} characters")
    return None


@app.get("/pulse")
def get_pulse():
    return _refuse_oversized() or reader().overview(dict(app.current_event.query_string_parameters or {}))


@app.get("/pulse/<country>")
def get_country(country: str):
    return _refuse_oversized() or reader().country(country)


@app.exception_handler(PulseInputError)
def _bad_input(error: PulseInputError) -> Response:
    return _error(400, str(error))


@app.exception_handler(UnknownCountryError)
def _unknown_country(error: UnknownCountryError) -> Response:
    return _error(404, f"no pulse results for country {error.args[0]!r}")


@app.exception_handler(NoResultsError)
def _no_results(error: NoResultsError) -> Response:
    return _error(503, str(error))


@app.exception_handler(BadRequestError)
def _bad_request(error: BadRequestError) -> Response:
    return _error(400, str(error.msg))


@app.not_found
def _no_route(error: NotFoundError) -> Response:
    return _error(404, "unknown route: use GET /pulse or GET /pulse/{country}")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response:
    logger.exception("unexpected error serving a pulse request")
    return _error(500, "internal error; the request id is in the logs")


def _is_http(event: Any) -> bool:
    return isinstance(event, dict) and "requestContext" in event and ("routeKey" in event or "rawPath" in event)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    if _is_http(event):
        return app.resolve(event, context)
    if not isinstance(event, dict):
        raise BadEventError(f"event must be a JSON object, got {type(event).__name__}")
    detail_type = event.get("detail-type")
    if detail_type == "ProdDatasetUpdated":
        dataset = (event.get("detail") or {}).get("dataset")
        if dataset not in CONSUMED_DATASETS:
            return {"status": "ignored", "reason": f"global-market-pulse does not read {dataset!r}"}
    elif detail_type != "Scheduled Event":
        raise BadEventError(
            "unsupported event: expected an HTTP API v2 request, a ProdDatasetUpdated event or a Scheduled Event"
        )
    logger.info("pulse batch", extra={"trigger": detail_type, "dataset": (event.get("detail") or {}).get("dataset")})
    outcome = run_batch(
        aws.client("s3"),
        aws.client("events"),
        SETTINGS,
        report=os.environ.get("MARKET_PULSE_REPORT", "1" if SETTINGS.environment == "local" else "0") == "1",
    )
    metrics.add_metric(name="PulseCountries", unit="Count", value=outcome.get("countries", 0))
    metrics.add_metric(name="PulseAnomalies", unit="Count", value=outcome.get("anomalies", 0))
    return outcome
