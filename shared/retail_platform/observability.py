"""Powertools Logger, Tracer and Metrics, set up once for every function.

Never log whole events or payloads: they can hold card numbers. Log keys, counts and ids.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "retail-platform")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)  # disabled by Powertools itself outside Lambda and under SAM local
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "RetailPlatform"))
