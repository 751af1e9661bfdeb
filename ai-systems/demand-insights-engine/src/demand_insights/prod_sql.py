"""The aggregates of prod that demand needs, computed by DuckDB over the prod parquet (retail_platform.sql).

Instead of loading whole datasets into pandas, the engine scans only the columns a query names and sums
in SQL (projection and GROUP BY pushed down; parameters bound, never formatted in):

* `daily_units`: daily_sales summed per day x SKU x country (prod has one row per currency sold in), with
  the aggregates `panel.from_long` takes of several rows of one step (units summed, price averaged,
  promotion / stock-out as any, stock on hand summed and unknown when no row has a count);
* `customer_aggregates`: per customer, the sums and counts of customer_transactions up to a cutoff from
  which `customers.features_from_aggregates` derives the churn / RFM features (one row per customer).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from retail_platform.storage import BlobStore

DAILY_SALES, TRANSACTIONS = "daily_sales", "customer_transactions"
FLAGS = ("promo_flag", "stockout_flag")
OPTIONAL = {"price": "AVG", "promo_flag": "MAX", "stockout_flag": "MAX", "on_hand": "SUM"}


@contextmanager
def prod_views(prod: BlobStore, *datasets: str) -> Iterator[Any]:
    """retail_platform.sql.prod_views with this system's thread count (DEMAND_NUM_THREADS)."""
    from demand_insights.config import get_demand_settings
    from retail_platform.sql import prod_views as views

    with views(prod, *datasets, threads=get_demand_settings().num_threads) as sql:
        yield sql


def columns(sql: Any, name: str) -> set[str]:
    return {column for column, _ in sql.columns(name)}


def _number(column: str) -> str:
    """A flag or number column as DOUBLE (booleans 1/0), as panel.numbers reads it."""
    return f"CAST(CAST({column} AS INTEGER) AS DOUBLE)" if column in FLAGS else f"CAST({column} AS DOUBLE)"


def daily_units(prod: BlobStore) -> pd.DataFrame:
    """daily_sales as one row per day x SKU x country (an empty frame when prod has none)."""
    with prod_views(prod, DAILY_SALES) as sql:
        if sql is None:
            return pd.DataFrame()
        present = columns(sql, DAILY_SALES)
        optional = "".join(f", {how}({_number(name)}) AS {name}" for name, how in OPTIONAL.items() if name in present)
        # column names come from the prod contract (OPTIONAL), never from data or users
        frame = sql.query_df(
            "SELECT CAST(date AS DATE) AS date, CAST(sku AS VARCHAR) AS sku, CAST(country AS VARCHAR) AS country, "  # noqa: S608
            f"SUM(CAST(units AS DOUBLE)) AS units{optional} FROM {DAILY_SALES} "
            "WHERE date IS NOT NULL AND sku IS NOT NULL AND units IS NOT NULL "
            "GROUP BY 1, 2, 3 ORDER BY 2, 3, 1"
        )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


REQUIRED_TRANSACTIONS = ("customer_id", "order_id", "date", "revenue", "is_cancellation")


class SqlTransactions:
    """customer_transactions as customers.fit_churn / insights read them, answered by DuckDB aggregates.

    The view `tx` holds the rows `customers.prepare` keeps (a customer id, a day and an amount; the amount is
    revenue_reporting, else revenue), so each question is one GROUP BY over it, never a frame of every order.
    """

    def __init__(self, sql: Any) -> None:
        from demand_insights.exceptions import InputDataError

        present = columns(sql, TRANSACTIONS)
        missing = [c for c in REQUIRED_TRANSACTIONS if c not in present]
        if missing:
            raise InputDataError(f"transactions are missing columns {missing}")
        value = "CAST(revenue AS DOUBLE)"
        if "revenue_reporting" in present:
            value = f"COALESCE(CAST(revenue_reporting AS DOUBLE), {value})"
        units = "COALESCE(TRY_CAST(units AS DOUBLE), 0)" if "units" in present else "0.0"
        country = "CAST(country AS VARCHAR)" if "country" in present else "CAST(NULL AS VARCHAR)"
        self.sql = sql
        # names and expressions above are ours (the contract's columns), no value is formatted in
        sql.execute(
            "CREATE OR REPLACE TEMP VIEW tx AS SELECT * FROM ("  # noqa: S608
            "SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(order_id AS VARCHAR) AS order_id, "
            f"CAST(date AS DATE) AS day, {value} AS value, {units} AS units, {country} AS country, "
            "lower(CAST(is_cancellation AS VARCHAR)) IN ('true', '1') AS is_cancellation "
            f"FROM {TRANSACTIONS}) WHERE customer_id IS NOT NULL AND day IS NOT NULL AND value IS NOT NULL"
        )
        start, end = sql.query("SELECT min(day), max(day) FROM tx").to_pylist()[0].values()
        if end is None:
            raise InputDataError("no transaction has a customer id, a date and an amount")
        self.start, self.end = pd.Timestamp(start).as_unit("ns"), pd.Timestamp(end).as_unit("ns")

    def aggregates_at(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        """customers.aggregates_at, in SQL (index: customer_id)."""
        from demand_insights.customers import AGGREGATES

        frame = self.sql.query_df(AGGREGATES_SQL, {"cutoff": pd.Timestamp(cutoff).date()})
        if frame.empty:
            return pd.DataFrame(columns=AGGREGATES)
        frame = frame.set_index("customer_id")
        frame.index.name = "customer_id"
        for name in ("first", "last"):
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
        return frame[AGGREGATES]

    def features_at(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        from demand_insights.customers import features_from_aggregates

        return features_from_aggregates(self.aggregates_at(cutoff), cutoff)

    def buyers_between(self, after: pd.Timestamp, until: pd.Timestamp) -> set[str]:
        rows = self.sql.query(
            "SELECT DISTINCT customer_id FROM tx WHERE day > $after AND day <= $until AND NOT is_cancellation",
            {"after": pd.Timestamp(after).date(), "until": pd.Timestamp(until).date()},
        )
        return set(rows.column("customer_id").to_pylist())


# One row per customer with a sale on or before $cutoff; the most frequent country of its sale rows (ties:
# the smallest code, as pandas' mode sorts), "" when none has one.
AGGREGATES_SQL = """
WITH past AS (SELECT * FROM tx WHERE day <= $cutoff),
sales AS (SELECT * FROM past WHERE NOT is_cancellation),
per_sale AS (
    SELECT customer_id, count(DISTINCT order_id) AS orders, min(day) AS first, max(day) AS last,
           sum(value) AS sales_value, sum(units) AS units,
           count(DISTINCT order_id) FILTER (WHERE date_diff('day', day, $cutoff) < 30) AS orders_30,
           count(DISTINCT order_id) FILTER (WHERE date_diff('day', day, $cutoff) < 90) AS orders_90
    FROM sales GROUP BY customer_id),
per_row AS (
    SELECT customer_id, sum(value) AS net,
           coalesce(sum(value) FILTER (WHERE date_diff('day', day, $cutoff) < 90), 0) AS revenue_90,
           count(DISTINCT order_id) FILTER (WHERE is_cancellation) AS cancels
    FROM past GROUP BY customer_id),
countries AS (
    SELECT customer_id, arg_min(country, (-n, country)) AS country
    FROM (SELECT customer_id, country, count(*) AS n FROM sales WHERE country IS NOT NULL
          GROUP BY customer_id, country)
    GROUP BY customer_id)
SELECT s.customer_id, s.orders, s.first, s.last, coalesce(r.net, 0) AS net, s.sales_value, s.units,
       s.orders_30, s.orders_90, r.revenue_90, r.cancels, coalesce(c.country, '') AS country
FROM per_sale s JOIN per_row r USING (customer_id) LEFT JOIN countries c USING (customer_id)
ORDER BY s.customer_id
"""


@contextmanager
def transactions(prod: BlobStore) -> Iterator[SqlTransactions | None]:
    """SqlTransactions over prod's customer_transactions (None: no object yet), open while the block runs."""
    from demand_insights.exceptions import InputDataError

    with prod_views(prod, TRANSACTIONS) as sql:
        if sql is None:
            yield None
            return
        try:
            source = SqlTransactions(sql)
        except InputDataError as e:
            raise InputDataError(f"customer analytics skipped: {e}") from e
        yield source
