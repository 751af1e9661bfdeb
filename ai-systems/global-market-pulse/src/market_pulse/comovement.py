"""Co-movement of markets: growth correlations, lead/lag (Granger causality) and clusters."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from market_pulse.significance import benjamini_hochberg


def weekly_growth(wide: pd.DataFrame) -> pd.DataFrame:
    """Log growth of weekly sums (weeks ending on the last day), per country."""
    n_weeks = len(wide) // 7
    if n_weeks < 3:
        return pd.DataFrame()
    tail = wide.iloc[len(wide) - 7 * n_weeks :]
    weekly = tail.groupby(np.arange(len(tail)) // 7).sum()
    weekly.index = tail.index[6::7]
    return np.log1p(weekly.clip(lower=0)).diff().iloc[1:]


def correlations(growth: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation of weekly growth between markets (long format, one row per pair)."""
    if growth.shape[0] < 4 or growth.shape[1] < 2:
        return pd.DataFrame(columns=["country_a", "country_b", "correlation"])
    corr = growth.corr()
    i, j = np.triu_indices(len(corr), k=1)
    return pd.DataFrame(
        {"country_a": corr.index[i], "country_b": corr.columns[j], "correlation": corr.to_numpy()[i, j]}
    )


def clusters(growth: pd.DataFrame, *, distance: float = 0.7) -> pd.DataFrame:
    """Markets that move alike: average-linkage hierarchical clustering on 1 - correlation of weekly growth."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    countries = list(growth.columns)
    if len(countries) < 2 or growth.shape[0] < 4:
        return pd.DataFrame({"country": countries, "cluster": [1] * len(countries)})
    corr = growth.corr().fillna(0.0).to_numpy()
    dist = np.clip(1.0 - corr, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(dist, checks=False), method="average")
    labels = fcluster(tree, t=distance, criterion="distance")
    return pd.DataFrame({"country": countries, "cluster": labels.astype(int)})


def granger(adjusted: pd.DataFrame, *, max_lag: int = 7, max_countries: int = 12, alpha: float = 0.05) -> pd.DataFrame:
    """Does country A's past help predict country B (statsmodels Granger F-test on daily log changes)?

    Per ordered pair the lag with the smallest p-value is kept (Bonferroni over the lags tried); then
    Benjamini-Hochberg across all ordered pairs. Only the `max_countries` largest markets are tested.
    """
    from statsmodels.tools.sm_exceptions import InfeasibleTestError
    from statsmodels.tsa.stattools import grangercausalitytests

    columns = ["leader", "follower", "lag", "p_value", "q_bh", "significant"]
    if len(adjusted) < 8 * max_lag or adjusted.shape[1] < 2:
        return pd.DataFrame(columns=columns)
    top = adjusted.sum().sort_values(ascending=False).index[:max_countries]
    changes = np.log1p(adjusted[top].clip(lower=0)).diff().iloc[1:]
    rows = []
    for leader in top:
        for follower in top:
            if leader == follower:
                continue
            data = changes[[follower, leader]].to_numpy()
            if np.std(data[:, 0]) == 0 or np.std(data[:, 1]) == 0:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    result = grangercausalitytests(data, maxlag=max_lag, verbose=False)
                except (InfeasibleTestError, np.linalg.LinAlgError, ValueError):
                    continue  # sparse sales: a lagged column is constant, the F-test is undefined for this pair
            pvalues = {lag: res[0]["ssr_ftest"][1] for lag, res in result.items()}
            lag = min(pvalues, key=pvalues.get)
            rows.append(
                {"leader": leader, "follower": follower, "lag": int(lag), "p_value": min(1.0, pvalues[lag] * max_lag)}
            )
    out = pd.DataFrame(rows, columns=columns[:4])
    out["q_bh"] = benjamini_hochberg(out["p_value"].to_numpy()) if len(out) else []
    out["significant"] = out["q_bh"] < alpha
    return out
