"""Which prod partitions a set of changed curated partitions affects, and which curated partitions
rebuilding them needs.

Dependencies are declared per prod dataset as curated dataset -> day offsets: prod partition `t` reads
curated partition `t + offset`. A change of curated day `d` therefore affects prod days `d - offset`.
Weekly datasets are keyed by the Monday of the week and read every day of it. Lookups are special:
`products` (unpartitioned: a change affects every partition of the datasets that use categories, and of
daily_sales when the catalogue carries custom attributes), `customers` (read whole, and only when they
carry custom attributes: a change then affects every customer_transactions partition) and `fx_rates` (a
rate is forward-filled: a change on day `d` affects every day up to the next rate).

Curated and prod partitions may be months: `changed_days` turns the labels of a request into the days they
cover, and `whole_partitions` widens a plan so that every prod partition it touches is rebuilt whole (a
month object is replaced, so all of its days must be in it), reading what those days need.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from marts import DAILY_DATASETS, PROD_DATASETS, WEEKLY_DATASETS
from retail_platform.storage.partitions import days_of, grain_of, span

SAME_DAY = (0,)
AROUND = (-1, 0, 1)  # payment_transactions.ORDER_WINDOW_DAYS
FX_LOOKBACK_DAYS = 7  # fx partitions read before the first day needed, besides the last one before it

DEPENDENCIES: dict[str, dict[str, tuple[int, ...]]] = {
    "daily_sales": {"order_lines": SAME_DAY, "prices": SAME_DAY, "inventory": SAME_DAY},
    "customer_transactions": {"order_lines": SAME_DAY, "orders": SAME_DAY},
    "payment_transactions": {"payments": SAME_DAY, "orders": AROUND, "order_lines": AROUND},
    "country_kpis": {"order_lines": SAME_DAY},
    "copilot_mart": {"order_lines": SAME_DAY},
    "market_series": {"order_lines": SAME_DAY},
}
# The curated datasets whose days a full rebuild produces (others only enrich rows).
DRIVERS: dict[str, tuple[str, ...]] = {
    "daily_sales": ("order_lines", "prices", "inventory"),
    "customer_transactions": ("order_lines",),
    "payment_transactions": ("payments",),
    "country_kpis": ("order_lines",),
    "copilot_mart": ("order_lines",),
    "market_series": ("order_lines",),
}
USES_PRODUCTS = ("copilot_mart", "market_series")
# lookup -> the prod datasets that join its custom attributes (only when it carries some)
USES_ATTRIBUTES = {"products": ("daily_sales",), "customers": ("customer_transactions",)}
CONVERTS_CURRENCY = PROD_DATASETS  # every prod dataset has a reporting-currency column
PARTITIONED_INPUTS = ("order_lines", "orders", "payments", "prices", "inventory", "fx_rates")


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _days_of_week(monday: date) -> list[date]:
    return [monday + timedelta(days=i) for i in range(7)]


def days_read(dataset: str, target: date) -> list[date]:
    return _days_of_week(target) if dataset in WEEKLY_DATASETS else [target]


@dataclass(frozen=True)
class Plan:
    """Prod partitions to rebuild and curated partitions to read for them."""

    targets: dict[str, frozenset[date]]
    reads: dict[str, frozenset[date]]
    read_products: bool
    read_customers: bool = False
    full: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not any(self.targets.values())


def _fx_affected_days(changed: Iterable[date], fx_available: set[date], horizon: date) -> set[date]:
    """Each changed rate day up to the day before the next available rate (or the horizon)."""
    later = sorted(fx_available)
    days: set[date] = set()
    for start in changed:
        position = bisect.bisect_right(later, start)
        end = later[position] - timedelta(days=1) if position < len(later) else horizon
        days.update(start + timedelta(days=i) for i in range((end - start).days + 1))
    return days


def _fx_reads(days_needed: set[date], fx_available: set[date]) -> set[date]:
    """Rates of the days needed and the week before each, plus the last rate on or before each day."""
    available = sorted(fx_available)
    reads: set[date] = set()
    for day in days_needed:
        low = bisect.bisect_left(available, day - timedelta(days=FX_LOOKBACK_DAYS))
        high = bisect.bisect_right(available, day)
        reads.update(available[low:high])
        if high:
            reads.add(available[high - 1])  # the last known rate, however old, for the forward fill
    return reads


def _reads_for(targets: Mapping[str, set[date]], available: Mapping[str, set[date]]) -> dict[str, set[date]]:
    reads: dict[str, set[date]] = {name: set() for name in PARTITIONED_INPUTS}
    for prod, days in targets.items():
        for source, offsets in DEPENDENCIES[prod].items():
            wanted = {d + timedelta(days=o) for t in days for d in days_read(prod, t) for o in offsets}
            reads[source] |= wanted & available.get(source, set())
    return reads


def lookup_users(with_attributes: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
    """Lookup dataset -> the prod datasets that read it, given which lookups carry custom attributes."""
    users = {"products": USES_PRODUCTS, "customers": ()}
    for lookup in with_attributes:
        users[lookup] = users[lookup] + USES_ATTRIBUTES[lookup]
    return users


def _reads_lookup(targets: Mapping[str, set[date]], users: tuple[str, ...]) -> bool:
    return any(targets.get(prod) for prod in users)


def full_plan(available: Mapping[str, set[date]], with_attributes: Iterable[str] = ()) -> Plan:
    """Every prod partition that the curated data present can produce. `with_attributes`: the lookups
    (products, customers) that carry custom attributes."""
    targets: dict[str, set[date]] = {}
    for prod in PROD_DATASETS:
        days = set().union(*(available.get(s, set()) for s in DRIVERS[prod]))
        targets[prod] = {week_of(d) for d in days} if prod in WEEKLY_DATASETS else days
    reads = _reads_for(targets, available)
    reads["fx_rates"] = set(available.get("fx_rates", set()))
    users = lookup_users(with_attributes)
    return Plan(
        targets={k: frozenset(v) for k, v in targets.items()},
        reads={k: frozenset(v) for k, v in reads.items()},
        read_products=True,
        read_customers=_reads_lookup(targets, users["customers"]),
        full=True,
    )


def incremental_plan(
    changed: Mapping[str, Iterable[date]], available: Mapping[str, set[date]], with_attributes: Iterable[str] = ()
) -> Plan:
    """The prod partitions that `changed` curated partitions affect, and the curated reads they need.

    `changed`: curated dataset -> days (as raw-to-curated returns; `products` with no days means the
    catalogue changed). `available`: curated dataset -> days present in the curated bucket.
    `with_attributes`: the lookups (products, customers) that carry custom attributes.
    """
    changed = {name: set(days) for name, days in changed.items()}
    notes: list[str] = []
    horizon = max((max(days) for days in available.values() if days), default=None)
    daily_changes: dict[str, set[date]] = {prod: set() for prod in PROD_DATASETS}
    for prod in PROD_DATASETS:
        for source, offsets in DEPENDENCIES[prod].items():
            daily_changes[prod] |= {d - timedelta(days=o) for d in changed.get(source, ()) for o in offsets}
    if changed.get("fx_rates") and horizon is not None:
        fx_days = _fx_affected_days(changed["fx_rates"], available.get("fx_rates", set()), horizon)
        for prod in CONVERTS_CURRENCY:
            daily_changes[prod] |= fx_days

    targets: dict[str, set[date]] = {}
    for prod in PROD_DATASETS:
        days = daily_changes[prod]
        targets[prod] = {week_of(d) for d in days} if prod in WEEKLY_DATASETS else days
    users = lookup_users(with_attributes)
    for lookup, prods in users.items():
        if lookup not in changed or not prods:
            continue
        notes.append(f"{lookup} changed: every partition of " + ", ".join(prods))
        for prod in prods:
            driver_days = set().union(*(available.get(s, set()) for s in DRIVERS[prod]))
            targets[prod] |= {week_of(d) for d in driver_days} if prod in WEEKLY_DATASETS else driver_days
    ignored = sorted(set(changed) - set(PARTITIONED_INPUTS) - {name for name, prods in users.items() if prods})
    if ignored:
        notes.append(f"no prod dataset reads {ignored}")

    reads = _reads_for(targets, available)
    days_needed = {d for prod, days in targets.items() for t in days for d in days_read(prod, t)}
    reads["fx_rates"] = _fx_reads(days_needed, available.get("fx_rates", set()))
    return Plan(
        targets={k: frozenset(v) for k, v in targets.items()},
        reads={k: frozenset(v) for k, v in reads.items()},
        read_products=_reads_lookup(targets, users["products"]),
        read_customers=_reads_lookup(targets, users["customers"]),
        notes=tuple(notes),
    )


def changed_days(changed: Mapping[str, Iterable[str]], available: Mapping[str, set[date]]) -> dict[str, set[date]]:
    """The days a request's day or month labels cover, per curated dataset.

    A month of FX rates also counts the next month that holds rates: which day of it has the first rate is not
    listed, and the days before it carry the changed month's last rate forward."""
    days: dict[str, set[date]] = {}
    for name, labels in changed.items():
        labels = list(labels)
        days[name] = {d for label in labels for d in days_of(label)}
        if name == "fx_rates":
            later = sorted(available.get(name, set()))
            for label in labels:
                if grain_of(label) == "month":
                    end = span(label)[1]
                    position = bisect.bisect_right(later, end)
                    if position < len(later):
                        days[name] |= set(days_of(later[position].isoformat()[:7]))
    return days


def whole_partitions(plan: Plan, available: Mapping[str, set[date]], partition_of: Callable[[date], str]) -> Plan:
    """`plan` with every prod partition it touches rebuilt whole (each target day widened to every day, or
    Monday of a weekly dataset, of its partition) and the curated reads those days need."""
    targets: dict[str, set[date]] = {}
    for prod, days in plan.targets.items():
        widened = {d for label in {partition_of(t) for t in days} for d in days_of(label)}
        targets[prod] = {d for d in widened if d.weekday() == 0} if prod in WEEKLY_DATASETS else widened
    reads = _reads_for(targets, available)
    days_needed = {d for prod, days in targets.items() for t in days for d in days_read(prod, t)}
    fx_available = available.get("fx_rates", set())
    reads["fx_rates"] = set(fx_available) if plan.full else _fx_reads(days_needed, fx_available)
    return replace(
        plan,
        targets={k: frozenset(v) for k, v in targets.items()},
        reads={k: frozenset(v) for k, v in reads.items()},
    )


__all__ = [
    "DAILY_DATASETS",
    "DEPENDENCIES",
    "Plan",
    "changed_days",
    "full_plan",
    "incremental_plan",
    "week_of",
    "whole_partitions",
]
