"""The entity catalogue and the reporting currency read from the prod tables by SQL, without loading them.

The same facts `Catalog.from_mart` and `currency_label` take from a frame in memory: countries by units sold,
categories, each SKU's latest description and category, the values of each custom dimension (the most common
first, at most MAX_VALUES), the data's first and last day. Only fixed queries with whitelisted, quoted names.
"""

from __future__ import annotations

import pandas as pd

from retail_copilot.attributes import ISO_CODE, MAX_VALUES
from retail_copilot.catalog import Catalog
from retail_copilot.countries import country_name
from retail_copilot.sqlplan import MART, Query
from retail_copilot.warehouse import Warehouse


def from_warehouse(warehouse: Warehouse) -> Catalog:
    """The catalogue of the warehouse's copilot_mart (an empty catalogue for an empty table)."""
    tables = warehouse.tables
    mart = tables.name(MART)
    col = lambda name: tables.column(MART, name)  # noqa: E731
    activity = warehouse.fetch(
        Query(
            f"SELECT {col('country')} AS country, SUM({col('units')}) AS units FROM {mart} "  # noqa: S608 - whitelisted names
            f"WHERE {col('country')} IS NOT NULL GROUP BY {col('country')} ORDER BY units DESC, country"
        )
    )
    if activity.empty:
        return Catalog({}, [], {})
    countries = {str(code): country_name(str(code)) for code in activity["country"]}
    categories = warehouse.fetch(
        Query(f"SELECT DISTINCT {col('category')} AS category FROM {mart} WHERE {col('category')} IS NOT NULL")  # noqa: S608
    )
    has_description = "description" in tables.columns[MART]
    description = f"ARG_MAX({col('description')}, {col('date')})" if has_description else "NULL"
    latest = warehouse.fetch(
        Query(
            f"SELECT {col('sku')} AS sku, {description} AS description, ARG_MAX({col('category')}, {col('date')}) "  # noqa: S608
            f"AS category, MIN({col('date')}) AS first_day, MAX({col('date')}) AS last_day "
            f"FROM {mart} GROUP BY {col('sku')}"
        )
    )
    products = {
        str(r.sku): (str(r.description) if isinstance(r.description, str) and r.description else str(r.sku))
        for r in latest.itertuples()
    }
    dimensions = {}
    for name in warehouse.attributes.dimensions:
        values = warehouse.fetch(
            Query(
                f"SELECT {col(name)} AS value, COUNT(*) AS n FROM {mart} WHERE {col(name)} IS NOT NULL "  # noqa: S608
                f"GROUP BY {col(name)} ORDER BY n DESC, value LIMIT {MAX_VALUES}"
            )
        )
        dimensions[name] = sorted(str(v) for v in values["value"])
    return Catalog(
        countries,
        sorted(str(c) for c in categories["category"]),
        products,
        {str(r.sku): str(r.category) for r in latest.itertuples()},
        pd.Timestamp(latest["first_day"].min()).date().isoformat(),
        pd.Timestamp(latest["last_day"].max()).date().isoformat(),
        dimensions,
        list(warehouse.attributes.measures),
    )


def reporting_currency(warehouse: Warehouse, fallback: str | None) -> str:
    """As `attributes.currency_label`: the one ISO code of copilot_mart's reporting_currency column, else the
    configured one, else '' (AUTO and no column: no wrong code is shown)."""
    tables = warehouse.tables
    if "reporting_currency" in tables.columns.get(MART, frozenset()):
        column = tables.column(MART, "reporting_currency")
        found = warehouse.fetch(
            Query(
                f"SELECT DISTINCT UPPER(TRIM({column})) AS code FROM {tables.name(MART)} "  # noqa: S608
                f"WHERE {column} IS NOT NULL LIMIT 3"
            )
        )
        codes = [c for c in found["code"].astype(str) if ISO_CODE.match(c)]
        if len(codes) == 1:
            return codes[0]
    code = (fallback or "").strip().upper()
    return code if ISO_CODE.match(code) else ""
