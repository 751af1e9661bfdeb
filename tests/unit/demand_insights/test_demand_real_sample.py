"""The README's real sample (UCI Online Retail, 2,709 order lines) through the demand core.

Regressions of issue #15: `dev.py demo --source tests/data/online-retail/online_retail_sample.csv` crashed in
`FeatureBuilder.base` (IndexError) because the per-group level was sized by the largest group code alive at an
origin; the US (the last ISO code) first buys in October 2011, so every earlier origin indexed past the end.
Past that, the default training budget met an infinite trend feature, and the empty `on_hand` column summed
to zero stock (a 100% stock-out risk for every SKU).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demand_insights import service
from demand_insights.features import BASE_FEATURES, FeatureBuilder
from retail_platform.normalise import country_code
from tests.support import DATA


@pytest.fixture(scope="module")
def daily_sales() -> pd.DataFrame:
    """daily_sales as curated-to-prod builds it: units per SKU, ISO country and day."""
    lines = pd.read_csv(DATA / "online-retail" / "online_retail_sample.csv", dtype={"StockCode": str})
    lines["date"] = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.normalize()
    lines["country"] = lines["Country"].map(country_code)
    lines = lines.dropna(subset=["country"])
    return (
        lines.groupby(["date", "StockCode", "country"], as_index=False)["Quantity"]
        .sum()
        .rename(columns={"StockCode": "sku", "Quantity": "units"})
    )


def test_every_origin_builds_features_when_a_late_country_has_the_last_code(daily_sales):
    panel = service.sales_panel(daily_sales)
    assert "US" in set(panel.groups) and sorted(set(panel.groups))[-1] == "US"
    fb = FeatureBuilder(panel, 28)
    block = fb.rows(list(range(6, panel.n_steps - 1)), max_target=panel.n_steps - 1)  # raised IndexError before
    assert len(block.y) > 0 and np.isfinite(block.scale).all()
    # cancellations make some days' net units negative; a 28-day mean of -1 made `trend_7_28` infinite,
    # which XGBoost refused ("Input data contains `inf`") when fitting on the sample with the default budget
    assert (panel.y < 0).any() and not np.isinf(block.X).any()


def test_a_sample_without_stock_counts_has_unknown_stock_not_zero_stock(daily_sales):
    panel = service.sales_panel(daily_sales.assign(on_hand=np.nan))  # prod's column, empty for this export
    assert np.isnan(panel.on_hand).all()
    assert service._stock_note(panel).startswith("no inventory data (on_hand)")
    with_stock = daily_sales.assign(on_hand=np.where(daily_sales["country"] == "FR", 5.0, np.nan))
    panel = service.sales_panel(with_stock)
    french = (panel.groups == "FR").sum()
    assert np.isfinite(panel.on_hand).sum() == french
    assert service._stock_note(panel) == f"stock on hand known for {french} of {panel.n_series} series: " + (
        "stock-out advice for those only"
    )


def test_group_level_at_an_early_origin_matches_pandas(daily_sales):
    panel = service.sales_panel(daily_sales)
    t = 6  # before the US, Sweden and Singapore first bought
    values = FeatureBuilder(panel, 28).base(t)[:, BASE_FEATURES.index("group_mean_28")]
    # independent answer: mean over each country's born series of their mean units over the last 28 steps
    window = pd.DataFrame(panel.y[:, : t + 1], index=panel.ids)
    per_series = window.mean(axis=1, skipna=True)
    expected = per_series.groupby(panel.groups).mean()  # NaN for a country with no born series yet
    got = pd.Series(values, index=panel.ids)
    for country in ("GB", "FR", "US"):
        members = panel.ids[panel.groups == country]
        if np.isnan(expected[country]):
            assert got[members].isna().all(), country
        else:
            np.testing.assert_allclose(got[members], expected[country], err_msg=country)
    assert np.isnan(expected["US"]) and not np.isnan(expected["GB"])
