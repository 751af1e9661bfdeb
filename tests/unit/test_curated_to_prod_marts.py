"""curated-to-prod marts on small hand-made curated frames with exact expected figures, and the
incremental run against moto (mock_aws): only affected partitions, byte-identical re-runs."""

from __future__ import annotations

import io
from datetime import date

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from marts import PROD_DATASETS, incremental
from marts.build import build_marts
from marts.curated import CuratedInputs
from marts.schema import arrow_schema, contract
from marts.service import Request, parse_request, run
from marts.sql.fx import factor_ctes
from marts.sql.queries import statement
from marts.sql.run import SqlMarts
from marts.store import partition_bytes
from retail_platform import s3io
from retail_platform.contracts import load_prod, prod_names
from retail_platform.exceptions import BadEventError
from retail_platform.settings import Settings
from retail_platform.sql import SqlEngine

D1, D2, D3, MON = date(2023, 3, 1), date(2023, 3, 2), date(2023, 3, 3), date(2023, 3, 6)
WEEK = date(2023, 2, 27)  # Monday of the week holding D1..D3


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def day(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def line(
    order_id,
    line_no,
    when,
    sku,
    qty,
    price,
    country,
    currency,
    customer="C1",
    cancel=False,
    promo=None,
    description=None,
):
    return {
        "order_id": order_id,
        "line_no": line_no,
        "order_ts": ts(when),
        "sku": sku,
        "description": description,
        "quantity": qty,
        "unit_price": price,
        "currency": currency,
        "customer_id": customer,
        "country": country,
        "is_cancellation": cancel,
        "promo_flag": promo,
    }


def sample_frames() -> dict[str, pd.DataFrame]:
    """Curated-like frames: 1 EUR = 0.8 GBP = 1.25 USD on D1, no rates on D2, 0.9 GBP on D3."""
    order_lines = pd.DataFrame(
        [
            line("O1", 1, "2023-03-01 10:00", "A", 2, 8.0, "GB", "GBP", description="teddy bear"),
            line("O1", 2, "2023-03-01 10:00", "B", 1, 4.0, "GB", "GBP"),
            line("O2", 1, "2023-03-01 11:00", "A", 3, 10.0, "DE", "EUR", customer="C2", promo=True),
            line("O1", 3, "2023-03-02 09:00", "A", -1, 8.0, "GB", "GBP", cancel=True),
            line(
                "O3",
                1,
                "2023-03-02 23:59",
                "C",
                5,
                2.5,
                "US",
                "USD",
                customer=None,
                description="mystery box",
            ),
            line("O4", 1, "2023-03-06 08:00", "A", 1, 8.0, "GB", "GBP", customer="C3"),
        ]
    )
    orders = pd.DataFrame(
        [
            {
                "order_id": "O1",
                "order_ts": ts("2023-03-01 10:00"),
                "customer_id": "C1",
                "country": "GB",
                "currency": "GBP",
                "channel": "web",
                "status": "cancelled",
                "shipping_country": "GB",
            },
            {
                "order_id": "O3",
                "order_ts": ts("2023-03-02 23:59"),
                "customer_id": "C9",
                "country": "US",
                "currency": "USD",
                "channel": "app",
                "status": "placed",
                "shipping_country": "CA",
            },
        ]
    )
    payments = pd.DataFrame(
        [
            {
                "payment_id": "P1",
                "order_id": "O1",
                "customer_id": "C1",
                "payment_ts": ts("2023-03-01 10:01"),
                "amount": 20.0,
                "currency": "GBP",
                "method": "card",
                "card_number": "411111******1111",
                "card_bin": "411111",
                "card_last4": "1111",
                "card_country": "GB",
                "status": "approved",
                "is_fraud": False,
            },
            # just after midnight: its order is in the previous day's partition
            {
                "payment_id": "P2",
                "order_id": "O3",
                "customer_id": None,
                "payment_ts": ts("2023-03-03 00:01"),
                "amount": 12.5,
                "currency": "USD",
                "method": "paypal",
                "status": "approved",
                "is_fraud": True,
            },
        ]
    )
    prices = pd.DataFrame(
        [
            {
                "date": day(D1),
                "sku": "A",
                "country": "GB",
                "price": 8.0,
                "currency": "GBP",
                "promo_flag": False,
            },
            {
                "date": day(D2),
                "sku": "B",
                "country": "GB",
                "price": 4.0,
                "currency": "GBP",
                "promo_flag": True,
            },
        ]
    )
    inventory = pd.DataFrame(
        [
            {"snapshot_date": day(D2), "sku": "A", "location": "GB", "on_hand": 0},
            {"snapshot_date": day(D2), "sku": "B", "location": "GB", "on_hand": 5},
        ]
    )
    fx_rates = pd.DataFrame(
        [
            {"date": day(D1), "base_currency": "EUR", "quote_currency": "GBP", "rate": 0.8},
            {"date": day(D1), "base_currency": "EUR", "quote_currency": "USD", "rate": 1.25},
            {"date": day(D3), "base_currency": "EUR", "quote_currency": "GBP", "rate": 0.9},
        ]
    )
    products = pd.DataFrame(
        [
            {
                "sku": "A",
                "description": "Teddy Bear",
                "category": "toys",
                "base_price": 10.0,
                "currency": "EUR",
            },
            {
                "sku": "B",
                "description": "Board Game",
                "category": "games",
                "base_price": 5.0,
                "currency": "EUR",
            },
        ]
    )
    frames = {
        "order_lines": order_lines,
        "orders": orders,
        "payments": payments,
        "prices": prices,
        "inventory": inventory,
        "fx_rates": fx_rates,
        "products": products,
    }
    for name, frame in frames.items():
        frame["_warnings"] = None
        frame["_source_key"] = f"sample/{name}.csv"
        frame["_source_row"] = range(len(frame))
    return frames


ALL_DAYS = {
    "daily_sales": {D1, D2, MON},
    "customer_transactions": {D1, D2, MON},
    "payment_transactions": {D1, D3},
    "country_kpis": {D1, D2, MON},
    "copilot_mart": {D1, D2, MON},
    "market_series": {WEEK, MON},
}
ALL_MONTHS = {name: {d.strftime("%Y-%m") for d in days} for name, days in ALL_DAYS.items()}


@pytest.fixture(scope="module")
def marts() -> dict[str, pd.DataFrame]:
    return build_marts(CuratedInputs.from_frames(sample_frames()), ALL_DAYS, "EUR")


def row(frame: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == (pd.Timestamp(value) if isinstance(value, date) else value)
    assert mask.sum() == 1, f"{mask.sum()} rows match {where}"
    return frame.loc[mask].iloc[0]


# ---------------------------------------------------------------- contracts


def test_prod_contracts_load_and_every_mart_has_exactly_its_columns(marts):
    assert prod_names() == sorted(PROD_DATASETS)
    for name in PROD_DATASETS:
        spec = load_prod(name)
        assert spec.partition_by == "date"
        assert list(marts[name].columns) == list(spec.columns), name
        assert arrow_schema(name).names == list(spec.columns)
        required = [c.name for c in spec.columns.values() if c.required]
        assert not marts[name][required].isna().any().any(), f"{name}: null in a required column"
        assert not marts[name].duplicated(list(spec.business_key)).any(), f"{name}: business key not unique"


def test_prod_contracts_are_not_curated_datasets():
    from retail_platform.contracts import canonical_names

    assert not set(canonical_names()) & set(prod_names())


# ---------------------------------------------------------------- FX


def factors(reporting: str, days: list[date], fx_rates: pd.DataFrame | None = None) -> dict:
    """(date, currency) -> factor of the SQL marts' FX CTEs for `days` (the sample's rates by default)."""
    inputs = CuratedInputs.from_frames({"fx_rates": sample_frames()["fx_rates"] if fx_rates is None else fx_rates})
    with SqlEngine() as engine:
        ctx = SqlMarts.from_inputs(inputs, engine).context(reporting)
        engine.register_table("wanted", pa.table({"date": pd.to_datetime(days).astype("datetime64[us]")}))
        rows = engine.query(statement(factor_ctes(list(ctx.pairs), reporting, "wanted"), "SELECT * FROM factors"))
    return {(pd.Timestamp(r["date"]), r["currency"]): r["factor"] for r in rows.to_pylist()}


def test_fx_divides_by_the_rate_when_the_base_is_the_reporting_currency_and_forward_fills():
    lookup = factors("EUR", [D1, D2, D3, MON])
    assert lookup[(day(D1), "GBP")] == pytest.approx(1 / 0.8)
    assert lookup[(day(D2), "GBP")] == pytest.approx(1 / 0.8)  # no rate on D2: the last known one
    assert lookup[(day(D3), "GBP")] == pytest.approx(1 / 0.9)
    assert lookup[(day(MON), "USD")] == pytest.approx(1 / 1.25)
    assert lookup[(day(D2), "EUR")] == 1.0


def test_fx_cross_rate_through_the_common_base():
    lookup = factors("GBP", [D1])
    assert lookup[(day(D1), "EUR")] == pytest.approx(0.8)  # 1 EUR = 0.8 GBP
    assert lookup[(day(D1), "USD")] == pytest.approx(0.8 / 1.25)  # 1 USD = 0.8 EUR = 0.64 GBP
    assert (day(D1), "SEK") not in lookup  # no path: unknown, never a guess


def test_fx_before_the_first_rate_is_unknown():
    assert factors("EUR", [date(2023, 2, 1)])[(day(date(2023, 2, 1)), "GBP")] is None


# ---------------------------------------------------------------- daily_sales


def test_daily_sales_net_units_revenue_and_reporting_currency(marts):
    sales = marts["daily_sales"]
    gb = row(sales, date=D1, sku="A", country="GB")
    assert (gb.units, gb.gross_units, gb.orders) == (2, 2, 1)
    assert gb.revenue == 16.0 and gb.currency == "GBP"
    assert gb.revenue_reporting == pytest.approx(20.0)  # 16 GBP / 0.8
    assert gb.avg_price == 8.0 and gb.price == 8.0 and not gb.promo_flag
    de = row(sales, date=D1, sku="A", country="DE")
    assert de.revenue_reporting == 30.0 and de.promo_flag  # promotion from the order line
    cancelled = row(sales, date=D2, sku="A", country="GB")
    assert (cancelled.units, cancelled.gross_units, cancelled.orders) == (-1, 0, 0)
    assert cancelled.revenue_reporting == pytest.approx(-10.0)  # D1's rate, forward-filled
    assert pd.isna(cancelled.avg_price)
    assert cancelled.on_hand == 0 and cancelled.stockout_flag
    us = row(sales, date=D2, sku="C", country="US")
    assert us.revenue_reporting == pytest.approx(10.0)  # 12.5 USD / 1.25
    assert pd.isna(us.on_hand) and pd.isna(us.stockout_flag)  # no snapshot: unknown
    monday = row(sales, date=MON, sku="A", country="GB")
    assert monday.revenue_reporting == pytest.approx(8 / 0.9)


def test_daily_sales_keeps_sku_days_without_sales(marts):
    unsold = row(marts["daily_sales"], date=D2, sku="B", country="GB")
    assert (unsold.units, unsold.orders, unsold.revenue) == (0, 0, 0.0)
    assert unsold.price == 4.0 and unsold.promo_flag and unsold.currency == "GBP"
    assert unsold.on_hand == 5 and not unsold.stockout_flag
    assert unsold.revenue_reporting == 0.0


# ---------------------------------------------------------------- customer and payment transactions


def test_customer_transactions_one_row_per_order_and_kind(marts):
    tx = marts["customer_transactions"]
    sale = row(tx, order_id="O1", is_cancellation=False)
    assert (sale.units, sale.n_lines, sale.revenue) == (3, 2, 20.0)
    assert sale.revenue_reporting == pytest.approx(25.0) and sale.order_ts == ts("2023-03-01 10:00")
    cancel = row(tx, order_id="O1", is_cancellation=True)
    assert cancel.date == day(D2) and cancel.units == -1 and cancel.revenue_reporting == pytest.approx(-10.0)
    guest = row(tx, order_id="O3")
    assert guest.customer_id == "C9"  # missing on the line, filled from the order header of that day


def test_payment_transactions_join_orders_within_a_day_and_never_carry_card_numbers(marts):
    pay = marts["payment_transactions"]
    assert "card_number" not in pay.columns
    p1 = row(pay, payment_id="P1")
    assert p1.date == day(D1) and p1.amount_reporting == pytest.approx(25.0)
    assert (p1.order_amount, p1.order_currency, p1.order_country, p1.order_channel) == (
        20.0,
        "GBP",
        "GB",
        "web",
    )
    assert (p1.card_bin, p1.card_last4) == ("411111", "1111")
    p2 = row(pay, payment_id="P2")
    assert p2.date == day(D3) and p2.order_amount == 12.5 and p2.order_country == "US"
    assert p2.customer_id == "C9" and p2.shipping_country == "CA"  # filled from the order header
    assert p2.amount_reporting == pytest.approx(10.0) and bool(p2.is_fraud)


# ---------------------------------------------------------------- weekly market series


def test_market_series_weeks_start_on_monday_with_all_totals(marts):
    market = marts["market_series"]
    assert set(market["date"]) == {day(WEEK), day(MON)}
    toys_gb = row(market, date=WEEK, category="toys", country="GB")
    assert toys_gb.units == 1 and toys_gb.revenue_reporting == pytest.approx(10.0)  # 20 - 10 (cancellation)
    assert toys_gb.avg_price_reporting == pytest.approx(10.0) and toys_gb.n_skus == 1
    uncategorised = row(market, date=WEEK, category="uncategorised", country="US")
    assert uncategorised.units == 5
    all_gb = row(market, date=WEEK, category="ALL", country="GB")
    assert (all_gb.units, all_gb.n_skus) == (2, 2) and all_gb.revenue_reporting == pytest.approx(15.0)
    toys_all = row(market, date=WEEK, category="toys", country="ALL")
    assert (toys_all.units, toys_all.n_skus) == (4, 1) and toys_all.revenue_reporting == pytest.approx(40.0)
    total = row(market, date=WEEK, category="ALL", country="ALL")
    assert (total.units, total.n_skus) == (10, 3) and total.revenue_reporting == pytest.approx(55.0)
    assert total.avg_price_reporting == pytest.approx(5.5)
    assert row(market, date=MON, category="ALL", country="ALL").units == 1


# ---------------------------------------------------------------- country KPIs and copilot mart


def test_country_kpis(marts):
    kpis = marts["country_kpis"]
    gb = row(kpis, date=D1, country="GB")
    assert (gb.orders, gb.customers, gb.units) == (1, 1, 3)
    assert gb.revenue_local == 20.0 and gb.revenue_reporting == pytest.approx(25.0)
    assert gb.aov_reporting == pytest.approx(25.0) and gb.cancellation_rate == 0.0
    gb2 = row(kpis, date=D2, country="GB")
    assert gb2.orders == 0 and pd.isna(gb2.cancellation_rate) and pd.isna(gb2.aov_reporting)
    us = row(kpis, date=D2, country="US")
    assert (us.orders, us.customers) == (1, 0)  # a guest order: no known customer


def test_copilot_mart_descriptions_and_categories(marts):
    copilot = marts["copilot_mart"]
    a = row(copilot, date=D1, country="GB", sku="A")
    assert (a.category, a.description, a.units, a.orders) == ("toys", "Teddy Bear", 2, 1)  # catalogue wins
    c = row(copilot, date=D2, country="US", sku="C")
    assert (c.category, c.description) == ("uncategorised", "mystery box")  # from the order line
    assert c.revenue_reporting == pytest.approx(10.0)
    assert len(copilot) == 6  # only SKU-days with order lines


# ---------------------------------------------------------------- dedup across curated files


def test_latest_source_file_wins_per_business_key_and_warned_rows_are_kept():
    frames = sample_frames()
    correction = frames["order_lines"].iloc[[0]].copy()
    correction["quantity"] = 4
    correction["_source_key"] = "sample/order_lines.v2.csv"  # sorts after sample/order_lines.csv
    correction["_warnings"] = "zero_unit_price"
    frames["order_lines"] = pd.concat([correction, frames["order_lines"]], ignore_index=True)
    out = build_marts(CuratedInputs.from_frames(frames), {"daily_sales": {D1}}, "EUR")["daily_sales"]
    assert row(out, date=D1, sku="A", country="GB").units == 4


# ---------------------------------------------------------------- incremental planning


def available() -> dict[str, set[date]]:
    return {
        "order_lines": {D1, D2, MON},
        "orders": {D1, D2},
        "payments": {D1, D3},
        "prices": {D1, D2},
        "inventory": {D2},
        "fx_rates": {D1, D3},
    }


def test_plan_for_order_lines_of_one_day():
    plan = incremental.incremental_plan({"order_lines": [D2]}, available())
    assert plan.targets["daily_sales"] == {D2} and plan.targets["country_kpis"] == {D2}
    assert plan.targets["market_series"] == {WEEK}
    assert plan.targets["payment_transactions"] == {D1, D2, date(2023, 3, 3)}  # orders within a day
    assert plan.reads["order_lines"] == {D1, D2}  # the week's days that exist (market_series)
    assert plan.reads["inventory"] == {D2} and plan.reads["payments"] == {D1, D3}
    assert plan.reads["fx_rates"] == {D1, D3}
    assert plan.read_products


def test_plan_for_a_payment_day_reads_only_what_it_needs():
    plan = incremental.incremental_plan({"payments": [D3]}, available())
    assert {k: set(v) for k, v in plan.targets.items() if v} == {"payment_transactions": {D3}}
    assert plan.reads["payments"] == {D3} and plan.reads["orders"] == {D2} and plan.reads["order_lines"] == {D2}
    assert not plan.reads["prices"] and not plan.read_products


def test_plan_for_an_fx_rate_reaches_forward_to_the_next_rate():
    plan = incremental.incremental_plan({"fx_rates": [D1]}, available())
    assert plan.targets["daily_sales"] == {D1, D2}  # D2 used D1's rate; D3 has its own
    late = incremental.incremental_plan({"fx_rates": [D3]}, available())
    assert late.targets["daily_sales"] == {D3, date(2023, 3, 4), date(2023, 3, 5), MON}  # up to the last data


def test_plan_for_a_catalogue_change_rebuilds_what_uses_categories():
    plan = incremental.incremental_plan({"products": []}, available())
    assert plan.targets["copilot_mart"] == {D1, D2, MON} and plan.targets["market_series"] == {WEEK, MON}
    assert not plan.targets["daily_sales"]


def test_full_plan_covers_every_day_present():
    plan = incremental.full_plan(available())
    assert plan.targets["daily_sales"] == {D1, D2, MON} and plan.targets["payment_transactions"] == {D1, D3}
    assert plan.reads["fx_rates"] == {D1, D3}


# ---------------------------------------------------------------- events


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], "JSON object"),
        ({"hello": 1}, "unsupported event"),
        ({"partitions": ["2023-03-01"]}, "object of dataset"),
        ({"partitions": {"order_lines": "2023-03"}}, "list of YYYY-MM months"),
        ({"partitions": {"order_lines": ["01/03/2023"]}}, "not a YYYY-MM month"),
        ({"partitions": {"order_lines": ["2023-13"]}}, "not a YYYY-MM month"),
        ({"partitions": {"sales": ["2023-03-01"]}}, "unknown curated datasets"),
        ({"full_rebuild": "yes"}, "true or false"),
    ],
)
def test_bad_events_are_rejected_with_a_clear_message(event, message):
    with pytest.raises(BadEventError, match=message):
        parse_request(event)


def test_request_shapes():
    assert parse_request({"full_rebuild": True}).full_rebuild
    assert parse_request({"detail-type": "Scheduled Event", "detail": {}}).full_rebuild
    request = parse_request({"partitions": {"order_lines": ["2023-03", "2023-02", "2023-03"]}, "rows_curated": 3})
    assert request == Request(False, {"order_lines": ["2023-02", "2023-03"]})
    older = parse_request({"partitions": {"order_lines": ["2023-03-02", "2023-02-28", "2023-03-01"]}})  # day labels
    assert older == Request(False, {"order_lines": ["2023-02", "2023-03"]})


# ---------------------------------------------------------------- S3 (moto): incremental, idempotent


SETTINGS = Settings(
    environment="test",
    raw_bucket="raw",
    curated_bucket="curated",
    prod_bucket="prod",
    artifacts_bucket="artifacts",
    event_bus_name="default",
    reporting_currency="EUR",
    endpoint_url=None,
    region="us-east-1",
)


def put_curated(s3, frames: dict[str, pd.DataFrame], source: str = "sample", grain: str = "month") -> None:
    """Curated layout: <dataset>/month=YYYY-MM/part-<id>.parquet (or the older date=YYYY-MM-DD), products
    unpartitioned."""
    for name, frame in frames.items():
        spec_partition = {
            "order_lines": "order_ts",
            "orders": "order_ts",
            "payments": "payment_ts",
            "prices": "date",
            "inventory": "snapshot_date",
            "fx_rates": "date",
        }.get(name)
        if spec_partition is None:
            s3io.write_parquet(s3, "curated", f"{name}/part-{source}.parquet", frame)
            continue
        field, label = ("month", "%Y-%m") if grain == "month" else ("date", "%Y-%m-%d")
        labels = pd.to_datetime(frame[spec_partition], utc=True).dt.strftime(label)
        for partition, part in frame.groupby(labels.to_numpy()):
            s3io.write_parquet(
                s3, "curated", f"{name}/{field}={partition}/part-{source}.parquet", part.reset_index(drop=True)
            )


def prod_objects(s3) -> dict[str, bytes]:
    return {k: s3io.read_bytes(s3, "prod", k) for k in s3io.list_keys(s3, "prod", "")}


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        events = boto3.client("events", region_name="us-east-1")
        for bucket in ("curated", "prod"):
            s3.create_bucket(Bucket=bucket)
        yield s3, events


def test_full_rebuild_writes_every_partition_and_is_byte_identical_when_rerun(aws):
    s3, events = aws
    put_curated(s3, sample_frames())
    first = run(Request(True), s3, events, SETTINGS)
    assert {k: set(v) for k, v in first.written.items() if v} == ALL_MONTHS
    assert first.events_emitted == len(PROD_DATASETS)
    before = prod_objects(s3)
    objects = [f"{name}/month={month}/part-0.parquet" for name, months in ALL_MONTHS.items() for month in months]
    assert sorted(before) == sorted([*objects, "_marts/reporting_currency.json"])  # one object per dataset, month
    second = run(Request(True), s3, events, SETTINGS)
    assert second.written == first.written
    assert prod_objects(s3) == before
    table = pq.read_table(io.BytesIO(before["daily_sales/month=2023-03/part-0.parquet"]))
    assert table.schema == arrow_schema("daily_sales") and table.schema.metadata is None


def test_incremental_run_rewrites_only_affected_partitions_with_full_rebuild_bytes(aws):
    s3, events = aws
    frames = sample_frames()
    put_curated(s3, frames)
    run(Request(True), s3, events, SETTINGS)
    full = prod_objects(s3)

    # a second export corrects one order line of D2 (the cancellation becomes -2)
    correction = frames["order_lines"].iloc[[3]].copy()
    correction["quantity"] = -2
    put_curated(s3, {"order_lines": correction}, source="zz-correction")
    outcome = run(parse_request({"partitions": {"order_lines": ["2023-03"]}}), s3, events, SETTINGS)
    assert {k: set(v) for k, v in outcome.written.items() if v} == {
        "daily_sales": {"2023-03"},
        "customer_transactions": {"2023-03"},
        "country_kpis": {"2023-03"},
        "copilot_mart": {"2023-03"},
        "market_series": {"2023-02", "2023-03"},  # the week of D1..D3 starts on Monday 27 February
        "payment_transactions": {"2023-03"},  # orders within a day of March's payments
    }
    after = prod_objects(s3)
    changed = {k for k in full if after[k] != full[k]}
    assert changed == {
        "daily_sales/month=2023-03/part-0.parquet",
        "customer_transactions/month=2023-03/part-0.parquet",
        "country_kpis/month=2023-03/part-0.parquet",
        "copilot_mart/month=2023-03/part-0.parquet",
        "market_series/month=2023-02/part-0.parquet",  # the corrected line's week; March's weeks are unchanged
    }
    assert sorted(after) == sorted(full)  # the month objects were replaced, none added beside them
    sales = pd.read_parquet(io.BytesIO(after["daily_sales/month=2023-03/part-0.parquet"]))
    on_d2 = pd.to_datetime(sales["date"]).dt.date.eq(D2)
    assert sales.loc[on_d2 & sales["sku"].eq("A") & sales["country"].eq("GB"), "units"].item() == -2

    # and the incremental result is exactly what a full rebuild gives
    run(Request(True), s3, events, SETTINGS)
    assert prod_objects(s3) == after


def test_partitions_whose_curated_input_is_gone_are_deleted(aws):
    s3, events = aws
    put_curated(s3, sample_frames())
    run(Request(True), s3, events, SETTINGS)
    lines = sample_frames()["order_lines"]
    march_without_mon = lines.loc[pd.to_datetime(lines["order_ts"], utc=True).dt.date != MON]
    put_curated(s3, {"order_lines": march_without_mon})  # March re-curated without MON's lines
    outcome = run(parse_request({"partitions": {"order_lines": ["2023-03"]}}), s3, events, SETTINGS)
    assert outcome.response()["partitions_deleted"] == {"market_series": ["2023-03"]}  # its only March week was MON's
    assert "market_series/month=2023-03/part-0.parquet" not in prod_objects(s3)
    for name in ("daily_sales", "country_kpis"):
        dates = pd.read_parquet(io.BytesIO(prod_objects(s3)[f"{name}/month=2023-03/part-0.parquet"]))["date"]
        assert set(pd.to_datetime(dates).dt.date) == {D1, D2}  # MON's rows left with their input


def test_partition_bytes_do_not_depend_on_the_other_rows(marts):
    one_day = marts["daily_sales"].loc[marts["daily_sales"]["date"] == day(D2)].reset_index(drop=True)
    assert (
        partition_bytes(one_day, "daily_sales", "day")["2023-03-02"]
        == (partition_bytes(marts["daily_sales"], "daily_sales", "day")["2023-03-02"])
    )
    week = marts["market_series"].loc[marts["market_series"]["date"] == day(WEEK)].reset_index(drop=True)
    assert (
        partition_bytes(week, "market_series")["2023-02"]
        == partition_bytes(marts["market_series"], "market_series")["2023-02"]
    )


def test_contract_helper_matches_loader():
    assert contract("daily_sales") is load_prod("daily_sales")


def test_totals_with_an_unconvertible_amount_are_null_not_understated():
    frames = sample_frames()
    sek = line("O9", 1, "2023-03-01 12:00", "A", 1, 100.0, "SE", "SEK", customer="C4")
    frames["order_lines"] = pd.concat([frames["order_lines"], pd.DataFrame([sek])], ignore_index=True)
    frames["order_lines"]["_source_row"] = range(len(frames["order_lines"]))
    out = build_marts(
        CuratedInputs.from_frames(frames),
        {"market_series": {WEEK}, "daily_sales": {D1}, "copilot_mart": {D1}},
        "EUR",
    )
    market = out["market_series"]
    assert pd.isna(row(market, date=WEEK, category="ALL", country="ALL").revenue_reporting)
    assert pd.isna(row(market, date=WEEK, category="toys", country="ALL").revenue_reporting)
    assert row(market, date=WEEK, category="toys", country="GB").revenue_reporting == pytest.approx(10.0)
    assert pd.isna(row(out["daily_sales"], date=D1, sku="A", country="SE").revenue_reporting)
    assert pd.isna(row(out["copilot_mart"], date=D1, country="SE", sku="A").revenue_reporting)


def test_zero_amounts_convert_to_zero_without_a_rate():
    frames = sample_frames()
    zero = line("O8", 1, "2023-03-01 12:00", "Z", 1, 0.0, "SE", "SEK", customer="C4")
    frames["order_lines"] = pd.concat([frames["order_lines"], pd.DataFrame([zero])], ignore_index=True)
    frames["order_lines"]["_source_row"] = range(len(frames["order_lines"]))
    out = build_marts(CuratedInputs.from_frames(frames), {"daily_sales": {D1}, "copilot_mart": {D1}}, "EUR")
    assert row(out["daily_sales"], date=D1, sku="Z", country="SE").revenue_reporting == 0.0
    assert row(out["copilot_mart"], date=D1, country="SE", sku="Z").revenue_reporting == 0.0
