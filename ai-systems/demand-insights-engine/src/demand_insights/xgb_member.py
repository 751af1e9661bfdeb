"""XGBoost, the P50's second ensemble member: a median (quantile 0.5) model on the same rows as LightGBM's.

Same scaled target and weights as the LightGBM median model (forecast.py), so the two predict the same
quantity and can be averaged; the share of each is chosen on the calibration rows. Stored as XGBoost's own
JSON model format (no pickle).
"""

from __future__ import annotations

from typing import Any

import numpy as np

PARAMS: dict[str, Any] = {
    "objective": "reg:quantileerror",
    "quantile_alpha": 0.5,
    "tree_method": "hist",
    "max_depth": 6,
    "learning_rate": 0.08,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "lambda": 1.0,
    "max_bin": 63,
    "seed": 7,
    "verbosity": 0,
}


def train(
    X: np.ndarray,
    label: np.ndarray,
    weight: np.ndarray,
    rounds: int,
    threads: int,
    *,
    valid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    early_stop: int = 15,
) -> Any:
    """Fit the median on the label and weights the LightGBM median model gets (forecast._median_target).

    With `valid` (X, label, weight), boosting stops once its weighted quantile loss has not improved for
    `early_stop` rounds (`keep_rounds` then cuts the booster back)."""
    import xgboost as xgb

    data = xgb.DMatrix(X, label=label, weight=weight, missing=np.nan)
    params = {**PARAMS, "nthread": threads}
    if valid is None:
        return xgb.train(params, data, num_boost_round=rounds)
    checked = xgb.DMatrix(valid[0], label=valid[1], weight=valid[2], missing=np.nan)
    stop = xgb.callback.EarlyStopping(rounds=early_stop, save_best=False)
    return xgb.train(
        params, data, num_boost_round=rounds, evals=[(checked, "calibration")], callbacks=[stop], verbose_eval=False
    )


def keep_rounds(booster: Any, min_rounds: int) -> tuple[Any, int]:
    """An early-stopped booster cut back to its best round, at least `min_rounds` (as far as it grew trees),
    and that count (what the refit on all rows trains)."""
    grown = int(booster.num_boosted_rounds())
    best = getattr(booster, "best_iteration", None)
    use = grown if best is None else min(grown, max(min_rounds, int(best) + 1))
    return (booster[:use] if use < grown else booster), use


def predict(booster: Any, X: np.ndarray, threads: int) -> np.ndarray:
    """Scaled median predictions (multiply by the row's scale for units), never below zero."""
    import xgboost as xgb

    booster.set_param({"nthread": threads})
    return np.maximum(booster.predict(xgb.DMatrix(X, missing=np.nan)), 0.0)


def library_version() -> str:
    import xgboost as xgb

    return xgb.__version__


def to_bytes(booster: Any) -> bytes:
    return bytes(booster.save_raw(raw_format="json"))


def from_bytes(body: bytes, name: str) -> Any:
    """A stored model; a corrupt one raises ValueError, so loading falls back to an older version."""
    import xgboost as xgb

    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(body))
    except xgb.core.XGBoostError as e:
        raise ValueError(f"{name} is not an XGBoost model: {e}") from e
    return booster
