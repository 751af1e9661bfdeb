"""Custom attributes carried from curated into prod, and the reporting currency resolved from the data
(AUTO). Expected figures are computed here with plain pandas from the same hand-made lines."""

from __future__ import annotations

import io
from dataclasses import replace

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marts import PROD_DATASETS, currency
from marts.build import build_marts
from marts.curated import CuratedInputs
from marts.service import Request, parse_request, run
from retail_platform import s3io
from retail_platform.contracts import load_prod
from retail_platform.exceptions import ConfigurationError
from retail_platform.settings import AUTO_CURRENCY, Settings
from tests.unit.test_curated_to_prod_marts import (
    ALL_DAYS,
    D1,
    D2,
    MON,
    SETTINGS,
    WEEK,
    aws,  # noqa: F401  (fixture)
    day,
    line,
    prod_objects,
    put_curated,
    sample_frames,
)

REGIONS = {"O1": "North", "O2": "South", "O3": "West", "O4": "North"}


def with_attributes() -> dict[str, pd.DataFrame]:
    """The sample with order-line attributes (region, profit, a line of O2 in another region), product
    attributes (sub_category, cost) and customer attributes (tier)."""
    frames = sample_frames()
    lines = frames["order_lines"]
    extra = line("O2", 2, "2023-03-01 11:00", "A", 1, 10.0, "DE", "EUR", customer="C2")
    lines = pd.concat([lines, pd.DataFrame([extra])], ignore_index=True)
    lines["region"] = lines["order_id"].map(REGIONS)
    lines.loc[len(lines) - 1, "region"] = "East"  # O2's second line: same SKU-day, another region
    lines["profit"] = lines["quantity"] * 1.5
    lines.loc[0, "profit"] = None  # an unknown profit is not a zero
    lines["_warnings"], lines["_source_key"], lines["_source_row"] = None, "sample/order_lines.csv", range(len(lines))
    frames["order_lines"] = lines
    frames["products"]["sub_category"] = ["Plush", "Board"]
    frames["products"]["cost"] = [4.0, 2.0]
    frames["customers"] = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "signup_ts": pd.to_datetime(["2022-01-01"] * 3, utc=True),
            "country": ["GB", "DE", "GB"],
            "tier": ["gold", "silver", "gold"],
            "_source_key": "sample/customers.csv",
            "_source_row": range(3),
        }
    )
    return frames


@pytest.fixture(scope="module")
def marts() -> dict[str, pd.DataFrame]:
    return build_marts(CuratedInputs.from_frames(with_attributes()), ALL_DAYS, "EUR")


def lines_frame() -> pd.DataFrame:
    lines = with_attributes()["order_lines"].copy()
    lines["date"] = pd.to_datetime(lines["order_ts"]).dt.tz_localize(None).dt.normalize()
    return lines


def test_copilot_mart_splits_by_line_dimensions_sums_measures_and_joins_the_catalogue(marts):
    mart = marts["copilot_mart"]
    contract = list(load_prod("copilot_mart").columns)
    assert list(mart.columns) == [*contract, "cost", "profit", "region", "sub_category"]
    lines = lines_frame()
    expected = (
        lines.groupby(["date", "country", "sku", "region"])
        .agg(units=("quantity", "sum"), profit=("profit", lambda s: s.sum(min_count=1)))
        .reset_index()
    )
    got = mart.merge(expected, on=["date", "country", "sku", "region"], suffixes=("", "_expected"))
    assert len(got) == len(mart) == len(expected)
    assert (got["units"] == got["units_expected"]).all()
    assert got["profit"].equals(got["profit_expected"])
    o2 = mart.loc[(mart["date"] == day(D1)) & (mart["country"] == "DE")]
    assert sorted(o2["region"]) == ["East", "South"] and o2["units"].sum() == 4
    first_line = mart.loc[(mart["date"] == day(D1)) & (mart["country"] == "GB") & (mart["sku"] == "A")]
    assert pd.isna(first_line["profit"].item())  # its only line has no profit
    assert set(mart.loc[mart["sku"] == "A", "sub_category"]) == {"Plush"}
    assert set(mart.loc[mart["sku"] == "C", "sub_category"].isna()) == {True}  # not in the catalogue
    assert mart["profit"].dtype == "float64" and mart["cost"].dtype == "float64"


def test_customer_transactions_take_the_orders_dimension_and_the_customers_attributes(marts):
    frame = marts["customer_transactions"]
    assert list(frame.columns)[-3:] == ["profit", "region", "tier"]
    o2 = frame.loc[frame["order_id"] == "O2"].iloc[0]
    assert o2["region"] == "South" and o2["profit"] == pytest.approx(1.5 * 4) and o2["tier"] == "silver"
    o3 = frame.loc[frame["order_id"] == "O3"].iloc[0]
    assert pd.isna(o3["tier"])  # no customer id on the line, header customer C9 unknown to customers
    assert len(frame) == len(
        build_marts(CuratedInputs.from_frames(sample_frames()), ALL_DAYS, "EUR")["customer_transactions"]
    )  # no extra rows: attributes never split an order


def test_daily_sales_gets_measures_and_catalogue_attributes_but_keeps_its_series(marts):
    sales = marts["daily_sales"]
    assert "region" not in sales and {"profit", "cost", "sub_category"} <= set(sales.columns)
    plain = build_marts(CuratedInputs.from_frames(sample_frames()), ALL_DAYS, "EUR")["daily_sales"]
    assert len(sales) == len(plain)
    lines = lines_frame()
    a_de = lines.loc[(lines["sku"] == "A") & (lines["country"] == "DE") & (lines["date"] == day(D1)), "profit"]
    row = sales.loc[(sales["sku"] == "A") & (sales["country"] == "DE") & (sales["date"] == day(D1))].iloc[0]
    assert row["profit"] == pytest.approx(a_de.sum()) and row["units"] == 4
    priced_only = sales.loc[(sales["sku"] == "B") & (sales["date"] == day(D2))].iloc[0]
    assert pd.isna(priced_only["profit"]) and priced_only["sub_category"] == "Board"


def test_no_attributes_gives_exactly_the_contract_columns():
    plain = build_marts(CuratedInputs.from_frames(sample_frames()), ALL_DAYS, "EUR")
    for name in PROD_DATASETS:
        assert list(plain[name].columns) == list(load_prod(name).columns), name


def test_market_series_uses_the_lines_category_when_there_is_no_catalogue():
    frames = sample_frames()
    del frames["products"]
    frames["order_lines"]["category"] = frames["order_lines"]["sku"].map({"A": "Toys", "B": "Games"})
    out = build_marts(CuratedInputs.from_frames(frames), {"market_series": {WEEK}, "copilot_mart": {D1}}, "EUR")
    market = out["market_series"]
    assert set(market["category"]) == {"ALL", "Toys", "Games", "uncategorised"}  # C has no category
    assert "category" not in list(market.columns)[len(load_prod("market_series").columns) :]
    lines = frames["order_lines"]
    week = lines.loc[lines["order_ts"] < pd.Timestamp(MON, tz="UTC")]
    toys = market.loc[(market["category"] == "Toys") & (market["country"] == "ALL")].iloc[0]
    assert toys["units"] == week.loc[week["category"] == "Toys", "quantity"].sum()
    assert set(out["copilot_mart"]["category"]) == {"Toys", "Games"}


def test_attribute_columns_are_written_with_their_types_and_incremental_equals_full(aws):  # noqa: F811
    s3, events = aws
    frames = with_attributes()
    frames["order_lines"]["returned"] = frames["order_lines"]["quantity"] < 0
    frames["order_lines"]["ship_date"] = pd.to_datetime(frames["order_lines"]["order_ts"]).dt.date
    put_curated(s3, frames)
    run(Request(True), s3, events, SETTINGS)
    full = prod_objects(s3)
    schema = pq.read_schema(io.BytesIO(full["copilot_mart/month=2023-03/part-0.parquet"]))
    assert schema.field("region").type == pa.string() and schema.field("profit").type == pa.float64()
    assert schema.field("returned").type == pa.bool_() and schema.field("ship_date").type == pa.timestamp("ns")
    assert (
        pq.read_schema(io.BytesIO(full["customer_transactions/month=2023-03/part-0.parquet"])).field("tier").type
        == pa.string()
    )
    for key in list(full):
        if key.endswith(".parquet"):
            s3.delete_object(Bucket="prod", Key=key)
    run(parse_request({"partitions": {"order_lines": ["2023-03"]}}), s3, events, SETTINGS)
    after = prod_objects(s3)
    assert {k: v for k, v in after.items() if "month=2023-0" in k and "payment" not in k} == {
        k: v for k, v in full.items() if "month=2023-0" in k and "payment" not in k
    }


# ---------------------------------------------------------------- reporting currency


def one_currency_frames() -> dict[str, pd.DataFrame]:
    """A USD-only shop with no FX file."""
    frames = sample_frames()
    for name in ("order_lines", "payments", "prices"):
        frames[name]["currency"] = "USD"
    del frames["fx_rates"]
    return frames


def test_resolve_auto_and_iso_settings():
    assert currency.resolve(AUTO_CURRENCY, {"USD"}) == "USD"
    assert currency.resolve(AUTO_CURRENCY, {"USD", "GBP"}) == currency.FX_CURRENCY == "EUR"
    assert currency.resolve(AUTO_CURRENCY, set()) == "EUR"
    assert currency.resolve("GBP", {"USD"}) == "GBP"


def test_a_one_currency_shop_reports_in_its_currency_without_fx_rates():
    inputs = CuratedInputs.from_frames(one_currency_frames())
    reporting = currency.resolve(AUTO_CURRENCY, currency.currencies(inputs))
    assert reporting == "USD"
    out = build_marts(inputs, ALL_DAYS, reporting)
    for name in PROD_DATASETS:
        assert (out[name]["reporting_currency"] == "USD").all(), name
    sales = out["daily_sales"]
    assert sales["revenue_reporting"].equals(sales["revenue"])  # nothing unconverted
    assert out["market_series"]["revenue_reporting"].notna().all()
    assert out["payment_transactions"]["amount_reporting"].equals(out["payment_transactions"]["amount"])


def test_auto_in_the_service_keeps_every_partition_in_one_currency(aws):  # noqa: F811
    s3, events = aws
    auto = replace(SETTINGS, reporting_currency=AUTO_CURRENCY)
    frames = one_currency_frames()
    put_curated(s3, frames)
    run(Request(True), s3, events, auto)
    assert s3io.read_json(s3, "prod", currency.STATE_KEY)["currency"] == "USD"
    kpis = s3io.read_parquet_prefix(s3, "prod", "country_kpis/")
    assert set(kpis["reporting_currency"]) == {"USD"}
    assert kpis["revenue_reporting"].tolist() == kpis["revenue_local"].tolist()
    unchanged = prod_objects(s3)
    run(parse_request({"partitions": {"order_lines": ["2023-03-02"]}}), s3, events, auto)
    assert prod_objects(s3) == unchanged  # same data, same state: not even the state file rewritten

    # a GBP order arrives on a new day: the shop now has two currencies, everything is rebuilt in EUR
    gbp = pd.DataFrame([line("O9", 1, "2023-03-07 09:00", "A", 1, 8.0, "GB", "GBP")])
    gbp["_source_key"], gbp["_source_row"] = "sample/late.csv", 0
    put_curated(s3, {"order_lines": gbp}, source="late")
    put_curated(s3, {"fx_rates": sample_frames()["fx_rates"]})
    outcome = run(parse_request({"partitions": {"order_lines": ["2023-03"]}}), s3, events, auto)
    assert set(outcome.written["market_series"]) == {"2023-02", "2023-03"}  # February too: a full rebuild
    assert s3io.read_json(s3, "prod", currency.STATE_KEY) == {
        "setting": "AUTO",
        "currency": "EUR",
        "currencies": ["GBP", "USD"],
        "rebuilding": False,
    }
    for name in PROD_DATASETS:
        frame = s3io.read_parquet_prefix(s3, "prod", f"{name}/")
        assert set(frame["reporting_currency"]) == {"EUR"}, name


def put_with_a_february_line(s3) -> None:
    """The sample (March 2023) and one order line in February, so that a full rebuild is told from March's."""
    put_curated(s3, sample_frames())
    february = pd.DataFrame([line("O8", 1, "2023-02-14 09:00", "A", 1, 8.0, "GB", "EUR")])
    february["_source_key"], february["_source_row"] = "sample/february.csv", 0
    put_curated(s3, {"order_lines": february}, source="february")


def test_prod_built_before_the_state_existed_is_rebuilt_once(aws):  # noqa: F811
    s3, events = aws
    put_with_a_february_line(s3)
    run(Request(True), s3, events, SETTINGS)
    s3.delete_object(Bucket="prod", Key=currency.STATE_KEY)
    outcome = run(parse_request({"partitions": {"order_lines": ["2023-03"]}}), s3, events, SETTINGS)
    assert set(outcome.written["daily_sales"]) == {"2023-02", "2023-03"}  # full rebuild
    again = run(parse_request({"partitions": {"order_lines": ["2023-03"]}}), s3, events, SETTINGS)
    assert set(again.written["daily_sales"]) == {"2023-03"}


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "AUTO"), ("", "AUTO"), (" auto ", "AUTO"), ("usd", "USD"), ("EUR", "EUR")]
)
def test_reporting_currency_setting(value, expected):
    env = {"RAW_BUCKET": "r", "CURATED_BUCKET": "c", "PROD_BUCKET": "p", "ARTIFACTS_BUCKET": "a"}
    if value is not None:
        env["REPORTING_CURRENCY"] = value
    assert Settings.from_env(env).reporting_currency == expected


@pytest.mark.parametrize("value", ["EURO", "US", "12$"])
def test_a_bad_reporting_currency_fails_fast(value):
    env = {"RAW_BUCKET": "r", "CURATED_BUCKET": "c", "PROD_BUCKET": "p", "ARTIFACTS_BUCKET": "a"}
    with pytest.raises(ConfigurationError, match="AUTO or an ISO 4217"):
        Settings.from_env({**env, "REPORTING_CURRENCY": value})


def test_an_interrupted_full_rebuild_is_finished_by_the_next_run(aws):  # noqa: F811
    """The state says `rebuilding` from before the first partition until after the last one."""
    s3, events = aws
    put_with_a_february_line(s3)
    run(Request(True), s3, events, SETTINGS)
    state = s3io.read_json(s3, "prod", currency.STATE_KEY)
    assert state["rebuilding"] is False
    s3io.write_json(s3, "prod", currency.STATE_KEY, {**state, "rebuilding": True})  # as a killed rebuild leaves it
    outcome = run(parse_request({"partitions": {"order_lines": ["2023-03"]}}), s3, events, SETTINGS)
    assert set(outcome.written["daily_sales"]) == {"2023-02", "2023-03"}  # everything again, not one month
    assert s3io.read_json(s3, "prod", currency.STATE_KEY)["rebuilding"] is False
    again = run(parse_request({"partitions": {"order_lines": ["2023-03"]}}), s3, events, SETTINGS)
    assert set(again.written["daily_sales"]) == {"2023-03"}
