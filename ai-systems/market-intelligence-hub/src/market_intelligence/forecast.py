"""Rolling-origin model selection, ensembling and final forecasts with prediction intervals.

For every series: each candidate forecasts from several origins near the end of the history (rolling
origin, `folds` cuts of one horizon each); MASE and MAPE over those folds score it. The ensemble (mean of the
best three non-baseline candidates) is scored from the same fold forecasts. The lowest mean MASE wins; the
winner is refitted on the whole history. Intervals: the winner's fold errors, normalised by sqrt(step),
give an empirical 90% quantile that widens with sqrt(step) (the same for every model): the band is P5-P95.
For a series that is never negative (revenue) the point forecast and the lower bound are clipped at 0.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from market_intelligence import metrics, models
from market_intelligence.exceptions import InputError
from market_intelligence.series import Frequency, Prepared, future_index, infer_frequency, prepare, validate_long
from retail_platform.observability import logger, record

INTERVAL = 0.9
ENSEMBLE = "ensemble"
GLOBAL_NN = "global_nn"
BASELINE_NAMES = set(models.BASELINES)


@dataclass
class Options:
    horizon: int | None = None
    folds: int = 3
    models: tuple[str, ...] = ("seasonal_naive", "drift", "ets", "sarimax", "prophet", GLOBAL_NN)
    threads: int = 2
    epochs: int = 60


@dataclass
class SeriesResult:
    series_id: str
    freq: Frequency
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    selected: str = "seasonal_naive"
    members: list[str] = field(default_factory=list)
    forecast: pd.DataFrame | None = None
    n_obs: int = 0
    outliers: list[pd.Timestamp] = field(default_factory=list)
    level_shift: pd.Timestamp | None = None
    error_by_model: dict[str, str] = field(default_factory=dict)


def country_of(series_id: str) -> str | None:
    """Series ids of the platform are `<category>|<country>`; other tables may use any id."""
    part = series_id.split("|")[-1]
    return part if len(part) == 2 and part.isalpha() and part.isupper() else None


def _folds_for(n: int, h: int, folds: int, min_train: int) -> list[int]:
    """Origins (train lengths) for the rolling-origin folds that fit in n observations."""
    origins = [n - k * h for k in range(folds, 0, -1)]
    return [o for o in origins if o >= min_train]


def _run_local(name: str, y: pd.Series, h: int, ctx: models.Context) -> np.ndarray:
    out = np.asarray(models.ALL_LOCAL[name](y, h, ctx), dtype=float)
    if out.shape != (h,) or not np.isfinite(out).all():
        raise ValueError(f"{name} produced a non-finite forecast")
    return out


class Forecaster:
    """Forecasts a long table: `run(frame)` -> (forecasts, scores, results)."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.global_model = None  # the final global model (kept for saving)
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ preparation
    def prepare_all(self, frame: pd.DataFrame) -> list[Prepared]:
        table = validate_long(frame)
        freq = infer_frequency(table["ds"])
        prepared = []
        for series_id, group in table.groupby("series_id", sort=True):
            try:
                prepared.append(prepare(str(series_id), group, freq))
            except InputError:
                continue
        if not prepared:
            raise InputError("no series has enough observations (need at least 4)")
        return prepared

    # ------------------------------------------------------------------ global model
    def _global(self, train: list[pd.Series], freq: Frequency, h: int):
        from market_intelligence.global_nn import GlobalWindowModel

        lookback = 2 * h
        usable = [y for y in train if len(y) >= lookback + h]
        if len(usable) < 1:
            return None
        try:
            return GlobalWindowModel(lookback, h, epochs=self.options.epochs).fit(usable, freq.period_days)
        except ValueError:
            return None

    # ------------------------------------------------------------------ main entry
    def run(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[SeriesResult]]:
        """Forecasts, validation scores and per-series results of a long table (series_id, ds, y)."""
        with single_threaded_blas():  # parallelism is per series (threads); BLAS threads on top oversubscribe
            return self._run(frame)

    def _run(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[SeriesResult]]:
        started = time.perf_counter()
        prepared = self.prepare_all(frame)
        freq = prepared[0].freq
        typical = int(np.median([len(p.y) for p in prepared]))
        h = self.options.horizon or min(freq.horizon, max(1, (typical - 6) // 2))
        if not 1 <= h <= 4 * freq.season:
            raise InputError(f"horizon must be between 1 and {4 * freq.season} periods, got {h}")
        min_train = max(6, h)
        use_global = GLOBAL_NN in self.options.models
        local_names = [m for m in self.options.models if m in models.ALL_LOCAL]

        results = {p.series_id: SeriesResult(p.series_id, freq, n_obs=int(p.raw.notna().sum())) for p in prepared}
        for p in prepared:
            results[p.series_id].outliers, results[p.series_id].level_shift = p.outliers, p.level_shift
        contexts = {p.series_id: models.Context(freq, country_of(p.series_id), p.level_shift) for p in prepared}
        origins = {p.series_id: _folds_for(len(p.y), h, self.options.folds, min_train) for p in prepared}

        # fold forecasts of the local models, in threads (Prophet's cmdstan runs as a subprocess)
        fold_fc: dict[tuple[str, str, int], np.ndarray] = {}
        tasks = []
        for p in prepared:
            for origin in origins[p.series_id]:
                for name in local_names:
                    tasks.append((p, origin, name))

        def fold_task(task):
            p, origin, name = task
            train = p.y.iloc[:origin]
            ctx = contexts[p.series_id]
            if ctx.level_shift is not None and ctx.level_shift > train.index[-1]:
                ctx = models.Context(ctx.freq, ctx.country, None)
            try:
                return task, _run_local(name, train, h, ctx), None
            except Exception as e:  # a model failing on one series must not stop the others
                return task, None, f"{type(e).__name__}: {e}"

        with ThreadPoolExecutor(max_workers=max(1, self.options.threads)) as pool:
            for (p, origin, name), out, err in pool.map(fold_task, tasks):
                if out is not None:
                    fold_fc[(p.series_id, name, origin)] = out
                elif err:
                    results[p.series_id].error_by_model[name] = err
        self.timings["cv_local_s"] = time.perf_counter() - started

        # fold forecasts of the global model: one training on the history before the earliest fold cut, which
        # then forecasts every fold from its own cut (the later cuts' windows are inputs, never training data):
        # one network per run instead of one per fold, the local models' rolling origins unchanged
        if use_global:
            t0 = time.perf_counter()
            earliest = {p.series_id: len(p.y) - self.options.folds * h for p in prepared}
            train = [p.y.iloc[: earliest[p.series_id]] for p in prepared if earliest[p.series_id] >= min_train]
            model = self._global(train, freq, h) if train else None
            for k in range(self.options.folds, 0, -1) if model is not None else ():
                cut = {p.series_id: len(p.y) - k * h for p in prepared}
                batch = [p for p in prepared if cut[p.series_id] in origins[p.series_id]]
                batch = [p for p in batch if model.can_forecast(p.y.iloc[: cut[p.series_id]])]
                if not batch:
                    continue
                outs = model.predict_many([p.y.iloc[: cut[p.series_id]] for p in batch], freq.period_days)
                for p, out in zip(batch, outs, strict=True):
                    fold_fc[(p.series_id, GLOBAL_NN, cut[p.series_id])] = out
            self.timings["cv_global_s"] = time.perf_counter() - t0

        # scores, ensemble, selection
        for p in prepared:
            self._score(p, results[p.series_id], origins[p.series_id], fold_fc, h)

        # final fits on the whole history
        t0 = time.perf_counter()
        final_global = None
        if use_global and any(GLOBAL_NN in r.members for r in results.values()):
            final_global = self._global([p.y for p in prepared], freq, h)
            self.global_model = final_global
        forecasts = self._final(prepared, results, contexts, h, final_global)
        self.timings["final_s"] = time.perf_counter() - t0
        self.timings["total_s"] = time.perf_counter() - started
        scores = scores_frame(results.values())
        return forecasts, scores, list(results.values())

    def _score(self, p: Prepared, result: SeriesResult, origins: list[int], fold_fc, h: int) -> None:
        names = sorted({name for (sid, name, _o) in fold_fc if sid == p.series_id})
        errors: dict[str, list[np.ndarray]] = {}
        for name in names:
            mases, mapes, errs = [], [], []
            for origin in origins:
                fc = fold_fc.get((p.series_id, name, origin))
                if fc is None:
                    break
                actual = p.y.to_numpy(float)[origin : origin + h]
                scale = metrics.mase_scale(p.y.to_numpy(float)[:origin], p.freq.season)
                mases.append(metrics.mase(actual, fc, scale))
                mapes.append(metrics.mape(actual, fc))
                errs.append(actual - fc)
            if len(mases) == len(origins) and origins:
                result.scores[name] = {"cv_mase": float(np.mean(mases)), "cv_mape": float(np.nanmean(mapes))}
                errors[name] = errs
        candidates = [n for n in result.scores if n not in BASELINE_NAMES]
        members = sorted(candidates, key=lambda n: result.scores[n]["cv_mase"])[:3]
        if len(members) >= 2:
            mases, mapes, errs = [], [], []
            for origin in origins:
                fc = np.mean([fold_fc[(p.series_id, m, origin)] for m in members], axis=0)
                actual = p.y.to_numpy(float)[origin : origin + h]
                scale = metrics.mase_scale(p.y.to_numpy(float)[:origin], p.freq.season)
                mases.append(metrics.mase(actual, fc, scale))
                mapes.append(metrics.mape(actual, fc))
                errs.append(actual - fc)
            result.scores[ENSEMBLE] = {"cv_mase": float(np.mean(mases)), "cv_mape": float(np.nanmean(mapes))}
            errors[ENSEMBLE] = errs
        if result.scores:
            result.selected = min(result.scores, key=lambda n: (result.scores[n]["cv_mase"], n))
        else:  # too short for validation: seasonal naive (or drift for very short series)
            result.selected = "seasonal_naive" if len(p.y) >= p.freq.season else "drift"
        result.members = members if result.selected == ENSEMBLE else [result.selected]
        result._errors = errors.get(result.selected)  # type: ignore[attr-defined]

    def _final(self, prepared, results, contexts, h, final_global) -> pd.DataFrame:
        jobs = []
        for p in prepared:
            for m in results[p.series_id].members:
                if m != GLOBAL_NN:
                    jobs.append((p, m))

        def final_task(job):
            p, name = job
            try:
                return job, _run_local(name, p.y, h, contexts[p.series_id])
            except Exception as e:  # the series keeps its other members; the failure is logged and counted
                logger.warning("final fit failed", extra={"series": p.series_id, "model": name, "error": repr(e)[:200]})
                record("ModelFitFailures", 1, model=name)
                return job, None

        outputs: dict[tuple[str, str], np.ndarray] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.options.threads)) as pool:
            for (p, name), out in pool.map(final_task, jobs):
                if out is not None:
                    outputs[(p.series_id, name)] = out
        if final_global is not None:
            ok = [p for p in prepared if GLOBAL_NN in results[p.series_id].members and final_global.can_forecast(p.y)]
            if ok:
                predicted = final_global.predict_many([q.y for q in ok], ok[0].freq.period_days)
                for q, out in zip(ok, predicted, strict=True):
                    outputs[(q.series_id, GLOBAL_NN)] = out

        frames = []
        for p in prepared:
            r = results[p.series_id]
            parts = [outputs[(p.series_id, m)] for m in r.members if (p.series_id, m) in outputs]
            if len(parts) != len(r.members):  # a final refit failed: fall back to seasonal naive
                r.selected, r.members = "seasonal_naive", ["seasonal_naive"]
                r._errors = None  # type: ignore[attr-defined]
                parts = [models.seasonal_naive(p.y, h, contexts[p.series_id])]
            point = np.mean(parts, axis=0)
            width = interval_width(getattr(r, "_errors", None), p.y, h, p.freq.season)
            lower, upper = point - width, point + width
            if non_negative(p):  # revenue cannot go below 0: clip the point and the P5 bound there
                point, lower = np.maximum(point, 0.0), np.maximum(lower, 0.0)
            score = r.scores.get(r.selected, {})
            frames.append(
                pd.DataFrame(
                    {
                        "series_id": p.series_id,
                        "ds": future_index(p.y.index[-1], p.freq, h),
                        "step": np.arange(1, h + 1),
                        "yhat": point,
                        "yhat_lower": lower,
                        "yhat_upper": upper,
                        "model": r.selected,
                        "members": ",".join(r.members),
                        "cv_mase": score.get("cv_mase", np.nan),
                        "cv_mape": score.get("cv_mape", np.nan),
                        "interval": INTERVAL,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)


def non_negative(p: Prepared) -> bool:
    """True when the series never goes below 0 (revenue, units): its forecasts and intervals are clipped at 0."""
    observed = p.raw.dropna()
    return bool((p.y >= 0).all() and (observed >= 0).all())


def single_threaded_blas():
    """Limit OpenBLAS/OpenMP pools to one thread while the model threads run (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def interval_width(errors: list[np.ndarray] | None, y: pd.Series, h: int, season: int) -> np.ndarray:
    """Half-width of the 90% interval per step from fold errors (sqrt-of-step growth)."""
    steps = np.arange(1, h + 1, dtype=float)
    if errors:
        normalised = np.concatenate([np.abs(e) / np.sqrt(steps[: len(e)]) for e in errors])
        q = float(np.quantile(normalised, INTERVAL))
    else:  # no validation: in-sample seasonal-naive errors
        q = metrics.mase_scale(y.to_numpy(float), season) * 1.645
    return q * np.sqrt(steps)


def scores_frame(results) -> pd.DataFrame:
    rows = []
    for r in results:
        for name, s in sorted(r.scores.items()):
            rows.append(
                {
                    "series_id": r.series_id,
                    "model": name,
                    "cv_mase": s["cv_mase"],
                    "cv_mape": s["cv_mape"],
                    "selected": name == r.selected,
                    "n_obs": r.n_obs,
                    "n_outliers": len(r.outliers),
                    "level_shift": r.level_shift,
                }
            )
    return pd.DataFrame(rows)
