"""global-market-pulse Lambda handler: routes by event shape, nothing else.

* HTTP API v2 (`GET /pulse`, `GET /pulse/{country}`): served from the stored results (Powertools resolver).
* EventBridge `ProdDatasetUpdated` for country_kpis / customer_transactions, or a schedule: the batch path.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # Lambda has 1-2 vCPUs: BLAS thread pools only oversubscribe them

from typing import Any  # noqa: E402

from market_pulse.exceptions import NoResultsError, PulseInputError, UnknownCountryError  # noqa: E402
from market_pulse.service import CONSUMED_DATASETS, PulseReader, run_batch  # noqa: E402

from retail_platform import aws, http  # noqa: E402
from retail_platform.exceptions import BadEventError  # noqa: E402
from retail_platform.observability import logger, metrics, tracer  # noqa: E402
from retail_platform.settings import get_settings  # noqa: E402

SETTINGS = get_settings()
MAX_BODY_BYTES = 4096
MAX_QUERY_CHARS = 2048
app = http.resolver("GET /pulse, GET /pulse/{country}")
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


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    if http.is_http_event(event):
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
