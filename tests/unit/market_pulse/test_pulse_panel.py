"""Input handling: long tables and prod datasets to a daily panel, exact sums, clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_pulse import analysis, panel
from market_pulse.exceptions import PulseInputError

from tests.support import DATA

ONLINE_RETAIL = DATA / "online-retail" / "online_retail_sample.csv"
GOLDEN_TOP5 = {
    "United Kingdom": 28579.06,
    "Netherlands": 2156.96,
    "EIRE": 1741.84,
    "France": 1377.5,
    "Australia": 747.17,
}


def online_retail_panel() -> pd.DataFrame:
    return panel.from_long_table(
        pd.read_csv(ONLINE_RETAIL),
        date_col="InvoiceDate",
        country_col="Country",
        quantity_col="Quantity",
        price_col="UnitPrice",
        order_col="InvoiceNo",
        customer_col="CustomerID",
        date_format="%m/%d/%Y %H:%M",
    )


def test_online_retail_revenue_and_orders_by_country_are_exact():
    result = online_retail_panel().groupby("country")[["revenue", "orders"]].sum()
    raw = pd.read_csv(ONLINE_RETAIL)
    raw["revenue"] = raw["Quantity"] * raw["UnitPrice"]
    raw["day"] = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.date
    independent_revenue = raw.groupby("Country")["revenue"].sum()
    independent_orders = raw.groupby(["Country", "day"])["InvoiceNo"].nunique().groupby(level=0).sum()
    assert len(result) == 26
    np.testing.assert_allclose(result["revenue"], independent_revenue.reindex(result.index), rtol=0, atol=1e-6)
    assert (result["orders"] == independent_orders.reindex(result.index)).all()
    assert round(result["revenue"].sum(), 2) == 37503.25  # the golden total in SOURCE.txt
    for country, revenue in GOLDEN_TOP5.items():
        assert round(result.loc[country, "revenue"], 2) == revenue


def test_every_country_has_every_day():
    frame = online_retail_panel()
    days = frame["date"].nunique()
    assert frame.groupby("country").size().eq(days).all()
    assert days == (frame["date"].max() - frame["date"].min()).days + 1


def test_country_kpis_sum_currencies_and_keep_local_revenue_of_the_main_currency():
    kpis = pd.DataFrame(
        {
            "date": ["2024-01-01", "2024-01-01", "2024-01-02"],
            "country": ["SE", "SE", "SE"],
            "orders": [10, 2, 5],
            "customers": [9, 2, 5],
            "units": [20, 3, 8],
            "revenue_local": [1000.0, 50.0, 400.0],
            "currency": ["SEK", "EUR", "SEK"],
            "revenue_reporting": [90.0, 50.0, 36.0],
            "aov_reporting": [9.0, 25.0, 7.2],
            "cancellation_rate": [0.1, 0.0, 0.2],
        }
    )
    frame = panel.from_country_kpis(kpis)
    first = frame.iloc[0]
    assert first["revenue"] == 140.0 and first["revenue_local"] == 1000.0 and first["currency"] == "SEK"
    assert first["orders"] == 12 and first["cancelled_orders"] == pytest.approx(1.0)


def test_new_vs_returning_customers():
    transactions = pd.DataFrame(
        {
            "date": ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03"],
            "country": ["DE", "DE", "DE", "DE"],
            "customer_id": ["a", "a", "b", None],
            "is_cancellation": [False, False, False, False],
        }
    )
    counts = panel.new_vs_returning(transactions).set_index("date")
    assert counts.loc["2024-01-01", "new_customers"] == 1
    assert counts.loc["2024-01-02", "new_customers"] == 1 and counts.loc["2024-01-02", "returning_customers"] == 1


@pytest.mark.parametrize(
    ("table", "kwargs", "message"),
    [
        (pd.DataFrame({"date": ["2024-01-01"], "revenue": [1.0]}), {}, "missing columns: country"),
        (pd.DataFrame({"date": ["2024-01-01"], "country": ["DE"], "revenue": ["lots"]}), {}, "must be numeric"),
        (pd.DataFrame({"date": ["yesterday"], "country": ["DE"], "revenue": [1.0]}), {}, "must hold dates"),
        (pd.DataFrame({"date": [], "country": [], "revenue": []}), {}, "no rows"),
        (pd.DataFrame({"date": ["2024-01-01"], "country": [None], "revenue": [1.0]}), {}, "empty values"),
    ],
    ids=["missing-column", "wrong-type", "bad-date", "empty", "no-country"],
)
def test_bad_tables_are_refused_with_a_clear_message(table, kwargs, message):
    with pytest.raises(PulseInputError, match=message):
        panel.from_long_table(table, **kwargs)


def test_a_single_row_is_too_little_history():
    frame = panel.from_long_table(pd.DataFrame({"date": ["2024-01-01"], "country": ["DE"], "revenue": [5.0]}))
    with pytest.raises(PulseInputError, match="at least 14 days"):
        analysis.analyse(frame)
