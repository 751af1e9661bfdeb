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
