"""Anomalies, level shifts, lead/lag and clusters: precision and recall against injected truth and a baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from market_pulse import anomalies, comovement, evaluation, growth, panel, synthetic


def generated(**kwargs):
    long, truth = synthetic.generate(**kwargs)
    return panel.from_long_table(long).pivot(index="date", columns="country", values="revenue"), truth


def naive_baseline(wide: pd.DataFrame, z: float = 4.0) -> list[tuple[str, str]]:
    """A global z-score of each day's revenue per country (no trend, no weekday pattern)."""
    found = []
    for country in wide.columns:
        values = np.log1p(wide[country].to_numpy())
        scores = (values - values.mean()) / values.std()
        found += [(country, wide.index[d].date().isoformat()) for d in np.flatnonzero(np.abs(scores) >= z)]
    return found


def f1(score: dict) -> float:
    p, r = score["precision"], score["recall"]
    return 2 * p * r / (p + r) if p + r else 0.0


def test_shocks_and_level_shifts_are_found_with_high_precision_and_recall():
    wide, truth = generated(n_countries=8, days=730, seed=7, shocks_per_country=3, level_shifts_per_country=1)
    found = anomalies.detect(wide)
    shocks = found[found["kind"].isin(["spike", "drop"])]
    shifts = found[found["kind"] == "level_shift"]
    shock_score = evaluation.match(
        list(zip(shocks["country"], shocks["date"], strict=True)), [(c, d) for c, d, _ in truth.shocks], 1
    )
    shift_score = evaluation.match(
        list(zip(shifts["country"], shifts["date"], strict=True)), [(c, d) for c, d, _ in truth.level_shifts], 7
    )
    assert shock_score["precision"] >= 0.8 and shock_score["recall"] >= 0.9, shock_score
    assert shift_score["precision"] >= 0.8 and shift_score["recall"] >= 0.9, shift_score
    baseline = evaluation.match(naive_baseline(wide), [(c, d) for c, d, _ in truth.shocks], 1)
    assert f1(shock_score) > f1(baseline) + 0.2, (shock_score, baseline)


def test_anomaly_size_and_direction():
    wide, truth = generated(n_countries=3, days=365, seed=4, shocks_per_country=2)
    found = anomalies.detect(wide).set_index(["country", "date"])
    matched = 0
    for country, day, size in truth.shocks:
        if (country, day) not in found.index:
            continue
        matched += 1
        row = found.loc[(country, day)]
        assert row["kind"] == ("spike" if size > 0 else "drop")
        # the size is measured against the expected day: within three noise standard deviations of the truth
        assert np.sign(row["size"]) == np.sign(size) and abs(np.log1p(row["size_pct"]) - size) < 0.3
    assert matched >= len(truth.shocks) - 1


def test_no_anomalies_on_quiet_series():
    wide, _ = generated(n_countries=6, days=365, seed=12)
    found = anomalies.detect(wide)
    assert len(found) <= 2  # 6 x 365 days at |z| >= 4


def test_granger_finds_the_injected_leaders():
    wide, truth = generated(n_countries=6, days=730, seed=7, lead_lag_pairs=2)
    found = comovement.granger(growth.seasonally_adjusted(wide), max_countries=6)
    significant = found[found["significant"]]
    score = evaluation.match_pairs(
        list(zip(significant["leader"], significant["follower"], strict=True)), [(a, b) for a, b, _ in truth.lead_lag]
    )
    assert score["recall"] == 1.0 and score["precision"] >= 0.66, (score, significant)


def test_clusters_group_markets_that_move_together():
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-01-02", periods=364, freq="D")
    common = [np.cumsum(rng.normal(0, 0.05, 364)) for _ in range(2)]
    columns = {}
    for group, names in enumerate((("AA", "AB", "AC"), ("BA", "BB", "BC"))):
        for name in names:
            columns[name] = 1000 * np.exp(common[group] + rng.normal(0, 0.01, 364))
    clusters = comovement.clusters(comovement.weekly_growth(pd.DataFrame(columns, index=days)))
    labels = clusters.set_index("country")["cluster"]
    assert labels["AA"] == labels["AB"] == labels["AC"] != labels["BA"] == labels["BB"] == labels["BC"]
