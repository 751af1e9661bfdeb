"""Powertools Logger, Tracer and Metrics, set up once for every function.

Never log whole events or payloads: they can hold card numbers. Log keys, counts and ids. As a last line of
defence every log record is masked on its way out (messages, extra keys and exception tracebacks): a card
number that reaches a log line anyway keeps only its first six and last four digits.

The service name and metrics namespace come from the settings object (`get_observability_settings`), not from
loose environment reads; `record` asks it on every call, so its dimensions follow the current settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import single_metric

from retail_platform.pii.pan import mask_text
from retail_platform.settings import get_observability_settings

_AT_COLD_START = get_observability_settings()  # checked once when a handler imports this module


class PanMaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every card number in the serialised record masked."""

    def serialize(self, log: dict) -> str:
        return mask_text(super().serialize(log))[0]


logger = Logger(service=_AT_COLD_START.service, logger_formatter=PanMaskingFormatter())
tracer = Tracer(service=_AT_COLD_START.service)  # disabled by Powertools itself outside Lambda and under SAM local
metrics = Metrics(service=_AT_COLD_START.service, namespace=_AT_COLD_START.metrics_namespace)


def record(
    name: str, value: float, unit: str = "Count", metadata: Mapping[str, Any] | None = None, **dims: str
) -> None:
    """One metric with dimensions of its own (e.g. per dataset, per model), written at once as its own EMF record.

    The function-wide `metrics` keep the `service` dimension only (the alarms read those); this adds finer views.
    """
    settings = get_observability_settings()
    with single_metric(
        name=name,
        unit=unit,
        value=float(value),
        namespace=settings.metrics_namespace,
        default_dimensions={"service": settings.service, **dims},
    ) as metric:
        for key, item in (metadata or {}).items():
            metric.add_metadata(key=key, value=item)


def record_model_scores(model: str, version: str | None, scores: Mapping[str, Any] | None) -> int:
    """Each numeric evaluation score of a (re)trained or served model as `ModelScore` {service, model, score},
    with the model version as EMF metadata (searchable in the logs, not a dimension). Returns how many."""
    flat: dict[str, float] = {}
    for key, value in (scores or {}).items():
        if isinstance(value, Mapping):
            flat.update({f"{key}.{k}": v for k, v in value.items() if isinstance(v, Real) and not isinstance(v, bool)})
        elif isinstance(value, Real) and not isinstance(value, bool):
            flat[key] = value
    emitted = 0
    for key, value in flat.items():
        if value == value:  # NaN is not a score
            record("ModelScore", value, "None", {"model_version": version or "unknown"}, model=model, score=key)
            emitted += 1
    return emitted
