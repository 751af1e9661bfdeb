"""Event shapes the platform consumes and emits.

Consumes S3 "Object Created" events (EventBridge), classic S3 notifications and Step Functions task
inputs; emits `ProdDatasetUpdated` events that the AI systems subscribe to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import BotoCoreError, ClientError

from retail_platform.exceptions import BadEventError, PublishError

EVENT_SOURCE = "retail.platform"
PROD_DATASET_UPDATED = "ProdDatasetUpdated"


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str

    def __post_init__(self) -> None:
        if not isinstance(self.bucket, str) or not isinstance(self.key, str) or not self.bucket or not self.key:
            raise BadEventError(
                f"bucket name and object key must be strings, got {type(self.bucket).__name__} and "
                f"{type(self.key).__name__}"
            )


def object_refs(event: Any) -> list[ObjectRef]:
    """The S3 objects an event names, whichever of the supported shapes it has."""
    if not isinstance(event, dict):
        raise BadEventError(f"event must be a JSON object, got {type(event).__name__}")
    if "Records" in event:
        refs = []
        for record in event["Records"] or []:
            try:
                key = record["s3"]["object"]["key"]
                refs.append(
                    ObjectRef(record["s3"]["bucket"]["name"], unquote_plus(key) if isinstance(key, str) else key)
                )
            except (KeyError, TypeError) as e:
                raise BadEventError(f"S3 notification record without s3.bucket.name/s3.object.key: {e}") from e
        if not refs:
            raise BadEventError("S3 notification has no records")
        return refs
    if event.get("detail-type") == "Object Created" or event.get("source") == "aws.s3":
        try:
            detail = event["detail"]
            return [ObjectRef(detail["bucket"]["name"], detail["object"]["key"])]
        except (KeyError, TypeError) as e:
            raise BadEventError(f"EventBridge S3 event without detail.bucket.name/detail.object.key: {e}") from e
    if isinstance(event.get("bucket"), str) and isinstance(event.get("key"), str):
        return [ObjectRef(event["bucket"], event["key"])]
    raise BadEventError(
        "unsupported event: expected an EventBridge 'Object Created' event, an S3 notification "
        'with Records, or {"bucket": ..., "key": ...}'
    )


def prod_dataset_updated_entries(bus: str, dataset: str, bucket: str, partitions: list[str]) -> list[dict]:
    """PutEvents entries announcing new prod partitions (chunked: an entry is capped at 256 KB)."""
    entries = []
    for start in range(0, max(len(partitions), 1), 500):
        detail = {
            "dataset": dataset,
            "bucket": bucket,
            "prefix": f"{dataset}/",
            "partitions": partitions[start : start + 500],
        }
        entries.append(
            {
                "Source": EVENT_SOURCE,
                "DetailType": PROD_DATASET_UPDATED,
                "Detail": json.dumps(detail),
                "EventBusName": bus,
            }
        )
    return entries


def put_events(events_client: Any, entries: list[dict]) -> int:
    """Send entries in batches of 10; returns how many were accepted, raising if any failed."""
    sent = 0
    for start in range(0, len(entries), 10):
        batch = entries[start : start + 10]
        try:
            response = events_client.put_events(Entries=batch)
        except ClientError as e:
            raise PublishError(f"EventBridge PutEvents failed: {e.response.get('Error', {}).get('Code', e)}") from e
        if response.get("FailedEntryCount"):
            raise PublishError(f"EventBridge rejected {response['FailedEntryCount']} entries")
        sent += len(batch)
    return sent


def announce(events_client: Any, bus: str, dataset: str, bucket: str, partitions: list[str]) -> int:
    """Best effort ProdDatasetUpdated for partitions already written: how many entries were sent.

    A failure is logged and counted (`EventsNotEmitted` per dataset), never raised: the data is written and the
    next run's event covers it; a subscriber alarm on the metric sees a bus that refuses events.
    """
    from retail_platform.observability import logger, record

    if not partitions or events_client is None:
        return 0
    entries = prod_dataset_updated_entries(bus, dataset, bucket, partitions)
    try:
        return put_events(events_client, entries)
    except (PublishError, BotoCoreError) as e:
        logger.warning("could not emit ProdDatasetUpdated", extra={"dataset": dataset, "error": str(e)[:200]})
        record("EventsNotEmitted", len(entries), dataset=dataset)
        return 0
