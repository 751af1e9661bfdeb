"""The report's market tables (top movers open, every market collapsed) and elasticity labelled per market or
pooled, on generated markets whose truth is known."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from market_intelligence import report, synthetic
from market_intelligence.batch import analyse_trends, market_long


def _elasticity() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": ["apparel", "home", "ALL"],
            "elasticity": [-1.8, -0.6, -1.2],
            "ci_low": [-2.0, -0.8, -1.3],
            "ci_high": [-1.6, -0.4, -1.1],
            "p_value": [0.001, 0.01, 0.001],
        }
    )


def test_elasticity_is_the_markets_own_only_where_it_was_estimated_on_that_market():
    series, _ = synthetic.markets(n_weeks=60, categories=("apparel", "home"), countries=("DE", "FR"))
    trends = analyse_trends(market_long(series), _elasticity()).set_index("series_id")
    own = {"apparel|ALL", "home|ALL", "ALL|ALL"}  # category estimates pool every country; ALL pools the shop
    assert set(trends.index[trends["elasticity_scope"] == "market"]) == own
    assert set(trends.index[trends["elasticity_scope"] == "pooled"]) == {"apparel|DE", "apparel|FR", "home|DE",
                                                                       "home|FR"}  # fmt: skip
    assert trends.loc["apparel|DE", "elasticity_estimated_for"] == "apparel|ALL"
    assert trends.loc["apparel|DE", "elasticity"] == -1.8
    assert "Pooled price elasticity of apparel in ALL -1.80" in trends.loc["apparel|DE", "summary"]
    assert "Pooled" not in trends.loc["apparel|ALL", "summary"] and "Price elasticity -1.80" in trends.loc[
        "apparel|ALL", "summary"]  # fmt: skip


def test_top_movers_first_and_no_long_table_open_by_default():
    rng = np.random.default_rng(3)
    n = 120
    trends = pd.DataFrame(
        {
            "series_id": [f"cat{i:03d}|DE" for i in range(n)],
            "direction": rng.choice(["up", "down", "flat"], n),
            "relative_change_per_year": rng.normal(0, 0.3, n),
            "seasonality_strength": rng.uniform(0, 1, n),
            "summary": "s",
            "elasticity": -1.0,
            "elasticity_ci_low": -1.2,
            "elasticity_ci_high": -0.8,
            "elasticity_scope": "pooled",
            "elasticity_estimated_for": "ALL|ALL",
        }
    )
    html = report.fragment(pd.DataFrame(columns=["series_id", "ds", "y"]), None, trends, "v1")
    open_part, collapsed = html.split("<details>")
    assert open_part.count("<tr>") == report.TOP_MOVERS + 1  # header + ten rows
    moving = trends[trends["direction"] != "flat"]
    expected = moving.loc[moving["relative_change_per_year"].abs().sort_values(ascending=False).index[:10], "series_id"]
    assert re.findall(r"<tr><td>([^<]+)</td>", open_part) == expected.tolist()
    assert collapsed.count("<tr>") == n + 1 and f"All {n} markets" in collapsed
    assert "pooled (ALL|ALL): -1.00" in open_part
