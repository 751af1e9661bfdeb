"""The DuckDB aggregates demand reads from prod (demand_insights.prod_sql) against independent pandas
computations on real order lines (UCI Online Retail sample, tests/data/online-retail), laid out as the
pipeline writes prod: monthly parquet objects, one daily_sales row per currency, one customer_transactions
row per order and day (sale lines, or the cancellation lines of that day)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demand_insights import customers, prod_sql, service
from demand_insights.exceptions import InputDataError
from retail_platform.normalise import country_code
from retail_platform.storage import MemoryBlobStore
from tests.support import DATA
from tests.unit.prod_on_memory import write_partitioned


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "online-retail" / "online_retail_sample.csv", dtype={"StockCode": str, "InvoiceNo": str})
    frame["date"] = pd.to_datetime(frame["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.normalize()
    frame["country"] = frame["Country"].map(country_code)
    frame = frame.dropna(subset=["country"])
    # a shop selling in two currencies: odd invoices in GBP, even ones in EUR (prod keeps a row per currency)
    frame["currency"] = np.where(frame["InvoiceNo"].str[-1].isin(list("13579")), "GBP", "EUR")
    return frame


@pytest.fixture(scope="module")
def daily_sales(lines) -> pd.DataFrame:
    """Prod daily_sales rows: per day x SKU x country x currency, with flags and stock counts that vary."""
    grouped = lines.groupby(["date", "StockCode", "country", "currency"], as_index=False)
    rows = grouped.agg(units=("Quantity", "sum"), price=("UnitPrice", "mean"), big=("Quantity", "max"))
    rows = rows.rename(columns={"StockCode": "sku"})
    rows["promo_flag"] = rows["big"] >= 24
    rows["on_hand"] = pd.array(np.where(rows["currency"] == "GBP", rows["units"].abs() % 7, pd.NA), dtype="Int64")
    rows["stockout_flag"] = pd.array(rows["on_hand"] == 0, dtype="boolean")
    return rows.drop(columns="big")


@pytest.fixture(scope="module")
def transactions(lines) -> pd.DataFrame:
    """Prod customer_transactions: one row per order, day and cancellation flag."""
    frame = lines.dropna(subset=["CustomerID"]).assign(
        customer_id=lambda f: f["CustomerID"].astype(int).astype(str),
        is_cancellation=lambda f: f["InvoiceNo"].str.startswith("C"),
        revenue=lambda f: f["Quantity"] * f["UnitPrice"],
    )
    rows = frame.groupby(["date", "InvoiceNo", "is_cancellation"], as_index=False).agg(
        customer_id=("customer_id", "first"),
        country=("country", "first"),
        units=("Quantity", "sum"),
        revenue=("revenue", "sum"),
        n_lines=("Quantity", "size"),
    )
    rows = rows.rename(columns={"InvoiceNo": "order_id"})
    rows["currency"] = "GBP"
    # no FX rate for French orders: revenue_reporting is null there, so the amount falls back to revenue
    rows["revenue_reporting"] = np.where(rows["country"] == "FR", np.nan, rows["revenue"] * 1.15)
    rows["reporting_currency"] = "EUR"
    return rows


def on_memory(name: str, frame: pd.DataFrame) -> MemoryBlobStore:
    store = MemoryBlobStore("local-prod")
    write_partitioned(store, name, frame, "month")
    return store


def test_daily_units_equal_a_pandas_groupby_of_the_prod_rows(daily_sales):
    got = prod_sql.daily_units(on_memory("daily_sales", daily_sales))
    want = (
        daily_sales.assign(
            promo_flag=daily_sales["promo_flag"].astype(float),
            stockout_flag=daily_sales["stockout_flag"].astype("Float64").astype(float),
            on_hand=daily_sales["on_hand"].astype("Float64").astype(float),
        )
        .groupby(["date", "sku", "country"], as_index=False)
        .agg(
            units=("units", "sum"),
            price=("price", "mean"),
            promo_flag=("promo_flag", "max"),
            stockout_flag=("stockout_flag", "max"),
            on_hand=("on_hand", lambda s: s.sum(min_count=1)),
        )
        .sort_values(["sku", "country", "date"], ignore_index=True)
    )
    assert (daily_sales.groupby(["date", "sku", "country"]).size() > 1).any()  # several currencies on some days
    assert len(got) == len(want) < len(daily_sales)
    pd.testing.assert_frame_equal(got, want.astype({"units": float}), check_dtype=False)


def test_the_panel_from_sql_aggregates_is_the_panel_from_the_whole_table(daily_sales):
    from_sql = service.sales_panel(prod_sql.daily_units(on_memory("daily_sales", daily_sales)))
    from_rows = service.sales_panel(daily_sales)
    assert list(from_sql.ids) == list(from_rows.ids) and from_sql.dates.equals(from_rows.dates)
    for name in ("y", "price", "promo", "stockout", "on_hand"):
        np.testing.assert_allclose(getattr(from_sql, name), getattr(from_rows, name), equal_nan=True, err_msg=name)


def test_no_daily_sales_object_gives_an_empty_frame():
    assert prod_sql.daily_units(MemoryBlobStore("local-prod")).empty


@pytest.mark.parametrize("cutoff", ["2011-03-31", "2011-09-15", "2011-12-09"])
def test_customer_aggregates_equal_the_pandas_aggregates(transactions, cutoff):
    tx = customers.prepare(transactions)
    with prod_sql.transactions(on_memory("customer_transactions", transactions)) as source:
        got = source.aggregates_at(pd.Timestamp(cutoff))
        assert (source.start, source.end) == (tx["date"].min(), tx["date"].max())
    want = customers.aggregates_at(tx, pd.Timestamp(cutoff))
    assert len(got) > 50 and (want["cancels"] > 0).any() and (want["orders"] > 1).any()
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_dtype=False, check_names=False)


def test_churn_model_and_insights_from_sql_equal_those_from_the_frame(transactions):
    tx = customers.prepare(transactions)
    with prod_sql.transactions(on_memory("customer_transactions", transactions)) as source:
        from_sql = customers.fit_churn(source, version="v")
        table_sql = customers.insights(source, from_sql)
    from_frame = customers.fit_churn(tx, version="v")
    assert from_sql.metadata["metrics"] == from_frame.metadata["metrics"]
    # amounts are rounded to cents after summing; DuckDB sums in another order, so a half cent may round apart
    pd.testing.assert_frame_equal(table_sql, customers.insights(tx, from_frame), atol=0.0101, check_exact=False)


def test_missing_transaction_columns_are_named(transactions):
    store = on_memory("customer_transactions", transactions.drop(columns=["is_cancellation"]))
    missing = r"customer analytics skipped: .*missing columns \['is_cancellation'\]"
    with pytest.raises(InputDataError, match=missing), prod_sql.transactions(store):
        pass
