"""Integration tier: real handlers, real events, a real S3 endpoint (moto's server) on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from retail_platform.local.endpoint import BUCKET_ENV, s3_endpoint

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    """One moto server for the session; the environment points every handler at it."""
    with s3_endpoint() as url:
        yield url


@pytest.fixture
def s3(endpoint: str):
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    yield client
    for bucket in BUCKET_ENV.values():  # each test starts from empty buckets
        keys = [
            o["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])
        ]
        for start in range(0, len(keys), 1000):
            client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})


@pytest.fixture
def lambda_context():
    from retail_platform.local.run import LocalContext

    return LocalContext("test-function")
