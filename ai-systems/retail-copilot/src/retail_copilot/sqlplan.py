"""Compiles the engine's typed aggregate requests into SQL with bound parameters (issue #18 item 3).

A request names a source table, a whitelisted metric, a period, filters and at most one grouping; nothing in
it is free text. Identifiers come only from the table's column whitelist (the schema the engine read) and are
quoted; every value - dates, countries, categories, SKUs, attribute values - is a `?` parameter. The SQL is
written in DuckDB's dialect within the subset Trino shares, and `for_trino` transpiles it with sqlglot for
Athena (where the parameters become EXECUTION PARAMETERS).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MART, KPIS, ORDERS = "copilot_mart", "country_kpis", "customer_transactions"
BUCKETS = ("day", "week", "month", "quarter", "year")  # time groupings: `by` is "bucket:<unit>"
METRICS = (
    "revenue",
    "units",
    "orders",
    "aov",
    "customers",
    "daily_customers",
    "skus",
    "countries",
    "distinct",
    "profit",
    "margin",
    "measure",
)
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
VALUE, KEY, ROWS, NULLS = "metric_value", "group_key", "n_rows", "n_null_revenue"


class UnsafeQueryError(ValueError):
    """A request names something outside the whitelists (a bug or a forged plan, never user text)."""


@dataclass(frozen=True)
class Query:
    """SQL text and the values bound to its `?` placeholders, in order."""

    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Aggregate:
    """One aggregate the engine needs: `metric` over `source` rows in [start, end] that pass `filters`, in total
    (`by` None) or per value of one column or time bucket ("bucket:week")."""

    source: str
    metric: str
    start: date
    end: date
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    by: str | None = None
    measure: str | None = None  # the column of the "measure" / "distinct" metrics


@dataclass(frozen=True)
class Tables:
    """The tables a query may read, each with its column whitelist, and how each is named in SQL."""

    columns: Mapping[str, frozenset[str]]
    names: Mapping[str, str] = field(default_factory=dict)  # source -> qualified SQL name (default: quoted source)

    def name(self, source: str) -> str:
        if source not in self.columns:
            raise UnsafeQueryError(f"unknown table {source!r}")
        return self.names.get(source) or quote(source)

    def column(self, source: str, name: str) -> str:
        """`name` quoted, if the table has it; otherwise an UnsafeQueryError."""
        if name not in self.columns.get(source, frozenset()):
            raise UnsafeQueryError(f"table {source!r} has no column {name!r}")
        return quote(name)


def quote(name: str) -> str:
    """A double-quoted identifier; only snake_case names are accepted, so nothing needs escaping."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise UnsafeQueryError(f"not an identifier: {name!r}")
    return f'"{name}"'


def _value_expression(request: Aggregate, tables: Tables) -> str:
    """The aggregate expression of the metric (whitelisted reductions only)."""
    col = lambda name: tables.column(request.source, name)  # noqa: E731 - a short alias keeps the table readable
    metric = request.metric
    if metric == "orders" and request.source == ORDERS:
        return f"CAST(COUNT(DISTINCT {col('order_id')}) AS DOUBLE)"
    distinct = {"customers": "customer_id", "skus": "sku", "countries": "country"}
    if metric in distinct or metric == "distinct":
        return f"CAST(COUNT(DISTINCT {col(distinct.get(metric) or request.measure or '')}) AS DOUBLE)"
    if metric in ("revenue", "measure"):
        column = "revenue_reporting" if metric == "revenue" else (request.measure or "")
        return f"CAST(SUM({col(column)}) AS DOUBLE)"  # NULL when no row has a value (no FX rate)
    if metric in ("units", "orders"):
        return f"CAST(COALESCE(SUM({col(metric)}), 0) AS DOUBLE)"
    if metric == "aov":
        return f"COALESCE(SUM({col('revenue_reporting')}), 0) / NULLIF(CAST(SUM({col('orders')}) AS DOUBLE), 0)"
    if metric in ("profit", "margin"):
        revenue = col("revenue_reporting")
        names = tables.columns.get(request.source, frozenset())
        if "profit" in names:
            profit = col("profit")
        elif "cost" in names:
            profit = f"({revenue} - {col('cost')})"
        else:
            profit = f"({col('margin')} * {revenue})"
        if metric == "profit":
            return f"CAST(SUM({profit}) AS DOUBLE)"
        return f"100 * SUM({profit}) / NULLIF(SUM({revenue}), 0)"
    raise UnsafeQueryError(f"unknown metric {metric!r}")


def _key_expression(request: Aggregate, tables: Tables) -> str:
    by = request.by or ""
    if by.startswith("bucket:"):
        unit = by.split(":", 1)[1]
        if unit not in BUCKETS:
            raise UnsafeQueryError(f"unknown time bucket {unit!r}")
        day = tables.column(request.source, "date")
        return day if unit == "day" else f"DATE_TRUNC('{unit}', {day})"
    return tables.column(request.source, by)


def _where(request: Aggregate, tables: Tables) -> tuple[list[str], list[Any]]:
    day = tables.column(request.source, "date")
    clauses = [f"{day} BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)"]
    params: list[Any] = [request.start.isoformat(), request.end.isoformat()]
    for name, values in request.filters:
        column = tables.column(request.source, name)
        if not values:
            continue
        clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
        params.extend(str(v) for v in values)
    return clauses, params


def compile_aggregate(request: Aggregate, tables: Tables) -> Query:
    """SELECT [key,] value [, n_rows, n_null_revenue] over the request's rows.

    Grouped: one row per non-null key (as pandas' groupby drops missing keys). In total: also the number of
    rows selected and how many of them have no reporting-currency revenue (the answer's FX note)."""
    if request.metric not in METRICS:
        raise UnsafeQueryError(f"unknown metric {request.metric!r}")
    table = tables.name(request.source)
    clauses, params = _where(request, tables)
    key = _key_expression(request, tables) if request.by else None
    if key is not None:
        clauses.append(f"{key} IS NOT NULL")
    where = " AND ".join(clauses)
    if request.metric == "daily_customers":  # distinct customers are known per day only: the mean of daily sums
        customers, day = tables.column(request.source, "customers"), tables.column(request.source, "date")
        inner_key = f"{key} AS {KEY}, " if key else ""
        outer_key = f"{KEY}, " if key else ""
        group = f"{key}, " if key else ""
        days = (
            f"SELECT {inner_key}{day} AS day_key, COALESCE(SUM({customers}), 0) AS day_value, "  # noqa: S608
            f"COUNT(*) AS day_rows FROM {table} WHERE {where} GROUP BY {group}{day}"
        )
        outer = f"CAST(AVG(day_value) AS DOUBLE) AS {VALUE}, SUM(day_rows) AS {ROWS}, 0 AS {NULLS}"
        sql = f"SELECT {outer_key}{outer} FROM ({days}) AS days" + (f" GROUP BY {KEY}" if key else "")  # noqa: S608
        return Query(sql, tuple(params))
    value = _value_expression(request, tables)
    if key is not None:
        sql = f"SELECT {key} AS {KEY}, {value} AS {VALUE} FROM {table} WHERE {where} GROUP BY {key}"  # noqa: S608
        return Query(sql, tuple(params))
    revenue = "revenue_reporting" in tables.columns.get(request.source, frozenset())
    nulls = f"COUNT(*) - COUNT({tables.column(request.source, 'revenue_reporting')})" if revenue else "0"
    sql = f"SELECT {value} AS {VALUE}, COUNT(*) AS {ROWS}, {nulls} AS {NULLS} FROM {table} WHERE {where}"  # noqa: S608
    return Query(sql, tuple(params))


def compile_max_per_sku(columns: Sequence[str], tables: Tables) -> Query:
    """The most values any one SKU has of each column (missing counted as a value), to tell a product's
    attributes (one value per SKU) from an order's."""
    sku = tables.column(MART, "sku")
    counts = ", ".join(
        f"COUNT(DISTINCT {tables.column(MART, c)}) + MAX(CASE WHEN {quote(c)} IS NULL THEN 1 ELSE 0 END) AS {quote(c)}"
        for c in columns
    )
    outer = ", ".join(f"MAX({quote(c)}) AS {quote(c)}" for c in columns)
    inner = f"SELECT {sku}, {counts} FROM {tables.name(MART)} GROUP BY {sku}"  # noqa: S608
    return Query(f"SELECT {outer} FROM ({inner}) AS per_sku")  # noqa: S608


def for_trino(query: Query) -> Query:
    """The same query in Trino's dialect (Athena engine v3), placeholders kept."""
    from retail_platform.sql import to_trino

    return Query(to_trino(query.sql, pretty=False), query.params)
