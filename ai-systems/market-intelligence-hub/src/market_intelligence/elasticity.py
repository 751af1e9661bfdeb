"""Price elasticity of demand per category: log-log regression of units on price with SKU fixed effects.

log(units) = b * log(price) + promo + SKU effects + week-of-year effects; b is the elasticity, with a 95%
confidence interval from cluster-robust (by SKU) standard errors. Only SKU-weeks with sales and a positive
price count; a category needs price variation inside SKUs to be estimated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_ROWS = 30


def weekly_sku_panel(daily_sales: pd.DataFrame, sku_category: pd.DataFrame) -> pd.DataFrame:
    """SKU x country x week: units, mean shelf price, any promotion; joined to the category."""
    need = {"date", "sku", "country", "units", "price", "promo_flag"}
    missing = need - set(daily_sales.columns)
    if missing:
        raise ValueError(f"daily_sales lacks columns: {sorted(missing)}")
    frame = daily_sales[list(need)].copy()
    frame["date"] = pd.to_datetime(frame["date"])
    frame["week"] = frame["date"] - pd.to_timedelta(frame["date"].dt.weekday, unit="D")
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce")
    panel = frame.groupby(["sku", "country", "week"], as_index=False).agg(
        units=("units", "sum"), price=("price", "mean"), promo=("promo_flag", "max")
    )
    mapping = sku_category.drop_duplicates("sku")[["sku", "category"]]
    return panel.merge(mapping, on="sku", how="left").fillna({"category": "uncategorised"})


def estimate(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per category (plus ALL): elasticity, 95% CI, p-value, rows and SKUs used."""
    import statsmodels.formula.api as smf

    rows = []
    usable = panel[(panel["units"] > 0) & (panel["price"] > 0)].copy()
    usable["log_units"] = np.log(usable["units"].astype(float))
    usable["log_price"] = np.log(usable["price"].astype(float))
    usable["promo"] = usable["promo"].astype(float)
    usable["woy"] = usable["week"].dt.isocalendar().week.astype(int).astype(str)
    groups = [(c, g) for c, g in usable.groupby("category")] + [("ALL", usable)]
    for category, group in groups:
        # demeaning price within SKU x country: only within-SKU variation identifies b
        varying = group.groupby(["sku", "country"])["log_price"].transform("std").fillna(0) > 1e-6
        group = group[varying]
        row = {"category": category, "n_rows": len(group), "n_skus": int(group["sku"].nunique())}
        if len(group) < MIN_ROWS or group["sku"].nunique() < 2:
            rows.append({**row, "elasticity": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan})
            continue
        group = group.assign(unit=group["sku"] + "|" + group["country"])
        formula = "log_units ~ log_price + promo + C(unit)"
        if group["woy"].nunique() > 4 and len(group) > 200:
            formula += " + C(woy)"
        fit = smf.ols(formula, data=group).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(group["unit"])[0]})
        lo, hi = fit.conf_int().loc["log_price"]
        rows.append(
            {
                **row,
                "elasticity": float(fit.params["log_price"]),
                "ci_low": float(lo),
                "ci_high": float(hi),
                "p_value": float(fit.pvalues["log_price"]),
            }
        )
    return pd.DataFrame(rows)
