"""Log-log price elasticity recovers the elasticity the generator used."""

from __future__ import annotations

import pytest
from market_intelligence import synthetic
from market_intelligence.elasticity import estimate, weekly_sku_panel


def test_elasticity_per_category_is_recovered_with_confidence_intervals():
    truth = {"apparel": -1.8, "electronics": -1.2, "home": -0.5}
    sales, mapping = synthetic.daily_sales(n_days=180, seed=5, elasticities=truth)
    result = estimate(weekly_sku_panel(sales, mapping)).set_index("category")
    for category, b in truth.items():
        row = result.loc[category]
        assert abs(row["elasticity"] - b) < 0.3, (category, row.to_dict())
        assert row["ci_low"] < row["elasticity"] < row["ci_high"] and row["p_value"] < 0.01
    assert result.loc["ALL", "n_rows"] > result.loc["home", "n_rows"]


def test_missing_columns_and_no_price_variation():
    sales, mapping = synthetic.daily_sales(n_days=30, seed=6, elasticities={"home": -1.0})
    with pytest.raises(ValueError, match="lacks columns"):
        weekly_sku_panel(sales.drop(columns=["price"]), mapping)
    constant = sales.assign(price=10.0)
    result = estimate(weekly_sku_panel(constant, mapping)).set_index("category")
    assert result.loc["home", "n_rows"] == 0 and result["elasticity"].isna().all()
