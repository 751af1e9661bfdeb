"""curated-to-prod: rebuild the prod partitions that changed curated partitions affect; announce them.

Triggers: the state machine's task input `{"partitions": {"<dataset>": ["YYYY-MM-DD", ...]}}` (what
raw-to-curated returns), `{"full_rebuild": true}`, or the nightly EventBridge "Scheduled Event" (a full
rebuild). Output (docs/ARCHITECTURE.md): `{"prod_datasets": {"<name>": [dates]}, "events_emitted": n}`
plus `partitions_deleted` (prod partitions whose curated input is gone).
"""

from __future__ import annotations

from typing import Any

from marts.service import parse_request, run
from retail_platform import aws
from retail_platform.observability import logger, metrics, tracer
from retail_platform.routing import Router
from retail_platform.settings import get_settings

SETTINGS = get_settings()
router = Router("curated-to-prod")


@router.task
def rebuild(event: dict) -> dict:
    request = parse_request(event)  # the task input, {"full_rebuild": true} or the nightly schedule
    logger.info(
        "curated-to-prod",
        extra={
            "full_rebuild": request.full_rebuild,
            "changed": {k: len(v) for k, v in request.changed.items()},
        },
    )
    outcome = run(request, aws.client("s3"), aws.client("events"), SETTINGS)
    metrics.add_metric(name="ProdPartitionsWritten", unit="Count", value=sum(len(v) for v in outcome.written.values()))
    metrics.add_metric(name="ProdPartitionsDeleted", unit="Count", value=sum(len(v) for v in outcome.deleted.values()))
    metrics.add_metric(name="ProdEventsEmitted", unit="Count", value=outcome.events_emitted)
    return outcome.response()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    return router.resolve(event, context)
