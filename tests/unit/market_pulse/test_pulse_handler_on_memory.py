"""The real global-market-pulse handler on `MemoryBlobStore`s (no S3 endpoint): prod inputs in the pipeline's
monthly partitions (`month=YYYY-MM/`) or the older daily ones, ProdDatasetUpdated events with month or day
labels, custom attributes (region) as the market dimension, and the routes answering from what the batch wrote.

Golden figures are computed here with pandas from the generated transactions, independently of the pulse."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from market_pulse.store import Stores

from retail_platform.exceptions import BadEventError
from retail_platform.local.run import LocalContext
from retail_platform.storage import MemoryBlobStore, codec
from tests.support import LOCAL_BUCKETS, event, handler
from tests.unit.prod_on_memory import RecordingEvents, write_partitioned

FUNCTION = "global-market-pulse"
REGIONS = {"GB": ("North", "South"), "DE": ("West",)}


def transactions(days: int = 120, seed: int = 3) -> pd.DataFrame:
    """Prod customer_transactions with a `region` attribute: orders of 40 customers over `days` days."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-02", periods=days, freq="D")
    rows = []
    for day in dates:
        for k in range(int(rng.integers(8, 14))):
            customer = int(rng.integers(0, 40))
            country = "GB" if customer % 3 else "DE"
            region = REGIONS[country][customer % len(REGIONS[country])]
            revenue = float(rng.gamma(2.0, 30.0)) * (1.3 if region == "South" else 1.0)
            cancelled = bool(rng.random() < 0.03)
            rows.append(
                {
                    "date": day,
                    "order_id": f"{day:%Y%m%d}-{k}",
                    "customer_id": f"C{customer}",
                    "country": country,
                    "units": int(rng.integers(1, 5)) * (-1 if cancelled else 1),
                    "revenue": -revenue if cancelled else revenue,
                    "currency": "GBP",
                    "revenue_reporting": -revenue if cancelled else revenue,
                    "reporting_currency": "GBP",
                    "is_cancellation": cancelled,
                    "region": region,
                }
            )
    return pd.DataFrame(rows)


def country_kpis(tx: pd.DataFrame) -> pd.DataFrame:
    """country_kpis as curated-to-prod shapes it (one row per day, country and currency)."""
    sales = tx[~tx["is_cancellation"]]
    out = sales.groupby(["date", "country", "currency"], as_index=False).agg(
        orders=("order_id", "nunique"), customers=("customer_id", "nunique"), units=("units", "sum")
    )
    net = tx.groupby(["date", "country", "currency"], as_index=False)[["revenue", "revenue_reporting"]].sum()
    out = out.merge(net, on=["date", "country", "currency"]).rename(columns={"revenue": "revenue_local"})
    return out.assign(reporting_currency="GBP")


@pytest.fixture
def fn(monkeypatch):
    for name, bucket in LOCAL_BUCKETS.items():
        monkeypatch.setenv(name, bucket)
    monkeypatch.setenv("MARKET_PULSE_REPORT", "0")
    monkeypatch.delenv("MARKET_PULSE_DIMENSIONS", raising=False)
    module = handler(FUNCTION)
    stores = Stores(MemoryBlobStore("local-prod"), MemoryBlobStore("local-artifacts"))
    events = RecordingEvents()
    monkeypatch.setattr(module, "stores", lambda: stores)
    monkeypatch.setattr(module.aws, "client", lambda service, *a, **k: events)
    module._reader = None
    yield module, stores, events
    module._reader = None


def updated(labels: list[str], case: str = "prod-dataset-updated-customer-transactions") -> dict:
    sent = copy.deepcopy(event(FUNCTION, case))
    sent["detail"]["partitions"] = labels
    return sent


def answer(module, case: str, **changes) -> tuple[int, dict]:
    request = copy.deepcopy(event(FUNCTION, case)) | changes
    response = module.lambda_handler(request, LocalContext(FUNCTION))
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(("grain", "labels"), [("month", ["2023-03", "2023-04"]), ("day", ["2023-05-01"])])
def test_batch_reads_monthly_or_daily_partitions_and_serves_from_memory(fn, grain, labels):
    module, stores, events = fn
    tx = transactions()
    write_partitioned(stores.prod, "country_kpis", country_kpis(tx), grain)
    write_partitioned(stores.prod, "customer_transactions", tx, grain)
    out = module.lambda_handler(updated(labels), LocalContext(FUNCTION))
    assert out["status"] == "ok" and out["as_of"] == "2023-05-01" and out["countries"] == 2
    assert out["dimension"] == "country" and out["reporting_currency"] == "GBP"
    assert "pulse/pulse/date=2023-05-01/part-0.parquet" in out["tables"]  # the system's own snapshots keep days
    kpis = codec.read_parquet(stores.prod, "pulse/kpis/date=2023-05-01/part-0.parquet").set_index("country")
    window = tx[tx["date"] > pd.Timestamp("2023-05-01") - pd.Timedelta(days=28)]
    golden = window.groupby("country")["revenue_reporting"].sum()
    assert np.allclose(kpis.loc[golden.index, "revenue"], golden.to_numpy(), rtol=1e-9)
    assert json.loads(events.entries[0]["Detail"])["partitions"] == ["2023-05-01"]
    status, overview = answer(module, "http-get-pulse")
    assert status == 200 and overview["model_version"] == out["model_version"] and overview["total"] == 2


def test_region_attribute_as_the_market_dimension(fn, monkeypatch):
    module, stores, _ = fn
    monkeypatch.setenv("MARKET_PULSE_DIMENSIONS", "region")
    tx = transactions()
    write_partitioned(stores.prod, "country_kpis", country_kpis(tx), "month")
    write_partitioned(stores.prod, "customer_transactions", tx, "month")
    out = module.lambda_handler(updated(["2023-04"]), LocalContext(FUNCTION))
    assert out["status"] == "ok" and out["dimension"] == "region" and out["countries"] == 3
    kpis = codec.read_parquet(stores.prod, "pulse/kpis/date=2023-05-01/part-0.parquet").set_index("country")
    window = tx[tx["date"] > pd.Timestamp("2023-05-01") - pd.Timedelta(days=28)]
    sales = window[~window["is_cancellation"]]
    golden = pd.DataFrame(
        {
            "revenue": window.groupby("region")["revenue_reporting"].sum(),
            "orders": sales.groupby("region")["order_id"].nunique(),
            "customers": sales.groupby(["date", "region"])["customer_id"].nunique().groupby("region").sum(),
        }
    )
    assert sorted(kpis.index) == ["North", "South", "West"]
    assert np.allclose(kpis.loc[golden.index, golden.columns].to_numpy(float), golden.to_numpy(float), rtol=1e-9)
    season = codec.read_parquet(stores.prod, "pulse/seasonality/date=2023-05-01/part-0.parquet").set_index("country")
    assert season.loc["West", "holidays_in_history"] > 0  # West sells in DE only: German holidays apply
    status, west = answer(module, "http-get-pulse-country", rawPath="/pulse/west", pathParameters={"country": "west"})
    assert status == 200 and west["country"] == "West" and west["model_version"] == out["model_version"]
    status, unknown = answer(
        module, "http-get-pulse-country", rawPath="/pulse/East", pathParameters={"country": "East"}
    )
    assert status == 404 and unknown["message"] == "no pulse results for market 'East'"


def test_a_dimension_missing_from_prod_is_a_skip_that_names_the_attributes(fn, monkeypatch):
    module, stores, _ = fn
    monkeypatch.setenv("MARKET_PULSE_DIMENSIONS", "segment")
    tx = transactions(days=40)
    write_partitioned(stores.prod, "country_kpis", country_kpis(tx), "month")
    write_partitioned(stores.prod, "customer_transactions", tx, "month")
    out = module.lambda_handler(updated(["2023-02"]), LocalContext(FUNCTION))
    assert out["status"] == "skipped"
    assert "no column segment" in out["reason"] and "['region']" in out["reason"]
    assert list(stores.prod.list("pulse/")) == []


@pytest.mark.parametrize("label", ["2024-13", "2023-02-29", "month=2024-03"])
def test_a_label_that_is_neither_day_nor_month_is_a_bad_event(fn, label):
    module, stores, _ = fn
    with pytest.raises(BadEventError, match=f"{label!r} is neither a day"):
        module.lambda_handler(updated([label]), LocalContext(FUNCTION))
    assert list(stores.prod.list("")) == []


def test_two_dimensions_make_combined_markets_with_their_daily_figures():
    from market_pulse import markets

    tx = transactions(days=30)
    tx.loc[tx.index[:5], "region"] = None  # an order without a region is its own "(none)" market
    panel = markets.panel_from_transactions(tx, ("country", "region"))
    expected = tx.assign(market=tx["country"] + " | " + tx["region"].fillna("(none)"))
    golden = expected.groupby("market")["revenue_reporting"].sum()
    assert sorted(panel["country"].unique()) == sorted(golden.index)
    assert "GB | North" in golden.index and any(m.endswith(" | (none)") for m in golden.index)
    assert np.allclose(panel.groupby("country")["revenue"].sum().loc[golden.index], golden, rtol=1e-9)
    sales = expected[~expected["is_cancellation"]]
    daily_orders = sales.groupby(["date", "market"])["order_id"].nunique().groupby("market").sum()
    assert np.allclose(panel.groupby("country")["orders"].sum().loc[daily_orders.index], daily_orders)
    holidays = markets.holiday_countries(tx, ("country", "region"))
    assert holidays["GB | North"] == "GB" and holidays["DE | West"] == "DE"
