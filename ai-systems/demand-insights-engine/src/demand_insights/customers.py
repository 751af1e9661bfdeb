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


def features_at(tx: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per-customer features from transactions on or before `cutoff` (index: customer_id)."""
    past = tx.loc[tx["date"] <= cutoff]
    sales = past.loc[~past["is_cancellation"]]
    if sales.empty:
        return pd.DataFrame(columns=[*CHURN_FEATURES, "country", "first", "last"])
    g = sales.groupby("customer_id")
    orders = g["order_id"].nunique()
    first, last = g["date"].min(), g["date"].max()
    net = past.groupby("customer_id")["value"].sum().reindex(orders.index).fillna(0)
    units = g["units"].sum()
    days = (cutoff - sales["date"]).dt.days
    recent_30 = sales.loc[days < 30].groupby("customer_id")["order_id"].nunique()
    recent_90 = sales.loc[days < 90].groupby("customer_id")["order_id"].nunique()
    rev_90 = past.loc[(cutoff - past["date"]).dt.days < 90].groupby("customer_id")["value"].sum()
    cancels = past.loc[past["is_cancellation"]].groupby("customer_id")["order_id"].nunique()
    f = pd.DataFrame(index=orders.index)
    f["recency"] = (cutoff - last).dt.days.astype(float)
    f["frequency"] = orders.astype(float)
    f["monetary"] = net.astype(float)
    f["tenure"] = (cutoff - first).dt.days.astype(float)
    f["avg_order_value"] = (g["value"].sum() / orders).astype(float)
    f["orders_30"] = recent_30.reindex(f.index).fillna(0).astype(float)
    f["orders_90"] = recent_90.reindex(f.index).fillna(0).astype(float)
    f["revenue_90"] = rev_90.reindex(f.index).fillna(0).astype(float)
    span = (last - first).dt.days.astype(float)
    f["mean_gap"] = np.where(orders > 1, span / (orders - 1).clip(lower=1), np.nan)
    f["gap_ratio"] = f["recency"] / f["mean_gap"]
    f["cancel_rate"] = (cancels.reindex(f.index).fillna(0) / orders).astype(float)
    f["units_per_order"] = (units / orders).astype(float)
    if "country" in sales:
        f["country"] = g["country"].agg(lambda s: s.mode().iat[0] if len(s.mode()) else "")
    else:
        f["country"] = ""
    f["first"], f["last"] = first, last
    return f


def labels_after(tx: pd.DataFrame, cutoff: pd.Timestamp, window: int, customers: pd.Index) -> pd.Series:
    """1 = churned: no purchase in (cutoff, cutoff + window]."""
    future = tx.loc[(tx["date"] > cutoff) & (tx["date"] <= cutoff + pd.Timedelta(days=window)) & ~tx["is_cancellation"]]
    active = set(future["customer_id"])
    return pd.Series([0 if c in active else 1 for c in customers], index=customers, dtype=int)


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


def churn_window(tx: pd.DataFrame) -> int:
    """90 days, or a third of the history when it is shorter than 270 days (at least 14)."""
    span = (tx["date"].max() - tx["date"].min()).days
    return int(max(14, min(90, span // 3)))


def fit_churn(tx: pd.DataFrame, version: str = "dev", window: int | None = None) -> ChurnModel:
    """Train at end - 2w, evaluate at end - w (holdout) vs recency only, refit at end - w for serving."""
    window = window or churn_window(tx)
    end = tx["date"].max()
    train_cut, eval_cut = end - pd.Timedelta(days=2 * window), end - pd.Timedelta(days=window)
    f_train = features_at(tx, train_cut)
    f_eval = features_at(tx, eval_cut)
    if len(f_train) < 20 or len(f_eval) < 20:
        raise InputDataError(f"too few customers with history before the churn cutoffs ({len(f_train)}, {len(f_eval)})")
    y_train = labels_after(tx, train_cut, window, f_train.index)
    y_eval = labels_after(tx, eval_cut, window, f_eval.index)
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
        "training_window": {"start": str(tx["date"].min().date()), "end": str(end.date())},
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


def insights(tx: pd.DataFrame, model: ChurnModel | None) -> pd.DataFrame:
    """One row per customer as of the last day: RFM scores and segment, churn probability, CLV.

    Without a churn model (too little history to learn one), churn probability and CLV (which needs it) are
    missing rather than guessed; the RFM scores and segments stand on their own.
    """
    end = tx["date"].max()
    f = features_at(tx, end)
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
