"""An embedded S3 (and EventBridge, DynamoDB) endpoint on loopback, served by moto."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

BUCKET_ENV = {
    "RAW_BUCKET": "local-raw",
    "CURATED_BUCKET": "local-curated",
    "PROD_BUCKET": "local-prod",
    "ARTIFACTS_BUCKET": "local-artifacts",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_environment(endpoint_url: str) -> dict[str, str]:
    """The environment every function sees in the local run (same variables as in the templates)."""
    return {
        **BUCKET_ENV,
        "ENVIRONMENT": "local",
        "EVENT_BUS_NAME": "default",
        "REPORTING_CURRENCY": os.environ.get("REPORTING_CURRENCY", "EUR"),
        "LOCAL_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "RetailPlatformLocal",
        "POWERTOOLS_METRICS_DISABLED": "true",  # EMF lines would drown the progress output
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
    }


@contextmanager
def s3_endpoint(host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Start moto's server, create the local buckets, export the environment; stop it on exit."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    port = port or free_port()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    previous = {k: os.environ.get(k) for k in local_environment(url)}
    os.environ.update(local_environment(url))
    try:
        import boto3

        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        for bucket in BUCKET_ENV.values():
            s3.create_bucket(Bucket=bucket)
        yield url
    finally:
        server.stop()
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
