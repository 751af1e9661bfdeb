"""global-market-pulse Lambda handler: `GET /pulse`, `GET /pulse/{country}` from stored results; the batch path on
ProdDatasetUpdated of country_kpis / customer_transactions, or a schedule. Nothing else."""

from __future__ import annotations

from typing import Any

from market_pulse.config import get_pulse_settings  # the package caps BLAS threads before numpy loads
from market_pulse.exceptions import NoResultsError, PulseInputError, UnknownCountryError
from market_pulse.service import CONSUMED_DATASETS, PulseReader, run_batch
from market_pulse.store import Stores

from retail_platform import aws, http
from retail_platform.observability import logger, metrics, tracer
from retail_platform.routing import Router
from retail_platform.settings import get_settings

SETTINGS = get_settings()
get_pulse_settings()  # checked at cold start
MAX_BODY_BYTES = 4096
MAX_QUERY_CHARS = 2048
router = Router("global-market-pulse", "GET /pulse, GET /pulse/{country}", consumes=CONSUMED_DATASETS)
app = router.http
http.map_errors(app, {PulseInputError: 400, NoResultsError: 503})
_reader: PulseReader | None = None


def stores() -> Stores:
    """The prod and artifacts buckets on S3 (unit tests put MemoryBlobStores here)."""
    return Stores.on_s3(aws.client("s3"), SETTINGS.prod_bucket, SETTINGS.artifacts_bucket)


def reader() -> PulseReader:
    global _reader
    if _reader is None:
        _reader = PulseReader(stores().artifacts, get_pulse_settings().dimensions)
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
    what = "country" if get_pulse_settings().dimensions == ("country",) else "market"
    return http.error_response(404, f"no pulse results for {what} {error.args[0]!r}")


@router.scheduled
@router.dataset_updated
def batch(trigger: Any) -> dict:
    """Any ProdDatasetUpdated of an input (its partitions may be day "YYYY-MM-DD" or month "YYYY-MM" labels) or
    the schedule: the pulse is recomputed from every partition, so the labels (checked by the router) only go to
    the log."""
    logger.info(
        "pulse batch",
        extra={"dataset": getattr(trigger, "dataset", None), "months": getattr(trigger, "months", [])},
    )
    pulse = get_pulse_settings()
    outcome = run_batch(stores(), aws.client("events"), SETTINGS, report=pulse.report, dimensions=pulse.dimensions)
    metrics.add_metric(name="PulseCountries", unit="Count", value=outcome.get("countries", 0))
    metrics.add_metric(name="PulseAnomalies", unit="Count", value=outcome.get("anomalies", 0))
    return outcome


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    return router.resolve(event, context)
