"""The aggregates of prod that market intelligence needs, computed by DuckDB over the prod parquet
(`retail_platform.sql.SqlEngine`) instead of loading whole datasets into pandas.

The engine scans only the columns a query names and groups in SQL (projection and GROUP BY pushed down; no
value is ever formatted into the text: column names come from the checked market dimensions):

* `weekly_markets`: copilot_mart's daily revenue summed per week (Monday) and market of custom dimensions,
  with an "ALL" roll-up over every subset of them (GROUP BY CUBE), exactly as `dimensions.weekly_markets`
  computes it in pandas (a week with any amount lacking a reporting-currency value stays unknown);
* `weekly_sku_panel`: daily_sales per SKU x country x week (units summed, shelf price averaged, promotion as
  any) with the SKU's category from copilot_mart, as `elasticity.weekly_sku_panel` builds it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from market_intelligence.dimensions import ALL, SOURCE_DATASET, missing_columns_error
from retail_platform.sql.engine import quote_identifier
from retail_platform.sql.views import prod_views  # duckdb: imported with this module only
from retail_platform.storage.blobstore import BlobStore

DAILY_SALES = "daily_sales"
PANEL_COLUMNS = ("date", "sku", "country", "units", "price", "promo_flag")


def _columns(sql: Any, name: str) -> dict[str, str]:
    return dict(sql.columns(name))


def weekly_markets(prod: BlobStore, dims: tuple[str, ...]) -> pd.DataFrame:
    """Weekly revenue per market of `dims` with every roll-up (columns date, *dims, revenue_reporting; empty
    when prod has no copilot_mart); an InputError names the string columns when a dimension is not one."""
    with prod_views(prod, SOURCE_DATASET, threads=1) as sql:
        if sql is None:
            return pd.DataFrame()
        present = _columns(sql, SOURCE_DATASET)
        missing = [c for c in ("date", "revenue_reporting", *dims) if c not in present]
        if missing:
            strings = [c for c, t in present.items() if t == "VARCHAR" and c not in ("date", "sku")]
            raise missing_columns_error(missing, strings)
        names = [quote_identifier(d) for d in dims]
        cleaned = ", ".join(
            f"coalesce(nullif(trim(CAST({n} AS VARCHAR)), ''), 'unknown') AS {n}" for n in names
        )  # a missing or blank value is "unknown", as in the pandas path
        rolled = ", ".join(f"CASE WHEN grouping({n}) = 1 THEN $all ELSE {n} END AS {n}" for n in names)
        # identifiers are the checked dimension names, quoted; the roll-up label is a bound parameter
        frame = sql.query_df(
            f"WITH rows AS (SELECT CAST(date_trunc('week', CAST(date AS DATE)) AS DATE) AS week, {cleaned}, "  # noqa: S608
            f"TRY_CAST(revenue_reporting AS DOUBLE) AS revenue FROM {SOURCE_DATASET} WHERE date IS NOT NULL) "
            f"SELECT week AS date, {rolled}, CASE WHEN count(*) = count(revenue) "
            "THEN sum(coalesce(revenue, 0)) END AS revenue_reporting "
            f"FROM rows GROUP BY week, CUBE ({', '.join(names)}) ORDER BY {', '.join(['1', *names])}",
            {"all": ALL},
        )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def days_observed(prod: BlobStore) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day with a row in copilot_mart (None without the dataset or a date column): the
    span the weekly markets were summed from, to tell a partial first or last week."""
    with prod_views(prod, SOURCE_DATASET, threads=1) as sql:
        if sql is None or "date" not in _columns(sql, SOURCE_DATASET):
            return None
        first, last = sql.query_df(
            f"SELECT min(CAST(date AS DATE)) AS first, max(CAST(date AS DATE)) AS last FROM {SOURCE_DATASET}"  # noqa: S608
        ).iloc[0]
    if pd.isna(first) or pd.isna(last):
        return None
    return pd.Timestamp(first), pd.Timestamp(last)


def weekly_sku_panel(prod: BlobStore) -> pd.DataFrame | None:
    """SKU x country x week: units, mean shelf price, any promotion, category (None when prod has no
    daily_sales); a ValueError names the columns daily_sales lacks."""
    with prod_views(prod, DAILY_SALES, threads=1) as sql:
        if sql is None:
            return None
        missing = sorted(set(PANEL_COLUMNS) - set(_columns(sql, DAILY_SALES)))
        if missing:
            raise ValueError(f"daily_sales lacks columns: {missing}")
        panel = sql.query_df(
            "SELECT CAST(sku AS VARCHAR) AS sku, CAST(country AS VARCHAR) AS country, "
            "CAST(date_trunc('week', CAST(date AS DATE)) AS TIMESTAMP) AS week, sum(CAST(units AS DOUBLE)) AS units, "
            "avg(TRY_CAST(price AS DOUBLE)) AS price, max(promo_flag) AS promo "
            "FROM daily_sales WHERE date IS NOT NULL AND sku IS NOT NULL AND country IS NOT NULL "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )
    panel["week"] = panel["week"].astype("datetime64[ns]")
    return panel.merge(_sku_categories(prod), on="sku", how="left").fillna({"category": "uncategorised"})


def _sku_categories(prod: BlobStore) -> pd.DataFrame:
    """Each SKU's category (that of its first day in copilot_mart), empty when the mart has no such columns."""
    with prod_views(prod, SOURCE_DATASET, threads=1) as sql:
        if sql is None or not {"sku", "category", "date"} <= set(_columns(sql, SOURCE_DATASET)):
            return pd.DataFrame({"sku": pd.Series(dtype=object), "category": pd.Series(dtype=object)})
        return sql.query_df(
            f"SELECT CAST(sku AS VARCHAR) AS sku, arg_min(CAST(category AS VARCHAR), date) AS category "  # noqa: S608
            f"FROM {SOURCE_DATASET} WHERE sku IS NOT NULL GROUP BY 1"
        )
