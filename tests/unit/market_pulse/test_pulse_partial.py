"""Partial real data: the label of the pulse's amounts comes from the data, and what the shape leaves out is said.

Daily country figures are computed here with pandas from the UCI Online Retail sample (one currency, GBP),
shaped like prod country_kpis, then cut to one country, a month, or a shop with no FX file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_pulse import analysis, currency, panel

from tests.support import DATA

UCI = DATA / "online-retail" / "online_retail_sample.csv"


@pytest.fixture(scope="module")
def kpis() -> pd.DataFrame:
    raw = pd.read_csv(UCI)
    raw["date"] = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.normalize()
    raw["amount"] = raw["Quantity"] * raw["UnitPrice"]
    out = raw.groupby(["date", "Country"], as_index=False).agg(
        orders=("InvoiceNo", "nunique"),
        customers=("CustomerID", "nunique"),
        units=("Quantity", "sum"),
        revenue_local=("amount", "sum"),
    )
    return out.rename(columns={"Country": "country"}).assign(currency="GBP")


def test_label_from_the_reporting_currency_column_then_settings_then_the_only_currency(kpis):
    with_column = kpis.assign(revenue_reporting=kpis["revenue_local"], reporting_currency="GBP")
    assert currency.reporting_label(with_column, "EUR") == "GBP"  # the data wins over the configuration
    assert currency.reporting_label(kpis, "usd") == "USD"
    assert currency.reporting_label(kpis, "AUTO") == "GBP"  # AUTO and one currency in the data
    assert currency.reporting_label(pd.concat([kpis, kpis.assign(currency="SEK")]), "AUTO") == "EUR"


def test_one_currency_shop_without_fx_is_labelled_in_its_own_currency(kpis):
    no_fx = kpis.assign(revenue_reporting=np.nan, reporting_currency="EUR")
    label, notes = currency.label_and_notes(no_fx, "EUR")
    assert label == "GBP"
    assert notes == ["no FX rate from GBP to EUR: amounts are shown in GBP, the shop's only currency"]
    converted = kpis.assign(revenue_reporting=kpis["revenue_local"] * 1.17, reporting_currency="EUR")
    assert currency.label_and_notes(converted, "EUR") == ("EUR", [])


def test_a_currency_without_any_rate_is_named_with_its_countries(kpis):
    mixed = kpis.assign(revenue_reporting=kpis["revenue_local"] * 1.17, reporting_currency="EUR")
    sek = mixed["country"].isin(["Sweden", "Norway"])
    mixed.loc[sek, "currency"], mixed.loc[sek, "revenue_reporting"] = "SEK", np.nan
    label, notes = currency.label_and_notes(mixed, "EUR")
    assert label == "EUR" and len(notes) == 1
    assert notes[0].startswith("no FX rate from SEK to EUR: revenue of Norway, Sweden stays in local currency")


def test_limits_of_one_country_and_a_month(kpis):
    uk = kpis[kpis["country"] == "United Kingdom"]
    month = uk[uk["date"] > uk["date"].max() - pd.Timedelta(days=30)]
    frame = panel.from_country_kpis(month.assign(revenue_reporting=month["revenue_local"]))
    days = frame["date"].nunique()
    assert days == 30
    notes = analysis.limits(frame)
    assert notes == [
        f"{days} days of history, mom growth needs 56: mom revenue and order growth skipped",
        f"{days} days of history, yoy growth needs 392: yoy revenue and order growth skipped",
        "one country only: market shares, pair tests and cross-country co-movement say nothing",
        "no customer_transactions in prod: new vs returning customers skipped",
    ]
    result = analysis.analyse(frame, reporting_currency="GBP")
    assert set(result.tables["growth"]["window"]) == {"wow"}  # what the notes say was skipped is absent
    full = panel.from_country_kpis(kpis.assign(revenue_reporting=kpis["revenue_local"]))
    assert analysis.limits(full) == [
        f"{full['date'].nunique()} days of history, yoy growth needs 392: yoy revenue and order growth skipped",
        "no customer_transactions in prod: new vs returning customers skipped",
    ]


def test_lead_lag_skips_a_pair_whose_test_is_undefined(kpis):
    """A country that sold on one day only: its lagged changes are constant, statsmodels refuses the F-test."""
    from market_pulse import comovement

    uk = kpis[kpis["country"] == "United Kingdom"].set_index("date")["revenue_local"]
    days = pd.date_range(uk.index.min(), uk.index.max())
    wide = pd.DataFrame({"United Kingdom": uk.reindex(days, fill_value=0.0), "Lithuania": 0.0}, index=days)
    wide.iloc[1, 1] = 300.0
    table = comovement.granger(wide)
    assert table.empty and list(table.columns) == ["leader", "follower", "lag", "p_value", "q_bh", "significant"]
