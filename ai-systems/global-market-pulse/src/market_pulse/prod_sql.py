"""The pulse's inputs as per-market daily aggregates, computed by DuckDB next to prod's parquet (issue #18).

The pulse needs only sums and distinct counts per market and day, so `read_inputs` pushes projection,
filters and GROUP BY down to `retail_platform.sql.SqlEngine` instead of loading customer_transactions row
by row into pandas. What comes back is small (markets x days) and has the shapes the pandas functions
produce (`markets.panel_from_transactions`, `panel.new_vs_returning`, `markets.holiday_countries`), so
`panel.from_country_kpis` and the analysis run unchanged; tests/unit/market_pulse/test_pulse_prod_sql.py
holds the two paths equal.

Market dimensions come from configuration: each must be a column of customer_transactions (checked
against the view's columns) and is only ever written into SQL quoted. The market labels themselves are
made by the pandas function `markets.market_column` from the distinct dimension values, then joined back,
so that a label is the same character for character in both paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from market_pulse import markets
from market_pulse.exceptions import PulseInputError
from retail_platform.storage import BlobStore

KPIS = "country_kpis"
TRANSACTIONS = "customer_transactions"
KPI_COLUMNS = (
    "date",
    "country",
    "currency",
    "orders",
    "customers",
    "units",
    "revenue_local",
    "revenue_reporting",
    "reporting_currency",
    "cancellation_rate",
)
INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"})
LABELS = "pulse_market_labels"  # dimension values -> market label
ROWS = "pulse_rows"  # customer_transactions with the label of each row's market
MARKET = "pulse_market__"  # the label column (dimensions are snake_case names that end in a letter or digit)


@dataclass(frozen=True)
class PulseInputs:
    """What the pulse reads from prod, already aggregated.

    `daily`: country_kpis-shaped rows (date, country = the market, currency, orders, customers, units,
    revenue_local, revenue_reporting, ...); `returning`: new and returning customers per date and market
    (None without customer_transactions);
    `currencies`: rows and FX-converted rows per (reporting_currency, currency, country), for the label of
    the amounts (currency.label_and_notes); `holidays`: each market's country (custom dimensions only)."""

    daily: pd.DataFrame
    returning: pd.DataFrame | None
    currencies: pd.DataFrame
    holidays: dict[str, str] | None

    @property
    def empty(self) -> bool:
        return self.daily.empty


def _q(name: str) -> str:
    from retail_platform.sql import quote_identifier

    return quote_identifier(name)


def _num(column: str) -> str:
    """A numeric column as DOUBLE with NaN as NULL (pandas' sums and counts skip both)."""
    value = f"CAST({_q(column)} AS DOUBLE)"
    return f"(CASE WHEN isnan({value}) THEN NULL ELSE {value} END)"


class _Prod:
    """The two input datasets registered as views of one engine, with their column names."""

    def __init__(self, prod: BlobStore, engine: Any) -> None:
        from retail_platform.sql import SqlError

        self.engine = engine
        self.columns: dict[str, list[str]] = {}
        self.types: dict[str, dict[str, str]] = {}
        for name in (KPIS, TRANSACTIONS):
            try:
                engine.register(name, prod, f"{name}/", hive_partitioning=False)  # the rows hold their dates
            except SqlError:  # no parquet object: the dataset is absent
                continue
            self.types[name] = dict(engine.columns(name))
            self.columns[name] = list(self.types[name])

    def has(self, dataset: str, column: str) -> bool:
        return column in self.columns.get(dataset, [])

    def require(self, dataset: str, needed: list[str]) -> None:
        """The same error as `panel.require` on the loaded frame, from the view's columns."""
        missing = [c for c in needed if not self.has(dataset, c)]
        if missing:
            have = ", ".join(self.columns[dataset])
            raise PulseInputError(f"{dataset} is missing columns: {', '.join(missing)} (has: {have})")

    def df(self, sql: str) -> pd.DataFrame:
        return self.engine.query_df(sql)

    def cancelled(self) -> str:
        """SQL of 'this row is a cancellation' (false when the column is absent, as in the pandas path)."""
        if not self.has(TRANSACTIONS, "is_cancellation"):
            return "false"
        return "coalesce(CAST(is_cancellation AS BOOLEAN), false)"


def read_inputs(
    prod: BlobStore, dimensions: tuple[str, ...], engine_factory: Callable[[], Any] | None = None
) -> PulseInputs:
    """The pulse's inputs for `dimensions` (countries, or custom attributes of customer_transactions)."""
    engine = engine_factory() if engine_factory is not None else new_engine()
    try:
        views = _Prod(prod, engine)
        if markets.is_countries(dimensions):
            return _country_inputs(views)
        return _market_inputs(views, dimensions)
    finally:
        engine.close()


def new_engine(cache_dir: Any = None) -> Any:
    """The platform's `SqlEngine` on one thread: its float sums then add up in one order, so the same prod
    gives bit-identical aggregates and the same pulse version (parallel partial sums would vary in the last
    bits from run to run)."""
    from retail_platform.sql import SqlEngine

    return SqlEngine(cache_dir=cache_dir, threads=1)


def _empty(holidays: dict[str, str] | None = None) -> PulseInputs:
    return PulseInputs(pd.DataFrame(), None, pd.DataFrame(), holidays)


# ------------------------------------------------------------------ countries (country_kpis)


def _country_inputs(views: _Prod) -> PulseInputs:
    """country_kpis is a mart of one row per day, country and currency: projected, not re-aggregated."""
    if KPIS not in views.columns:
        return _empty()
    columns = [c for c in KPI_COLUMNS if views.has(KPIS, c)]
    daily = views.df(f"SELECT {', '.join(_q(c) for c in columns)} FROM {KPIS}")  # noqa: S608 (checked names)
    if daily.empty:
        return _empty()
    returning = None  # no customer_transactions: new vs returning is skipped (analysis.limits says so)
    if views.has(TRANSACTIONS, "customer_id") and views.has(TRANSACTIONS, "country"):
        rows = f"SELECT t.*, t.country AS {MARKET} FROM {TRANSACTIONS} t"  # noqa: S608 (constant names)
        views.engine.execute(f"CREATE OR REPLACE TEMP VIEW {ROWS} AS {rows}")
        returning = _returning(views)
    return PulseInputs(daily, returning, _currency_summary(views, KPIS), None)


# ------------------------------------------------------------------ custom markets (customer_transactions)


def _market_inputs(views: _Prod, dimensions: tuple[str, ...]) -> PulseInputs:
    if TRANSACTIONS not in views.columns:
        return _empty()
    have = views.columns[TRANSACTIONS]
    if any(d not in have for d in dimensions):  # the pandas path's message, which names prod's attributes
        markets.market_column(pd.DataFrame(columns=have), dimensions)
    views.require(TRANSACTIONS, markets.REQUIRED)
    if not _register_labels(views, dimensions):
        return _empty()
    summary = _currency_summary(views, TRANSACTIONS)
    return PulseInputs(_market_daily(views), _returning(views), summary, _holiday_countries(views))


def _register_labels(views: _Prod, dimensions: tuple[str, ...]) -> bool:
    """View `pulse_rows`: customer_transactions with each row's market label (made by pandas from the distinct
    dimension values); False when there are no rows."""
    import pyarrow as pa

    values = ", ".join(f"CAST({_q(d)} AS VARCHAR) AS {_q(d)}" for d in dimensions)
    distinct = views.df(f"SELECT DISTINCT {values} FROM {TRANSACTIONS}")  # noqa: S608 (quoted, checked names)
    if distinct.empty:
        return False
    labels = pd.DataFrame({f"d{i}": distinct[d] for i, d in enumerate(dimensions)})
    labels[MARKET] = markets.market_column(distinct, dimensions).to_numpy()
    views.engine.register_table(LABELS, pa.Table.from_pandas(labels, preserve_index=False))
    keys = " AND ".join(f"m.d{i} IS NOT DISTINCT FROM CAST(t.{_q(d)} AS VARCHAR)" for i, d in enumerate(dimensions))
    views.engine.execute(
        f"CREATE OR REPLACE TEMP VIEW {ROWS} AS SELECT t.*, m.{MARKET} FROM {TRANSACTIONS} t JOIN {LABELS} m ON {keys}"  # noqa: S608
    )
    return True


def _market_daily(views: _Prod) -> pd.DataFrame:
    """`markets.panel_from_transactions`'s daily rows per (date, market, currency), aggregated in SQL."""
    cancelled = views.cancelled()
    integer = views.types[TRANSACTIONS]["units"].upper() in INTEGER_TYPES
    units = _q("units") if integer else _num("units")
    units_sum = "CAST(coalesce(sum(units), 0) AS BIGINT)" if integer else "coalesce(sum(units), 0)"  # as pandas
    customer = "customer_id" if views.has(TRANSACTIONS, "customer_id") else "NULL"
    reporting = _num("revenue_reporting") if views.has(TRANSACTIONS, "revenue_reporting") else "NULL::DOUBLE"
    sql = f"""
        WITH t AS (
            SELECT CAST(t.date AS DATE) AS date, t.{MARKET} AS market, t.currency AS currency, t.order_id AS order_id,
                   {customer} AS customer_id, {cancelled} AS cancelled, {units} AS units,
                   {_num("revenue")} AS revenue, {reporting} AS revenue_reporting
            FROM {ROWS} t
        )
        SELECT date, market AS country, currency,
               count(DISTINCT order_id) FILTER (WHERE NOT cancelled) AS orders,
               count(DISTINCT order_id) FILTER (WHERE cancelled) AS cancelled,
               count(DISTINCT customer_id) FILTER (WHERE NOT cancelled) AS customers,
               {units_sum} AS units,
               coalesce(sum(revenue), 0) AS revenue_local,
               sum(revenue_reporting) AS revenue_reporting
        FROM t GROUP BY date, market, currency ORDER BY date, market, currency
    """  # noqa: S608 (quoted identifiers from the view's own columns; no user text)
    daily = views.df(sql)
    orders = daily["orders"].where(daily["orders"] > 0)
    daily["cancellation_rate"] = (daily["cancelled"] / orders).fillna(0.0)
    return daily.drop(columns="cancelled")


def _holiday_countries(views: _Prod) -> dict[str, str]:
    """`markets.holiday_countries` in SQL: a market's country when all its rows share one, else ''."""
    sql = f"""
        SELECT market, CASE WHEN count(DISTINCT country) = 1 THEN min(country) ELSE '' END AS country
        FROM (SELECT t.{MARKET} AS market, CAST(t.country AS VARCHAR) AS country FROM {ROWS} t)
        WHERE country IS NOT NULL GROUP BY market
    """  # noqa: S608 (quoted identifiers; no user text)
    rows = views.df(sql)
    return {str(m): str(c) for m, c in zip(rows["market"], rows["country"], strict=True)}


# ------------------------------------------------------------------ shared by both


def _returning(views: _Prod) -> pd.DataFrame:
    """`panel.new_vs_returning` in SQL: distinct buyers per day and market, new on their first day anywhere."""
    sql = f"""
        WITH buys AS (
            SELECT DISTINCT CAST(t.date AS DATE) AS date, t.{MARKET} AS market,
                   CAST(t.customer_id AS VARCHAR) AS customer
            FROM {ROWS} t
            WHERE t.customer_id IS NOT NULL AND NOT {views.cancelled()}
        ), buyers AS (SELECT date, market, customer FROM buys WHERE market IS NOT NULL),
        firsts AS (SELECT customer, min(date) AS first FROM buyers GROUP BY customer)
        SELECT date, market AS country,
               CAST(count(*) FILTER (WHERE date = first) AS DOUBLE) AS new_customers,
               CAST(count(*) FILTER (WHERE date <> first) AS DOUBLE) AS returning_customers
        FROM buyers JOIN firsts USING (customer) GROUP BY date, market ORDER BY date, market
    """  # noqa: S608 (quoted identifiers; no user text)
    out = views.df(sql)
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    return out


def _currency_summary(views: _Prod, dataset: str) -> pd.DataFrame:
    """Rows and FX-converted rows per (reporting_currency, currency, country): what the amounts' label needs."""
    parts = {
        "reporting_currency": "reporting_currency",
        "currency": "currency",
        "country": "country",
    }
    select = ", ".join(
        f"CAST({_q(col)} AS VARCHAR) AS {alias}" if views.has(dataset, col) else f"NULL::VARCHAR AS {alias}"
        for alias, col in parts.items()
    )
    amount = "revenue_reporting"
    converted = f"count({_num(amount)})" if views.has(dataset, amount) else "NULL::BIGINT"
    sql = f"""
        SELECT {select}, count(*) AS rows, {converted} AS converted
        FROM {dataset} GROUP BY ALL
    """  # noqa: S608 (constant names; no user text)
    return views.df(sql)
