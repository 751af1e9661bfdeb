"""Price elasticity of demand per category: log-log regression of units on price with SKU fixed effects.

Estimated per category (every country of it pooled) and for the whole shop ("ALL"); a market of one
category in one country shows its category's pooled estimate, labelled so (`batch.analyse_trends`).

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
        with_weeks = group["woy"].nunique() > 4 and len(group) > 200
        rows.append({**row, **fixed_effects_fit(group, with_weeks)})
    return pd.DataFrame(rows)


def fixed_effects_fit(group: pd.DataFrame, with_weeks: bool) -> dict[str, float]:
    """log_units ~ log_price + promo [+ week-of-year] + SKU x country effects, cluster-robust by SKU x country.

    The same estimate and standard error as OLS with one dummy per SKU x country (statsmodels'
    `cov_type="cluster"` with its small-sample correction), computed by the within transformation
    (Frisch-Waugh-Lovell: demean every variable per SKU x country, then regress) instead of a design matrix
    with a column per SKU x country, which took minutes and gigabytes on a shop's whole panel.
    """
    from scipy import stats

    unit = pd.factorize(group["sku"].astype(str) + "|" + group["country"].astype(str))[0]
    columns = {"log_price": group["log_price"].to_numpy(float), "promo": group["promo"].to_numpy(float)}
    if with_weeks:  # week-of-year dummies, the first week the reference level
        weeks = pd.get_dummies(group["woy"], drop_first=True, dtype=float)
        columns.update({f"woy_{c}": weeks[c].to_numpy() for c in weeks.columns})
    raw = pd.DataFrame(columns)
    y = group["log_units"].to_numpy(float)
    x = (raw - raw.groupby(unit).transform("mean")).to_numpy()
    y = y - pd.Series(y).groupby(unit).transform("mean").to_numpy()
    keep = np.abs(x).max(axis=0) > 1e-12  # a regressor constant within every unit is absorbed by the effects
    keep[0] = True
    x = x[:, keep]
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    bread = np.linalg.pinv(x.T @ x)
    scores = pd.DataFrame(x * resid[:, None]).groupby(unit).sum().to_numpy()
    n, clusters = len(y), int(unit.max()) + 1
    k = clusters + np.linalg.matrix_rank(x)  # the dummy model's parameters: an intercept per unit + the slopes
    correction = clusters / (clusters - 1) * (n - 1) / (n - k)
    cov = bread @ (scores.T @ scores) @ bread * correction
    se = float(np.sqrt(cov[0, 0]))
    z = stats.norm.ppf(0.975)
    b = float(beta[0])
    return {
        "elasticity": b,
        "ci_low": float(b - z * se),
        "ci_high": float(b + z * se),
        "p_value": float(2 * stats.norm.sf(abs(b / se))) if se > 0 else float("nan"),
    }
