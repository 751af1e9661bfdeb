"""Direct multi-horizon feature rows: one row per (series, forecast origin, horizon step).

Everything a row knows comes from the series' history up to its origin (lags, rolling statistics, the
same season's recent values, last year's level around the target day, the group's level for short
histories) plus what is known about the target day in advance (calendar, holidays of the series'
country, planned price and promotion). One global model learns all horizons at once: no recursion.

Windows and lags count steps of the panel's grain (`mean_28` is 28 days, 28 weeks or 28 months); the
"same season" features (`sdow_*`, named when only daily data existed) follow the grain's cycle: the same
weekday (daily), the same week of a 52-week year (weekly), the same month (monthly). Holiday features
exist for daily data only (a week or month holds a holiday almost every time).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from demand_insights import grain as grains
from demand_insights.panel import Panel

LAGS = 7
BASE_FEATURES = [
    *(f"lag_{k}" for k in range(1, LAGS + 1)),
    "mean_7",
    "mean_28",
    "mean_91",
    "std_28",
    "zero_28",
    "max_28",
    "nzmean_28",
    "since_sale",
    "hist_len",
    "trend_7_28",
    "level_all",
    "group_mean_28",
    "promo_28",
    "stockout_28",
    "level_log",
]
TARGET_FEATURES = [
    "horizon",
    "dow",
    "dom",
    "month",
    "holiday",
    "holiday_near",
    "sdow_last",
    "sdow_mean4",
    "yearly",
    "price_rel",
    "promo",
]
CATEGORICAL = ["group_code", "series_code"]
FEATURES = BASE_FEATURES + TARGET_FEATURES + CATEGORICAL
# Level features divided by the series' own recent level (per-series target scaling, as in the M5 winners):
# one global model then learns shapes shared by slow and fast sellers; `level_log` keeps the level itself.
SCALED = [
    *(f"lag_{k}" for k in range(1, LAGS + 1)),
    "mean_7",
    "mean_28",
    "mean_91",
    "std_28",
    "max_28",
    "nzmean_28",
    "level_all",
    "group_mean_28",
    "sdow_last",
    "sdow_mean4",
    "yearly",
]
SCALE_OFFSET = 1.0  # scale = max(mean of the last 28 steps, 0) + 1: intermittent series stay unscaled


def series_scale(mean_28: np.ndarray) -> np.ndarray:
    """The per-series scale at an origin from its 28-step mean (1 when the series has no history yet)."""
    return np.where(np.isnan(mean_28), 0.0, np.maximum(mean_28, 0.0)) + SCALE_OFFSET


@cache
def _holiday_days(country: str, years: tuple[int, ...]) -> frozenset:
    if not country:
        return frozenset()
    import holidays

    try:
        return frozenset(holidays.country_holidays(country, years=list(years)).keys())
    except (NotImplementedError, KeyError, AttributeError):
        return frozenset()


def planned_covariates(panel: Panel, horizon: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Price and promotion over history + the next `horizon` steps, (n, T + horizon) each.

    The future part is what is planned in advance, when the caller knows it (`panel.extra["planned_price"]`,
    `["planned_promo"]`: (n, k) for the k steps after the last day, NaN = not planned); otherwise the last
    known price and no promotion.
    """
    n, steps = panel.n_series, panel.n_steps
    price = promo = None
    if panel.price is not None:
        price = np.hstack([panel.price, np.repeat(panel.price[:, -1:], horizon, axis=1)])
        planned = panel.extra.get("planned_price")
        if planned is not None:
            k = min(horizon, planned.shape[1])
            future = price[:, steps : steps + k]
            price[:, steps : steps + k] = np.where(np.isnan(planned[:, :k]), future, planned[:, :k])
    if panel.promo is not None:
        promo = np.hstack([panel.promo, np.zeros((n, horizon))])
        planned = panel.extra.get("planned_promo")
        if planned is not None:
            k = min(horizon, planned.shape[1])
            promo[:, steps : steps + k] = np.nan_to_num(planned[:, :k])
    return price, promo


@dataclass
class RowBlock:
    X: np.ndarray  # (rows, len(FEATURES)) float32
    series: np.ndarray  # (rows,) series index
    origin: np.ndarray  # (rows,) origin step
    target: np.ndarray  # (rows,) target step (>= n_steps: the future)
    y: np.ndarray | None  # (rows,) actual units where known
    scale: np.ndarray  # (rows,) the series' level at the origin; SCALED columns of X are divided by it


class FeatureBuilder:
    """Precomputes cumulative sums once so that each origin costs a few vector operations."""

    def __init__(
        self, panel: Panel, horizon: int, group_codes: dict | None = None, series_codes: dict | None = None
    ) -> None:
        self.panel = panel
        self.horizon = horizon
        y = panel.y
        n, steps = y.shape
        self.steps = steps
        valid = ~np.isnan(y)
        y0 = np.where(valid, y, 0.0)
        zeros = np.zeros((n, 1))
        self.cs = np.hstack([zeros, np.cumsum(y0, axis=1)])
        self.csq = np.hstack([zeros, np.cumsum(y0**2, axis=1)])
        self.cc = np.hstack([zeros, np.cumsum(valid, axis=1)])
        self.cz = np.hstack([zeros, np.cumsum(valid & (y0 == 0), axis=1)])
        self.cnz = np.hstack([zeros, np.cumsum(valid & (y0 > 0), axis=1)])
        idx = np.arange(steps)[None, :]
        self.last_sale = np.maximum.accumulate(np.where(y0 > 0, idx, -1), axis=1)
        self.first = np.where(valid.any(axis=1), valid.argmax(axis=1), steps)
        self.y = y
        ext = panel.dates.append(panel.future_dates(horizon))
        self.ext = ext
        self.dow = ext.dayofweek.to_numpy()
        self.dom = ext.day.to_numpy()
        self.month = ext.month.to_numpy()
        ext64 = ext.to_numpy().astype("datetime64[D]")
        hist64 = panel.dates.to_numpy().astype("datetime64[D]")
        step = panel.grain
        year_ago = ext64 - np.timedelta64(step.year_lag_days, "D")
        half = np.timedelta64(step.year_window_days, "D")
        self.year_lo = np.searchsorted(hist64, year_ago - half, side="left")
        self.year_hi = np.searchsorted(hist64, year_ago + half, side="right")
        # the seasonal cycle of the grain: weekday (daily), week of a 52-week year (weekly), month (monthly)
        self.season = grains.season_keys(ext, step, panel.dates[0])
        self.n_seasons = 7 if step is grains.DAILY else step.period
        self.positions_by_season = {w: np.flatnonzero(self.season[:steps] == w) for w in range(self.n_seasons)}
        self.group_codes = group_codes or {g: i for i, g in enumerate(sorted(set(panel.groups)))}
        self.series_codes = series_codes or {s: i for i, s in enumerate(panel.ids)}
        self.group_code = np.array([self.group_codes.get(g, -1) for g in panel.groups], dtype=float)
        self.series_code = np.array([self.series_codes.get(s, -1) for s in panel.ids], dtype=float)
        self._holidays(panel, ext)
        self._covariates(panel)

    def _holidays(self, panel: Panel, ext: pd.DatetimeIndex) -> None:
        years = tuple(range(ext[0].year - 1, ext[-1].year + 2))
        days = ext.normalize()
        prev_days, next_days = days - pd.Timedelta(days=1), days + pd.Timedelta(days=1)
        countries = sorted(set(panel.countries))
        self.country_index = np.array([countries.index(c) for c in panel.countries])
        self.hol = np.zeros((len(countries), len(ext)))
        self.hol_near = np.zeros((len(countries), len(ext)))
        if panel.grain is not grains.DAILY:
            return
        for i, country in enumerate(countries):
            known = _holiday_days(country, years)
            if not known:
                continue
            on = np.array([d.date() in known for d in days])
            pairs = zip(prev_days, next_days, strict=True)
            near = np.array([(p.date() in known) or (x.date() in known) for p, x in pairs])
            self.hol[i], self.hol_near[i] = on, near

    def _covariates(self, panel: Panel) -> None:
        n = panel.n_series
        zeros = np.zeros((n, 1))
        self.price_ext, self.promo_ext = planned_covariates(panel, self.horizon)
        if panel.price is not None:
            p = panel.price
            pv = ~np.isnan(p)
            self.cp = np.hstack([zeros, np.cumsum(np.where(pv, p, 0.0), axis=1)])
            self.cpc = np.hstack([zeros, np.cumsum(pv, axis=1)])
        if panel.promo is not None:
            self.cpr = np.hstack([zeros, np.cumsum(panel.promo, axis=1)])
        if panel.stockout is not None:
            s = panel.stockout
            sv = ~np.isnan(s)
            self.cso = np.hstack([zeros, np.cumsum(np.where(sv, s, 0.0), axis=1)])
            self.csoc = np.hstack([zeros, np.cumsum(sv, axis=1)])

    @staticmethod
    def _window(cum: np.ndarray, t: int, w: int) -> np.ndarray:
        return cum[:, t + 1] - cum[:, max(0, t + 1 - w)]

    def _mean(self, t: int, w: int) -> np.ndarray:
        count = self._window(self.cc, t, w)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, self._window(self.cs, t, w) / count, np.nan)

    def base(self, t: int) -> np.ndarray:
        """(n, len(BASE_FEATURES)) history features at origin step t."""
        n = self.panel.n_series
        out = np.full((n, len(BASE_FEATURES)), np.nan)
        for k in range(1, LAGS + 1):
            if t - k + 1 >= 0:
                out[:, k - 1] = self.y[:, t - k + 1]
        mean_7, mean_28, mean_91 = self._mean(t, 7), self._mean(t, 28), self._mean(t, 91)
        count_28 = self._window(self.cc, t, 28)
        with np.errstate(invalid="ignore", divide="ignore"):
            var_28 = self._window(self.csq, t, 28) / count_28 - mean_28**2
            zero_28 = self._window(self.cz, t, 28) / count_28
            nz = self._window(self.cnz, t, 28)
            nzmean = np.where(nz > 0, self._window(self.cs, t, 28) / nz, 0.0)
            level_all = self.cs[:, t + 1] / self.cc[:, t + 1]
            trend = mean_7 / series_scale(mean_28)  # >= 1: net units below -1 a day made this infinite
        window = self.y[:, max(0, t - 27) : t + 1]
        max_28 = np.where(count_28 > 0, np.nanmax(np.where(np.isnan(window), -np.inf, window), axis=1), np.nan)
        last = self.last_sale[:, t]
        since = np.where(last >= 0, t - last, np.minimum(t - self.first + 1, 365)).astype(float)
        hist_len = np.clip(t - self.first + 1, 0, 730).astype(float)
        group_mean = self._group_mean(mean_28)
        promo_28 = self._window(self.cpr, t, 28) / 28.0 if hasattr(self, "cpr") else np.full(n, np.nan)
        if hasattr(self, "cso"):
            with np.errstate(invalid="ignore", divide="ignore"):
                stock_28 = self._window(self.cso, t, 28) / self._window(self.csoc, t, 28)
        else:
            stock_28 = np.full(n, np.nan)
        columns = [
            mean_7,
            mean_28,
            mean_91,
            np.sqrt(np.maximum(var_28, 0.0)),
            zero_28,
            max_28,
            nzmean,
            np.minimum(since, 365.0),
            hist_len,
            trend,
            level_all,
            group_mean,
            promo_28,
            stock_28,
            np.log1p(series_scale(mean_28)),
        ]
        for offset, column in enumerate(columns, start=LAGS):
            out[:, offset] = column
        return out

    def _group_mean(self, mean_28: np.ndarray) -> np.ndarray:
        """Each series' group average of mean_28 over the series of that group alive at the origin.

        Sized by every group code, not the largest alive one: a group whose series are all unborn at an early
        origin (e.g. a country first seen in October) gets NaN instead of indexing past the end.
        """
        has = self.group_code >= 0
        ok = ~np.isnan(mean_28) & has
        group_mean = np.full(len(mean_28), np.nan)
        if not ok.any():
            return group_mean
        size = int(self.group_code[has].max()) + 1
        codes = self.group_code[ok].astype(int)
        sums = np.bincount(codes, weights=mean_28[ok], minlength=size)
        counts = np.bincount(codes, minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_group = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        group_mean[has] = per_group[self.group_code[has].astype(int)]
        return group_mean

    def targets(self, t: int, last_j: int) -> np.ndarray:
        """(H', n, len(TARGET_FEATURES)) features of target steps t+1..last_j seen from origin t."""
        n = self.panel.n_series
        j = np.arange(t + 1, last_j + 1)
        out = np.full((len(j), n, len(TARGET_FEATURES)), np.nan)
        out[:, :, 0] = (j - t)[:, None]
        out[:, :, 1] = self.dow[j][:, None]
        out[:, :, 2] = self.dom[j][:, None]
        out[:, :, 3] = self.month[j][:, None]
        out[:, :, 4] = self.hol[self.country_index][:, j].T
        out[:, :, 5] = self.hol_near[self.country_index][:, j].T
        last_by_dow = np.full((self.n_seasons, n), np.nan)
        mean_by_dow = np.full((self.n_seasons, n), np.nan)
        for w, positions in self.positions_by_season.items():
            same = positions[positions <= t][-4:]
            if len(same):
                last_by_dow[w] = self.y[:, same[-1]]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    mean_by_dow[w] = np.nanmean(self.y[:, same], axis=1)
        out[:, :, 6] = last_by_dow[self.season[j]]  # seasonal naive: the last value one cycle back
        out[:, :, 7] = mean_by_dow[self.season[j]]
        lo, hi = self.year_lo[j], np.minimum(self.year_hi[j], t + 1)
        lo = np.minimum(lo, hi)
        count = self.cc[:, hi] - self.cc[:, lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, :, 8] = np.where(count > 0, (self.cs[:, hi] - self.cs[:, lo]) / count, np.nan).T
        if hasattr(self, "cp"):
            count = self._window(self.cpc, t, 28)
            with np.errstate(invalid="ignore", divide="ignore"):
                recent = np.where(count > 0, self._window(self.cp, t, 28) / count, np.nan)
                out[:, :, 9] = (self.price_ext[:, j] / recent[:, None]).T
        if self.promo_ext is not None:
            out[:, :, 10] = self.promo_ext[:, j].T
        return out

    def rows(
        self, origins: list[int], max_target: int, min_history: int = 1, only: np.ndarray | None = None
    ) -> RowBlock:
        """Rows for every origin and horizon whose target step is <= max_target (may be in the future); only
        of the series the boolean mask `only` selects, when given."""
        blocks, series, origin_steps, target_steps, scales = [], [], [], [], []
        scaled = [FEATURES.index(c) for c in SCALED]
        m28 = BASE_FEATURES.index("mean_28")
        cats = np.column_stack([self.group_code, self.series_code])
        for t in origins:
            alive = (t - self.first + 1) >= min_history
            if only is not None:
                alive &= only
            last_j = min(t + self.horizon, max_target)
            if not alive.any() or last_j <= t:
                continue
            idx = np.flatnonzero(alive)
            target = self.targets(t, last_j)[:, idx]
            steps = target.shape[0]
            base_t = self.base(t)[idx]
            scale = series_scale(base_t[:, m28])
            base = np.broadcast_to(base_t, (steps, len(idx), len(BASE_FEATURES)))
            cat = np.broadcast_to(cats[idx], (steps, len(idx), len(CATEGORICAL)))
            block = np.concatenate([base, target, cat], axis=2)
            block[:, :, scaled] /= scale[None, :, None]
            block[np.isinf(block)] = np.nan  # XGBoost refuses infinities; missing is what they mean here
            block = block.astype(np.float32)
            scales.append(np.tile(scale, steps))
            blocks.append(block.reshape(steps * len(idx), -1))
            series.append(np.tile(idx, steps))
            origin_steps.append(np.full(steps * len(idx), t))
            target_steps.append(np.repeat(np.arange(t + 1, last_j + 1), len(idx)))
        if not blocks:
            empty = np.zeros((0, len(FEATURES)), np.float32)
            return RowBlock(empty, np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0))
        s, o, j = np.concatenate(series), np.concatenate(origin_steps), np.concatenate(target_steps)
        known = j < self.steps
        y = np.full(len(s), np.nan)
        y[known] = self.y[s[known], j[known]]
        return RowBlock(np.vstack(blocks), s, o, j, y, np.concatenate(scales))

    @staticmethod
    def unscaled(block: RowBlock, name: str) -> np.ndarray:
        """Column `name` of the block in units (SCALED columns multiplied back by the row's scale)."""
        column = block.X[:, FEATURES.index(name)].astype(float)
        return column * block.scale if name in SCALED else column
