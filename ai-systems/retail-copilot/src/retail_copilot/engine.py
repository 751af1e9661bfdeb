"""Executes a QueryPlan over the prod frames with a fixed set of pandas operations (filter, group, sum, sort).

No string from a question ever reaches pandas as code: columns, groupings and operations are chosen from
the whitelists below by the plan's typed fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from retail_copilot.attributes import Attributes, display, plural
from retail_copilot.catalog import Catalog
from retail_copilot.periods import Period, previous_period
from retail_copilot.plan import TIME_GROUPS, QueryPlan
from retail_platform.exceptions import PlatformError

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
MART_COLUMNS = ("date", "country", "category", "sku", "description", "units", "revenue_reporting", "orders")
KPI_COLUMNS = ("date", "country", "orders", "customers", "units", "revenue_reporting")
ORDER_COLUMNS = ("date", "order_id", "customer_id", "country")
MART, KPIS, ORDERS = "copilot_mart", "country_kpis", "customer_transactions"


class PlanError(PlatformError, ValueError):
    """The plan cannot be answered from the data (the message says why, for the user)."""


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


def _conform_attributes(out: pd.DataFrame, attributes: Attributes) -> list[str]:
    """Dimensions as text (missing stays missing), measures as float64; returns the attribute columns."""
    for column in attributes.dimensions:
        values = out[column].astype(object)  # nullable boolean/string dtypes included
        known = values.notna()
        out[column] = values.where(~known, values[known].astype(str))
    for column in attributes.measures:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    return [*attributes.dimensions, *attributes.measures]


def prepare_mart(frame: pd.DataFrame) -> pd.DataFrame:
    """copilot_mart with the columns and dtypes the engine relies on, custom attributes and currency kept."""
    missing = [c for c in MART_COLUMNS if c not in frame.columns and c != "description"]
    if missing:
        raise PlanError(f"copilot_mart is missing columns: {', '.join(missing)}")
    out = frame.copy()
    if "description" not in out.columns:
        out["description"] = out["sku"]
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    for column in ("units", "orders"):
        out[column] = pd.to_numeric(out[column], errors="coerce").fillna(0).astype("int64")
    out["revenue_reporting"] = pd.to_numeric(out["revenue_reporting"], errors="coerce").astype("float64")
    for column in ("country", "category", "sku"):
        out[column] = out[column].astype(str)
    extra = _conform_attributes(out, Attributes.of(out))
    currency = ["reporting_currency"] if "reporting_currency" in out.columns else []
    return out[[*MART_COLUMNS, *extra, *currency]]


def prepare_kpis(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in KPI_COLUMNS})
    missing = [c for c in KPI_COLUMNS if c not in frame.columns]
    if missing:
        raise PlanError(f"country_kpis is missing columns: {', '.join(missing)}")
    out = frame.copy()
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    for column in ("orders", "customers", "units"):
        out[column] = pd.to_numeric(out[column], errors="coerce").fillna(0).astype("int64")
    out["revenue_reporting"] = pd.to_numeric(out["revenue_reporting"], errors="coerce").astype("float64")
    out["country"] = out["country"].astype(str)
    # one row per currency sold in: one row per country-day
    return out.groupby(["date", "country"], as_index=False)[["orders", "customers", "units", "revenue_reporting"]].sum(
        min_count=1
    )


def prepare_orders(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """customer_transactions' sale rows (one per order and day) for distinct orders and customers; None if absent."""
    if frame is None or frame.empty:
        return None
    missing = [c for c in ORDER_COLUMNS if c not in frame.columns]
    if missing:
        raise PlanError(f"customer_transactions is missing columns: {', '.join(missing)}")
    out = frame
    if "is_cancellation" in out.columns:
        out = out.loc[~out["is_cancellation"].fillna(False).astype(bool)]
    out = out.copy()
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    out["country"] = out["country"].astype(str)
    out["order_id"] = out["order_id"].astype(str)
    known = out["customer_id"].notna()
    out["customer_id"] = out["customer_id"].where(~known, out["customer_id"].astype(str))
    extra = _conform_attributes(out, Attributes.of(out))
    return out[[*ORDER_COLUMNS, *extra]].reset_index(drop=True)


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


class _FilterIndex:
    """What filtering a prepared frame needs, computed once per snapshot instead of once per question: the days
    as a numpy array and each entity column factorised to integer codes (same rows, same order as the mask
    pandas would build, so every sum is computed over exactly the same rows in the same order)."""

    def __init__(self, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
        self.days = frame["date"].to_numpy(dtype="datetime64[ns]")
        self.codes: dict[str, tuple[np.ndarray, dict[str, int]]] = {}
        for column in columns:
            codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
            self.codes[column] = (codes, {value: i for i, value in enumerate(uniques)})

    def mask(self, period: Period, filters: list[tuple[str, list[str]]]) -> np.ndarray:
        days = self.days
        mask = (days >= np.datetime64(pd.Timestamp(period.start))) & (days <= np.datetime64(pd.Timestamp(period.end)))
        for column, values in filters:
            codes, lookup = self.codes[column]
            wanted = [lookup[v] for v in values if v in lookup]
            if len(wanted) == 1:
                mask &= codes == wanted[0]
            else:
                mask &= np.isin(codes, wanted)
        return mask


class QueryEngine:
    """Answers data plans (totals, breakdown, top, compare, trend) from copilot_mart, country_kpis and, for
    distinct customers and orders, customer_transactions."""

    def __init__(
        self,
        mart: pd.DataFrame,
        kpis: pd.DataFrame,
        catalog: Catalog,
        currency: str = "EUR",
        orders: pd.DataFrame | None = None,
    ) -> None:
        self.mart = prepare_mart(mart) if not mart.empty else mart
        self.kpis = prepare_kpis(kpis)
        self.orders = prepare_orders(orders)
        self.catalog = catalog
        self.currency = currency
        self.attributes = Attributes.of(self.mart)
        self.first = self.mart["date"].min().date() if not self.mart.empty else None
        self.last = self.mart["date"].max().date() if not self.mart.empty else None
        self._indexes: dict[int, tuple[pd.DataFrame, _FilterIndex]] = {}

    @cached_property
    def product_attributes(self) -> frozenset[str]:
        """Dimensions that describe the product (one value per SKU: sub_category, brand, ...), as opposed to the
        order's (region, segment, ...). customer_transactions holds an order's first value of each, which is
        right for the order's and meaningless for a product's."""
        if self.mart.empty or not self.attributes.dimensions:
            return frozenset()
        per_sku = self.mart.groupby("sku")[list(self.attributes.dimensions)].nunique(dropna=False).max()
        return frozenset(str(name) for name, most in per_sku.items() if most <= 1)

    def _index(self, frame: pd.DataFrame) -> _FilterIndex | None:
        """The filter index of one of the engine's own frames (built on first use), None for another frame."""
        if frame is self.mart:
            columns = ("country", "category", "sku", *self.attributes.dimensions)
        elif frame is self.kpis:
            columns = ("country",)
        elif frame is self.orders:
            columns = ("country", *Attributes.of(frame).dimensions)
        else:
            return None
        cached = self._indexes.get(id(frame))
        if cached is None or cached[0] is not frame:
            cached = (frame, _FilterIndex(frame, columns))
            self._indexes[id(frame)] = cached
        return cached[1]

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

    def _frame(self, source: str) -> pd.DataFrame:
        return {MART: self.mart, KPIS: self.kpis, ORDERS: self.orders}[source]

    def _filtered(self, plan: QueryPlan, period: Period, source: str) -> pd.DataFrame:
        frame = self._frame(source)
        filters = [("country", plan.countries)] if plan.countries else []
        if source == MART:
            filters += [(c, v) for c, v in (("category", plan.categories), ("sku", plan.skus)) if v]
        if source in (MART, ORDERS):
            filters += [(c, v) for c, v in plan.attributes.items() if v]
        index = self._index(frame)
        if index is not None and all(column in index.codes for column, _ in filters):
            return frame.loc[index.mask(period, filters)]
        mask = (frame["date"] >= pd.Timestamp(period.start)) & (frame["date"] <= pd.Timestamp(period.end))
        for column, values in filters:
            mask &= frame[column].isin(values)
        return frame.loc[mask]

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
            if self.orders is None:
                raise PlanError(
                    f"{label} cannot be counted: prod customer_transactions (orders with customer ids) is not "
                    "available, and daily counts cannot be added up into distinct ones."
                )
            missing = [name for name in attributes if name not in self.orders.columns]
            if missing:
                raise PlanError(
                    f"{label} cannot be split by {display(missing[0])}: customer_transactions has no such column."
                )
            return ORDERS
        if metric == "orders":
            return MART if self._product_level(plan) else KPIS
        if self._product_level(plan):
            raise PlanError(
                f"{label} is only known per country and in total, "
                "not per category or product (an order can hold several products)."
            )
        if attributes:
            raise PlanError(f"{label} is only known per country and in total, not per {display(attributes[0])}.")
        return KPIS

    def _profit(self, frame: pd.DataFrame) -> pd.Series:
        if "profit" in frame.columns:
            return frame["profit"]
        return frame["revenue_reporting"] - frame["cost"]

    def _aggregate(self, frame: pd.DataFrame, plan: QueryPlan, by: list[str]) -> pd.Series | float:
        """The metric over a filtered frame, in total or per group (whitelisted reductions only)."""
        metric = plan.metric
        grouped = frame.groupby(by) if by else None
        if metric == "orders" and "order_id" in frame.columns:
            return grouped["order_id"].nunique() if by else float(frame["order_id"].nunique())
        if metric in ("customers", "skus", "countries", "distinct"):
            column = {"customers": "customer_id", "skus": "sku", "countries": "country"}.get(metric, plan.measure)
            return grouped[column].nunique() if by else float(frame[column].nunique())
        if metric in ("revenue", "units", "orders", "measure"):
            column = {"revenue": "revenue_reporting", "measure": plan.measure}.get(metric, metric)
            min_count = 1 if metric in ("revenue", "measure") else 0
            if by:
                return grouped[column].sum(min_count=min_count)
            if len(frame) and min_count:
                return float(frame[column].sum(min_count=1))  # NaN when no row has a value (e.g. no FX rate)
            return float(frame[column].sum())
        if metric in ("profit", "margin"):
            return self._profit_or_margin(frame, metric, by)
        if metric == "aov":
            if by:
                sums = frame.groupby(by)[["revenue_reporting", "orders"]].sum()
                return sums["revenue_reporting"] / sums["orders"].replace(0, np.nan)
            orders = frame["orders"].sum()
            return float(frame["revenue_reporting"].sum() / orders) if orders else float("nan")
        # daily_customers: distinct customers are known per day only; averaged over the days of the period
        daily = frame.groupby([*by, "date"])["customers"].sum()
        if by:
            return daily.groupby(level=list(range(len(by)))).mean()
        return float(daily.mean()) if len(daily) else float("nan")

    def _profit_or_margin(self, frame: pd.DataFrame, metric: str, by: list[str]) -> pd.Series | float:
        """Profit = the profit attribute (or revenue - cost); margin = 100 * profit / revenue, or the revenue-
        weighted mean of a margin attribute when the data has neither profit nor cost."""
        if "profit" in frame.columns or "cost" in frame.columns:
            parts = pd.DataFrame({"profit": self._profit(frame), "revenue": frame["revenue_reporting"]})
        else:
            parts = pd.DataFrame(
                {"profit": frame["margin"] * frame["revenue_reporting"], "revenue": frame["revenue_reporting"]}
            )
        sums = parts.groupby([frame[c] for c in by]).sum(min_count=1) if by else parts.sum(min_count=1).to_frame().T
        values = sums["profit"] if metric == "profit" else 100 * sums["profit"] / sums["revenue"].replace(0, np.nan)
        return values if by else float(values.iloc[0])

    def _metric_value(self, plan: QueryPlan, period: Period) -> tuple[float, pd.DataFrame, str]:
        source = self._source(plan)
        selected = self._filtered(plan, period, source)
        return self._aggregate(selected, plan, []), selected, source

    def _label(self, group: str, key: Any) -> str:
        if group in TIME_GROUPS:
            return _bucket_label(key, group)
        if group == "country":
            return f"{self.catalog.countries.get(key, key)} ({key})"
        if group == "product":
            return f"{self.catalog.products.get(key, key)} ({key})"
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
            parts.append(", ".join(f"{self.catalog.products.get(s, s)} ({s})" for s in plan.skus))
        for name, values in plan.attributes.items():
            if values:
                parts.append(f"{display(name)} {', '.join(values)}")
        return (" in " + "; ".join(parts)) if parts else ""

    def _subject(self, plan: QueryPlan) -> str:
        return f"{metric_label(plan.metric, plan.measure).capitalize()}{self._filters_text(plan)}"

    def _null_note(self, selected: pd.DataFrame, plan: QueryPlan) -> list[str]:
        if (
            plan.metric in ("revenue", "aov", "margin")
            and "revenue_reporting" in selected
            and selected["revenue_reporting"].isna().any()
        ):
            n = int(selected["revenue_reporting"].isna().sum())
            return [f"{n} rows have no FX rate to {self.currency or 'the reporting currency'} and are left out."]
        return []

    # ------------------------------------------------------------------ intents

    def run(self, plan: QueryPlan) -> Result:
        if self.mart.empty:
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

    def _grouped(self, plan: QueryPlan, period: Period) -> tuple[pd.Series, str, pd.DataFrame]:
        source = self._source(plan)
        selected = self._filtered(plan, period, source)
        column = GROUP_COLUMNS.get(plan.group_by, plan.group_by)
        series = self._aggregate(selected, plan, [column])
        return series.dropna(), source, selected

    def breakdown(self, plan: QueryPlan) -> Result:
        period = self._window(plan.period)
        self._check_period(period)
        series, source, selected = self._grouped(plan, period)
        series = series.sort_values(ascending=False, kind="mergesort")
        if plan.metric in ADDITIVE:
            total: float | None = float(series.sum())
        elif plan.metric in (*COUNTS, "margin"):  # over the whole selection, not a sum of the groups
            total = float(self._aggregate(selected, plan, []))
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
        pct = (100 * change / base_value) if base_value else None
        direction = "up" if change > 0 else "down" if change < 0 else "unchanged"
        text = (
            f"{self._subject(plan)} in {period.label}: "
            f"{fmt(current_value, plan.metric, self.currency)} vs "
            f"{fmt(base_value, plan.metric, self.currency)} in {base.label}"
            f" ({direction}{f' {abs(pct):.1f}%' if pct is not None and change else ''})."
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
        column = GROUP_COLUMNS.get(group, group)
        grouped = replace(plan, group_by=group)
        try:
            source = self._source(grouped)
        except PlanError:  # e.g. orders by an attribute that customer_transactions lacks: no driver table
            return None
        current = self._aggregate(self._filtered(grouped, period, source), grouped, [column])
        previous = self._aggregate(self._filtered(grouped, base, source), grouped, [column])
        table = pd.DataFrame({"current": current, "previous": previous}).fillna(0.0)
        table["change"] = table["current"] - table["previous"]
        order = table["change"].abs().sort_values(ascending=False, kind="mergesort").index
        return table.loc[order]

    def _time_series(self, plan: QueryPlan, period: Period, granularity: str) -> tuple[pd.Series, str]:
        source = self._source(plan)
        selected = self._filtered(plan, period, source).copy()
        if granularity == "day":
            selected["bucket"] = selected["date"]
        elif granularity == "week":
            selected["bucket"] = selected["date"] - pd.to_timedelta(selected["date"].dt.weekday, unit="D")
        else:
            freq = {"month": "M", "quarter": "Q", "year": "Y"}[granularity]
            selected["bucket"] = selected["date"].dt.to_period(freq).dt.start_time
        series = self._aggregate(selected, plan, ["bucket"]) if not selected.empty else pd.Series(dtype="float64")
        return series.dropna(), source

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
