"""raw-to-curated: validate, normalise, dedupe and mask one raw object (or each object of an event).

Triggers: Step Functions task input {"bucket", "key"}, the EventBridge S3 "Object Created" event, or a
classic S3 notification. Output (per the state machine contract in docs/ARCHITECTURE.md): counts, the
curated partitions touched per dataset, and the quality report's key. The work is in curation/objects.py.
"""

from __future__ import annotations

from typing import Any

from curation.objects import process_object, summarise
from curation.sources import load_contracts
from retail_platform import aws
from retail_platform.cache import Expiring
from retail_platform.events import ObjectRef
from retail_platform.observability import logger, metrics, tracer
from retail_platform.routing import Router
from retail_platform.settings import get_curation_settings, get_settings

SETTINGS = get_settings()
CURATION = get_curation_settings()
BATCH_ROWS = CURATION.batch_rows
router = Router("raw-to-curated")


def _contracts() -> list:
    return load_contracts(aws.client("s3"), SETTINGS.artifacts_bucket)


contracts = Expiring(_contracts, CURATION.contracts_max_age)  # a contract uploaded is seen within max_age


@router.objects(bucket=lambda: SETTINGS.raw_bucket)  # objects of any other bucket: refused, nothing curated
def curate(refs: list[ObjectRef]) -> dict:
    s3 = aws.client("s3")
    results = []
    for ref in refs:
        summary = process_object(s3, SETTINGS, contracts(), ref.bucket, ref.key, BATCH_ROWS)
        if summary.get("file_error") is None:  # function-wide totals (the alarms read these)
            metrics.add_metric(name="RowsIn", unit="Count", value=summary["rows_in"])
            metrics.add_metric(name="RowsCurated", unit="Count", value=summary["rows_curated"])
            metrics.add_metric(name="RowsQuarantined", unit="Count", value=summary["rows_quarantined"])
        results.append(summary)
    return summarise(results)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    return router.resolve(event, context)
