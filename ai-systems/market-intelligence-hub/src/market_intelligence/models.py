"""Per-series forecasters: seasonal naive and drift baselines, statsmodels ETS and SARIMAX, Prophet.

Each is a function (history, horizon, context) -> point forecast array. Heavy libraries are imported inside
the functions that use them. Prediction intervals come from rolling-origin errors (see selection.py), the
same way for every model, so intervals of baselines, models and the ensemble are comparable.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market_intelligence.series import MONTHLY, WEEKLY, Frequency, future_index


@dataclass(frozen=True)
class Context:
    """What a model may know besides the values: frequency, dates, country (for holidays), a level shift."""

    freq: Frequency
    country: str | None = None
    level_shift: pd.Timestamp | None = None


Forecaster = Callable[[pd.Series, int, Context], np.ndarray]


def seasonal_naive(y: pd.Series, h: int, ctx: Context) -> np.ndarray:
    season = ctx.freq.season
    values = y.to_numpy(float)
    if len(values) < season:
        return np.repeat(values[-1], h)
    last = values[-season:]
    return np.array([last[k % season] for k in range(h)])


def drift(y: pd.Series, h: int, ctx: Context) -> np.ndarray:
    values = y.to_numpy(float)
    slope = (values[-1] - values[0]) / max(len(values) - 1, 1)
    return values[-1] + slope * np.arange(1, h + 1)


def _fourier(index: pd.DatetimeIndex, period_days: float, order: int) -> np.ndarray:
    t = (index - pd.Timestamp("2000-01-03")).days.to_numpy(float) / period_days
    cols = []
    for k in range(1, order + 1):
        cols += [np.sin(2 * np.pi * k * t), np.cos(2 * np.pi * k * t)]
    return np.column_stack(cols)


def _exog(index: pd.DatetimeIndex, ctx: Context, n_obs: int) -> np.ndarray | None:
    parts = []
    if n_obs >= ctx.freq.season + 8:  # yearly seasonality as Fourier terms (cheap, works for 52.18-week years)
        order = 3 if ctx.freq is WEEKLY else 2
        parts.append(_fourier(index, 365.25, order))
    if ctx.level_shift is not None:
        parts.append((index >= ctx.level_shift).astype(float).to_numpy()[:, None])
    return np.column_stack(parts) if parts else None


def sarimax(y: pd.Series, h: int, ctx: Context) -> np.ndarray:
    """SARIMAX(1,1,1) with yearly Fourier terms (and a step at a detected level shift) as regressors.

    The regression coefficients are estimated by the Kalman filter as states and the scale is concentrated
    out, so the optimiser searches over the two ARMA parameters only (instead of ten with numerical
    gradients: a third of the time a fit), and no parameter covariance is computed (only the forecast is
    used)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    fut = future_index(y.index[-1], ctx.freq, h)
    x = _exog(y.index, ctx, len(y))
    xf = _exog(fut, ctx, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(
            y.to_numpy(float), exog=x, order=(1, 1, 1), trend="n", mle_regression=False, concentrate_scale=True
        )
        fit = model.fit(disp=False, maxiter=60, cov_type="none")
        return np.asarray(fit.forecast(h, exog=xf), dtype=float)


def ets(y: pd.Series, h: int, ctx: Context) -> np.ndarray:
    """Holt-Winters ETS (additive damped trend; additive seasonality when two full seasons exist)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    values = y.to_numpy(float)
    season = ctx.freq.season
    seasonal = "add" if len(values) >= 2 * season + 2 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(
            values,
            trend="add",
            damped_trend=True,
            seasonal=seasonal,
            seasonal_periods=season if seasonal else None,
            initialization_method="heuristic" if seasonal else "estimated",
        )
        return np.asarray(model.fit(optimized=True, use_brute=False).forecast(h), dtype=float)


def _silence_cmdstanpy() -> None:
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.propagate = False
        logger.disabled = True


def holidays_per_period(index: pd.DatetimeIndex, ctx: Context) -> np.ndarray | None:
    """Public holidays of the country falling in each period (weekly/monthly data), None if unknown."""
    if not ctx.country or len(ctx.country) != 2 or ctx.freq not in (WEEKLY, MONTHLY):
        return None
    days = _holiday_days(ctx.country, index.min().year, index.max().year + 2)
    if days is None:
        return None
    if ctx.freq is WEEKLY:
        starts = index.to_numpy()
        return (np.searchsorted(days, starts + np.timedelta64(7, "D")) - np.searchsorted(days, starts)).astype(float)
    months = days.astype("datetime64[M]")
    return np.array([(months == p).sum() for p in index.to_numpy().astype("datetime64[M]")], dtype=float)


@functools.lru_cache(maxsize=256)
def _holiday_days(country: str, first_year: int, end_year: int) -> np.ndarray | None:
    """Sorted holiday dates of a country (computed once per country and years: every fold's fit asks again)."""
    import holidays

    try:
        calendar = holidays.country_holidays(country, years=range(first_year, end_year))
    except (NotImplementedError, KeyError):
        return None
    return np.array(sorted(calendar.keys()), dtype="datetime64[ns]")


def build_prophet(y: pd.Series, ctx: Context, seed: int = 7):
    """A fitted Prophet model (yearly seasonality, changepoints, country holidays as a regressor)."""
    _silence_cmdstanpy()
    from prophet import Prophet

    frame = pd.DataFrame({"ds": y.index, "y": y.to_numpy(float)})
    model = Prophet(
        yearly_seasonality=len(y) >= ctx.freq.season + 8,
        weekly_seasonality=ctx.freq.code == "D",
        daily_seasonality=False,
        changepoint_prior_scale=0.1,
        seasonality_mode="additive",
        uncertainty_samples=0,
    )
    hol = holidays_per_period(y.index, ctx)
    if hol is not None and hol.std() > 0:
        model.add_regressor("holidays_in_period")
        frame["holidays_in_period"] = hol
    if ctx.level_shift is not None:
        model.add_regressor("level_shift")
        frame["level_shift"] = (y.index >= ctx.level_shift).astype(float)
    np.random.seed(seed)
    model.fit(frame, algorithm="LBFGS", seed=seed)
    return model


def prophet_future(model, last: pd.Timestamp, h: int, ctx: Context, history_index: pd.DatetimeIndex) -> pd.DataFrame:
    fut = future_index(last, ctx.freq, h)
    frame = pd.DataFrame({"ds": fut})
    if "holidays_in_period" in model.extra_regressors:
        frame["holidays_in_period"] = holidays_per_period(fut, ctx)
    if "level_shift" in model.extra_regressors:
        frame["level_shift"] = 1.0
    return frame


def prophet(y: pd.Series, h: int, ctx: Context) -> np.ndarray:
    model = build_prophet(y, ctx)
    frame = prophet_future(model, y.index[-1], h, ctx, y.index)
    return model.predict(frame)["yhat"].to_numpy(float)


BASELINES: dict[str, Forecaster] = {"seasonal_naive": seasonal_naive, "drift": drift}
STATISTICAL: dict[str, Forecaster] = {"ets": ets, "sarimax": sarimax, "prophet": prophet}
ALL_LOCAL: dict[str, Forecaster] = {**BASELINES, **STATISTICAL}

__all__ = ["ALL_LOCAL", "BASELINES", "MONTHLY", "STATISTICAL", "WEEKLY", "Context", "Forecaster"]
