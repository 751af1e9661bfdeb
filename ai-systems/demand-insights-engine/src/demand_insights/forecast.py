"""The global LightGBM demand models: tweedie mean, median P50, conformal P10/P90, rolling-origin backtests.

Training: rows for many forecast origins and every horizon 1..H (direct strategy, horizon is a feature).
Boosters share the rows: a LightGBM tweedie model of the expected units (the `mean`, what inventory sums)
and median (quantile 0.5) models, LightGBM and XGBoost (xgb_member.py): the median is the point that
minimises absolute error, i.e. WAPE, on skewed counts. P50 is the median ensemble (each member's share
chosen on the calibration rows) blended with the better baseline by a weight chosen on the same rows.
Intervals: split-conformal on normalised residuals r = (y - p50) / (p50 + 1)^0.75, per horizon bucket,
estimated on the last week of origins whose targets the fitting models never saw; the final models are then
refitted on all rows with the same number of trees. P10/P90 are P50 shifted by the 10th/90th percentile
residuals, clipped at zero. Per-series scaling: level features and the target are divided by the series'
recent level (features.py) and predictions multiplied back. Models saved before the median booster existed
centre P50 on the blended mean, as they did when they were trained.
"""

from __future__ import annotations

import itertools
import json
import math
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from demand_insights import grain as grains
from demand_insights import xgb_member
from demand_insights.exceptions import InputDataError
from demand_insights.features import CATEGORICAL, FEATURES, SCALE_OFFSET, SCALED, FeatureBuilder, RowBlock
from demand_insights.panel import Panel

SEED = 7
MAX_HORIZON = 28  # the batch path's daily horizon; any grain may ask up to one yearly cycle (grain.py)
MIN_STEPS = 35  # at least a 7-step fit window before a calibration week and a horizon
SCALE_POWER = 0.75
QUANTILES = (0.1, 0.5, 0.9)
MEDIAN_FILE = "model_p50.txt"
XGB_FILE = "model_p50_xgb.json"
ENSEMBLE_SHARES = (1.0, 0.75, 0.5, 0.25, 0.0)  # LightGBM's share of the median ensemble; ties keep LightGBM
PARAMS: dict[str, Any] = {
    "objective": "tweedie",
    "tweedie_variance_power": 1.2,
    "learning_rate": 0.08,
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "cat_smooth": 10,
    "max_cat_to_onehot": 8,
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}
# The median model: absolute loss on the scaled target; weighting rows by their scale makes it the absolute
# error in units (|y - f| = scale * |y / scale - f / scale|), so big sellers count as much as they sell.
MEDIAN_PARAMS: dict[str, Any] = {
    **{k: v for k, v in PARAMS.items() if k != "tweedie_variance_power"},
    "objective": "quantile",
    "alpha": 0.5,
}
NUM_ROUNDS = 150  # the most rounds; early stopping on the calibration week decides how many are used
EARLY_STOP = 40  # rounds without a better calibration loss before boosting stops
MIN_ROUNDS = 60
MAX_TRAIN_ROWS = 400_000
MAX_CALIBRATION_ROWS = 250_000  # residuals for the intervals, ensemble and blend choices, and early stopping


def _threads() -> int:
    """LightGBM threads: DEMAND_NUM_THREADS, else 1 (OpenMP spin-waits collapse on a shared, busy CPU)."""
    from demand_insights.config import get_demand_settings

    return get_demand_settings().num_threads


def _buckets(horizon: int) -> list[tuple[int, int]]:
    """Horizon ranges that get their own interval widths: 1-7, 8-14, 15-28, 29-91, 92-182, 183-365."""
    if horizon <= 14:
        return [(1, horizon)]
    edges = [e for e in (1, 8, 15, 29, 92, 183) if e <= horizon] + [horizon + 1]
    return [(a, b - 1) for a, b in itertools.pairwise(edges) if a <= b - 1]


def _scale(mean: np.ndarray) -> np.ndarray:
    return (np.maximum(mean, 0.0) + 1.0) ** SCALE_POWER


def _sample_series(n_series: int, rows_each: int, max_rows: int | None = None) -> np.ndarray | None:
    """A fixed random subset of the series (mask) whose `rows_each` rows stay below max_rows; None = all.

    Thousands of series x 7 origins x the horizon are millions of calibration rows; a few hundred thousand
    residuals estimate the interval quantiles, the ensemble share and the stopping round as well."""
    max_rows = MAX_CALIBRATION_ROWS if max_rows is None else max_rows
    keep = max_rows // max(1, rows_each)
    if n_series <= keep:
        return None
    mask = np.zeros(n_series, dtype=bool)
    mask[np.random.default_rng(SEED).choice(n_series, size=max(1, keep), replace=False)] = True
    return mask


def _origins(first: int, last: int, n_series: int, horizon: int, max_rows: int) -> list[int]:
    """Origins first..last, thinned from the most recent backwards so the rows stay below max_rows."""
    count = max(0, last - first + 1)
    stride = max(1, math.ceil(count * n_series * horizon / max_rows)) if count else 1
    return sorted(range(last, first - 1, -stride))


def _training_rows(fb: FeatureBuilder, first: int, last: int, max_target: int, max_rows: int) -> RowBlock:
    """The labelled rows of origins first..last (targets up to max_target), origins thinned to max_rows."""
    block = fb.rows(_origins(first, last, fb.panel.n_series, fb.horizon, max_rows), max_target=max_target)
    return _subset(block, ~np.isnan(block.y))


@dataclass
class ForecastModel:
    booster: Any  # tweedie: expected units
    metadata: dict[str, Any]
    median: Any = None  # quantile 0.5: the P50 (None in models saved before it existed)
    xgb: Any = None  # XGBoost quantile 0.5, the ensemble's other member (None when its share is 0)

    @property
    def lightgbm_share(self) -> float:
        return _ensemble_share(self.metadata, "lightgbm", 1.0)

    @property
    def version(self) -> str:
        return self.metadata["version"]

    @property
    def horizon(self) -> int:
        return int(self.metadata["horizon"])

    @property
    def grain(self) -> grains.Grain:
        return grains.get(self.metadata.get("grain"))

    def to_files(self) -> dict[str, bytes]:
        files = {
            "model.txt": self.booster.model_to_string().encode(),
            "metadata.json": json.dumps(self.metadata, indent=2, sort_keys=True, default=str).encode(),
        }
        if self.median is not None:
            files[MEDIAN_FILE] = self.median.model_to_string().encode()
        if self.xgb is not None:
            files[XGB_FILE] = xgb_member.to_bytes(self.xgb)
        return files

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> ForecastModel:
        metadata = json.loads(files["metadata.json"])
        if metadata.get("median_model") and MEDIAN_FILE not in files:
            raise ValueError(f"the model was trained with a median booster but {MEDIAN_FILE} is missing")
        booster = _booster(files, "model.txt")
        median = _booster(files, MEDIAN_FILE) if metadata.get("median_model") else None
        xgb = None
        if _ensemble_share(metadata, "xgboost", 0.0) > 0:
            if XGB_FILE not in files:
                raise ValueError(f"the model's P50 ensemble has an XGBoost member but {XGB_FILE} is missing")
            xgb = xgb_member.from_bytes(files[XGB_FILE], XGB_FILE)
        return cls(booster, metadata, median, xgb)

    def builder(self, panel: Panel) -> FeatureBuilder:
        return FeatureBuilder(
            panel,
            self.horizon,
            group_codes={g: i for i, g in enumerate(self.metadata["groups"])},
            series_codes={s: i for i, s in enumerate(self.metadata["series"])},
        )

    def predict_mean(self, block: RowBlock) -> np.ndarray:
        """Expected units: the tweedie model's scaled prediction times the series' scale."""
        model = _predict(self.booster, block)
        return model if self.median is not None else _blend(model, block, self.metadata.get("blend"))

    def predict_center(self, block: RowBlock) -> np.ndarray:
        """The point the intervals are built around: the median model blended with the better baseline."""
        if self.median is None:  # a model saved before the median booster: its blended mean, as trained
            return self.predict_mean(block)
        return _blend(self.predict_median(block), block, self.metadata.get("blend"))

    def predict_median(self, block: RowBlock) -> np.ndarray:
        """The median ensemble in units: LightGBM's share of its prediction plus XGBoost's share of its own."""
        median = _predict(self.median, block)
        if self.xgb is None:
            return median
        share = self.lightgbm_share
        return share * median + (1.0 - share) * xgb_member.predict(self.xgb, block.X, _threads()) * block.scale

    def quantiles(self, mean: np.ndarray, horizon: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        scale = _scale(mean)
        for q in QUANTILES:
            shift = np.zeros_like(mean)
            for bucket in self.metadata["conformal"]:
                sel = (horizon >= bucket["from"]) & (horizon <= bucket["to"])
                shift[sel] = bucket[f"q{round(q * 100)}"]
            out[f"p{round(q * 100)}"] = np.maximum(mean + shift * scale, 0.0)
        out["p10"] = np.minimum(out["p10"], out["p50"])
        out["p90"] = np.maximum(out["p90"], out["p50"])
        return out

    def forecast(self, panel: Panel, horizon: int | None = None) -> pd.DataFrame:
        """Forecasts from the panel's last day for 1..horizon steps ahead, one row per series and step; the
        share of rows whose interval was widened to hold the mean is `attrs["mean_outside_before_widening"]`."""
        return self.forecast_flagged(panel, horizon)[0]

    def forecast_flagged(self, panel: Panel, horizon: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """The forecast frame and, per row, whether cohere() widened its interval."""
        horizon = min(horizon or self.horizon, self.horizon)
        fb = self.builder(panel)
        last = panel.n_steps - 1
        block = fb.rows([last], max_target=last + horizon)
        mean = self.predict_mean(block)
        h = block.target - block.origin
        q, widened = cohere(mean, self.quantiles(self.predict_center(block), h))
        frame = pd.DataFrame(
            {
                "series_id": panel.ids[block.series],
                "origin_date": panel.dates[last],
                "target_date": fb.ext[block.target],
                "horizon": h.astype(int),
                "mean": mean,
                **q,
                "model_version": self.version,
            }
        )
        mark_widened(frame, widened)
        return frame, widened


def baselines(block: RowBlock) -> dict[str, np.ndarray]:
    """The two benchmark forecasts of each row: the last value one seasonal cycle back (same weekday, week of
    the year or month; the 28-step mean while the history is shorter than a cycle) and the 28-step mean."""
    mean28 = np.nan_to_num(FeatureBuilder.unscaled(block, "mean_28"))
    seasonal = FeatureBuilder.unscaled(block, "sdow_last")
    return {"seasonal_naive": np.nan_to_num(np.where(np.isnan(seasonal), mean28, seasonal)), "mean_28": mean28}


def cohere(mean: np.ndarray, q: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """P10/P90 widened to hold the mean; returns them and which rows needed it.

    The mean (tweedie model) and the P50 with its conformal interval (median ensemble) come from different
    models. Where they disagree by more than the interval, the interval was too narrow: widening it to the
    mean lowered the P10 and P90 pinball losses on every real backtest (docs/ai-systems/
    demand-insights-engine.md), and keeps the mean, the expected units that inventory advice sums, as the
    model estimated it. P10 <= P50 <= P90 still holds (quantiles() orders them).
    """
    outside = (mean < q["p10"]) | (mean > q["p90"])
    return {**q, "p10": np.minimum(q["p10"], mean), "p90": np.maximum(q["p90"], mean)}, outside


def mark_widened(frame: pd.DataFrame, widened: np.ndarray) -> None:
    """Record on a forecast frame the share of rows whose interval was widened (a float: attrs travel through
    concat, which compares them)."""
    frame.attrs["mean_outside_before_widening"] = float(widened.mean()) if len(widened) else 0.0


def mean_outside_share(frame: pd.DataFrame) -> float:
    """Share of forecast rows whose mean lies outside their own P10-P90 (0.0 for no rows)."""
    if frame.empty:
        return 0.0
    outside = (frame["mean"] < frame["p10"] - 1e-9) | (frame["mean"] > frame["p90"] + 1e-9)
    return float(outside.mean())


def _blend(model: np.ndarray, block: RowBlock, blend: dict | None) -> np.ndarray:
    if not blend or blend["weight"] >= 1.0:
        return model
    base = np.maximum(baselines(block)[blend["baseline"]], 0.0)
    return blend["weight"] * model + (1.0 - blend["weight"]) * base


def _booster(files: dict[str, bytes], name: str) -> Any:
    import lightgbm as lgb

    try:
        return lgb.Booster(model_str=files[name].decode())
    except lgb.basic.LightGBMError as e:  # a corrupt artifact: a ValueError, so loading falls back
        raise ValueError(f"{name} is not a LightGBM model: {e}") from e


def _predict(booster: Any, block: RowBlock) -> np.ndarray:
    return np.maximum(booster.predict(block.X, num_threads=_threads()), 0.0) * block.scale


def _label_weight(y: np.ndarray, scale: np.ndarray, median: bool) -> tuple[np.ndarray, np.ndarray]:
    if median:
        return _median_target(y, scale)
    # Per-series target scaling: fit units / scale; the weight scale^(2 - p) makes the tweedie deviance
    # of the scaled rows equal to that of the units, so big sellers still count as much as they sell.
    return _demand(y) / scale, scale ** (2.0 - PARAMS["tweedie_variance_power"])


def _train(rows: RowBlock, rounds: int, *, median: bool = False, valid: RowBlock | None = None) -> Any:
    """A LightGBM booster (tweedie mean, or the median) on `rows`; with `valid`, boosting stops once the
    validation loss (the objective's own, weighted as in training) has not improved for EARLY_STOP rounds,
    and the booster keeps its best iteration (`best_iteration`)."""
    import lightgbm as lgb

    cat_idx = [FEATURES.index(c) for c in CATEGORICAL]
    params = {**(MEDIAN_PARAMS if median else PARAMS), "num_threads": _threads()}
    label, weight = _label_weight(rows.y, rows.scale, median)
    data = lgb.Dataset(
        rows.X, label, weight=weight, feature_name=FEATURES, categorical_feature=cat_idx, free_raw_data=True
    )
    if valid is None:
        return lgb.train(params, data, num_boost_round=rounds)
    v_label, v_weight = _label_weight(valid.y, valid.scale, median)
    checked = lgb.Dataset(valid.X, v_label, weight=v_weight, reference=data)
    stop = lgb.early_stopping(EARLY_STOP, first_metric_only=True, verbose=False)
    return lgb.train(params, data, num_boost_round=rounds, valid_sets=[checked], callbacks=[stop])


def _use_rounds(booster: Any, rounds: int) -> int:
    """Rounds an early-stopped booster keeps: its best round, at least MIN_ROUNDS (as far as it grew trees),
    at most `rounds`. The booster predicts with that many from now on (`best_iteration`), so the calibration
    residuals, ensemble and blend are those of the model the refit reproduces with the same count."""
    best = int(getattr(booster, "best_iteration", 0) or 0)
    grown = int(booster.current_iteration())
    use = grown if best <= 0 else min(rounds, grown, max(MIN_ROUNDS, best))
    booster.best_iteration = use
    return use


def _demand(y: np.ndarray) -> np.ndarray:
    """Net daily units go negative on days where cancellations outnumber sales; demand is never below zero
    (and the tweedie objective refuses negative labels)."""
    return np.clip(y, 0, None)


def _median_target(y: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label and weight of both median models (LightGBM and XGBoost): units / scale, weighted by scale (see
    MEDIAN_PARAMS)."""
    return _demand(y) / scale, scale


def fit(
    panel: Panel,
    horizon: int | None = None,
    *,
    version: str = "dev",
    max_rows: int = MAX_TRAIN_ROWS,
    rounds: int = NUM_ROUNDS,
) -> ForecastModel:
    """Train on the whole panel: fit, calibrate the intervals on the last 7 origins, refit on all.

    `horizon` defaults to the grain's (28 days, 13 weeks, 12 months) and may reach one yearly cycle.
    """
    horizon = grains.check_horizon(panel.grain.default_horizon if horizon is None else horizon, panel.grain)
    steps = panel.n_steps
    if steps < MIN_STEPS:
        raise InputDataError(
            f"{steps} {panel.grain.name} steps of history; at least {MIN_STEPS} are needed to train a model"
        )
    if not np.nansum(panel.y) > 0:
        raise InputDataError("every quantity is zero or missing: nothing to learn")
    fb = FeatureBuilder(panel, horizon)
    last = steps - 1
    # calibration: origins c..c+6 forecast into (c, last]; the fitting model only sees targets <= c
    # long horizons are calibrated on as many steps as leave half the spare history to the fitting model
    h_cal = min(horizon, max(1, steps - MIN_STEPS), max(28, (steps - MIN_STEPS) // 2))
    c = last - h_cal - 6
    fit_rows = _training_rows(fb, 6, c - 1, c, max_rows)  # one copy of the labelled rows, for the three learners
    if len(fit_rows.y) < 50:
        raise InputDataError("too few days with sales to train a model")
    cal_rows = fb.rows(list(range(c, c + 7)), max_target=last, only=_sample_series(panel.n_series, 7 * h_cal))
    cal_rows = _subset(cal_rows, ~np.isnan(cal_rows.y))
    ok = np.ones(len(cal_rows.y), dtype=bool)
    # the median models stop early on the calibration week (time-based: targets after every fitting row's)
    model = _train(fit_rows, rounds)  # the mean is not stopped early: its calibration deviance is flat early on
    median = _train(fit_rows, rounds, median=True, valid=cal_rows)
    xgb = xgb_member.train(
        fit_rows.X,
        *_median_target(fit_rows.y, fit_rows.scale),
        rounds,
        _threads(),
        valid=(cal_rows.X, *_median_target(cal_rows.y, cal_rows.scale)),
        early_stop=EARLY_STOP,
    )
    used = {
        "mean": rounds,
        "median": _use_rounds(median, rounds),
    }
    xgb, used["xgboost"] = xgb_member.keep_rounds(xgb, MIN_ROUNDS)
    del fit_rows
    cal_mean = _predict(model, cal_rows)
    ensemble = _choose_ensemble(
        cal_rows, _predict(median, cal_rows), xgb_member.predict(xgb, cal_rows.X, _threads()) * cal_rows.scale
    )
    cal_median = ensemble.pop("prediction")
    blend = _choose_blend(cal_rows, cal_median)
    cal_center = _blend(cal_median, cal_rows, blend)
    cal_h = cal_rows.target - cal_rows.origin
    resid = (cal_rows.y[ok] - cal_center) / _scale(cal_center)
    conformal = conformal_buckets(resid, cal_h, horizon)
    holdout = _holdout_metrics(cal_rows, ok, cal_mean, cal_center, conformal)
    del cal_rows
    all_rows = _training_rows(fb, 6, last - 1, last, max_rows)
    n_train = len(all_rows.y)
    booster = _train(all_rows, used["mean"])
    median = _train(all_rows, used["median"], median=True)
    xgb = None
    if ensemble["xgboost"] > 0:
        xgb = xgb_member.train(all_rows.X, *_median_target(all_rows.y, all_rows.scale), used["xgboost"], _threads())
    del all_rows
    import lightgbm as lgb

    metadata = {
        "version": version,
        "kind": "forecast",
        "horizon": horizon,
        "grain": panel.grain.code,
        "features": FEATURES,
        "categorical": CATEGORICAL,
        "params": {**PARAMS, "num_boost_round": used["mean"]},
        "median_model": {**MEDIAN_PARAMS, "num_boost_round": used["median"]},
        "xgboost_model": {**xgb_member.PARAMS, "num_boost_round": used["xgboost"]},
        "early_stopping": {"max_rounds": rounds, "patience": EARLY_STOP, "on": "calibration week", **used},
        "ensemble": ensemble,
        "conformal": conformal,
        "blend": blend,
        "target_scaling": {"features": SCALED, "offset": SCALE_OFFSET},
        "holdout": holdout,
        "scale_power": SCALE_POWER,
        "series": [str(s) for s in panel.ids],
        "groups": sorted({str(g) for g in panel.groups}),
        "training_window": {"start": str(panel.dates[0].date()), "end": str(panel.dates[-1].date())},
        "daily_calendar": bool(panel.daily),
        "n_series": int(panel.n_series),
        "n_training_rows": n_train,
        "library_versions": {
            "lightgbm": lgb.__version__,
            "xgboost": xgb_member.library_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": platform.python_version(),
        },
    }
    return ForecastModel(booster, metadata, median, xgb)


def conformal_buckets(resid: np.ndarray, h: np.ndarray, horizon: int) -> list[dict[str, Any]]:
    """Split-conformal shifts (10th, 50th, 90th percentile of the normalised residuals) per horizon bucket.

    A bucket beyond the calibrated horizons borrows the residuals of the furthest calibrated ones (the far
    half), so it gets the widest measured intervals, not the average ones; any other bucket with fewer than
    20 residuals borrows every horizon's.
    """
    out = []
    far = h >= (h.max() + 1) // 2 if len(h) else np.zeros(0, bool)
    for lo, hi in _buckets(horizon):
        sel = (h >= lo) & (h <= hi)
        if sel.sum() < 20:  # beyond the calibrated horizons: the far half; a short calibration set: all
            sel = far if len(h) and lo > h.max() and far.sum() >= 20 else np.ones_like(h, dtype=bool)
        r = resid[sel]
        n = len(r)
        # finite-sample conformal levels for the 10/90 ends, plain median in the middle
        q_lo = np.quantile(r, max(0.0, math.floor(0.1 * (n + 1)) / n))
        q_hi = np.quantile(r, min(1.0, math.ceil(0.9 * (n + 1)) / n))
        out.append(
            {"from": lo, "to": hi, "q10": float(q_lo), "q50": float(np.quantile(r, 0.5)), "q90": float(q_hi), "n": n}
        )
    return out


def _subset(block: RowBlock, keep: np.ndarray) -> RowBlock:
    y = None if block.y is None else block.y[keep]
    return RowBlock(block.X[keep], block.series[keep], block.origin[keep], block.target[keep], y, block.scale[keep])


BLEND_WEIGHTS = np.round(np.arange(0.0, 1.01, 0.1), 2)


def _ensemble_share(metadata: dict[str, Any], member: str, default: float) -> float:
    """A member's share of the P50 ensemble; models saved before the ensemble have none (the default)."""
    return float((metadata.get("ensemble") or {}).get(member, default))


def _choose_ensemble(cal: RowBlock, lightgbm: np.ndarray, xgboost: np.ndarray) -> dict[str, Any]:
    """Shares of the two median models, by the calibration WAPE of their weighted sum (never the test)."""
    scores = {share: _wape(cal.y, share * lightgbm + (1 - share) * xgboost) for share in ENSEMBLE_SHARES}
    if not all(math.isfinite(v) for v in scores.values()):  # no sales in the calibration rows
        share = 1.0
    else:
        share = min(ENSEMBLE_SHARES, key=lambda s: (round(scores[s], 9), -s))
    return {
        "lightgbm": share,
        "xgboost": round(1.0 - share, 2),
        "wape": {f"{s:.2f}": (scores[s] if math.isfinite(scores[s]) else None) for s in ENSEMBLE_SHARES},
        "prediction": share * lightgbm + (1 - share) * xgboost,
    }


def _choose_blend(cal: RowBlock, model: np.ndarray) -> dict[str, Any]:
    """Ensemble weight of the median model vs the better baseline, chosen on the calibration rows (never the test).

    For each weight the median residual shift is re-estimated, as the P50 will be, and the weight with the
    lowest calibration WAPE of that P50 wins (ties: the larger model weight).
    """
    base = baselines(cal)
    name = min(base, key=lambda k: _wape(cal.y, base[k]))
    best = {"baseline": name, "weight": 1.0, "wape": float("inf")}
    for w in BLEND_WEIGHTS[::-1]:
        mean = w * model + (1 - w) * np.maximum(base[name], 0.0)
        resid = (cal.y - mean) / _scale(mean)
        p50 = np.maximum(mean + np.median(resid) * _scale(mean), 0.0)
        wape = _wape(cal.y, p50)
        if wape < best["wape"] - 1e-9:
            best = {"baseline": name, "weight": float(w), "wape": wape}
    if not math.isfinite(best["wape"]):  # no sales in the calibration rows: nothing to choose on
        best["wape"] = None
    return best


def _holdout_metrics(
    rows, ok: np.ndarray, mean: np.ndarray, center: np.ndarray, conformal: list[dict]
) -> dict[str, Any]:
    """Time-based holdout (the calibration week of origins, never seen as targets by the fitting model).

    P50 here uses the median shift and the blend weight estimated on the same rows, so its WAPE is slightly
    optimistic; the rolling-origin backtest is the unbiased figure.
    """
    actual = rows.y[ok]
    h = (rows.target - rows.origin)[ok]
    probe = ForecastModel(None, {"conformal": conformal, "version": "holdout", "horizon": int(h.max())})
    q = probe.quantiles(center, h)
    base = baselines(_subset(rows, ok))
    mean28, seasonal = base["mean_28"], base["seasonal_naive"]
    out = {
        "rows": len(actual),
        "wape_mean": _wape(actual, mean),
        "wape_p50": _wape(actual, q["p50"]),
        "wape_seasonal_naive": _wape(actual, seasonal),
        "wape_mean_28": _wape(actual, mean28),
        "coverage_p10_p90": float(((actual >= q["p10"]) & (actual <= q["p90"])).mean()),
    }
    return out


# ------------------------------------------------------------------------------------------ backtest


def _wape(actual: np.ndarray, pred: np.ndarray) -> float:
    total = np.abs(actual).sum()
    return float(np.abs(actual - pred).sum() / total) if total > 0 else float("nan")


def _mase(frame: pd.DataFrame, column: str, scale: pd.Series) -> float:
    mae = (frame["actual"] - frame[column]).abs().groupby(frame["series_id"]).mean()
    ratio = (mae / scale.reindex(mae.index)).replace([np.inf, -np.inf], np.nan).dropna()
    return float(ratio.mean()) if len(ratio) else float("nan")


def naive_scale(panel: Panel) -> pd.Series:
    """Per series: in-sample mean absolute one-step change (the MASE denominator)."""
    diffs = np.abs(np.diff(panel.y, axis=1))
    with np.errstate(invalid="ignore"):
        counts = (~np.isnan(diffs)).sum(axis=1)
        scale = np.where(counts > 0, np.nansum(diffs, axis=1) / np.maximum(counts, 1), np.nan)
    scale[scale == 0] = np.nan
    return pd.Series(scale, index=panel.ids)


def backtest(
    panel: Panel,
    horizon: int | None = None,
    folds: int = 1,
    *,
    max_rows: int = MAX_TRAIN_ROWS,
    rounds: int = NUM_ROUNDS,
    planned: bool = False,
) -> dict[str, Any]:
    """Rolling-origin backtest: for each fold, train on the history before it and forecast `horizon` steps.

    Baselines on the same origins: seasonal naive (the last value one seasonal cycle back: 7 days, 52
    weeks, 12 months; the 28-step mean while the history is shorter than a cycle) and the mean of the
    previous 28 steps. Returns per-fold and pooled WAPE, MASE and P10-P90 coverage, and the pooled frame.
    With `planned`, the model is told the held-out window's prices and promotions (plans known in advance,
    never its sales); otherwise it assumes the last price and no promotion, as a forecast without plans does.
    """
    horizon = grains.check_horizon(panel.grain.default_horizon if horizon is None else horizon, panel.grain)
    if panel.n_steps < MIN_STEPS + horizon * folds:
        raise InputDataError(
            f"{panel.n_steps} {panel.grain.name} steps of history is too short for {folds} backtest fold(s) "
            f"of {horizon} steps"
        )
    results, frames = [], []
    for k in range(folds, 0, -1):
        cut = panel.n_steps - k * horizon
        train = panel.head(cut)
        if planned:
            born = ~np.all(np.isnan(panel.y[:, :cut]), axis=1)
            for name in ("price", "promo"):
                values = getattr(panel, name)
                if values is not None:
                    train.extra[f"planned_{name}"] = values[born, cut : cut + horizon]
        model = fit(train, horizon, version=f"backtest-{k}", max_rows=max_rows, rounds=rounds)
        fc, widened = model.forecast_flagged(train, horizon)
        fb = FeatureBuilder(train, horizon)
        base = baselines(fb.rows([cut - 1], max_target=cut - 1 + horizon))
        frame = fc.copy()
        frame["seasonal_naive"] = base["seasonal_naive"]
        frame["mean_28"] = base["mean_28"]
        sidx = pd.Index(panel.ids).get_indexer(frame["series_id"])
        tidx = cut + frame["horizon"].to_numpy() - 1
        frame["actual"] = panel.y[sidx, tidx]
        frame["widened"] = widened
        frame = frame.dropna(subset=["actual"])
        frame["fold"] = k
        scale = naive_scale(train)
        results.append(_metrics(frame, scale) | {"fold": k, "origin": str(train.dates[-1].date())})
        frames.append(frame.assign(_scale=frame["series_id"].map(scale)))
    pooled = pd.concat(frames, ignore_index=True)
    pooled_scale = pooled.groupby("series_id")["_scale"].first()
    summary = _metrics(pooled, pooled_scale)
    return {
        "folds": results,
        "pooled": summary,
        "horizon": horizon,
        "blend": model.metadata.get("blend"),
        "frame": pooled.drop(columns="_scale"),
    }


def _metrics(frame: pd.DataFrame, scale: pd.Series) -> dict[str, Any]:
    actual = frame["actual"].to_numpy()
    out: dict[str, Any] = {"n": len(frame), "series": int(frame["series_id"].nunique())}
    for name in ("p50", "mean", "seasonal_naive", "mean_28"):
        out[f"wape_{name}"] = _wape(actual, frame[name].to_numpy())
        out[f"mase_{name}"] = _mase(frame, name, scale)
    out["coverage_p10_p90"] = float(((actual >= frame["p10"]) & (actual <= frame["p90"])).mean())
    out["mean_outside_p10_p90"] = mean_outside_share(frame)
    if "widened" in frame:
        out["mean_outside_before_widening"] = float(frame["widened"].mean()) if len(frame) else 0.0
    best = min(out["wape_seasonal_naive"], out["wape_mean_28"])
    out["wape_gain_vs_best_baseline"] = float(1 - out["wape_p50"] / best) if best > 0 else float("nan")
    return out
