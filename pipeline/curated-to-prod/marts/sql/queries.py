"""The prod marts as SQL, one query per dataset, over the normalised curated relations (`norm_<dataset>`)
and the order-line `facts` (`marts.sql.inputs`).

Each query returns the mart's working columns (contract columns, custom attributes as `@name`) for the
output days in [$out_lo, $out_hi]; `schema.conform` then fixes types and order. The rules are those of the
pandas marts they replaced (tests/reference/pandas_marts, the oracle they are compared with); each query's
docstring says what it builds. Written in the DuckDB/Trino common subset:
explicit DOUBLE division, IS NOT DISTINCT FROM where pandas matched missing keys, min_by/max_by with
FILTER for "first/last non-null in line order", UNION ALL for the ALL totals.
"""

# ruff: noqa: S608 - this module generates SQL: identifiers quoted, data values escaped literals, run values bound
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from marts.sql.fx import Pair, converted, factor_ctes, literal
from marts.sql.inputs import Attribute
from retail_platform.sql import quote_identifier as q

Ctes = list[tuple[str, str]]
LINE_CATEGORY = "@category"  # a denormalised export's own category attribute
UNCATEGORISED = "uncategorised"  # the category of a SKU in no catalogue and with no category of its own
OUT = "BETWEEN $out_lo AND $out_hi"
# Amounts are summed exactly (as decimals, then back to DOUBLE): a floating sum depends on the order rows
# arrive in, which parallel scans and different read windows change, and prod bytes must not.
EXACT = "DECIMAL(38, 10)"


def total(column: str) -> str:
    """The exact sum of a DOUBLE column, as DOUBLE."""
    return f"CAST(sum(CAST({column} AS {EXACT})) AS DOUBLE)"


@dataclass(frozen=True)
class Context:
    """What shapes the generated SQL: the custom attributes present, the FX pairs, the reporting currency."""

    reporting: str
    pairs: tuple[Pair, ...] = ()
    lines: tuple[Attribute, ...] = ()
    products: tuple[Attribute, ...] = ()
    customers: tuple[Attribute, ...] = ()

    @property
    def line_dimensions(self) -> list[Attribute]:
        return [a for a in self.lines if not a.measure]

    @property
    def line_measures(self) -> list[Attribute]:
        return [a for a in self.lines if a.measure]

    def lookup(self, attrs: tuple[Attribute, ...], carried: set[str]) -> list[Attribute]:
        """A lookup's attributes that the rows do not carry already (theirs are kept)."""
        return [a for a in attrs if a.carried not in carried]


def _sums(measures: list[Attribute]) -> str:
    """Measures summed per group (NULL when every value is); integers stay 64-bit integers."""
    typed = {"int": "CAST(sum({c}) AS BIGINT)", "float": "CAST(sum(CAST({c} AS " + EXACT + ")) AS DOUBLE)"}
    return "".join(f", {typed[a.kind].format(c=q(a.carried))} AS {q(a.carried)}" for a in measures)


def _cols(attrs: list[Attribute], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return "".join(f", {prefix}{q(a.carried)}" for a in attrs)


def _converted_facts(ctx: Context, where: Callable[[str], str]) -> Ctes:
    """Facts where `where(date column)` holds, with `amount_reporting` (NULL where no rate is known)."""
    return [
        ("conv_days", f"SELECT DISTINCT date FROM facts WHERE {where('date')}"),
        *factor_ctes(list(ctx.pairs), ctx.reporting, "conv_days"),
        (
            "conv",
            f"SELECT f.*, {converted('f.amount')} AS amount_reporting FROM facts AS f LEFT JOIN factors AS x "
            f"ON x.date = f.date AND x.currency = f.currency WHERE {where('f.date')}",
        ),
    ]


def daily_sales(ctx: Context) -> tuple[Ctes, str]:
    """Net sales per day x SKU x country x currency, unioned with SKU-days that had a shelf price or a stock
    snapshot (zero measures; a stock-only row takes the smallest currency its country sold or priced in that
    day); line measures summed, catalogue attributes joined."""
    measures = ctx.line_measures
    carried = {a.carried for a in measures}
    products = ctx.lookup(ctx.products, carried)
    keys = ("date", "sku", "country", "currency")
    on = " AND ".join(["s.date = p.date", *(f"s.{k} IS NOT DISTINCT FROM p.{k}" for k in keys[1:])])
    measure_names = ["units", "gross_units", "revenue", "gross_revenue", "line_promo", "orders"] + [
        a.carried for a in measures
    ]
    ctes: Ctes = [
        (
            "sold",
            f"SELECT date, sku, country, currency, {total('qty')} AS units, {total('gross_qty')} AS gross_units, "
            f"{total('amount')} AS revenue, {total('gross_amount')} AS gross_revenue, bool_or(promo) AS line_promo, "
            f"count(DISTINCT sale_order) AS orders{_sums(measures)} FROM facts WHERE date {OUT} "
            "GROUP BY date, sku, country, currency",
        ),
        (
            "shelf",
            "SELECT _date AS date, sku, country, currency, price, coalesce(promo_flag, FALSE) AS price_promo "
            f"FROM norm_prices WHERE _date {OUT}",
        ),
        ("stock", f"SELECT _date AS date, sku, location AS country, on_hand FROM norm_inventory WHERE _date {OUT}"),
        (
            "sold_shelf",
            "SELECT coalesce(s.date, p.date) AS date, coalesce(s.sku, p.sku) AS sku, "
            "coalesce(s.country, p.country) AS country, coalesce(s.currency, p.currency) AS currency, "
            + ", ".join(f"s.{q(m)}" for m in measure_names)
            + f", p.price, p.price_promo FROM sold AS s FULL OUTER JOIN shelf AS p ON {on}",
        ),
        (
            "with_stock",
            "SELECT coalesce(s.date, p.date) AS date, coalesce(s.sku, p.sku) AS sku, "
            "coalesce(s.country, p.country) AS country, s.currency, "
            + ", ".join(f"s.{q(m)}" for m in measure_names)
            + ", s.price, s.price_promo, p.on_hand FROM sold_shelf AS s FULL OUTER JOIN stock AS p "
            "ON s.date = p.date AND s.sku IS NOT DISTINCT FROM p.sku AND s.country IS NOT DISTINCT FROM p.country",
        ),
        (
            "country_currency",
            "SELECT date, country, min(currency) AS currency FROM with_stock WHERE currency IS NOT NULL "
            "GROUP BY date, country",
        ),
        (
            "ds_rows",
            "SELECT w.date, w.sku, w.country, coalesce(w.currency, c.currency) AS currency, "
            "coalesce(w.units, 0.0) AS units, coalesce(w.gross_units, 0.0) AS gross_units, "
            "coalesce(w.revenue, 0.0) AS revenue, coalesce(w.gross_revenue, 0.0) AS gross_revenue, "
            "coalesce(w.orders, 0) AS orders, coalesce(w.line_promo, FALSE) OR coalesce(w.price_promo, FALSE) "
            f"AS promo_flag, w.price, w.on_hand{_cols(measures, 'w')} FROM with_stock AS w "
            "LEFT JOIN country_currency AS c ON w.date = c.date AND w.country IS NOT DISTINCT FROM c.country",
        ),
        *factor_ctes(list(ctx.pairs), ctx.reporting, "ds_rows"),
    ]
    select = (
        "SELECT r.*, CASE WHEN r.gross_units > 0 THEN r.gross_revenue / r.gross_units END AS avg_price, "
        f"{converted('r.revenue')} AS revenue_reporting, "
        "CASE WHEN r.on_hand IS NULL THEN NULL ELSE r.on_hand = 0 END AS stockout_flag"
        f"{_cols(products, 'p')} FROM ds_rows AS r LEFT JOIN factors AS x ON x.date = r.date "
        "AND x.currency = r.currency" + (" LEFT JOIN norm_products AS p ON p.sku = r.sku" if products else "")
    )
    return ctes, select


def customer_transactions(ctx: Context) -> tuple[Ctes, str]:
    """One row per order, day and kind (sale or cancellation lines): first non-null customer, country and
    currency in line order (a missing customer from the order header of that day), line dimensions first,
    measures summed, customer attributes joined."""
    dims, measures = ctx.line_dimensions, ctx.line_measures
    customers = ctx.lookup(ctx.customers, {a.carried for a in ctx.lines})
    firsts = "".join(
        f", min_by({q(a.carried)}, _seq) FILTER (WHERE {q(a.carried)} IS NOT NULL) AS {q(a.carried)}" for a in dims
    )
    ctes: Ctes = [
        (
            "ct_orders",
            "SELECT date, order_id, is_cancellation, "
            "min_by(customer_id, _seq) FILTER (WHERE customer_id IS NOT NULL) AS customer_id, "
            "min_by(country, _seq) FILTER (WHERE country IS NOT NULL) AS country, "
            "min_by(currency, _seq) FILTER (WHERE currency IS NOT NULL) AS currency, "
            f"min(order_ts) AS order_ts, {total('qty')} AS units, {total('amount')} AS revenue, count(*) AS n_lines"
            f"{firsts}{_sums(measures)} FROM facts WHERE date {OUT} GROUP BY date, order_id, is_cancellation",
        ),
        (
            "ct_rows",
            "SELECT o.date, o.order_id, o.is_cancellation, coalesce(o.customer_id, h.customer_id) AS customer_id, "
            "o.country, o.currency, o.order_ts, o.units, o.revenue, o.n_lines"
            f"{_cols(dims, 'o')}{_cols(measures, 'o')} FROM ct_orders AS o LEFT JOIN "
            "(SELECT _date, order_id, customer_id FROM norm_orders WHERE customer_id IS NOT NULL) AS h "
            "ON h._date = o.date AND h.order_id IS NOT DISTINCT FROM o.order_id",
        ),
        *factor_ctes(list(ctx.pairs), ctx.reporting, "ct_rows"),
    ]
    select = (
        f"SELECT r.*, {converted('r.revenue')} AS revenue_reporting{_cols(customers, 'c')} FROM ct_rows AS r "
        "LEFT JOIN factors AS x ON x.date = r.date AND x.currency = r.currency"
        + (" LEFT JOIN norm_customers AS c ON c.customer_id = r.customer_id" if customers else "")
    )
    return ctes, select


def country_kpis(ctx: Context) -> tuple[Ctes, str]:
    """Orders, customers, units, revenue, AOV and cancellation rate (orders with a cancellation line /
    orders) per day x country x currency."""
    ctes: Ctes = [
        (
            "kpi_rows",
            "SELECT date, country, currency, count(DISTINCT sale_order) AS orders, "
            f"count(DISTINCT sale_customer) AS customers, {total('qty')} AS units, {total('amount')} AS revenue_local, "
            f"count(DISTINCT cancel_order) AS cancelled FROM facts WHERE date {OUT} GROUP BY date, country, currency",
        ),
        *factor_ctes(list(ctx.pairs), ctx.reporting, "kpi_rows"),
        (
            "kpi_converted",
            f"SELECT r.*, {converted('r.revenue_local')} AS revenue_reporting FROM kpi_rows AS r "
            "LEFT JOIN factors AS x ON x.date = r.date AND x.currency = r.currency",
        ),
    ]
    select = (
        "SELECT k.*, CASE WHEN k.orders > 0 THEN k.revenue_reporting / CAST(k.orders AS DOUBLE) END AS aov_reporting, "
        "CASE WHEN k.orders > 0 THEN CAST(k.cancelled AS DOUBLE) / k.orders END AS cancellation_rate "
        "FROM kpi_converted AS k"
    )
    return ctes, select


def _category(ctx: Context, alias: str) -> str:
    own = f"{alias}.{q(LINE_CATEGORY)}, " if any(a.carried == LINE_CATEGORY for a in ctx.line_dimensions) else ""
    return f"coalesce(p.category, {own}{literal(UNCATEGORISED)})"


def copilot_mart(ctx: Context) -> tuple[Ctes, str]:
    """Daily units, revenue and orders per country x SKU x line dimensions, with the catalogue's
    description (else the day's last line text) and category; NULL revenue when any amount had no rate."""
    dims, measures = ctx.line_dimensions, ctx.line_measures
    products = ctx.lookup(ctx.products, {a.carried for a in ctx.lines})
    group = ", ".join(["date", "country", "sku", *(q(a.carried) for a in dims)])
    ctes: Ctes = [
        *_converted_facts(ctx, lambda day: f"{day} {OUT}"),
        (
            "cm_rows",
            f"SELECT {group}, {total('qty')} AS units, coalesce({total('amount_reporting')}, 0.0) AS revenue_sum, "
            "sum(CASE WHEN amount_reporting IS NULL THEN 1 ELSE 0 END) AS unconverted, "
            "count(DISTINCT sale_order) AS orders, "
            "max_by(description, _seq) FILTER (WHERE description IS NOT NULL) AS line_description"
            f"{_sums(measures)} FROM conv GROUP BY {group}",
        ),
    ]
    select = (
        "SELECT r.*, CASE WHEN r.unconverted = 0 THEN r.revenue_sum END AS revenue_reporting, "
        f"coalesce(p.description, r.line_description) AS description, {_category(ctx, 'r')} AS category"
        f"{_cols(products, 'p')} FROM cm_rows AS r LEFT JOIN norm_products AS p ON p.sku = r.sku"
    )
    return ctes, select


def market_series(ctx: Context) -> tuple[Ctes, str]:
    """Weekly (Monday) units, revenue and SKUs sold per category x country, with "ALL" totals of either."""
    own = [a for a in ctx.line_dimensions if a.carried == LINE_CATEGORY]
    group = ", ".join(["date", "sku", "country", *(q(a.carried) for a in own)])
    levels = (("category", "country"), ("category", "'ALL'"), ("'ALL'", "country"), ("'ALL'", "'ALL'"))
    stacked = " UNION ALL ".join(
        f"SELECT week, {category} AS category, {country} AS country, units, revenue_reporting, unconverted, sold_sku "
        "FROM ms_daily"
        for category, country in levels
    )
    ctes: Ctes = [
        *_converted_facts(ctx, lambda day: f"CAST(date_trunc('week', {day}) AS TIMESTAMP) {OUT}"),
        (
            "ms_sku_days",
            f"SELECT {group}, {total('qty')} AS units, {total('gross_qty')} AS gross_units, "
            f"coalesce({total('amount_reporting')}, 0.0) AS revenue_reporting, "
            f"sum(CASE WHEN amount_reporting IS NULL THEN 1 ELSE 0 END) AS unconverted FROM conv GROUP BY {group}",
        ),
        (
            "ms_daily",
            "SELECT CAST(date_trunc('week', d.date) AS TIMESTAMP) AS week, "
            f"{_category(ctx, 'd')} AS category, d.country, d.units, d.revenue_reporting, d.unconverted, "
            "CASE WHEN d.gross_units > 0 THEN d.sku END AS sold_sku FROM ms_sku_days AS d "
            "LEFT JOIN norm_products AS p ON p.sku = d.sku",
        ),
        ("ms_stacked", stacked),
        (
            "ms_rows",
            f"SELECT week AS date, category, country, {total('units')} AS units, "
            f"{total('revenue_reporting')} AS revenue_sum, "
            "sum(unconverted) AS unconverted, count(DISTINCT sold_sku) AS n_skus FROM ms_stacked "
            "GROUP BY week, category, country",
        ),
    ]
    select = (
        "SELECT r.*, CASE WHEN r.unconverted = 0 THEN r.revenue_sum END AS revenue_reporting, "
        "CASE WHEN r.units > 0 AND r.unconverted = 0 THEN r.revenue_sum / r.units END AS avg_price_reporting "
        "FROM ms_rows AS r"
    )
    return ctes, select


PAYMENT_COLUMNS = (
    "payment_id", "payment_ts", "order_id", "amount", "currency", "method", "card_country", "billing_country",
    "ip_country", "ip_address", "device_id", "email", "account_created_ts", "status", "is_fraud",
)  # fmt: skip


def payment_transactions(ctx: Context) -> tuple[Ctes, str]:
    """Payments with their order's header and sale total found within a day of the payment; never the card
    number (BIN: at most the first eight digits; the last four)."""
    window = "BETWEEN k.date - INTERVAL 1 DAY AND k.date + INTERVAL 1 DAY"
    digits = "array_to_string(regexp_extract_all(p.{c}, '[0-9]'), '')"  # every digit (Trino: array_join)
    ctes: Ctes = [
        ("pay", f"SELECT *, _date AS date FROM norm_payments WHERE _date {OUT}"),
        *factor_ctes(list(ctx.pairs), ctx.reporting, "pay"),
        ("keyed", "SELECT payment_id, order_id, date FROM pay WHERE order_id IS NOT NULL"),
        (
            "matched",
            "SELECT payment_id, order_country, order_channel, order_customer_id, order_shipping_country FROM ("
            "SELECT k.payment_id, h.country AS order_country, h.channel AS order_channel, "
            "h.customer_id AS order_customer_id, h.shipping_country AS order_shipping_country, "
            "row_number() OVER (PARTITION BY k.payment_id ORDER BY h._date) AS n "
            f"FROM keyed AS k JOIN norm_orders AS h ON h.order_id = k.order_id WHERE h._date {window}) AS m "
            "WHERE n = 1",
        ),
        (
            "order_totals",
            f"SELECT order_id, date AS order_date, {total('amount')} AS order_amount, "
            "min_by(currency, _seq) FILTER (WHERE currency IS NOT NULL) AS order_currency FROM facts "
            "WHERE NOT is_cancellation AND order_id IS NOT NULL GROUP BY order_id, date",
        ),
        (
            "totals",
            f"SELECT k.payment_id, {total('t.order_amount')} AS order_amount, "
            "min_by(t.order_currency, t.order_date) FILTER (WHERE t.order_currency IS NOT NULL) AS order_currency "
            f"FROM keyed AS k JOIN order_totals AS t ON t.order_id = k.order_id WHERE t.order_date {window} "
            "GROUP BY k.payment_id",
        ),
    ]
    select = (
        "SELECT p.date, "
        + ", ".join(f"p.{c}" for c in PAYMENT_COLUMNS)
        + ", coalesce(p.customer_id, m.order_customer_id) AS customer_id, "
        "coalesce(p.shipping_country, m.order_shipping_country) AS shipping_country, "
        f"{converted('p.amount')} AS amount_reporting, "
        f"substr({digits.format(c='card_bin')}, 1, 8) AS card_bin, "
        f"substr({digits.format(c='card_last4')}, greatest(length({digits.format(c='card_last4')}) - 3, 1)) "
        "AS card_last4, m.order_country, m.order_channel, t.order_amount, t.order_currency "
        "FROM pay AS p LEFT JOIN factors AS x ON x.date = p.date AND x.currency = p.currency "
        "LEFT JOIN matched AS m ON m.payment_id = p.payment_id LEFT JOIN totals AS t ON t.payment_id = p.payment_id"
    )
    return ctes, select


MARTS: dict[str, Callable[[Context], tuple[Ctes, str]]] = {
    "daily_sales": daily_sales,
    "customer_transactions": customer_transactions,
    "payment_transactions": payment_transactions,
    "country_kpis": country_kpis,
    "copilot_mart": copilot_mart,
    "market_series": market_series,
}


def statement(ctes: Ctes, select: str) -> str:
    """One statement: the CTEs then the select."""
    if not ctes:
        return select
    return "WITH " + ",\n".join(f"{name} AS (\n{sql}\n)" for name, sql in ctes) + "\n" + select
