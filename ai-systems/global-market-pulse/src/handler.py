"""global-market-pulse Lambda handler: declares its routes and the prod datasets it reads, nothing else.

* HTTP API v2 (`GET /pulse`, `GET /pulse/{country}`): served from the stored results (Powertools resolver).
* EventBridge `ProdDatasetUpdated` for country_kpis / customer_transactions, or a schedule: the batch path.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # Lambda has 1-2 vCPUs: BLAS thread pools only oversubscribe them

from typing import Any  # noqa: E402

from market_pulse.config import get_pulse_settings  # noqa: E402
from market_pulse.exceptions import NoResultsError, PulseInputError, UnknownCountryError  # noqa: E402
from market_pulse.service import CONSUMED_DATASETS, PulseReader, run_batch  # noqa: E402

from retail_platform import aws, http  # noqa: E402
from retail_platform.observability import logger, metrics, tracer  # noqa: E402
from retail_platform.routing import Router  # noqa: E402
from retail_platform.settings import get_settings  # noqa: E402

SETTINGS = get_settings()
get_pulse_settings()  # checked at cold start
MAX_BODY_BYTES = 4096
MAX_QUERY_CHARS = 2048
router = Router("global-market-pulse", "GET /pulse, GET /pulse/{country}", consumes=CONSUMED_DATASETS)
app = router.http
http.map_errors(app, {PulseInputError: 400, NoResultsError: 503})
_reader: PulseReader | None = None


def reader() -> PulseReader:
    global _reader
    if _reader is None:
        _reader = PulseReader(aws.client("s3"), SETTINGS.artifacts_bucket)
    return _reader


@app.get("/pulse")
def get_pulse():
    http.refuse_oversized(app, MAX_BODY_BYTES, MAX_QUERY_CHARS)
    return reader().overview(dict(app.current_event.query_string_parameters or {}))


@app.get("/pulse/<country>")
def get_country(country: str):
    http.refuse_oversized(app, MAX_BODY_BYTES, MAX_QUERY_CHARS)
    return reader().country(country)


@app.exception_handler(UnknownCountryError)
def _unknown_country(error: UnknownCountryError) -> Any:
    return http.error_response(404, f"no pulse results for country {error.args[0]!r}")


@router.scheduled
@router.dataset_updated
def batch(trigger: Any) -> dict:
    logger.info("pulse batch", extra={"dataset": getattr(trigger, "dataset", None)})
    outcome = run_batch(aws.client("s3"), aws.client("events"), SETTINGS, report=get_pulse_settings().report)
    metrics.add_metric(name="PulseCountries", unit="Count", value=outcome.get("countries", 0))
    metrics.add_metric(name="PulseAnomalies", unit="Count", value=outcome.get("anomalies", 0))
    return outcome


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    return router.resolve(event, context)
