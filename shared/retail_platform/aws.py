"""boto3 client factory: one place that knows about the local endpoint and retry configuration."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from retail_platform.settings import get_settings

_CONFIG = Config(retries={"max_attempts": 5, "mode": "adaptive"}, connect_timeout=5, read_timeout=60)


@cache
def client(service: str, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A cached boto3 client; endpoint and region default to the process settings."""
    settings = get_settings()
    return boto3.client(
        service,
        endpoint_url=endpoint_url or settings.endpoint_url,
        region_name=region or settings.region,
        config=_CONFIG,
    )
