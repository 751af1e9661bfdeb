"""global-market-pulse with a custom attribute as its market dimension, on a real export (issue #15).

Tableau's Superstore export (tests/data/superstore-tableau, one country, USD) runs through raw-to-curated
with its built-in contract (region, segment, ... kept as custom attributes) and curated-to-prod (full
rebuild), then the pulse with MARKET_PULSE_DIMENSIONS=region. Golden figures are computed with pandas from
the raw CSV, independently of the platform (tests/unit/market_pulse/superstore_regions.py): per region, the last
28 days' revenue (Sales, after discount), distinct orders and daily distinct customers, and the last day.
"""

from __future__ import annotations

import pandas as pd
import pytest

from retail_platform import s3io
from tests.integration.pulse_inputs import PROD, prod_from_pipeline, restore
from tests.support import event, handler
from tests.unit.market_pulse.superstore_regions import SUPERSTORE, last_window_by_region, sales_lines

FUNCTION = "global-market-pulse"


@pytest.fixture(scope="module")
def prod_snapshot(endpoint):
    """customer_transactions and country_kpis built by the pipeline from the Superstore export."""
    return prod_from_pipeline(endpoint, SUPERSTORE, "superstore-tableau/superstore_orders_sample.csv")


@pytest.fixture
def pulse(s3, prod_snapshot, monkeypatch):
    monkeypatch.setenv("MARKET_PULSE_REPORT", "0")
    monkeypatch.setenv("MARKET_PULSE_DIMENSIONS", "region")
    restore(s3, prod_snapshot)
    module = handler(FUNCTION)
    module._reader = None
    yield module
    module._reader = None


def test_regions_of_a_real_export_are_the_pulse_markets(pulse, s3, lambda_context):
    lines = sales_lines()
    expected = last_window_by_region(lines)
    result = pulse.lambda_handler(event(FUNCTION, "prod-dataset-updated-customer-transactions"), lambda_context)
    assert result["status"] == "ok" and result["dimension"] == "region"
    assert result["as_of"] == str(lines["date"].max().date()) == "2017-12-30"
    assert result["countries"] == 4 and result["reporting_currency"] == "USD"
    kpis = s3io.read_parquet(s3, PROD, f"pulse/kpis/date={result['as_of']}/part-0.parquet").set_index("country")
    assert sorted(kpis.index) == ["Central", "East", "South", "West"]
    got = kpis.loc[expected.index, expected.columns].astype(float)
    pd.testing.assert_frame_equal(got, expected, check_names=False, rtol=1e-9)
    overview = pulse.lambda_handler(event(FUNCTION, "http-get-pulse"), lambda_context)
    assert overview["statusCode"] == 200 and '"total":4' in overview["body"].replace(" ", "")
    request = event(FUNCTION, "http-get-pulse-country")
    request["rawPath"], request["pathParameters"] = "/pulse/West", {"country": "West"}
    west = pulse.lambda_handler(request, lambda_context)
    assert west["statusCode"] == 200 and '"country":"West"' in west["body"].replace(" ", "")
    seasonality = s3io.read_parquet(s3, PROD, f"pulse/seasonality/date={result['as_of']}/part-0.parquet")
    assert seasonality["holidays_known"].all()  # every region sells in the US only: US holidays apply
