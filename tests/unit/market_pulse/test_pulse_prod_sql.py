"""The pulse's SQL inputs (market_pulse.prod_sql: DuckDB over prod parquet) against pandas.

Golden figures per market and day (revenue, distinct orders, distinct customers, new customers) are computed
here with plain pandas groupbys from the generated rows, independently of the pulse; the panel built from the
SQL aggregates must also equal the one the earlier pandas path (markets.panel_from_transactions,
panel.new_vs_returning) builds from the whole rows. The rows carry the awkward cases: cancellations, guests,
a missing region, a region with padding spaces, a second currency without FX rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_pulse import currency, markets, panel, prod_sql
from market_pulse.exceptions import PulseInputError

from retail_platform.storage import MemoryBlobStore
from tests.unit.prod_on_memory import write_partitioned

REGIONS = {"GB": ("North", "South "), "DE": ("West",), "SE": ("Nord",)}


def transactions(days: int = 75, seed: int = 11) -> pd.DataFrame:
    """customer_transactions rows (one per order and day) with a `region` and a `segment` attribute."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.date_range("2024-01-29", periods=days, freq="D"):
        for k in range(int(rng.integers(6, 12))):
            customer = int(rng.integers(0, 30))
            country = ("GB", "DE", "SE")[customer % 3]
            region = REGIONS[country][customer % len(REGIONS[country])]
            cancelled = bool(rng.random() < 0.05)
            revenue = float(rng.gamma(2.0, 25.0)) * (-1 if cancelled else 1)
            sek = country == "SE"
            rows.append(
                {
                    "date": day.date(),
                    "order_id": f"{day:%Y%m%d}-{k}",
                    "customer_id": None if customer == 0 else f"C{customer}",  # C0 is a guest
                    "country": country,
                    "units": int(rng.integers(1, 4)) * (-1 if cancelled else 1),
                    "revenue": revenue,
                    "currency": "SEK" if sek else "GBP",
                    "revenue_reporting": np.nan if sek else revenue * 1.17,  # no SEK rate
                    "reporting_currency": "EUR",
                    "is_cancellation": cancelled,
                    "region": None if customer == 4 else region,
                    "segment": ("Consumer", "Corporate")[customer % 2],
                }
            )
    return pd.DataFrame(rows)


def country_kpis(tx: pd.DataFrame) -> pd.DataFrame:
    sales = tx[~tx["is_cancellation"]]
    keys = ["date", "country", "currency"]
    out = sales.groupby(keys, as_index=False).agg(
        orders=("order_id", "nunique"), customers=("customer_id", "nunique"), units=("units", "sum")
    )
    net = tx.groupby(keys, as_index=False).agg(
        revenue_local=("revenue", "sum"), revenue_reporting=("revenue_reporting", lambda s: s.sum(min_count=1))
    )
    out = out.merge(net, on=keys, how="right").fillna({"orders": 0, "customers": 0, "units": 0})  # cancellations only
    return out.assign(reporting_currency="EUR", cancellation_rate=0.0)


@pytest.fixture(params=["month", "day"])
def prod(request) -> tuple[MemoryBlobStore, pd.DataFrame]:
    tx = transactions()
    store = MemoryBlobStore("local-prod")
    write_partitioned(store, "customer_transactions", tx, request.param)
    write_partitioned(store, "country_kpis", country_kpis(tx), request.param)
    return store, tx


@pytest.fixture
def engine(tmp_path):
    return lambda: prod_sql.new_engine(tmp_path / "sql")


def golden(tx: pd.DataFrame, market: pd.Series) -> pd.DataFrame:
    """Per (date, market): net revenue in reporting currency (local where unconverted), distinct sale orders,
    distinct buyers, and buyers on their first day of buying anywhere."""
    frame = tx.assign(market=market, day=pd.to_datetime(tx["date"]))
    sales = frame[~frame["is_cancellation"]]
    first_day = sales.dropna(subset=["customer_id"]).groupby("customer_id")["day"].min()
    buyers = sales.dropna(subset=["customer_id"]).drop_duplicates(["day", "market", "customer_id"])
    buyers = buyers.assign(new=buyers["day"].to_numpy() == buyers["customer_id"].map(first_day).to_numpy())
    revenue = frame["revenue_reporting"].fillna(frame["revenue"])  # no FX rate: the local amount (SEK)
    return pd.DataFrame(
        {
            "revenue": revenue.groupby([frame["day"], frame["market"]]).sum(),
            "orders": sales.groupby(["day", "market"])["order_id"].nunique(),
            "customers": sales.groupby(["day", "market"])["customer_id"].nunique(),
            "new_customers": buyers.groupby(["day", "market"])["new"].sum(),
        }
    ).fillna(0.0)


def sql_panel(inputs: prod_sql.PulseInputs) -> pd.DataFrame:
    return panel.from_country_kpis(inputs.daily, returning=inputs.returning)


def compare(frame: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = frame.set_index(["date", "country"]).rename_axis(["day", "market"])
    got = got.loc[expected.index, expected.columns].astype(float)
    pd.testing.assert_frame_equal(got, expected.astype(float), rtol=1e-9, check_names=False)


def test_custom_markets_equal_pandas_on_the_rows(prod, engine):
    store, tx = prod
    dimensions = ("country", "region")
    inputs = prod_sql.read_inputs(store, dimensions, engine)
    frame = sql_panel(inputs)
    labels = tx["country"] + " | " + tx["region"].str.strip().fillna("(none)")
    assert sorted(frame["country"].unique()) == sorted(labels.unique())
    assert "GB | South" in set(labels) and "DE | (none)" in set(labels)
    compare(frame, golden(tx, labels))
    pandas_panel = markets.panel_from_transactions(tx, dimensions)  # the earlier path, on the whole rows
    pd.testing.assert_frame_equal(frame, pandas_panel, check_dtype=False, rtol=1e-12)
    assert inputs.holidays == markets.holiday_countries(tx, dimensions)


def test_the_same_prod_gives_the_same_aggregates_bit_for_bit(prod, tmp_path):
    store, _ = prod
    runs = [
        prod_sql.read_inputs(store, ("segment",), lambda k=k: prod_sql.new_engine(tmp_path / str(k))) for k in (1, 2)
    ]
    pd.testing.assert_frame_equal(runs[0].daily, runs[1].daily, check_exact=True)
    pd.testing.assert_frame_equal(runs[0].returning, runs[1].returning, check_exact=True)


def test_countries_equal_pandas_on_the_rows(prod, engine):
    store, tx = prod
    inputs = prod_sql.read_inputs(store, markets.COUNTRY, engine)
    frame = sql_panel(inputs)
    compare(frame, golden(tx, tx["country"]))
    pandas_panel = panel.from_country_kpis(country_kpis(tx), tx)
    pd.testing.assert_frame_equal(frame, pandas_panel, check_dtype=False, rtol=1e-12)


@pytest.mark.parametrize("dimensions", [("country",), ("region",), ("segment", "region")])
def test_the_label_of_the_amounts_and_its_notes_equal_pandas(prod, engine, dimensions):
    store, tx = prod
    inputs = prod_sql.read_inputs(store, dimensions, engine)
    rows = country_kpis(tx) if dimensions == ("country",) else tx
    label, notes = currency.notes_from_summary(inputs.currencies, "AUTO")
    assert (label, notes) == currency.label_and_notes(rows, "AUTO")
    assert label == "EUR" and notes[0].startswith("no FX rate from SEK to EUR: revenue of SE stays")


@pytest.mark.parametrize("dimension", ["segment_x", 'region" FROM x; --', "month"])
def test_a_dimension_must_be_a_column_of_the_rows(prod, engine, dimension):
    store, _ = prod
    with pytest.raises(PulseInputError, match="has no column") as error:
        prod_sql.read_inputs(store, (dimension,), engine)
    assert "['region', 'segment']" in str(error.value)  # the attributes there are (no partition column)


@pytest.mark.parametrize("dimensions", [("country",), ("region",)])
def test_a_shop_of_guests_only_has_the_same_panel_as_pandas(engine, dimensions):
    tx = transactions(days=40).assign(customer_id=None)
    store = MemoryBlobStore("local-prod")
    write_partitioned(store, "customer_transactions", tx, "month")
    write_partitioned(store, "country_kpis", country_kpis(tx), "month")
    frame = sql_panel(prod_sql.read_inputs(store, dimensions, engine))
    if dimensions == ("country",):
        expected = panel.from_country_kpis(country_kpis(tx), tx)
    else:
        expected = markets.panel_from_transactions(tx, dimensions)
    assert frame["new_customers"].isna().all() and frame["customers"].eq(0).all()
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False, rtol=1e-12)


def test_absent_datasets_are_empty_inputs(engine):
    store = MemoryBlobStore("local-prod")
    assert prod_sql.read_inputs(store, markets.COUNTRY, engine).empty
    assert prod_sql.read_inputs(store, ("region",), engine).empty


def test_missing_required_columns_are_named(engine):
    store = MemoryBlobStore("local-prod")
    write_partitioned(store, "customer_transactions", transactions(days=5).drop(columns=["units"]), "month")
    with pytest.raises(PulseInputError, match="customer_transactions is missing columns: units"):
        prod_sql.read_inputs(store, ("region",), engine)
