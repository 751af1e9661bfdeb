"""Executes a QueryPlan: each aggregate it needs is compiled to SQL (`sqlplan`) and run by a `Warehouse`
(DuckDB over frames, snapshot or prod parquet; Athena over the catalogued prod tables); pandas only ranks and
words the small results.

No string from a question ever reaches SQL as text: columns, groupings and reductions are chosen from the
whitelists by the plan's typed fields, identifiers come from the tables' schemas, values are bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from retail_copilot import sqlplan
from retail_copilot.attributes import Attributes, display, plural
from retail_copilot.catalog import Catalog
from retail_copilot.errors import PlanError
from retail_copilot.periods import Period, previous_period
from retail_copilot.plan import TIME_GROUPS, QueryPlan
from retail_copilot.sqlplan import Aggregate, compile_aggregate, compile_max_per_sku
from retail_copilot.warehouse import DuckWarehouse, Warehouse

__all__ = ["PlanError", "QueryEngine", "Result", "fmt", "metric_label"]

METRIC_LABELS = {
    "revenue": "revenue",
    "units": "units sold",
    "orders": "orders",
    "aov": "average order value",
    "customers": "distinct customers",
    "daily_customers": "customers per day (average)",
    "skus": "distinct products",
    "countries": "countries with sales",
    "distinct": "distinct values",
    "profit": "profit",
    "margin": "margin",
    "measure": "total",
}
ADDITIVE = ("revenue", "units", "orders", "profit", "measure")  # groups add up to the total (shares shown)
COUNTS = ("customers", "skus", "countries", "distinct")  # distinct counts: a total is not the sum of its groups
MONEY = ("revenue", "aov", "profit")
GROUP_COLUMNS = {"country": "country", "category": "category", "product": "sku"}
MART, KPIS, ORDERS = sqlplan.MART, sqlplan.KPIS, sqlplan.ORDERS


@dataclass
class Result:
    text: str
    value: float | None = None
    table: dict[str, Any] | None = None
    period: Period | None = None
    compare: Period | None = None
    details: dict[str, Any] = field(default_factory=dict)
    datasets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Selection:
    """A metric over the rows a plan selects, with how many rows and how many lacked reporting revenue."""

    value: float
    rows: int
    missing_revenue: int

    @property
    def empty(self) -> bool:
        return self.rows == 0


def metric_label(metric: str, measure: str | None = None) -> str:
    if metric == "measure" and measure:
        return display(measure)
    if metric == "distinct" and measure:
        return f"distinct {plural(display(measure))}"
    return METRIC_LABELS[metric]


def fmt(value: float | None, metric: str, currency: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if metric in MONEY:
        return f"{value:,.2f} {currency}".rstrip()
    if metric == "margin":
        return f"{value:,.1f}%"
    if metric == "daily_customers":
        return f"{value:,.1f}"
    if metric == "measure":
        return f"{value:,.2f}"
    return f"{round(value):,}"


class QueryEngine:
    """Answers data plans (totals, breakdown, top, compare, trend) from copilot_mart, country_kpis and, for
    distinct customers and orders, customer_transactions, through SQL."""

    def __init__(self, warehouse: Warehouse, catalog: Catalog, currency: str = "EUR") -> None:
        self.warehouse = warehouse
        self.catalog = catalog
        self.currency = currency
        self.attributes = warehouse.attributes
        table, day = warehouse.tables.name(MART), warehouse.tables.column(MART, "date")
        bounds = warehouse.fetch(sqlplan.Query(f"SELECT MIN({day}) AS first_day, MAX({day}) AS last_day FROM {table}"))  # noqa: S608
        first, last = bounds.iloc[0]["first_day"], bounds.iloc[0]["last_day"]
        self.first = None if pd.isna(first) else pd.Timestamp(first).date()
        self.last = None if pd.isna(last) else pd.Timestamp(last).date()

    @classmethod
    def from_frames(
        cls,
        mart: pd.DataFrame,
        kpis: pd.DataFrame,
        catalog: Catalog,
        currency: str = "EUR",
        orders: pd.DataFrame | None = None,
    ) -> QueryEngine:
        """An engine over frames held in memory (registered with DuckDB, answered through the same SQL)."""
        return cls(DuckWarehouse.from_frames(mart, kpis, orders), catalog, currency)

    @property
    def empty(self) -> bool:
        return self.first is None

    def has_orders(self) -> bool:
        return ORDERS in self.warehouse.tables.columns

    @cached_property
    def product_attributes(self) -> frozenset[str]:
        """Dimensions that describe the product (one value per SKU: sub_category, brand, ...), as opposed to the
        order's (region, segment, ...). customer_transactions holds an order's first value of each, which is
        right for the order's and meaningless for a product's."""
        if self.empty or not self.attributes.dimensions:
            return frozenset()
        dimensions = list(self.attributes.dimensions)
        most = self.warehouse.fetch(compile_max_per_sku(dimensions, self.warehouse.tables)).iloc[0]
        return frozenset(name for name in dimensions if pd.notna(most[name]) and int(most[name]) <= 1)

    # ------------------------------------------------------------------ helpers

    def _window(self, period: Period | None) -> Period:
        if period is None:
            return Period(self.first, self.last, f"all available data ({self.first} to {self.last})", "custom")
        return period

    def _check_period(self, period: Period) -> None:
        if period.end < self.first or period.start > self.last:
            raise PlanError(
                f"There is no data for {period.label} ({period.start} to {period.end}); "
                f"the data covers {self.first} to {self.last}."
            )

    def _request(self, plan: QueryPlan, period: Period, source: str, by: str | None = None) -> Aggregate:
        """The aggregate a plan needs over one period: its metric, filters and grouping, all typed."""
        filters = [("country", plan.countries)] if plan.countries else []
        if source == MART:
            filters += [(c, v) for c, v in (("category", plan.categories), ("sku", plan.skus)) if v]
        if source in (MART, ORDERS):
            filters += [(c, v) for c, v in plan.attributes.items() if v]
        return Aggregate(
            source,
            plan.metric,
            period.start,
            period.end,
            tuple((column, tuple(values)) for column, values in filters),
            by,
            plan.measure,
        )

    def _series(self, plan: QueryPlan, period: Period, source: str, group: str) -> pd.Series:
        """The metric per group (a column, or a time unit), groups in sorted order, groups without a value
        left out."""
        by = f"bucket:{group}" if group in TIME_GROUPS else GROUP_COLUMNS.get(group, group)
        frame = self.warehouse.fetch(compile_aggregate(self._request(plan, period, source, by), self.warehouse.tables))
        keys = frame[sqlplan.KEY]
        if group in TIME_GROUPS:
            keys = pd.to_datetime(keys)
        series = pd.Series(pd.to_numeric(frame[sqlplan.VALUE]).to_numpy(dtype="float64"), index=keys.to_numpy())
        return series.sort_index(kind="mergesort").dropna()

    def _selection(self, plan: QueryPlan, period: Period, source: str) -> Selection:
        frame = self.warehouse.fetch(compile_aggregate(self._request(plan, period, source), self.warehouse.tables))
        row = frame.iloc[0]
        rows = int(row[sqlplan.ROWS] or 0)
        value = float("nan") if pd.isna(row[sqlplan.VALUE]) else float(row[sqlplan.VALUE])
        if np.isnan(value) and rows == 0 and plan.metric in ("revenue", "measure"):
            value = 0.0  # nothing selected: a sum of nothing (a selection whose amounts are all missing stays n/a)
        return Selection(value, rows, int(row[sqlplan.NULLS] or 0))

    def _product_level(self, plan: QueryPlan) -> bool:
        return bool(plan.categories or plan.skus or plan.group_by in ("category", "product"))

    def _attributes_used(self, plan: QueryPlan) -> list[str]:
        used = [name for name, values in plan.attributes.items() if values]
        if plan.group_by is not None and plan.group_by not in GROUP_COLUMNS and plan.group_by not in TIME_GROUPS:
            used.append(plan.group_by)
        return used

    def _check_mart_columns(self, plan: QueryPlan) -> None:
        """Every custom column the plan names exists in copilot_mart; profit and margin can be computed."""
        attrs = self.attributes
        unknown = [name for name in self._attributes_used(plan) if name not in attrs.dimensions]
        if unknown:
            raise PlanError(
                f"The sales data has no '{display(unknown[0])}' attribute"
                f"{'; its attributes: ' + ', '.join(map(display, attrs.dimensions)) if attrs.dimensions else ''}."
            )
        if plan.metric == "measure" and plan.measure not in attrs.measures:
            raise PlanError(f"The sales data has no '{display(plan.measure or '')}' figure.")
        if plan.metric == "distinct" and plan.measure not in attrs.dimensions:
            raise PlanError(f"The sales data has no '{display(plan.measure or '')}' attribute.")
        if plan.metric == "profit" and not attrs.has_profit:
            raise PlanError(no_profit_message(attrs))
        if plan.metric == "margin" and not attrs.has_margin:
            raise PlanError(no_profit_message(attrs))

    def _source(self, plan: QueryPlan) -> str:
        """The dataset a plan is answered from, or why it cannot be answered from any."""
        metric = plan.metric
        attributes = self._attributes_used(plan)
        if metric in ("revenue", "units", "skus", "countries", "distinct", "profit", "margin", "measure"):
            self._check_mart_columns(plan)
            return MART
        label = metric_label(metric).capitalize()
        if metric == "customers" or (metric == "orders" and attributes):
            if self._product_level(plan) or any(a in self.product_attributes for a in attributes):
                raise PlanError(
                    f"{label} per category or product cannot be counted: customer_transactions has orders and "
                    "customers but not the products in them."
                )
            if not self.has_orders():
                raise PlanError(
                    f"{label} cannot be counted: prod customer_transactions (orders with customer ids) is not "
                    "available, and daily counts cannot be added up into distinct ones."
                )
            missing = [name for name in attributes if name not in self.warehouse.tables.columns[ORDERS]]
            if missing:
                raise PlanError(
                    f"{label} cannot be split by {display(missing[0])}: customer_transactions has no such column."
                )
            return ORDERS
        if metric == "orders" and self._product_level(plan):
            return MART
        if self._product_level(plan):
            raise PlanError(
                f"{label} is only known per country and in total, "
                "not per category or product (an order can hold several products)."
            )
        if attributes:
            raise PlanError(f"{label} is only known per country and in total, not per {display(attributes[0])}.")
        if KPIS not in self.warehouse.tables.columns:
            raise PlanError(f"{label} cannot be answered: prod country_kpis is not available.")
        return KPIS

    def _metric_value(self, plan: QueryPlan, period: Period) -> tuple[float, Selection, str]:
        source = self._source(plan)
        selection = self._selection(plan, period, source)
        return selection.value, selection, source

    def _label(self, group: str, key: Any) -> str:
        if group in TIME_GROUPS:
            return _bucket_label(key, group)
        if group == "country":
            return f"{self.catalog.countries.get(key, key)} ({key})"
        if group == "product":
            return self.catalog.product_label(key)
        return str(key)

    def _ranking_key(self, group: str, key: Any) -> str:
        return _bucket_label(key, group) if group in TIME_GROUPS else str(_key(key))

    def _filters_text(self, plan: QueryPlan) -> str:
        parts = []
        if plan.countries:
            parts.append(", ".join(self.catalog.countries.get(c, c) for c in plan.countries))
        if plan.categories:
            parts.append(", ".join(plan.categories))
        if plan.skus:
            parts.append(", ".join(self.catalog.product_label(s) for s in plan.skus))
        for name, values in plan.attributes.items():
            if values:
                parts.append(f"{display(name)} {', '.join(values)}")
        return (" in " + "; ".join(parts)) if parts else ""

    def _subject(self, plan: QueryPlan) -> str:
        return f"{metric_label(plan.metric, plan.measure).capitalize()}{self._filters_text(plan)}"

    def _null_note(self, selected: Selection, plan: QueryPlan) -> list[str]:
        if plan.metric in ("revenue", "aov", "margin") and selected.missing_revenue:
            n = selected.missing_revenue
            return [f"{n} rows have no FX rate to {self.currency or 'the reporting currency'} and are left out."]
        return []

    # ------------------------------------------------------------------ intents

    def run(self, plan: QueryPlan) -> Result:
        if self.empty:
            raise PlanError("There is no sales data yet (prod copilot_mart is empty).")
        handler = {
            "totals": self.totals,
            "breakdown": self.breakdown,
            "top": self.top,
            "compare": self.compare,
            "trend": self.trend,
        }[plan.intent]
        return handler(plan)

    def totals(self, plan: QueryPlan) -> Result:
        period = self._window(plan.period)
        self._check_period(period)
        value, selected, source = self._metric_value(plan, period)
        if selected.empty:
            what = metric_label(plan.metric, plan.measure)
            text = f"No sales{self._filters_text(plan)} in {period.label}: {what} is 0."
            value = 0.0 if plan.metric in (*ADDITIVE, *COUNTS) else float("nan")
        else:
            text = f"{self._subject(plan)} in {period.label}: {fmt(value, plan.metric, self.currency)}."
        return Result(
            text,
            None if np.isnan(value) else round(float(value), 2),
            period=period,
            datasets=[source],
            notes=self._null_note(selected, plan),
        )

    def _grouped(self, plan: QueryPlan, period: Period) -> tuple[pd.Series, str]:
        source = self._source(plan)
        return self._series(plan, period, source, plan.group_by), source

    def breakdown(self, plan: QueryPlan) -> Result:
        period = self._window(plan.period)
        self._check_period(period)
        series, source = self._grouped(plan, period)
        series = series.sort_values(ascending=False, kind="mergesort")
        selected = self._selection(plan, period, source)
        if plan.metric in ADDITIVE:
            total: float | None = float(series.sum())
        elif plan.metric in (*COUNTS, "margin"):  # over the whole selection, not a sum of the groups
            total = selected.value
        else:
            total = None
        rows = [[self._label(plan.group_by, k), round(float(v), 2)] for k, v in series.items()]
        if plan.metric in ("revenue", "units", "orders") and total:
            for row in rows:
                row.append(round(100 * row[1] / total, 1))
        shown = ", ".join(f"{r[0]} {fmt(r[1], plan.metric, self.currency)}" for r in rows[:5])
        text = (
            f"{self._subject(plan)} in {period.label} by {display(plan.group_by)}: "
            f"{shown}{' …' if len(rows) > 5 else ''}."
            if rows
            else f"No sales{self._filters_text(plan)} in {period.label}."
        )
        columns = [plan.group_by, plan.metric] + (["share_%"] if rows and len(rows[0]) == 3 else [])
        return Result(
            text,
            None if total is None or np.isnan(total) else round(total, 2),
            table={"columns": columns, "rows": rows[:50]},
            period=period,
            details={"groups": {str(k): round(float(v), 2) for k, v in series.items()}},
            datasets=[source],
            notes=self._null_note(selected, plan),
        )

    def top(self, plan: QueryPlan) -> Result:
        period = self._window(plan.period)
        self._check_period(period)
        if plan.group_by in TIME_GROUPS:
            series = self._time_series(plan, period, plan.group_by)[0]
        else:
            series = self._grouped(plan, period)[0]
        ordered = series.sort_values(ascending=plan.ascending, kind="mergesort")
        # ties broken by key so that the answer never depends on row order
        frame = ordered.rename("value").reset_index()
        key_column = frame.columns[0]
        frame = frame.sort_values(["value", key_column], ascending=[plan.ascending, True], kind="mergesort")
        picked = frame.head(plan.top_n)
        rows = [
            [self._label(plan.group_by, _key(k)), round(float(v), 2)]
            for k, v in zip(picked[key_column], picked["value"], strict=True)
        ]
        which = "Bottom" if plan.ascending else "Top"
        if rows:
            listing = "; ".join(f"{i}. {r[0]}: {fmt(r[1], plan.metric, self.currency)}" for i, r in enumerate(rows, 1))
            noun = _plural(display(plan.group_by), len(rows))
            what = f"{which} {len(rows)} {noun} by {metric_label(plan.metric, plan.measure)}"
            text = f"{what}{self._filters_text(plan)} in {period.label}: {listing}."
        else:
            text = f"No sales{self._filters_text(plan)} in {period.label}."
        return Result(
            text,
            rows[0][1] if rows else None,
            table={"columns": [plan.group_by, plan.metric], "rows": rows},
            period=period,
            details={"ranking": [self._ranking_key(plan.group_by, k) for k in picked[key_column]]},
            datasets=[self._source(plan)],
        )

    def compare(self, plan: QueryPlan) -> Result:
        if plan.period is None:
            end = self.last
            period = Period(end - timedelta(days=27), end, "the last 28 days")
        else:
            period = plan.period
        self._check_period(period)
        base = plan.compare or default_base(period, self.last)
        if base.end >= period.start and base.start <= period.end:
            raise PlanError(f"{period.label} and {base.label} overlap; name two separate periods.")
        current_value, current, source = self._metric_value(plan, period)
        base_value, _, _ = self._metric_value(plan, base)
        if base.end < self.first:
            text = (
                f"{self._subject(plan)} in {period.label}: "
                f"{fmt(current_value, plan.metric, self.currency)}. There is no data for {base.label} "
                f"(the data starts {self.first}), so no comparison is possible."
            )
            return Result(text, round(current_value, 2), period=period, compare=base, datasets=[source])
        change = current_value - base_value
        # a percentage of a base at or below zero (refunds and fees exceeding sales) has no meaning: the
        # change is then given in the metric's own unit
        pct = (100 * change / base_value) if base_value > 0 else None
        direction = "up" if change > 0 else "down" if change < 0 else "unchanged"
        if pct is not None and change:
            how_much = f" {abs(pct):.1f}%"
        elif change:
            how_much = f" by {fmt(abs(change), plan.metric, self.currency)}"
        else:
            how_much = ""
        text = (
            f"{self._subject(plan)} in {period.label}: "
            f"{fmt(current_value, plan.metric, self.currency)} vs "
            f"{fmt(base_value, plan.metric, self.currency)} in {base.label}"
            f" ({direction}{how_much})."
        )
        if period.days != base.days:
            text += f" Note: {period.days} days vs {base.days} days."
        details: dict[str, Any] = {"current": round(current_value, 2), "previous": round(base_value, 2)}
        details["change_pct"] = None if pct is None else round(pct, 2)
        table = None
        if plan.metric in ADDITIVE:
            group = plan.group_by or ("category" if plan.countries or not self.catalog.countries else "country")
            if group not in TIME_GROUPS and (group != "category" or source == MART or plan.metric != "orders"):
                drivers = self._drivers(plan, period, base, group)
                if drivers is not None and not drivers.empty:
                    table = {
                        "columns": [group, "current", "previous", "change"],
                        "rows": [
                            [
                                self._label(group, k),
                                round(float(r.current), 2),
                                round(float(r.previous), 2),
                                round(float(r.change), 2),
                            ]
                            for k, r in drivers.head(10).iterrows()
                        ],
                    }
                    biggest = drivers.iloc[0]
                    change_text = fmt(biggest.change, plan.metric, self.currency)
                    text += f" Biggest change: {self._label(group, drivers.index[0])} ({change_text})."
        return Result(
            text,
            round(change, 2),
            table=table,
            period=period,
            compare=base,
            details=details,
            datasets=[source],
            notes=self._null_note(current, plan),
        )

    def _drivers(self, plan: QueryPlan, period: Period, base: Period, group: str) -> pd.DataFrame | None:
        grouped = replace(plan, group_by=group)
        try:
            source = self._source(grouped)
        except PlanError:  # e.g. orders by an attribute that customer_transactions lacks: no driver table
            return None
        current = self._series(grouped, period, source, group)
        previous = self._series(grouped, base, source, group)
        table = pd.DataFrame({"current": current, "previous": previous}).fillna(0.0)
        table["change"] = table["current"] - table["previous"]
        order = table["change"].abs().sort_values(ascending=False, kind="mergesort").index
        return table.loc[order]

    def _time_series(self, plan: QueryPlan, period: Period, granularity: str) -> tuple[pd.Series, str]:
        source = self._source(plan)
        return self._series(plan, period, source, granularity), source

    def trend(self, plan: QueryPlan) -> Result:
        period = self._window(plan.period)
        self._check_period(period)
        granularity = plan.group_by if plan.group_by in TIME_GROUPS else None
        if granularity is None:
            granularity = "day" if period.days <= 62 else "week" if period.days <= 366 else "month"
        series, source = self._time_series(plan, period, granularity)
        rows = [[_bucket_label(k, granularity), round(float(v), 2)] for k, v in series.items()]
        if len(series) >= 2:
            x = np.arange(len(series), dtype="float64")
            slope = float(np.polyfit(x, series.to_numpy(dtype="float64"), 1)[0])
            first, last = float(series.iloc[0]), float(series.iloc[-1])
            peak_key = series.idxmax()
            direction = "rising" if slope > 0 else "falling" if slope < 0 else "flat"
            unit = f" {self.currency}" if plan.metric in MONEY and self.currency else ""
            text = (
                f"{self._subject(plan)} per {granularity} in {period.label}: "
                f"{direction} ({slope:+,.2f}{unit} per {granularity} on average), from "
                f"{fmt(first, plan.metric, self.currency)} to {fmt(last, plan.metric, self.currency)}; "
                f"peak {fmt(float(series.max()), plan.metric, self.currency)} "
                f"in {_bucket_label(peak_key, granularity)}."
            )
            value = round(slope, 2)
        else:
            text = (
                f"Only {len(series)} {granularity}(s) of data{self._filters_text(plan)} in {period.label}; "
                "no trend to show."
            )
            value = rows[0][1] if rows else None
        if plan.group_by in TIME_GROUPS and rows and len(rows) <= 24:  # "revenue by year": the figures themselves
            listing = "; ".join(f"{r[0]}: {fmt(r[1], plan.metric, self.currency)}" for r in rows)
            text = f"{self._subject(plan)} by {granularity} in {period.label}: {listing}." + (
                " " + _sentence(text.split(": ", 1)[1]) if len(rows) >= 2 else ""
            )
        return Result(
            text,
            value,
            table={"columns": [granularity, plan.metric], "rows": rows[-60:]},
            period=period,
            details={"granularity": granularity, "series": dict(rows), "groups": dict(rows)},
            datasets=[source],
        )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plural(word: str, n: int) -> str:
    return word if n == 1 else plural(word)


def no_profit_message(attributes: Attributes) -> str:
    """What to say when a question needs profit or cost and the data has neither."""
    have = ", ".join(display(m) for m in attributes.measures) or "none"
    return (
        "The sales data has no profit or cost column, so profit and margin cannot be computed (its custom "
        f"figures: {have}). Name a Profit or Cost column as a custom attribute in the source contract."
    )


def _key(value: Any) -> Any:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else value


def _bucket_label(value: Any, granularity: str) -> str:
    ts = pd.Timestamp(value)
    if granularity == "year":
        return str(ts.year)
    if granularity == "quarter":
        return f"{ts.year}-Q{ts.quarter}"
    if granularity == "month":
        return ts.strftime("%Y-%m")
    if granularity == "week":
        iso = ts.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return ts.date().isoformat()


def default_base(period: Period, last: date) -> Period:
    """What a period is compared with when the question names nothing: the previous unit, or, for a
    period that runs to the latest day (this month so far), the same number of days of the previous unit."""
    whole = previous_period(period)
    if period.unit in ("week", "month", "quarter", "year") and period.end == last and whole.days > period.days:
        end = whole.start + (period.end - period.start)
        return Period(whole.start, end, f"the same days of {whole.label} ({whole.start} to {end})", "custom")
    return whole
