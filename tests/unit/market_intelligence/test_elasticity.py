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


def test_within_estimator_equals_statsmodels_with_one_dummy_per_sku_country():
    """Golden: statsmodels OLS with a dummy per SKU x country and per week of year, clustered by SKU x country."""
    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf
    from market_intelligence.elasticity import fixed_effects_fit

    sales, mapping = synthetic.daily_sales(n_days=180, seed=5, elasticities={"apparel": -1.8, "home": -0.5})
    panel = weekly_sku_panel(sales, mapping)
    panel = panel[(panel["units"] > 0) & (panel["price"] > 0)]
    group = panel.assign(
        log_units=np.log(panel["units"].astype(float)),
        log_price=np.log(panel["price"].astype(float)),
        promo=panel["promo"].astype(float),
        woy=panel["week"].dt.isocalendar().week.astype(int).astype(str),
        unit=panel["sku"] + "|" + panel["country"],
    )
    group = group[group.groupby("unit")["log_price"].transform("std").fillna(0) > 1e-6]
    for with_weeks, formula in ((True, " + C(woy)"), (False, "")):
        golden = smf.ols(f"log_units ~ log_price + promo + C(unit){formula}", data=group).fit(
            cov_type="cluster", cov_kwds={"groups": pd.factorize(group["unit"])[0]}
        )
        got = fixed_effects_fit(group, with_weeks)
        low, high = golden.conf_int().loc["log_price"]
        assert got["elasticity"] == pytest.approx(golden.params["log_price"], abs=1e-9)
        assert (got["ci_low"], got["ci_high"]) == pytest.approx((low, high), abs=1e-9)
        assert got["p_value"] == pytest.approx(golden.pvalues["log_price"], abs=1e-12)
