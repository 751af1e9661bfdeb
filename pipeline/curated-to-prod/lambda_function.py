"""curated-to-prod: rebuild the prod partitions that changed curated partitions affect; announce them.

Triggers: the state machine's task input `{"partitions": {"<dataset>": ["YYYY-MM", ...]}}` (what
raw-to-curated returns), `{"full_rebuild": true, "engine": "duckdb" | "athena"}`, or the nightly EventBridge
"Scheduled Event" (a full rebuild). Output (docs/ARCHITECTURE.md): `{"prod_datasets": {"<name>": [months]},
"events_emitted": n}` plus `partitions_deleted` (prod months whose curated input is gone).
`{"measure": "curated"}` answers `{"curated_bytes": n, "curated_objects": n}` (the rebuild state machine's probe).
"""

from __future__ import annotations

from typing import Any

from marts.service import measure, parse_request, run, run_athena
from retail_platform import aws
from retail_platform.observability import logger, metrics, tracer
from retail_platform.routing import Router
from retail_platform.settings import get_settings

SETTINGS = get_settings()
router = Router("curated-to-prod")


@router.task
def rebuild(event: dict) -> dict:
    request = parse_request(event)  # the task input, {"full_rebuild": true}, the schedule or {"measure": "curated"}
    if request.measure:
        return measure(aws.client("s3"), SETTINGS)
    logger.info(
        "curated-to-prod",
        extra={
            "full_rebuild": request.full_rebuild,
            "engine": request.engine,
            "changed": {k: len(v) for k, v in request.changed.items()},
        },
    )
    if request.engine == "athena":
        clients = (aws.client("s3"), aws.client("athena"), aws.client("events"))
        outcome = run_athena(*clients, SETTINGS, glue_client=aws.client("glue"))
    else:
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
