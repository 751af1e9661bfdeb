"""Executes a QueryPlan over the prod frames with a fixed set of pandas operations (filter, group, sum, sort).

No string from a question ever reaches pandas as code: columns, groupings and operations are chosen from
the whitelists below by the plan's typed fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from retail_copilot.catalog import Catalog
from retail_copilot.periods import Period, previous_period
from retail_copilot.plan import QueryPlan

METRIC_LABELS = {
    "revenue": "revenue",
    "units": "units sold",
    "orders": "orders",
    "aov": "average order value",
    "customers": "customers per day (average)",
}
GROUP_COLUMNS = {"country": "country", "category": "category", "product": "sku"}
TIME_FREQ = {"day": "D", "week": "W-MON", "month": "MS"}
MART_COLUMNS = ("date", "country", "category", "sku", "description", "units", "revenue_reporting", "orders")
KPI_COLUMNS = ("date", "country", "orders", "customers", "units", "revenue_reporting")


class PlanError(ValueError):
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


def prepare_mart(frame: pd.DataFrame) -> pd.DataFrame:
    """copilot_mart with the columns and dtypes the engine relies on."""
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
    return out[list(MART_COLUMNS)]


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


def fmt(value: float | None, metric: str, currency: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if metric in ("revenue", "aov"):
        return f"{value:,.2f} {currency}"
    if metric == "customers":
        return f"{value:,.1f}"
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
    """Answers data plans (totals, breakdown, top, compare, trend) from copilot_mart and country_kpis."""

    def __init__(self, mart: pd.DataFrame, kpis: pd.DataFrame, catalog: Catalog, currency: str = "EUR") -> None:
        self.mart = prepare_mart(mart) if not mart.empty else mart
        self.kpis = prepare_kpis(kpis)
        self.catalog = catalog
        self.currency = currency
        self.first = self.mart["date"].min().date() if not self.mart.empty else None
        self.last = self.mart["date"].max().date() if not self.mart.empty else None
        self._indexes: dict[int, tuple[pd.DataFrame, _FilterIndex]] = {}

    def _index(self, frame: pd.DataFrame) -> _FilterIndex | None:
        """The filter index of the engine's own mart or kpis frame (built on first use), None for another frame."""
        if frame is not self.mart and frame is not self.kpis:
            return None
        cached = self._indexes.get(id(frame))
        if cached is None or cached[0] is not frame:
            columns = ("country", "category", "sku") if frame is self.mart else ("country",)
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

    def _filtered(self, frame: pd.DataFrame, plan: QueryPlan, period: Period, product_level: bool) -> pd.DataFrame:
        index = self._index(frame)
        if index is not None:
            filters = [("country", plan.countries)] if plan.countries else []
            if product_level:
                filters += [(c, v) for c, v in (("category", plan.categories), ("sku", plan.skus)) if v]
            if all(column in index.codes for column, _ in filters):
                return frame.loc[index.mask(period, filters)]
        mask = (frame["date"] >= pd.Timestamp(period.start)) & (frame["date"] <= pd.Timestamp(period.end))
        if plan.countries:
            mask &= frame["country"].isin(plan.countries)
        if product_level:
            if plan.categories:
                mask &= frame["category"].isin(plan.categories)
            if plan.skus:
                mask &= frame["sku"].isin(plan.skus)
        return frame.loc[mask]

    def _product_level(self, plan: QueryPlan) -> bool:
        return bool(plan.categories or plan.skus or plan.group_by in ("category", "product"))

    def _source(self, plan: QueryPlan) -> str:
        if plan.metric in ("revenue", "units"):
            return "copilot_mart"
        if plan.metric == "orders":
            return "copilot_mart" if self._product_level(plan) else "country_kpis"
        if self._product_level(plan):
            raise PlanError(
                f"{METRIC_LABELS[plan.metric].capitalize()} is only known per country and in total, "
                "not per category or product (an order can hold several products)."
            )
        return "country_kpis"

    def _aggregate(self, frame: pd.DataFrame, metric: str, by: list[str]) -> pd.Series | float:
        """The metric over a filtered frame, in total or per group (whitelisted reductions only)."""
        if metric in ("revenue", "units", "orders"):
            column = "revenue_reporting" if metric == "revenue" else metric
            if by:
                return frame.groupby(by)[column].sum(min_count=1 if metric == "revenue" else 0)
            if metric == "revenue" and len(frame):
                return float(frame[column].sum(min_count=1))  # NaN when no row has an FX rate
            return float(frame[column].sum())
        if metric == "aov":
            if by:
                sums = frame.groupby(by)[["revenue_reporting", "orders"]].sum()
                return sums["revenue_reporting"] / sums["orders"].replace(0, np.nan)
            orders = frame["orders"].sum()
            return float(frame["revenue_reporting"].sum() / orders) if orders else float("nan")
        # customers: distinct customers are known per day only; averaged over the days of the period
        daily = frame.groupby([*by, "date"])["customers"].sum()
        if by:
            return daily.groupby(level=list(range(len(by)))).mean()
        return float(daily.mean()) if len(daily) else float("nan")

    def _metric_value(self, plan: QueryPlan, period: Period) -> tuple[float, pd.DataFrame, str]:
        source = self._source(plan)
        product_level = source == "copilot_mart"
        frame = self.mart if product_level else self.kpis
        selected = self._filtered(frame, plan, period, product_level)
        return self._aggregate(selected, plan.metric, []), selected, source

    def _label(self, group: str, key: Any) -> str:
        if group in ("day", "week", "month"):
            return _bucket_label(key, group)
        if group == "country":
            return f"{self.catalog.countries.get(key, key)} ({key})"
        if group == "product":
            return f"{self.catalog.products.get(key, key)} ({key})"
        return str(key)

    def _filters_text(self, plan: QueryPlan) -> str:
        parts = []
        if plan.countries:
            parts.append(", ".join(self.catalog.countries.get(c, c) for c in plan.countries))
        if plan.categories:
            parts.append(", ".join(plan.categories))
        if plan.skus:
            parts.append(", ".join(f"{self.catalog.products.get(s, s)} ({s})" for s in plan.skus))
        return (" in " + "; ".join(parts)) if parts else ""

    def _subject(self, plan: QueryPlan) -> str:
        return f"{METRIC_LABELS[plan.metric].capitalize()}{self._filters_text(plan)}"

    def _null_note(self, selected: pd.DataFrame, plan: QueryPlan) -> list[str]:
        if (
            plan.metric in ("revenue", "aov")
            and "revenue_reporting" in selected
            and selected["revenue_reporting"].isna().any()
        ):
            n = int(selected["revenue_reporting"].isna().sum())
            return [f"{n} rows have no FX rate to {self.currency} and are left out of the revenue."]
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
            text = f"No sales{self._filters_text(plan)} in {period.label}: {METRIC_LABELS[plan.metric]} is 0."
            value = 0.0 if plan.metric in ("revenue", "units", "orders") else float("nan")
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
        product_level = source == "copilot_mart"
        frame = self.mart if product_level else self.kpis
        selected = self._filtered(frame, plan, period, product_level)
        column = GROUP_COLUMNS[plan.group_by]
        series = self._aggregate(selected, plan.metric, [column])
        return series.dropna(), source, selected

    def breakdown(self, plan: QueryPlan) -> Result:
        period = self._window(plan.period)
        self._check_period(period)
        series, source, selected = self._grouped(plan, period)
        series = series.sort_values(ascending=False, kind="mergesort")
        total = float(series.sum()) if plan.metric in ("revenue", "units", "orders") else None
        rows = [[self._label(plan.group_by, k), round(float(v), 2)] for k, v in series.items()]
        if plan.metric in ("revenue", "units", "orders") and total:
            for row in rows:
                row.append(round(100 * row[1] / total, 1))
        shown = ", ".join(f"{r[0]} {fmt(r[1], plan.metric, self.currency)}" for r in rows[:5])
        text = (
            f"{self._subject(plan)} in {period.label} by {plan.group_by}: {shown}{' …' if len(rows) > 5 else ''}."
            if rows
            else f"No sales{self._filters_text(plan)} in {period.label}."
        )
        columns = [plan.group_by, plan.metric] + (["share_%"] if rows and len(rows[0]) == 3 else [])
        return Result(
            text,
            None if total is None else round(total, 2),
            table={"columns": columns, "rows": rows[:50]},
            period=period,
            details={"groups": {str(k): round(float(v), 2) for k, v in series.items()}},
            datasets=[source],
            notes=self._null_note(selected, plan),
        )

    def top(self, plan: QueryPlan) -> Result:
        period = self._window(plan.period)
        self._check_period(period)
        if plan.group_by in ("day", "week", "month"):
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
            what = f"{which} {len(rows)} {_plural(plan.group_by, len(rows))} by {METRIC_LABELS[plan.metric]}"
            text = f"{what}{self._filters_text(plan)} in {period.label}: {listing}."
        else:
            text = f"No sales{self._filters_text(plan)} in {period.label}."
        return Result(
            text,
            rows[0][1] if rows else None,
            table={"columns": [plan.group_by, plan.metric], "rows": rows},
            period=period,
            details={"ranking": [str(_key(k)) for k in picked[key_column]]},
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
            f"{METRIC_LABELS[plan.metric].capitalize()}{self._filters_text(plan)} in {period.label}: "
            f"{fmt(current_value, plan.metric, self.currency)} vs "
            f"{fmt(base_value, plan.metric, self.currency)} in {base.label}"
            f" ({direction}{f' {abs(pct):.1f}%' if pct is not None and change else ''})."
        )
        if period.days != base.days:
            text += f" Note: {period.days} days vs {base.days} days."
        details: dict[str, Any] = {"current": round(current_value, 2), "previous": round(base_value, 2)}
        details["change_pct"] = None if pct is None else round(pct, 2)
        table = None
        if plan.metric in ("revenue", "units", "orders"):
            group = plan.group_by or ("category" if plan.countries or not self.catalog.countries else "country")
            if group in GROUP_COLUMNS and (group != "category" or source == "copilot_mart" or plan.metric != "orders"):
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
        column = GROUP_COLUMNS[group]
        product_level = plan.metric != "orders" or self._product_level(plan) or group != "country"
        frame = self.mart if product_level else self.kpis
        current = self._aggregate(self._filtered(frame, plan, period, product_level), plan.metric, [column])
        previous = self._aggregate(self._filtered(frame, plan, base, product_level), plan.metric, [column])
        table = pd.DataFrame({"current": current, "previous": previous}).fillna(0.0)
        table["change"] = table["current"] - table["previous"]
        order = table["change"].abs().sort_values(ascending=False, kind="mergesort").index
        return table.loc[order]

    def _time_series(self, plan: QueryPlan, period: Period, granularity: str) -> tuple[pd.Series, str]:
        source = self._source(plan)
        product_level = source == "copilot_mart"
        frame = self.mart if product_level else self.kpis
        selected = self._filtered(frame, plan, period, product_level).copy()
        if granularity == "day":
            selected["bucket"] = selected["date"]
        elif granularity == "week":
            selected["bucket"] = selected["date"] - pd.to_timedelta(selected["date"].dt.weekday, unit="D")
        else:
            selected["bucket"] = selected["date"].dt.to_period("M").dt.to_timestamp()
        series = (
            self._aggregate(selected, plan.metric, ["bucket"]) if not selected.empty else pd.Series(dtype="float64")
        )
        return series.dropna(), source

    def trend(self, plan: QueryPlan) -> Result:
        period = self._window(plan.period)
        self._check_period(period)
        granularity = plan.group_by if plan.group_by in ("day", "week", "month") else None
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
            unit = f" {self.currency}" if plan.metric in ("revenue", "aov") else ""
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
            value = None
        return Result(
            text,
            value,
            table={"columns": [granularity, plan.metric], "rows": rows[-60:]},
            period=period,
            details={"granularity": granularity, "series": {r[0]: r[1] for r in rows}},
            datasets=[source],
        )


def _plural(word: str, n: int) -> str:
    if n == 1:
        return word
    return {"country": "countries", "category": "categories"}.get(word, word + "s")


def _key(value: Any) -> Any:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else value


def _bucket_label(value: Any, granularity: str) -> str:
    ts = pd.Timestamp(value)
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
