"""curated-to-prod as a plain function: request in, prod partitions written and announced, summary out.

The handler passes the boto3 clients and settings in; nothing here knows about Lambda.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from marts import PROD_DATASETS, attributes, currency
from marts.incremental import (
    PARTITIONED_INPUTS,
    USES_ATTRIBUTES,
    Plan,
    changed_days,
    full_plan,
    incremental_plan,
    whole_partitions,
)
from marts.sql.run import SqlMarts
from marts.store import CuratedReader, ProdWriter, table_partitions
from retail_platform.contracts import canonical_names
from retail_platform.events import prod_dataset_updated_entries, put_events
from retail_platform.exceptions import BadEventError, ConfigurationError
from retail_platform.observability import logger
from retail_platform.settings import Settings
from retail_platform.sql.engine import SqlEngine, default_memory_limit
from retail_platform.storage.blobstore import S3BlobStore, S3Client
from retail_platform.storage.partitions import month_of

ENGINES = ("duckdb", "athena")
REPORTING_COLUMNS = {"payment_transactions": "amount_reporting", "market_series": "revenue_reporting"}


@dataclass(frozen=True)
class Request:
    full_rebuild: bool
    changed: dict[str, list[str]] = field(default_factory=dict)  # curated dataset -> month labels
    engine: str | None = None  # the rebuild state machine's choice, "duckdb" or "athena" (None: the default)
    measure: bool = False  # {"measure": "curated"}: the curated data's size, nothing rebuilt


def _months(dataset: str, values: Any) -> list[str]:
    """A dataset's changed partitions as sorted, distinct month labels (YYYY-MM; a YYYY-MM-DD day, as older
    events carry, counts as its month)."""
    if values is None:
        return []
    if not isinstance(values, list):
        raise BadEventError(f"partitions.{dataset} must be a list of YYYY-MM months, got {type(values).__name__}")
    months = set()
    for value in values:
        try:
            months.add(month_of(value))
        except (TypeError, ValueError) as e:
            raise BadEventError(f"partitions.{dataset}: {value!r} is not a YYYY-MM month (or YYYY-MM-DD day)") from e
    return sorted(months)


def parse_request(event: Any) -> Request:
    """`{"partitions": {...}}` (the raw-to-curated result), `{"full_rebuild": true, "engine": ...}`, a Scheduled
    Event, or `{"measure": "curated"}` (the rebuild state machine's size probe)."""
    if not isinstance(event, dict):
        raise BadEventError(f"event must be a JSON object, got {type(event).__name__}")
    if event.get("detail-type") == "Scheduled Event":
        return Request(full_rebuild=True)
    if "measure" in event:
        if event["measure"] != "curated":
            raise BadEventError(f'measure must be "curated", got {event["measure"]!r}')
        return Request(full_rebuild=False, measure=True)
    engine = event.get("engine")
    if engine is not None and engine not in ENGINES:
        raise BadEventError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    if "full_rebuild" in event:
        if not isinstance(event["full_rebuild"], bool):
            raise BadEventError(f"full_rebuild must be true or false, got {event['full_rebuild']!r}")
        if event["full_rebuild"]:
            return Request(full_rebuild=True, engine=engine)
    if "partitions" not in event:
        raise BadEventError(
            'unsupported event: expected {"partitions": {"<curated dataset>": ["YYYY-MM", ...]}}, '
            '{"full_rebuild": true} or an EventBridge "Scheduled Event"'
        )
    partitions = event["partitions"]
    if not isinstance(partitions, dict):
        raise BadEventError(f"partitions must be an object of dataset -> months, got {type(partitions).__name__}")
    known = set(canonical_names())
    unknown = sorted(str(name) for name in partitions if name not in known)
    if unknown:
        raise BadEventError(f"partitions names unknown curated datasets {unknown}; known: {sorted(known)}")
    return Request(full_rebuild=False, changed={name: _months(name, labels) for name, labels in partitions.items()})


@dataclass
class Outcome:
    written: dict[str, list[str]] = field(default_factory=dict)  # prod dataset -> partition labels
    deleted: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    events_emitted: int = 0

    def response(self) -> dict[str, Any]:
        return {
            "prod_datasets": _nonempty(self.written),
            "events_emitted": self.events_emitted,
            "partitions_deleted": _nonempty(self.deleted),
        }


def _nonempty(partitions: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {name: list(labels) for name, labels in sorted(partitions.items()) if labels}


def measure(s3: S3Client, settings: Settings) -> dict[str, int]:
    """Bytes and objects of the curated datasets (one listing each, nothing read): the rebuild state machine
    picks its engine by them."""
    from marts.sql.athena import measure_curated

    return measure_curated(S3BlobStore(s3, settings.curated_bucket), canonical_names())


def curated_reads(plan: Plan) -> dict[str, list[str] | None]:
    """The curated partitions a plan reads, as labels (days; a month object overlapping one is read), per
    dataset: nothing of a dataset the plan does not read, the lookups whole when it reads them."""
    reads: dict[str, list[str] | None] = {
        name: sorted(day.isoformat() for day in plan.reads.get(name, ())) for name in PARTITIONED_INPUTS
    }
    reads["products"] = None if plan.read_products else []
    reads["customers"] = None if plan.read_customers else []
    return reads


def lookups_with_attributes(reader: CuratedReader) -> frozenset[str]:
    """The lookup datasets (products, customers) whose curated objects carry custom attributes."""
    return frozenset(name for name in USES_ATTRIBUTES if attributes.extra_names(reader.columns_of_one(name), name))


def publish(outcome: Outcome, events_client: Any, settings: Settings) -> int:
    entries = []
    for name, labels in sorted(outcome.written.items()):
        if labels:
            entries += prod_dataset_updated_entries(settings.event_bus_name, name, settings.prod_bucket, labels)
    return put_events(events_client, entries) if entries else 0


def run_athena(
    s3: S3Client, athena_client: Any, events_client: Any, settings: Settings, glue_client: Any = None
) -> Outcome:
    """A full rebuild by Athena (the rebuild state machine's choice past one Lambda): the marts' Trino SQL over the
    catalogued curated tables, each month then replacing its prod object; the months are announced as usual.
    With a Glue client, the curated objects' custom attributes are declared for the run and carried into prod
    (`marts.sql.run_tables`); without one, a rebuild of data that has attributes fails with a clear error."""
    from marts.sql.athena import AthenaQueries, AthenaRebuild

    if not (settings.glue_database and settings.athena_workgroup):
        raise ConfigurationError('engine "athena" needs GLUE_DATABASE and ATHENA_WORKGROUP (set by the pipeline stack)')
    queries = AthenaQueries(athena_client, settings.glue_database, settings.athena_workgroup)
    prod, curated = S3BlobStore(s3, settings.prod_bucket), S3BlobStore(s3, settings.curated_bucket)
    written = AthenaRebuild(queries, prod, settings.reporting_currency, curated=curated, glue=glue_client).run()
    outcome = Outcome(written={name: sorted(labels) for name, labels in written.items()})
    outcome.events_emitted = publish(outcome, events_client, settings)
    logger.info("prod written by athena", extra={"partitions": {k: len(v) for k, v in outcome.written.items()}})
    return outcome


def run(request: Request, s3: S3Client, events_client: Any, settings: Settings) -> Outcome:
    reader = CuratedReader(s3, settings.curated_bucket)
    writer = ProdWriter(s3, settings.prod_bucket)
    available = reader.available(PARTITIONED_INPUTS)
    lookups = lookups_with_attributes(reader)

    def planned_for(full: bool) -> Plan:
        plan = (
            full_plan(available, lookups)
            if full
            else incremental_plan(changed_days(request.changed, available), available, lookups)
        )
        return whole_partitions(plan, available, writer.partition_of)

    plan = planned_for(request.full_rebuild)
    outcome = Outcome()
    if plan.empty and not plan.full:
        _log_plan(plan)
        return outcome
    existing = {name: writer.existing(name) for name in PROD_DATASETS}
    previous = currency.load(s3, settings.prod_bucket)
    with SqlEngine(memory_limit=default_memory_limit()) as engine:
        marts = SqlMarts.from_store(reader.store, engine, curated_reads(plan))
        state = currency.next_state(settings.reporting_currency, marts.currencies(), previous, plan.full)
        if not plan.full and currency.needs_full_rebuild(previous, state, any(existing.values())):
            note = (
                f"reporting currency {previous.currency if previous else 'unknown'} -> {state.currency}: full rebuild"
            )
            plan = replace(planned_for(True), notes=(note,))
            marts = SqlMarts.from_store(reader.store, engine, curated_reads(plan))
            state = currency.next_state(settings.reporting_currency, marts.currencies(), previous, True)
        _log_plan(plan, state.currency)
        state = _write_batches(
            marts, plan, state, writer, outcome, lambda s: currency.save(s3, settings.prod_bucket, s, previous)
        )
    for name, labels in outcome.written.items():
        gone = (
            existing[name]
            if plan.full
            else existing[name] & {writer.partition_of(d) for d in plan.targets.get(name, ())}
        )
        stale = sorted(gone - set(labels))
        outcome.deleted[name] = writer.delete(name, stale) if stale else []
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


def _write_batches(
    marts: SqlMarts, plan: Plan, state: currency.State, writer: ProdWriter, outcome: Outcome, save: Callable[..., None]
) -> currency.State:
    """Build the plan's targets batch of months by batch (memory bounded by a batch) and write each batch's
    partitions before the next is built; the currency state is saved (rebuilding) before the first write."""
    targets = {name: {writer.partition_of(d) for d in days} for name, days in plan.targets.items()}
    names = [name for name in PROD_DATASETS if plan.full or plan.targets.get(name)]
    unconverted: dict[str, int] = {}
    saved = False
    for name in names:
        outcome.written[name], outcome.rows[name] = [], 0
    for tables in marts.tables({n: plan.targets.get(n, ()) for n in names}, state.currency):
        for name, table in tables.items():
            parts = {k: t for k, t in table_partitions(table, writer.grain).items() if k in targets.get(name, set())}
            if parts and not saved:  # the state describes prod's partitions: saved once some are written
                state = replace(state, rebuilding=plan.full)
                save(state)  # before the partitions: a killed run leaves it true
                saved = True
            outcome.written[name] += writer.write(name, parts)
            outcome.rows[name] += table.num_rows
            column = REPORTING_COLUMNS.get(name, "revenue_reporting")
            if column in table.column_names:
                unconverted[name] = unconverted.get(name, 0) + table.column(column).null_count
    for name, rows in unconverted.items():
        if rows:
            logger.warning(
                "rows without an FX rate to the reporting currency",
                extra={"dataset": name, "column": REPORTING_COLUMNS.get(name, "revenue_reporting"), "rows": rows},
            )
    return state


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
