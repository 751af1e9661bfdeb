"""Powertools Logger, Tracer and Metrics, set up once for every function.

Never log whole events or payloads: they can hold card numbers. Log keys, counts and ids. As a last line of
defence every log record is masked on its way out (messages, extra keys and exception tracebacks): a card
number that reaches a log line anyway keeps only its first six and last four digits.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from retail_platform.pii.pan import mask_text

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "retail-platform")


class PanMaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every card number in the serialised record masked."""

    def serialize(self, log: dict) -> str:
        return mask_text(super().serialize(log))[0]


logger = Logger(service=SERVICE, logger_formatter=PanMaskingFormatter())
tracer = Tracer(service=SERVICE)  # disabled by Powertools itself outside Lambda and under SAM local
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "RetailPlatform"))
