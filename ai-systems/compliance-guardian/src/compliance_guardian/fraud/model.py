"""XGBoost fraud model: time-based split, imbalance weighting, Platt calibration, threshold, reason codes.

Saved portably: the booster as XGBoost JSON and everything else (features, calibration, threshold,
metrics, training window, library versions) as metadata JSON. No pickles.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from compliance_guardian.exceptions import TrainingDataError
from compliance_guardian.fraud import baseline, metrics, threshold
from compliance_guardian.fraud.features import FEATURES, FEATURES_V1, build_features, labels, prepare

SEED = 7
THREADS = 1
PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "max_depth": 4,
    "eta": 0.05,
    "subsample": 0.9,
    "colsample_bytree": 0.8,
    "min_child_weight": 1.0,
    "tree_method": "hist",
    "seed": SEED,
    # one thread: a 2-thread OpenMP booster spin-waits at every barrier when the core is shared (12x the wall
    # time, 20x the CPU on the loaded 2-core machine); the trees are small, so one thread loses little when idle
    "nthread": THREADS,
}
# red flags never lower the risk: monotone increasing in these (prior knowledge that keeps the trees sane
# when a holdout period holds a fraud pattern that training saw only a few times)
MONOTONE_UP = frozenset(
    {
        "card_country_ne_billing",
        "ip_country_ne_billing",
        "shipping_ne_billing",
        "card_country_ne_ip",
        "first_use_of_card_for_customer",
        "is_guest",
        "is_night",
        "is_new_account",
        "card_testing_burst",
        "rules_score",
        "n_small_device_1h",
        "n_declined_device_24h",
        "n_cards_device_24h",
    }
)
ROUNDS = 400
EARLY_STOP = 50
MIN_POSITIVES = 5
REASON_LABELS = {
    "amount_log": "high amount",
    "is_small_amount": "small authorisation",
    "amount_vs_customer_mean": "amount unusual for this customer",
    "customer_prior_payments": "customer history",
    "is_guest": "guest checkout",
    "account_age_days": "account age",
    "hour_sin": "time of day",
    "hour_cos": "time of day",
    "is_night": "night-time payment",
    "card_country_ne_billing": "card country differs from billing country",
    "ip_country_ne_billing": "IP country differs from billing country",
    "shipping_ne_billing": "shipping country differs from billing country",
    "card_country_ne_ip": "card country differs from IP country",
    "n_distinct_countries": "many countries involved",
    "first_use_of_card_for_customer": "first purchase with a new card",
    "is_card": "card payment",
    "is_declined": "declined authorisation",
    "n_small_device_1h": "burst of small authorisations from this device",
    "n_declined_device_24h": "declines from this device",
    "n_cards_device_24h": "several cards on this device",
    "is_new_account": "account opened in the last two days",
    "card_testing_burst": "card-testing burst from this device",
    "rules_score": "several red flags together",
}


def _xgb():
    import xgboost as xgb

    return xgb


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_platt(raw: np.ndarray, y: np.ndarray, iterations: int = 200) -> tuple[float, float]:
    """Platt scaling p = sigmoid(a * logit(raw) + b), by damped Newton steps with a prior pulling towards (1, 0).

    Platt's smoothed targets and the prior keep (a, b) finite when the validation classes separate
    perfectly (then the raw scores are left nearly as they are); a stays within [0.05, 5].
    """
    x = _logit(raw)
    y = np.asarray(y, dtype=float)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, b, prior = 1.0, 0.0, 1.0
    for _ in range(iterations):
        p = _sigmoid(a * x + b)
        w = p * (1 - p) + 1e-9
        g = np.array([np.sum((p - t) * x) + prior * (a - 1.0), np.sum(p - t) + prior * b])
        h = np.array([[np.sum(w * x * x) + prior, np.sum(w * x)], [np.sum(w * x), np.sum(w) + prior]])
        step = np.clip(np.linalg.solve(h, g), -1.0, 1.0)
        a, b = float(np.clip(a - step[0], 0.05, 5.0)), float(b - step[1])
        if np.abs(step).max() < 1e-8:
            break
    return a, b


def label_reason(name: str) -> str:
    if name.startswith("n_"):
        entity, _, window = name[2:].rpartition("_")
        who = entity.replace("_id", "").replace("_address", "")
        return REASON_LABELS.get(name, f"payments per {who} in {window}")
    return REASON_LABELS.get(name, name)


@dataclass
class FraudModel:
    """A trained booster with its calibration, threshold and metadata."""

    booster: Any
    calibration: tuple[float, float]
    threshold: float
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unversioned"))

    @property
    def feature_names(self) -> list[str]:
        """The model's own features, from its metadata: FEATURES, FEATURES_V1 (a model trained before the rule
        signals) or a retailer's own columns (a model trained by `fraud-train --features`)."""
        return list(self.metadata.get("features") or FEATURES)

    @property
    def platform_features(self) -> bool:
        """True when the model scores the platform's payment features (built from payment_transactions rows)."""
        return self.feature_names in (list(FEATURES), list(FEATURES_V1))

    def _matrix(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """float32 matrix of the model's features; an ndarray holds the columns of FEATURES in order (platform
        models) or the model's own features in order (models of a retailer's own columns)."""
        names = self.feature_names
        if isinstance(features, np.ndarray):
            if names == list(FEATURES) or not self.platform_features:
                return features
            return features[:, [FEATURES.index(name) for name in names]]
        return features[names].to_numpy(dtype=np.float32)

    def raw_scores(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Uncalibrated scores; `inplace_predict` skips building a DMatrix (same values as DMatrix predict)."""
        return self.booster.inplace_predict(self._matrix(features), validate_features=False)

    def probabilities(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        a, b = self.calibration
        return _sigmoid(a * _logit(self.raw_scores(features)) + b)

    def reasons(self, features: pd.DataFrame | np.ndarray, top: int = 3) -> list[list[dict[str, Any]]]:
        """Per row, the features that pushed the score up most (XGBoost SHAP contributions)."""
        xgb = _xgb()
        names = self.feature_names
        values = self._matrix(features)
        if not len(values):
            return []
        dm = xgb.DMatrix(values, feature_names=names, nthread=THREADS)
        contribs = self.booster.predict(dm, pred_contribs=True)[:, :-1]
        out = []
        for row, vals in zip(contribs, values, strict=True):
            order = np.argsort(-row)[:top]
            out.append(
                [
                    {
                        "feature": names[i],
                        "reason": label_reason(names[i]),
                        "value": round(float(vals[i]), 4),
                        "contribution": round(float(row[i]), 4),
                    }
                    for i in order
                    if row[i] > 0
                ]
            )
        return out

    def score_matrix(self, X: np.ndarray, with_reasons: bool = True) -> dict[str, Any]:
        """Scores of a FEATURES matrix (the online path): probabilities, alert flags and reasons per row."""
        p = self.probabilities(X)
        out: dict[str, Any] = {"fraud_probability": p.round(6), "is_alert": p >= self.threshold}
        if with_reasons:
            out["reasons"] = self.reasons(X)
        return out

    def score(self, features: pd.DataFrame, with_reasons: bool = True) -> pd.DataFrame:
        p = self.probabilities(features)
        result = pd.DataFrame({"fraud_probability": p.round(6), "is_alert": p >= self.threshold}, index=features.index)
        if with_reasons:
            result["reasons"] = self.reasons(features)
        return result

    # ---- portable persistence
    def to_files(self) -> dict[str, bytes]:
        raw = self.booster.save_raw(raw_format="json")
        meta = dict(self.metadata)
        meta.update({"calibration": {"a": self.calibration[0], "b": self.calibration[1]}, "threshold": self.threshold})
        return {"model.json": bytes(raw), "metadata.json": json.dumps(meta, indent=2, sort_keys=True).encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> FraudModel:
        xgb = _xgb()
        meta = json.loads(files["metadata.json"])
        names = meta.get("features")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError("model metadata has no feature list")
        booster = xgb.Booster()
        booster.load_model(bytearray(files["model.json"]))
        booster.set_param({"nthread": 1})
        cal = meta["calibration"]
        return cls(booster, (float(cal["a"]), float(cal["b"])), float(meta["threshold"]), meta)


def time_split(n: int, fractions: tuple[float, float] = (0.6, 0.2)) -> tuple[slice, slice, slice]:
    """train / validation / holdout slices of time-sorted rows."""
    a = int(n * fractions[0])
    b = int(n * (fractions[0] + fractions[1]))
    return slice(0, a), slice(a, b), slice(b, n)


def train(
    frame: pd.DataFrame,
    label_column: str = "is_fraud",
    objective: threshold.Objective | str = threshold.DEFAULT_OBJECTIVE,
    features: pd.DataFrame | None = None,
    time_column: str = "payment_ts",
) -> tuple[FraudModel, dict[str, Any]]:
    """Train on the first 60% of time, calibrate and pick the threshold on the next 20%, evaluate on the last 20%.

    The threshold meets the stated `objective` (fraud.threshold) on the validation period; the report gives
    why it was chosen and the holdout's precision, recall and alerts per day at it, against the rules baseline.
    `features` lets a caller pass any labelled feature table (CLI): the model then scores those columns.
    """
    if isinstance(objective, str):
        objective = threshold.parse_objective(objective)
    xgb = _xgb()
    if features is None:
        df = prepare(frame)
        X = build_features(df, prepared=True)
        y = labels(df, label_column)
        times = df[time_column]
    else:
        X, y, times = features, labels(frame, label_column), frame[time_column]
    n = len(X)
    if n < 50 or y.sum() < MIN_POSITIVES:
        raise TrainingDataError(
            f"need at least 50 rows and {MIN_POSITIVES} positives to train, got {n} rows, {y.sum()}"
        )
    tr, va, ho = time_split(n)
    if y[tr].sum() < 2 or y[va].sum() < 1:
        raise TrainingDataError("the time-based split leaves too few positives in train or validation")
    feature_names = list(X.columns)
    pos = max(float(y[tr].sum()), 1.0)
    params = dict(PARAMS, scale_pos_weight=float((len(y[tr]) - pos) / pos))
    if feature_names == list(FEATURES):  # the platform's features (not a CLI table's own columns)
        params["monotone_constraints"] = "(" + ",".join("1" if f in MONOTONE_UP else "0" for f in FEATURES) + ")"
    dtrain = xgb.DMatrix(X.iloc[tr].to_numpy(), label=y[tr], feature_names=feature_names, nthread=THREADS)
    dval = xgb.DMatrix(X.iloc[va].to_numpy(), label=y[va], feature_names=feature_names, nthread=THREADS)
    booster = xgb.train(
        params, dtrain, ROUNDS, evals=[(dval, "validation")], early_stopping_rounds=EARLY_STOP, verbose_eval=False
    )
    best_iteration = int(booster.best_iteration)
    booster = booster[: best_iteration + 1]
    raw_val = booster.predict(dval)
    calibration = fit_platt(raw_val, y[va])
    model = FraudModel(booster, calibration, 0.5, {})
    if features is None:
        p_val = model.probabilities(X.iloc[va])
        p_hold = model.probabilities(X.iloc[ho])
    else:
        a, b = calibration
        p_val = _sigmoid(a * _logit(raw_val) + b)
        holdout = xgb.DMatrix(X.iloc[ho].to_numpy(), feature_names=feature_names, nthread=THREADS)
        p_hold = _sigmoid(a * _logit(booster.predict(holdout)) + b)
    choice = threshold.choose(y[va], p_val, objective, times.iloc[va])
    model.threshold = choice.threshold
    holdout_days = threshold.days_of(times.iloc[ho])
    report: dict[str, Any] = {"model": metrics.summary(y[ho], p_hold, model.threshold)}
    report["model"]["brier"] = round(metrics.brier(y[ho], p_hold), 5)
    report["model"]["alerts_per_day"] = round(report["model"]["alerts"] / holdout_days, 2)
    if features is None:
        rules_val = baseline.rules_score(X.iloc[va])
        rules_hold = baseline.rules_score(X.iloc[ho])
        rules_threshold = threshold.choose(y[va], rules_val, objective, times.iloc[va]).threshold
        report["rules_baseline"] = metrics.summary(y[ho], rules_hold, rules_threshold)
    digest = hashlib.sha256(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes() + y.tobytes()).hexdigest()
    end = pd.Timestamp(times.iloc[-1])
    version = f"{end.strftime('%Y%m%dT%H%M%S')}-{digest[:8]}"
    import xgboost

    model.metadata = {
        "version": version,
        "model": "fraud-xgboost",
        "features": feature_names,
        "label": label_column,
        "params": params,
        "best_iteration": best_iteration,
        "training_window": {
            "start": str(pd.Timestamp(times.iloc[0])),
            "train_end": str(pd.Timestamp(times.iloc[tr.stop - 1])),
            "validation_end": str(pd.Timestamp(times.iloc[va.stop - 1])),
            "end": str(end),
        },
        "rows": {"train": tr.stop, "validation": va.stop - va.start, "holdout": n - va.stop},
        "threshold_objective": str(objective),
        "threshold_choice": choice.as_dict(),
        "metrics_holdout": report,
        "data_sha256": digest,
        "library_versions": {
            "xgboost": xgboost.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
    return model, report
