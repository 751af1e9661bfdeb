"""compliance-guardian Lambda handler: HTTP API routes and ProdDatasetUpdated / schedule events.

Thin: parses the event, calls compliance_guardian, shapes the response. Heavy libraries (xgboost,
torch) are imported only on the paths that need them.
"""

from __future__ import annotations

from typing import Any

from compliance_guardian import api
from compliance_guardian.config import get_guardian_settings
from compliance_guardian.exceptions import (
    BadRequestError,
    ModelUnavailableError,
    NotFoundError,
    PayloadTooLargeError,
)
from retail_platform import aws, http
from retail_platform.events import PROD_DATASET_UPDATED
from retail_platform.exceptions import BadEventError
from retail_platform.observability import logger, metrics, record_model_scores, tracer
from retail_platform.settings import get_settings

app = http.resolver("POST /compliance/scan, POST /fraud/score")
http.map_errors(app, {PayloadTooLargeError: 413, BadRequestError: 400, NotFoundError: 404})
_models: dict[str, Any] = {}


@app.exception_handler(ModelUnavailableError)
def _no_model(e: ModelUnavailableError) -> Any:
    logger.warning("model unavailable", extra={"error": str(e)})
    if str(e).startswith("no loadable model version"):  # stored versions exist but every one is corrupt
        return http.error_response(
            503, "no loadable model: every stored version is unreadable; the batch path retrains"
        )
    return http.error_response(503, "no fraud model has been trained yet; the batch path trains one from prod payments")


def _body() -> dict[str, Any]:
    return http.json_body(app, get_guardian_settings().max_body_bytes, '{"text": "..."} or {"transactions": [...]}')


def fraud_model(version: str | None = None) -> Any:
    """The serving fraud model (current, with fallback), or a pinned version (404 when unknown)."""
    from compliance_guardian.fraud.model import FraudModel
    from compliance_guardian.store import ModelStore

    key = version or "current"
    if key not in _models:
        store = ModelStore(aws.client("s3"), get_settings().artifacts_bucket, "fraud")
        if version is None:
            _models[key], _ = store.load(FraudModel.from_files)
        else:
            try:
                files = store.read_files(version)
            except Exception as e:
                raise NotFoundError(f"unknown fraud model version {version!r}") from e
            _models[key] = FraudModel.from_files(files)
    return _models[key]


def text_classifier() -> Any:
    from compliance_guardian.textclf.serving import load_current

    if "text" not in _models:
        _models["text"] = load_current(aws.client("s3"), get_settings().artifacts_bucket)
    return _models["text"]


@app.post("/compliance/scan")
@tracer.capture_method
def compliance_scan() -> dict[str, Any]:
    payload = _body()
    result = api.scan_request(payload, get_guardian_settings().mask_policy)
    classify = payload.get("classify", False)
    if not isinstance(classify, bool):
        raise BadRequestError('"classify" must be true or false')
    if classify:
        if "text" not in payload:
            raise BadRequestError('"classify" needs "text"')
        classifier = text_classifier()
        result["classification"] = classifier.classify([result["masked_text"]])[0]
        result["text_model_version"] = classifier.version
    result["model_version"] = result["detector_version"]
    metrics.add_metric(name="CardDataFindings", unit="Count", value=len(result["findings"]))
    return result


@app.post("/fraud/score")
@tracer.capture_method
def fraud_score() -> dict[str, Any]:
    payload = _body()
    items = api.validate_transactions(payload, get_guardian_settings().max_batch)
    params = app.current_event.query_string_parameters or {}
    model = fraud_model(params.get("model_version"))
    scores = api.score_transactions(model, items)
    metrics.add_metric(name="FraudAlerts", unit="Count", value=sum(s["is_alert"] for s in scores))
    metrics.add_metric(name="TransactionsScored", unit="Count", value=len(scores))
    return {"model_version": model.version, "threshold": model.threshold, "scores": scores}


def _batch(event: dict[str, Any]) -> dict[str, Any]:
    from compliance_guardian import batch, report

    settings, cfg = get_settings(), get_guardian_settings()
    s3 = aws.client("s3")
    events_client = aws.client("events")
    if event.get("detail-type") == PROD_DATASET_UPDATED:
        detail = event.get("detail") or {}
        dataset, days = detail.get("dataset"), detail.get("partitions")
        if not isinstance(dataset, str) or not isinstance(days, list) or not all(isinstance(d, str) for d in days):
            raise BadEventError("ProdDatasetUpdated event needs detail.dataset (string) and detail.partitions (list)")
        result = batch.run_prod_update(s3, settings, cfg, dataset, days, events_client)
        days_scored = ((result.get("fraud") or {}).get("days") or {}).values()  # fraud-alert rate alarm
        metrics.add_metric(name="FraudAlerts", unit="Count", value=sum(d["alerts"] for d in days_scored))
        metrics.add_metric(name="TransactionsScored", unit="Count", value=sum(d["scored"] for d in days_scored))
        fraud = result.get("fraud") or {}
        if (fraud.get("model") or {}).get("trained"):  # a retrained model's holdout scores
            record_model_scores("fraud", fraud.get("model_version"), fraud["model"].get("metrics_holdout"))
    else:
        result = {"curated_audit": batch.audit_curated(s3, settings, cfg)}
        from compliance_guardian.textclf.serving import ensure_text_model

        result["text_model"] = ensure_text_model(
            s3, settings.artifacts_bucket, cfg.text_model_texts, cfg.text_model_epochs
        )
    result["report_html"] = report.html_fragment(result)
    return result


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if http.is_http_event(event):
        return app.resolve(event, context)
    if isinstance(event, dict) and (
        event.get("detail-type") in (PROD_DATASET_UPDATED, "Scheduled Event") or event.get("source") == "aws.events"
    ):
        logger.info("batch", extra={"detail_type": event.get("detail-type")})
        return _batch(event)
    raise BadEventError(
        "unsupported event: expected an HTTP API v2.0 request, a ProdDatasetUpdated event or a scheduled event"
    )
