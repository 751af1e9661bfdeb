"""Customer analytics on transactions generated with a known churn mechanism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demand_insights import customers
from demand_insights.exceptions import InputDataError


def transactions(n: int = 400, days: int = 360, seed: int = 5) -> pd.DataFrame:
    """Customers buy at their own rate until a random churn day (earlier for low-rate customers)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")
    rows = []
    for c in range(n):
        rate = rng.gamma(1.5, 1 / 20)
        life = rng.exponential(60 + 3000 * rate)
        born = rng.integers(0, days // 2)
        day, k = float(born), 0
        while day < min(days, born + life):
            rows.append(
                {
                    "customer_id": f"C{c:05d}",
                    "order_id": f"O{c}-{k}",
                    "date": start + pd.Timedelta(days=int(day)),
                    "revenue": float(rng.gamma(2, 20)),
                    "units": int(rng.integers(1, 6)),
                    "is_cancellation": bool(rng.random() < 0.03),
                    "country": ["GB", "DE"][c % 2],
                }
            )
            day += rng.exponential(1 / rate)
            k += 1
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tx():
    return customers.prepare(transactions())


def test_churn_model_beats_recency_only_on_the_time_based_holdout(tx):
    model = customers.fit_churn(tx, version="c1")
    m = model.metadata["metrics"]
    assert m["roc_auc"] > 0.7
    assert m["roc_auc"] >= m["roc_auc_recency_only"] - 0.02
    assert m["brier"] < m["brier_base_rate"]
    assert pd.Timestamp(m["train_cutoff"]) < pd.Timestamp(m["holdout_cutoff"])


def test_insights_have_segments_probabilities_and_value(tx):
    model = customers.fit_churn(tx, version="c1")
    table = customers.insights(tx, model)
    assert table["customer_id"].is_unique
    assert table["churn_probability"].between(0, 1).all()
    assert set(table["r_score"]) <= {1, 2, 3, 4, 5}
    assert (table["clv_12m"] >= 0).all()
    assert (table["model_version"] == "c1").all()
    champions = table.loc[table["segment"] == "champions"]
    hibernating = table.loc[table["segment"] == "hibernating"]
    assert champions["churn_probability"].mean() < hibernating["churn_probability"].mean()
    reloaded = customers.ChurnModel.from_files(model.to_files())
    again = customers.insights(tx, reloaded)
    np.testing.assert_allclose(again["churn_probability"], table["churn_probability"])


def test_bad_transactions_are_refused():
    with pytest.raises(InputDataError, match="empty"):
        customers.prepare(pd.DataFrame())
    with pytest.raises(InputDataError, match="missing columns"):
        customers.prepare(pd.DataFrame({"customer_id": ["a"]}))
    few = customers.prepare(transactions(n=5, days=100))
    with pytest.raises(InputDataError):
        customers.fit_churn(few)


def test_without_a_churn_model_rfm_segments_stand_and_churn_and_clv_are_missing():
    """Every customer lapsed before the cutoffs: nothing to learn, so churn and CLV are left missing, not guessed."""
    raw = transactions(n=60, days=120)
    raw["date"] = raw["date"] - pd.Timedelta(days=400)  # all history long before ...
    last = raw.iloc[[0]].assign(date=pd.Timestamp("2023-06-01"), order_id="late")  # ... one late purchase
    tx = customers.prepare(pd.concat([raw, last], ignore_index=True))
    with pytest.raises(InputDataError, match="same churn label"):
        customers.fit_churn(tx)
    table = customers.insights(tx, None)
    assert len(table) == raw["customer_id"].nunique()
    assert table["churn_probability"].isna().all() and table["clv_12m"].isna().all()
    assert set(table["model_version"]) == {customers.NO_MODEL}
    assert table[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    newest = table.loc[table["customer_id"] == raw.iloc[0]["customer_id"]]
    assert int(newest["recency_days"].iloc[0]) == 0 and int(newest["r_score"].iloc[0]) == 5
