"""One event router for every function: HTTP API v2 routes, ProdDatasetUpdated, schedules, S3 objects, steps.

A thin layer over Powertools: HTTP requests go to an `APIGatewayHttpResolver` (built by `http.resolver`, so
every route answers errors in the platform's one shape); EventBridge events are parsed into Powertools' parser
models (`EventBridgeModel`, with the envelope fields optional: the local run and Step Functions pass the detail
with fewer of them). A function declares what it serves and the prod datasets it consumes:

    router = Router("demand-insights-engine", routes="GET /demand/forecast", consumes={"daily_sales"})

    @router.dataset_updated
    def on_update(update: DatasetUpdated) -> dict: ...

`router.resolve(event, context)` then answers the HTTP routes, hands each handler its typed event, answers a
dataset it does not consume with `{"status": "ignored", ...}` and refuses anything else with one error shape:
`BadEventError("unsupported event: <function> expects ...")`. The pydantic models are imported on the batch
paths only, so an online request does not pay for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from retail_platform import http
from retail_platform.events import EVENT_SOURCE, PROD_DATASET_UPDATED, ObjectRef, object_refs
from retail_platform.exceptions import BadEventError

SCHEDULED = "Scheduled Event"
EVERY_DATASET = frozenset({"*"})  # `consumes` of a system that audits whatever prod dataset changed

Handler = Callable[..., dict[str, Any]]
_MODELS: tuple[type, type] | None = None


@dataclass(frozen=True)
class DatasetUpdated:
    """A parsed ProdDatasetUpdated event: which prod dataset changed, and its new partitions (YYYY-MM
    months; older events carry YYYY-MM-DD days: `retail_platform.storage.months_of` maps them)."""

    dataset: str
    partitions: list[str]
    bucket: str | None = None

    @property
    def months(self) -> list[str]:
        """The distinct months the partition labels touch, sorted."""
        from retail_platform.storage import months_of

        return months_of(self.partitions)


@dataclass(frozen=True)
class Scheduled:
    """A parsed EventBridge schedule (or any `aws.events` event): the rule that fired, when known."""

    rules: list[str]


def _models() -> tuple[type, type]:
    """Powertools' EventBridge model with the envelope optional, and the ProdDatasetUpdated detail (lazy import)."""
    global _MODELS
    if _MODELS is None:
        from datetime import datetime

        from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
        from pydantic import BaseModel, ConfigDict, Field

        class Envelope(EventBridgeModel):
            version: str | None = None
            id: str | None = None
            account: str | None = None
            time: datetime | None = None
            region: str | None = None
            resources: list[str] = Field(default_factory=list)
            source: str | None = None
            detail: dict[str, Any] = Field(default_factory=dict)

        class Detail(BaseModel):
            model_config = ConfigDict(extra="allow", strict=True)
            dataset: str = Field(min_length=1)
            partitions: list[str]
            bucket: str | None = None

        _MODELS = (Envelope, Detail)
    return _MODELS


def _validation_message(error: Exception) -> str:
    errors = getattr(error, "errors", lambda: [])()
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors) or str(error)


def parse_dataset_updated(event: dict[str, Any]) -> DatasetUpdated:
    """The typed ProdDatasetUpdated event; BadEventError saying which field is wrong otherwise."""
    from pydantic import ValidationError

    envelope_model, detail_model = _models()
    try:
        envelope = envelope_model.model_validate(event)
        detail = detail_model.model_validate(event.get("detail"))
    except ValidationError as e:
        raise BadEventError(
            "ProdDatasetUpdated event needs detail.dataset (string) and detail.partitions (list of strings): "
            + _validation_message(e)
        ) from e
    if envelope.source not in (None, EVENT_SOURCE):
        raise BadEventError(f"ProdDatasetUpdated from source {envelope.source!r}: only {EVENT_SOURCE!r} emits it")
    for label in detail.partitions:
        _check_label(label)
    return DatasetUpdated(detail.dataset, list(detail.partitions), detail.bucket)


def _check_label(label: str) -> None:
    """A partition label must be a real day YYYY-MM-DD or month YYYY-MM ("2024-13", "2023-02-29" are refused)."""
    from retail_platform.storage.partitions import grain_of, span

    try:
        grain_of(label)
        span(label)
    except (ValueError, TypeError) as e:
        raise BadEventError(
            f"ProdDatasetUpdated detail.partitions: {label!r} is neither a day YYYY-MM-DD nor a month YYYY-MM ({e})"
        ) from e


def parse_scheduled(event: dict[str, Any]) -> Scheduled:
    from pydantic import ValidationError

    try:
        envelope = _models()[0].model_validate(event)
    except ValidationError as e:
        raise BadEventError("malformed EventBridge event: " + _validation_message(e)) from e
    return Scheduled(list(envelope.resources))


def is_scheduled(event: dict[str, Any]) -> bool:
    return event.get("detail-type") == SCHEDULED or event.get("source") == "aws.events"


class Router:
    """What one function serves, and the one place that decides which of its handlers an event goes to."""

    def __init__(self, function: str, routes: str = "", consumes: Iterable[str] = ()) -> None:
        self.function = function
        self.routes = routes
        self.consumes = frozenset(consumes)
        self.http = http.resolver(routes) if routes else None
        self._dataset: Handler | None = None
        self._scheduled: Handler | None = None
        self._objects: Handler | None = None
        self._object_bucket: Callable[[], str] | None = None
        self._task: Handler | None = None
        self._steps: dict[str, Handler] = {}

    # registration -------------------------------------------------------------------------------------------
    def dataset_updated(self, handler: Handler) -> Handler:
        """handler(DatasetUpdated) for a ProdDatasetUpdated event of a consumed dataset."""
        self._dataset = handler
        return handler

    def scheduled(self, handler: Handler) -> Handler:
        """handler(Scheduled) for an EventBridge schedule."""
        self._scheduled = handler
        return handler

    def objects(self, handler: Handler | None = None, *, bucket: Callable[[], str] | None = None) -> Any:
        """handler(list[ObjectRef]) for S3 Object Created events, S3 notifications and {"bucket", "key"} tasks.

        `@router.objects(bucket=lambda: settings.raw_bucket)` serves objects of that bucket only: an event naming
        any other bucket is refused whole (logged, BadEventError, nothing processed) before the handler runs."""

        def register(function: Handler) -> Handler:
            self._objects = function
            self._object_bucket = bucket
            return function

        return register if handler is None else register(handler)

    def _only_from_bucket(self, refs: list[ObjectRef]) -> None:
        if self._object_bucket is None:
            return
        expected = self._object_bucket()
        others = sorted({ref.bucket for ref in refs if ref.bucket != expected})
        if others:
            from retail_platform.observability import logger

            logger.warning(
                "event refused: objects outside the expected bucket",
                extra={"expected_bucket": expected, "buckets": others, "objects": len(refs)},
            )
            raise BadEventError(
                f"{self.function} processes objects of bucket {expected!r} only; the event names {others}: "
                "refused, nothing was processed (the objects are left where they are)"
            )

    def task(self, handler: Handler) -> Handler:
        """handler(dict) for a state machine's task input (the function parses its own fields)."""
        self._task = handler
        return handler

    def step(self, name: str) -> Callable[[Handler], Handler]:
        """handler(dict) for a state machine step `{"step": name, ...}`."""

        def register(handler: Handler) -> Handler:
            self._steps[name] = handler
            return handler

        return register

    # dispatch -----------------------------------------------------------------------------------------------
    def expects(self) -> str:
        kinds = [f"an HTTP API v2 request ({self.routes})"] if self.http else []
        if self._dataset:
            kinds.append("a ProdDatasetUpdated event")
        if self._scheduled:
            kinds.append("a Scheduled Event")
        if self._objects:
            kinds.append('an S3 Object Created event, an S3 notification or {"bucket": ..., "key": ...}')
        if self._steps:
            kinds.append(f"a state machine step ({', '.join(self._steps)})")
        if self._task:
            kinds.append("its state machine task input")
        return ", ".join(kinds) or "nothing"

    def consumed(self, dataset: str) -> bool:
        return self.consumes == EVERY_DATASET or dataset in self.consumes

    def ignored(self, dataset: str) -> dict[str, Any]:
        return {"status": "ignored", "dataset": dataset, "reason": f"{self.function} does not read {dataset!r}"}

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        """Answer one invocation: the HTTP response, the handler's result, `ignored`, or BadEventError."""
        if not isinstance(event, dict):
            raise BadEventError(f"event must be a JSON object, got {type(event).__name__}")
        if self.http is not None and http.is_http_event(event):
            return self.http.resolve(event, context)
        if self._dataset and event.get("detail-type") == PROD_DATASET_UPDATED:
            update = parse_dataset_updated(event)
            return self._dataset(update) if self.consumed(update.dataset) else self.ignored(update.dataset)
        if self._scheduled and is_scheduled(event):
            return self._scheduled(parse_scheduled(event))
        if self._steps and event.get("step") in self._steps:
            return self._steps[event["step"]](event)
        if self._task:
            return self._task(event)
        if self._objects:  # the S3 shapes; object_refs refuses anything else, saying which field is missing
            refs: list[ObjectRef] = object_refs(event)
            self._only_from_bucket(refs)
            return self._objects(refs)
        raise BadEventError(f"unsupported event: {self.function} expects {self.expects()}")
