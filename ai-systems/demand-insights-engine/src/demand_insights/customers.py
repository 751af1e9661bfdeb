"""Customer analytics from order-level transactions: RFM segments, churn propensity, lifetime value.

Churn labels are time-based: features from everything before a cutoff, label = no purchase in the next
`window` days. The classifier (LightGBM, gradient-boosted trees) is trained at cutoff end - 2*window and
evaluated at end - window against a recency-only baseline (ROC-AUC, Brier); the served model is then
refitted at end - window (the most recent labels) and scores every customer as of the last day.
CLV (12 months) = expected orders x average order value, expected orders = the customer's order rate x
365 x (1 - churn probability): a transparent heuristic, not a fitted BG/NBD model.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from demand_insights.exceptions import InputDataError

SEED = 7
REQUIRED = ("customer_id", "order_id", "date", "revenue", "is_cancellation")
CHURN_FEATURES = [
    "recency",
    "frequency",
    "monetary",
    "tenure",
    "avg_order_value",
    "orders_30",
    "orders_90",
    "revenue_90",
    "mean_gap",
    "gap_ratio",
    "cancel_rate",
    "units_per_order",
]
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
    "num_threads": 1,
}
ROUNDS = 150
SEGMENTS = [  # (name, rule on R and FM scores 1..5), first match wins
    ("champions", lambda r, fm: (r >= 4) & (fm >= 4)),
    ("loyal", lambda r, fm: (r >= 3) & (fm >= 4)),
    ("cannot_lose", lambda r, fm: (r <= 2) & (fm >= 4)),
    ("potential_loyalist", lambda r, fm: (r >= 4) & (fm >= 2)),
    ("new", lambda r, fm: (r >= 4) & (fm < 2)),
    ("at_risk", lambda r, fm: (r <= 2) & (fm >= 2)),
    ("needs_attention", lambda r, fm: r == 3),
    ("hibernating", lambda r, fm: (r <= 2) & (fm < 2)),
]


def prepare(transactions: pd.DataFrame) -> pd.DataFrame:
    """Validate and normalise a customer_transactions table (rows without a customer id are dropped)."""
    if not isinstance(transactions, pd.DataFrame) or transactions.empty:
        raise InputDataError("the transactions table is empty")
    missing = [c for c in REQUIRED if c not in transactions.columns]
    if missing:
        raise InputDataError(f"transactions are missing columns {missing}")
    tx = transactions.copy()
    tx["date"] = pd.to_datetime(tx["date"], errors="coerce")
    if isinstance(tx["date"].dtype, pd.DatetimeTZDtype):
        tx["date"] = tx["date"].dt.tz_localize(None)
    tx["date"] = tx["date"].dt.normalize()
    value = tx["revenue_reporting"] if "revenue_reporting" in tx else tx["revenue"]
    tx["value"] = pd.to_numeric(value, errors="coerce").fillna(pd.to_numeric(tx["revenue"], errors="coerce"))
    tx["units"] = pd.to_numeric(tx.get("units", 0), errors="coerce").fillna(0)
    tx["is_cancellation"] = tx["is_cancellation"].astype(str).str.lower().isin({"true", "1"})
    tx = tx.dropna(subset=["customer_id", "date", "value"])
    tx["customer_id"] = tx["customer_id"].astype(str)
    if tx.empty:
        raise InputDataError("no transaction has a customer id, a date and an amount")
    return tx


AGGREGATES = [
    "orders",  # distinct orders with a sale line
    "first",
    "last",  # first and last sale day
    "net",  # value of every row (sales and cancellations)
    "sales_value",  # value of the sale rows
    "units",  # units of the sale rows
    "orders_30",
    "orders_90",  # distinct orders with a sale in the last 30 / 90 days
    "revenue_90",  # value of every row in the last 90 days
    "cancels",  # distinct orders with a cancellation
    "country",  # the customer's most frequent country on sale rows (ties: the first in order; "" when none)
]


def aggregates_at(tx: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per customer with a sale on or before `cutoff`: the sums and counts the features are made of (index:
    customer_id, columns AGGREGATES). prod_sql.SqlTransactions computes the same in DuckDB."""
    past = tx.loc[tx["date"] <= cutoff]
    sales = past.loc[~past["is_cancellation"]]
    if sales.empty:
        return pd.DataFrame(columns=AGGREGATES)
    g = sales.groupby("customer_id")
    days = (cutoff - sales["date"]).dt.days
    past_days = (cutoff - past["date"]).dt.days
    out = pd.DataFrame({"orders": g["order_id"].nunique(), "first": g["date"].min(), "last": g["date"].max()})
    out["net"] = past.groupby("customer_id")["value"].sum().reindex(out.index).fillna(0)
    out["sales_value"] = g["value"].sum()
    out["units"] = g["units"].sum()
    out["orders_30"] = sales.loc[days < 30].groupby("customer_id")["order_id"].nunique()
    out["orders_90"] = sales.loc[days < 90].groupby("customer_id")["order_id"].nunique()
    out["revenue_90"] = past.loc[past_days < 90].groupby("customer_id")["value"].sum()
    out["cancels"] = past.loc[past["is_cancellation"]].groupby("customer_id")["order_id"].nunique()
    for name in ("orders_30", "orders_90", "revenue_90", "cancels"):
        out[name] = out[name].fillna(0)
    if "country" in sales:
        out["country"] = g["country"].agg(lambda s: s.mode().iat[0] if len(s.mode()) else "")
    else:
        out["country"] = ""
    return out


def features_from_aggregates(agg: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The churn / RFM features of each customer at `cutoff` from its aggregates (index: customer_id)."""
    if agg.empty:
        return pd.DataFrame(columns=[*CHURN_FEATURES, "country", "first", "last"])
    first, last = pd.to_datetime(agg["first"]), pd.to_datetime(agg["last"])
    orders = agg["orders"].astype(float)
    f = pd.DataFrame(index=agg.index)
    f["recency"] = (cutoff - last).dt.days.astype(float)
    f["frequency"] = orders
    f["monetary"] = agg["net"].astype(float)
    f["tenure"] = (cutoff - first).dt.days.astype(float)
    f["avg_order_value"] = agg["sales_value"].astype(float) / orders
    for name in ("orders_30", "orders_90", "revenue_90"):
        f[name] = agg[name].astype(float)
    span = (last - first).dt.days.astype(float)
    f["mean_gap"] = np.where(orders > 1, span / (orders - 1).clip(lower=1), np.nan)
    f["gap_ratio"] = f["recency"] / f["mean_gap"]
    f["cancel_rate"] = agg["cancels"].astype(float) / orders
    f["units_per_order"] = agg["units"].astype(float) / orders
    f["country"] = agg["country"].fillna("").astype(str)
    f["first"], f["last"] = first, last
    return f


def features_at(tx: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per-customer features from transactions on or before `cutoff` (index: customer_id)."""
    return features_from_aggregates(aggregates_at(tx, cutoff), cutoff)


def buyers_between(tx: pd.DataFrame, after: pd.Timestamp, until: pd.Timestamp) -> set[str]:
    """Customers with a sale in (after, until]."""
    sold = tx.loc[(tx["date"] > after) & (tx["date"] <= until) & ~tx["is_cancellation"]]
    return set(sold["customer_id"])


def churn_labels(active: set[str], customers: pd.Index) -> pd.Series:
    """1 = churned: not among the customers `active` in the label window."""
    return pd.Series([0 if c in active else 1 for c in customers], index=customers, dtype=int)


def labels_after(tx: pd.DataFrame, cutoff: pd.Timestamp, window: int, customers: pd.Index) -> pd.Series:
    """1 = churned: no purchase in (cutoff, cutoff + window]."""
    return churn_labels(buyers_between(tx, cutoff, cutoff + pd.Timedelta(days=window)), customers)


class FrameTransactions:
    """Prepared transactions in a pandas frame, as fit_churn / insights read them (prod_sql.SqlTransactions
    answers the same three questions from DuckDB)."""

    def __init__(self, tx: pd.DataFrame) -> None:
        self.tx = tx
        self.start, self.end = tx["date"].min(), tx["date"].max()

    def features_at(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        return features_at(self.tx, cutoff)

    def buyers_between(self, after: pd.Timestamp, until: pd.Timestamp) -> set[str]:
        return buyers_between(self.tx, after, until)


def _source(tx: Any) -> Any:
    return FrameTransactions(tx) if isinstance(tx, pd.DataFrame) else tx


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score)) if len(set(y)) == 2 else float("nan")


def _train(X: pd.DataFrame, y: pd.Series) -> Any:
    import lightgbm as lgb

    return lgb.train(PARAMS, lgb.Dataset(X[CHURN_FEATURES].to_numpy(float), y.to_numpy(), free_raw_data=True), ROUNDS)


@dataclass
class ChurnModel:
    booster: Any
    metadata: dict[str, Any]

    @property
    def version(self) -> str:
        return self.metadata["version"]

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(features[CHURN_FEATURES].to_numpy(float))

    def to_files(self) -> dict[str, bytes]:
        return {
            "model.txt": self.booster.model_to_string().encode(),
            "metadata.json": json.dumps(self.metadata, indent=2, sort_keys=True, default=str).encode(),
        }

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> ChurnModel:
        import lightgbm as lgb

        return cls(lgb.Booster(model_str=files["model.txt"].decode()), json.loads(files["metadata.json"]))


NO_MODEL = "none"  # model_version of insights computed without a churn model


def churn_window(tx: Any) -> int:
    """90 days, or a third of the history when it is shorter than 270 days (at least 14)."""
    source = _source(tx)
    span = (source.end - source.start).days
    return int(max(14, min(90, span // 3)))


def fit_churn(tx: Any, version: str = "dev", window: int | None = None) -> ChurnModel:
    """Train at end - 2w, evaluate at end - w (holdout) vs recency only, refit at end - w for serving.

    `tx`: prepared transactions (a frame) or a source answering `features_at` / `buyers_between`."""
    source = _source(tx)
    window = window or churn_window(source)
    end = source.end
    train_cut, eval_cut = end - pd.Timedelta(days=2 * window), end - pd.Timedelta(days=window)
    f_train = source.features_at(train_cut)
    f_eval = source.features_at(eval_cut)
    if len(f_train) < 20 or len(f_eval) < 20:
        raise InputDataError(f"too few customers with history before the churn cutoffs ({len(f_train)}, {len(f_eval)})")
    y_train = churn_labels(source.buyers_between(train_cut, eval_cut), f_train.index)
    y_eval = churn_labels(source.buyers_between(eval_cut, end), f_eval.index)
    if y_train.nunique() < 2:
        raise InputDataError("every customer has the same churn label at the training cutoff: nothing to learn")
    holdout_model = _train(f_train, y_train)
    p_eval = holdout_model.predict(f_eval[CHURN_FEATURES].to_numpy(float))
    y = y_eval.to_numpy()
    deciles = pd.qcut(pd.Series(p_eval).rank(method="first"), 5, labels=False)
    calibration = [
        {"mean_predicted": float(p_eval[deciles == d].mean()), "observed": float(y[deciles == d].mean())}
        for d in range(5)
    ]
    metrics = {
        "holdout_cutoff": str(eval_cut.date()),
        "train_cutoff": str(train_cut.date()),
        "window_days": window,
        "n_train": len(f_train),
        "n_holdout": len(f_eval),
        "churn_rate_holdout": float(y.mean()),
        "roc_auc": _auc(y, p_eval),
        "roc_auc_recency_only": _auc(y, f_eval["recency"].to_numpy()),
        "brier": float(np.mean((p_eval - y) ** 2)),
        "brier_base_rate": float(np.mean((y_train.mean() - y) ** 2)),
        "calibration_quintiles": calibration,
    }
    booster = _train(f_eval, y_eval) if y_eval.nunique() == 2 else holdout_model
    import lightgbm as lgb

    metadata = {
        "version": version,
        "kind": "churn",
        "features": CHURN_FEATURES,
        "params": {**PARAMS, "num_boost_round": ROUNDS},
        "training_window": {"start": str(source.start.date()), "end": str(end.date())},
        "metrics": metrics,
        "library_versions": {
            "lightgbm": lgb.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": platform.python_version(),
        },
    }
    return ChurnModel(booster, metadata)


def _score(values: pd.Series, ascending: bool) -> pd.Series:
    """Quintile score 1..5 by rank (5 = best), robust to ties and to fewer than five customers."""
    ranks = values.rank(method="first", ascending=ascending)
    return np.ceil(ranks / len(values) * 5).clip(1, 5).astype(int)


def insights(tx: Any, model: ChurnModel | None) -> pd.DataFrame:
    """One row per customer as of the last day: RFM scores and segment, churn probability, CLV.

    Without a churn model (too little history to learn one), churn probability and CLV (which needs it) are
    missing rather than guessed; the RFM scores and segments stand on their own.
    """
    source = _source(tx)
    end = source.end
    f = source.features_at(end)
    if f.empty:
        raise InputDataError("no customer has a purchase")
    r = _score(f["recency"], ascending=False)
    fq = _score(f["frequency"], ascending=True)
    m = _score(f["monetary"], ascending=True)
    fm = np.round((fq + m) / 2)
    segment = pd.Series("other", index=f.index)
    for name, rule in reversed(SEGMENTS):
        segment[rule(r, fm).to_numpy()] = name
    churn = model.predict(f) if model is not None else np.full(len(f), np.nan)
    rate = f["frequency"] / np.maximum(f["tenure"], 30.0)
    clv = rate * 365.0 * (1 - churn) * f["avg_order_value"].clip(lower=0)
    out = pd.DataFrame(
        {
            "customer_id": f.index.astype(str),
            "country": f["country"].astype(str).to_numpy(),
            "snapshot_date": end,
            "recency_days": f["recency"].astype(int).to_numpy(),
            "frequency": f["frequency"].astype(int).to_numpy(),
            "monetary": f["monetary"].round(2).to_numpy(),
            "r_score": r.to_numpy(),
            "f_score": fq.to_numpy(),
            "m_score": m.to_numpy(),
            "segment": segment.to_numpy(),
            "churn_probability": np.round(churn, 4),
            "clv_12m": np.round(clv.to_numpy(), 2),
            "first_purchase": f["first"].to_numpy(),
            "last_purchase": f["last"].to_numpy(),
            "model_version": model.version if model is not None else NO_MODEL,
        }
    )
    return out.sort_values("customer_id").reset_index(drop=True)
