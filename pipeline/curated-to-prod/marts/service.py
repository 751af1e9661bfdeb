"""curated-to-prod as a plain function: request in, prod partitions written and announced, summary out.

The handler passes the boto3 clients and settings in; nothing here knows about Lambda.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from marts import PROD_DATASETS, attributes, currency
from marts.build import build_marts
from marts.curated import CuratedInputs
from marts.incremental import PARTITIONED_INPUTS, USES_ATTRIBUTES, Plan, full_plan, incremental_plan
from marts.store import CuratedReader, ProdWriter, partition_tables
from retail_platform.contracts import canonical_names
from retail_platform.events import prod_dataset_updated_entries, put_events
from retail_platform.exceptions import BadEventError
from retail_platform.observability import logger
from retail_platform.settings import Settings
from retail_platform.storage.blobstore import S3Client

REPORTING_COLUMNS = {"payment_transactions": "amount_reporting", "market_series": "revenue_reporting"}


@dataclass(frozen=True)
class Request:
    full_rebuild: bool
    changed: dict[str, list[date]] = field(default_factory=dict)


def _days(dataset: str, values: Any) -> list[date]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise BadEventError(f"partitions.{dataset} must be a list of YYYY-MM-DD dates, got {type(values).__name__}")
    days = []
    for value in values:
        try:
            days.append(date.fromisoformat(value))
        except (TypeError, ValueError) as e:
            raise BadEventError(f"partitions.{dataset}: {value!r} is not a YYYY-MM-DD date") from e
    return sorted(set(days))


def parse_request(event: Any) -> Request:
    """`{"partitions": {...}}` (the raw-to-curated result), `{"full_rebuild": true}` or a Scheduled Event."""
    if not isinstance(event, dict):
        raise BadEventError(f"event must be a JSON object, got {type(event).__name__}")
    if event.get("detail-type") == "Scheduled Event":
        return Request(full_rebuild=True)
    if "full_rebuild" in event:
        if not isinstance(event["full_rebuild"], bool):
            raise BadEventError(f"full_rebuild must be true or false, got {event['full_rebuild']!r}")
        if event["full_rebuild"]:
            return Request(full_rebuild=True)
    if "partitions" not in event:
        raise BadEventError(
            'unsupported event: expected {"partitions": {"<curated dataset>": ["YYYY-MM-DD", ...]}}, '
            '{"full_rebuild": true} or an EventBridge "Scheduled Event"'
        )
    partitions = event["partitions"]
    if not isinstance(partitions, dict):
        raise BadEventError(f"partitions must be an object of dataset -> dates, got {type(partitions).__name__}")
    known = set(canonical_names())
    unknown = sorted(str(name) for name in partitions if name not in known)
    if unknown:
        raise BadEventError(f"partitions names unknown curated datasets {unknown}; known: {sorted(known)}")
    return Request(full_rebuild=False, changed={name: _days(name, days) for name, days in partitions.items()})


@dataclass
class Outcome:
    written: dict[str, list[date]] = field(default_factory=dict)
    deleted: dict[str, list[date]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    events_emitted: int = 0

    def response(self) -> dict[str, Any]:
        return {
            "prod_datasets": _iso(self.written),
            "events_emitted": self.events_emitted,
            "partitions_deleted": _iso(self.deleted),
        }


def _iso(partitions: Mapping[str, list[date]]) -> dict[str, list[str]]:
    return {name: [d.isoformat() for d in days] for name, days in sorted(partitions.items()) if days}


def read_inputs(reader: CuratedReader, plan: Plan) -> CuratedInputs:
    frames = {name: reader.read(name, plan.reads.get(name, ())) for name in PARTITIONED_INPUTS}
    if plan.read_products:
        frames["products"] = reader.read("products", None)
    if plan.read_customers:
        frames["customers"] = reader.read("customers", None)
    return CuratedInputs.from_frames(frames)


def lookups_with_attributes(reader: CuratedReader) -> frozenset[str]:
    """The lookup datasets (products, customers) whose curated objects carry custom attributes."""
    return frozenset(name for name in USES_ATTRIBUTES if attributes.extra_names(reader.columns_of_one(name), name))


def publish(outcome: Outcome, events_client: Any, settings: Settings) -> int:
    entries = []
    for name, days in sorted(outcome.written.items()):
        if days:
            entries += prod_dataset_updated_entries(
                settings.event_bus_name, name, settings.prod_bucket, [d.isoformat() for d in days]
            )
    return put_events(events_client, entries) if entries else 0


def run(request: Request, s3: S3Client, events_client: Any, settings: Settings) -> Outcome:
    reader = CuratedReader(s3, settings.curated_bucket)
    available = reader.available(PARTITIONED_INPUTS)
    lookups = lookups_with_attributes(reader)
    plan = (
        full_plan(available, lookups) if request.full_rebuild else incremental_plan(request.changed, available, lookups)
    )
    outcome = Outcome()
    if plan.empty and not plan.full:
        _log_plan(plan)
        return outcome
    writer = ProdWriter(s3, settings.prod_bucket)
    existing = {name: writer.existing(name) for name in PROD_DATASETS}
    inputs = read_inputs(reader, plan)
    previous = currency.load(s3, settings.prod_bucket)
    state = currency.next_state(settings.reporting_currency, currency.currencies(inputs), previous, plan.full)
    if not plan.full and currency.needs_full_rebuild(previous, state, any(existing.values())):
        note = f"reporting currency {previous.currency if previous else 'unknown'} -> {state.currency}: full rebuild"
        plan = replace(full_plan(available, lookups), notes=(note,))
        inputs = read_inputs(reader, plan)
        state = currency.next_state(settings.reporting_currency, currency.currencies(inputs), previous, True)
    _log_plan(plan, state.currency)
    marts = build_marts(inputs, plan.targets, state.currency)
    planned = {
        name: partition_tables(marts[name], name) if marts.get(name) is not None else {}
        for name in PROD_DATASETS
        if plan.full or plan.targets.get(name)
    }
    if any(planned.values()):  # the state describes prod's partitions: none written, nothing to describe
        state = replace(state, rebuilding=plan.full)
        currency.save(s3, settings.prod_bucket, state, previous)  # before the partitions: a killed run leaves it true

    for name, parts in planned.items():
        targets = plan.targets.get(name, frozenset())
        frame = marts.get(name)
        stale = (existing[name] if plan.full else existing[name] & targets) - set(parts)
        outcome.written[name] = writer.write(name, parts)
        outcome.deleted[name] = writer.delete(name, stale) if stale else []
        outcome.rows[name] = 0 if frame is None else len(frame)
        _warn_unconverted(name, frame)
    if state.rebuilding:  # every partition of the rebuild is written: prod is whole again
        currency.save(s3, settings.prod_bucket, replace(state, rebuilding=False), state)
    outcome.events_emitted = publish(outcome, events_client, settings)
    logger.info(
        "prod written",
        extra={
            "rows": outcome.rows,
            "partitions": {k: len(v) for k, v in outcome.written.items()},
            "deleted": {k: len(v) for k, v in outcome.deleted.items() if v},
            "events_emitted": outcome.events_emitted,
        },
    )
    return outcome


def _log_plan(plan: Plan, reporting: str | None = None) -> None:
    logger.info(
        "plan",
        extra={
            "full_rebuild": plan.full,
            "notes": list(plan.notes),
            "targets": {k: len(v) for k, v in plan.targets.items()},
            "reads": {k: len(v) for k, v in plan.reads.items()},
            "reporting_currency": reporting,
        },
    )


def _warn_unconverted(name: str, frame: Mapping[str, Any] | None) -> None:
    column = REPORTING_COLUMNS.get(name, "revenue_reporting")
    if frame is None or column not in frame:
        return
    missing = int(frame[column].isna().sum())
    if missing:
        logger.warning(
            "rows without an FX rate to the reporting currency",
            extra={"dataset": name, "column": column, "rows": missing},
        )
