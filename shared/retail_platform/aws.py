"""boto3 client factory: one place that knows about the local endpoint and retry configuration.

Retries use botocore's `standard` mode (exponential backoff with full jitter, a retry quota per client, and
the throttling and transient codes classified once in botocore), not `adaptive`: adaptive adds a client-side
rate limiter that is still marked experimental and, shared by a process's threads, slows every caller down
after one throttle.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from retail_platform.settings import get_settings

RETRIES = {"max_attempts": 5, "mode": "standard"}  # max_attempts counts retries: 1 try + 5 retries
_CONFIG = Config(retries=RETRIES, connect_timeout=5, read_timeout=60)


def client(service: str, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A cached boto3 client; endpoint and region default to the process settings (read when called, so a
    process whose settings changed gets a client for the new endpoint, not the one built first)."""
    settings = get_settings()
    return _client(service, endpoint_url or settings.endpoint_url, region or settings.region)


@cache
def _client(service: str, endpoint_url: str | None, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, config=_CONFIG)


def new_client(service: str, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """An uncached client with the platform's configuration (one whose events a test hooks, for instance)."""
    settings = get_settings()
    return _client.__wrapped__(service, endpoint_url or settings.endpoint_url, region or settings.region)
