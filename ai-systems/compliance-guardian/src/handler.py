"""compliance-guardian Lambda handler: HTTP API routes, ProdDatasetUpdated of every dataset, the schedule.

Heavy libraries (xgboost, torch) load only on the paths that need them (compliance_guardian/serving.py, jobs.py).
"""

from __future__ import annotations

from typing import Any

from compliance_guardian import api
from compliance_guardian.config import get_guardian_settings as guardian_settings
from compliance_guardian.exceptions import BadRequestError, ModelUnavailableError, NotFoundError, PayloadTooLargeError
from compliance_guardian.serving import ServingModels
from retail_platform import aws, http
from retail_platform.observability import logger, metrics, tracer
from retail_platform.routing import EVERY_DATASET, DatasetUpdated, Router, Scheduled
from retail_platform.settings import get_settings

SETTINGS = get_settings()
guardian_settings()  # checked at cold start (the section is rebuilt only if its variables change)
router = Router("compliance-guardian", "POST /compliance/scan, POST /fraud/score", consumes=EVERY_DATASET)
app = router.http
http.map_errors(app, {PayloadTooLargeError: 413, BadRequestError: 400, NotFoundError: 404, ModelUnavailableError: 503})
_models = ServingModels(lambda: aws.client("s3"), SETTINGS.artifacts_bucket)


def _body() -> dict[str, Any]:
    return http.json_body(app, guardian_settings().max_body_bytes, '{"text": "..."} or {"transactions": [...]}')


@app.post("/compliance/scan")
@tracer.capture_method
def compliance_scan() -> dict[str, Any]:
    payload = _body()
    result = api.scan_request(payload, guardian_settings().mask_policy)
    if _models.wants_classification(payload):
        result.update(_models.classify(result["masked_text"]))
    result["model_version"] = result["detector_version"]
    metrics.add_metric(name="CardDataFindings", unit="Count", value=len(result["findings"]))
    return result


@app.post("/fraud/score")
@tracer.capture_method
def fraud_score() -> dict[str, Any]:
    items = api.validate_transactions(_body(), guardian_settings().max_batch)
    model = _models.fraud((app.current_event.query_string_parameters or {}).get("model_version"))
    scores = api.score_transactions(model, items)
    metrics.add_metric(name="FraudAlerts", unit="Count", value=sum(s["is_alert"] for s in scores))
    metrics.add_metric(name="TransactionsScored", unit="Count", value=len(scores))
    return {"model_version": model.version, "threshold": model.threshold, "scores": scores}


@router.dataset_updated
def on_update(update: DatasetUpdated) -> dict[str, Any]:
    from compliance_guardian import jobs

    logger.info("batch", extra={"dataset": update.dataset, "partitions": len(update.partitions)})
    s3, events, cfg = aws.client("s3"), aws.client("events"), guardian_settings()
    result = jobs.on_dataset_updated(s3, events, SETTINGS, cfg, update.dataset, update.partitions)
    alerts, scored = jobs.fraud_counts(result)  # the fraud-alert rate alarm
    metrics.add_metric(name="FraudAlerts", unit="Count", value=alerts)
    metrics.add_metric(name="TransactionsScored", unit="Count", value=scored)
    return result


@router.scheduled
def on_schedule(_: Scheduled) -> dict[str, Any]:
    from compliance_guardian import jobs

    logger.info("batch", extra={"trigger": "schedule"})
    return jobs.nightly(aws.client("s3"), SETTINGS, guardian_settings())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return router.resolve(event, context)
