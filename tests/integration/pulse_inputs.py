"""Prod inputs of global-market-pulse built by the real pipeline from a raw export (integration helpers)."""

from __future__ import annotations

from pathlib import Path

import boto3

from retail_platform import s3io
from tests.support import handler

RAW, PROD = "local-raw", "local-prod"
INPUTS = ("country_kpis/", "customer_transactions/")


def prod_from_pipeline(endpoint: str, source: Path, key: str) -> dict[str, bytes]:
    """Upload `source` to the raw bucket as `key`, run raw-to-curated and a full curated-to-prod rebuild, and
    return the pulse's input objects (key -> bytes), so each test can start from the same prod state."""
    from retail_platform.local.run import LocalContext

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.upload_file(str(source), RAW, key)
    ctx = LocalContext("pipeline")
    handler("raw-to-curated").lambda_handler({"bucket": RAW, "key": key}, ctx)
    handler("curated-to-prod").lambda_handler({"full_rebuild": True}, ctx)
    return {k: s3io.read_bytes(client, PROD, k) for prefix in INPUTS for k in s3io.list_keys(client, PROD, prefix)}


def restore(s3, snapshot: dict[str, bytes]) -> None:
    for key, body in snapshot.items():
        s3.put_object(Bucket=PROD, Key=key, Body=body)
