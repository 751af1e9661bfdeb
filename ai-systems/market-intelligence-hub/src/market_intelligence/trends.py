"""Trend analysis of one series: STL, Mann-Kendall and HAC-regression trend tests, trend and seasonality
strength, changepoints with dates, residual anomalies and a plain-language summary built from those numbers."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import stats

from market_intelligence.series import Frequency, Prepared, placeholders


@dataclass
class TrendReport:
    series_id: str
    start: str
    end: str
    n_obs: int
    direction: str  # up / down / flat
    mk_tau: float
    mk_p: float
    sen_slope_per_year: float
    hac_slope_per_year: float
    hac_p: float
    relative_change_per_year: float  # NaN with less than a year of history (not extrapolated)
    trend_strength: float
    seasonality_strength: float  # NaN with fewer than two full seasonal cycles (not estimable)
    changepoints: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    summary: str = ""
    # the headline change: the yearly rate with a year of history or more, else the fitted trend's change over
    # the observed span (`trend_change_period` says which: "a year" or "over 13 weeks")
    trend_change: float = math.nan
    trend_change_period: str = ""
    seasonality_note: str = ""  # why seasonality_strength is n/a, e.g. "needs 2 years"

    def to_dict(self) -> dict:
        return asdict(self)


def mann_kendall(
    values: np.ndarray, hamed_rao: bool = False, breaks: list[int] | tuple[int, ...] = ()
) -> tuple[float, float, float]:
    """Kendall's tau, the two-sided p-value (normal approximation with tie correction) and Sen's slope.

    With `hamed_rao`, the variance of S is inflated for serial correlation (Hamed & Rao 1998): the ranks of
    the series detrended by Sen's slope give the autocorrelations, the significant ones (5%) enter the factor
    n/n* = 1 + 2/(n(n-1)(n-2)) * sum (n-k)(n-k-1)(n-k-2) rho_k. The factor is never taken below 1, so the
    correction can only make the test more conservative.

    With `breaks` (first index of each new level), only pairs within the same segment are compared (a blocked
    test like the seasonal Kendall test: S and its variance are summed over segments, Sen's slope is the median
    of the within-segment pairwise slopes), so a level shift is not taken for a trend.
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 4:
        return 0.0, 1.0, 0.0
    edges = [0, *sorted(b for b in breaks if 0 < b < n), n]
    s = var = pairs = 0.0
    slopes = []
    for lo, hi in pairwise(edges):
        seg, m = x[lo:hi], hi - lo
        if m < 2:
            continue
        i, j = np.triu_indices(m, k=1)
        s += float(np.sign(seg[j] - seg[i]).sum())
        _, counts = np.unique(seg, return_counts=True)
        var += (m * (m - 1) * (2 * m + 5) - float(np.sum(counts * (counts - 1) * (2 * counts + 5)))) / 18.0
        pairs += m * (m - 1) / 2
        slopes.append((seg[j] - seg[i]) / (j - i))
    slope = float(np.median(np.concatenate(slopes))) if slopes else 0.0
    if hamed_rao and n >= 8:
        adjusted = x.copy()
        for lo, hi in pairwise(edges):  # remove segment levels before the ACF
            adjusted[lo:hi] -= np.median(x[lo:hi] - slope * np.arange(lo, hi))
        var *= _hamed_rao_factor(adjusted, slope)
    z = 0.0 if var <= 0 else (s - np.sign(s)) / math.sqrt(var)
    p = float(2 * stats.norm.sf(abs(z)))
    tau = s / pairs if pairs else 0.0
    return float(tau), p, slope


def _hamed_rao_factor(x: np.ndarray, slope: float) -> float:
    n = len(x)
    ranks = stats.rankdata(x - slope * np.arange(n))
    r = ranks - ranks.mean()
    denom = float(np.dot(r, r))
    if denom <= 0:
        return 1.0
    lags = np.arange(1, n - 2)
    acf = np.array([np.dot(r[:-k], r[k:]) / denom for k in lags])
    bound = stats.norm.ppf(0.975) / math.sqrt(n)
    weights = (n - lags) * (n - lags - 1) * (n - lags - 2)
    significant = np.abs(acf) > bound
    factor = 1 + 2 / (n * (n - 1) * (n - 2)) * float(np.sum(weights[significant] * acf[significant]))
    return max(1.0, factor)


def hac_trend(values: np.ndarray, breaks: list[int] | tuple[int, ...] = ()) -> tuple[float, float]:
    """OLS slope per period of y on time with Newey-West (HAC) standard errors, and its p-value; with
    `breaks`, one intercept per segment (level shifts as nuisance terms)."""
    import statsmodels.api as sm

    n = len(values)
    t = np.arange(n, dtype=float)
    steps = [(t >= b).astype(float) for b in sorted(breaks) if 0 < b < n]
    x = sm.add_constant(np.column_stack([t, *steps]))
    lags = max(1, int(4 * (n / 100) ** (2 / 9)))
    fit = sm.OLS(np.asarray(values, float), x).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return float(fit.params[1]), float(fit.pvalues[1])


def decompose(y: pd.Series, freq: Frequency) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """STL trend, seasonal, residual (seasonal = 0 when there are fewer than two full seasons)."""
    values = y.to_numpy(float)
    if len(values) >= 2 * freq.season + 1:
        from statsmodels.tsa.seasonal import STL

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = STL(values, period=freq.season, seasonal_deg=0, robust=True).fit()  # no seasonal drift
        return res.trend, res.seasonal, res.resid
    window = max(3, min(len(values) // 4 * 2 + 1, freq.season // 4 * 2 + 1))
    trend = pd.Series(values).rolling(window, center=True, min_periods=1).median().to_numpy()
    return trend, np.zeros_like(values), values - trend


def strength(component: np.ndarray, resid: np.ndarray) -> float:
    """Hyndman's strength: 1 - var(R)/var(component + R), clipped to [0, 1]."""
    total = np.var(component + resid)
    return float(max(0.0, 1 - np.var(resid) / total)) if total > 0 else 0.0


def noise_sd(x: np.ndarray) -> float:
    """Robust noise standard deviation from the MAD of first differences (insensitive to level shifts,
    trends and isolated spikes)."""
    d = np.diff(np.asarray(x, float))
    if len(d) < 2:
        return 0.0
    return float(np.median(np.abs(d - np.median(d))) * 1.4826 / math.sqrt(2))


@dataclass
class LevelShiftFit:
    """Result of `fit_level_shifts`: changepoint positions (first index of each new level), the fitted
    step component, the fitted seasonal component, the robust noise sd and the series with short-lived
    outliers replaced (all on the scale the fit was made on)."""

    changepoints: list[int]
    steps: np.ndarray
    seasonal: np.ndarray
    sigma: float
    cleaned: np.ndarray


def _base_design(n: int, season_period: float | None, harmonics: int) -> tuple[np.ndarray, int]:
    """Smooth trend (Legendre polynomials: cubic from 40 points, else linear) and yearly Fourier terms.
    Returns the design and the index of its first seasonal column."""
    t = np.linspace(-1.0, 1.0, n)
    degree = 3 if n >= 40 else 1
    cols = [np.polynomial.legendre.legvander(t, degree)]
    first_seasonal = cols[0].shape[1]
    if season_period and harmonics:
        k = np.arange(1, harmonics + 1)
        angle = 2 * np.pi * np.outer(np.arange(n), k) / season_period
        cols += [np.sin(angle), np.cos(angle)]
    return np.hstack(cols), first_seasonal


def fit_level_shifts(
    values: np.ndarray,
    season_period: float | None = None,
    harmonics: int = 4,
    min_size: int = 8,
    max_points: int = 5,
    penalty: float = 3.0,
    min_jump: float = 2.0,
    outlier_z: float = 4.0,
) -> LevelShiftFit:
    """Level shifts (steps in the mean) by penalised forward selection with refinement.

    The model is y = smooth trend + yearly Fourier seasonality + sum of steps + noise, fitted jointly by least
    squares, so the seasonal estimate is not bent by a step and a gradual trend or curvature is not taken for
    one. Before fitting, points further than `outlier_z` noise sds from a centred running median of
    2 * (min_size // 2) + 1 points (a Hampel filter on the deseasonalised series) are replaced by that median:
    a block of placeholder or outlier values shorter than min_size / 2 never looks like a shift, while a
    persistent step passes the median filter unchanged.

    A step is added (greedily, largest residual-sum-of-squares reduction first) when its reduction exceeds
    `penalty` * sigma^2 * log(n) (a BIC-type penalty with the noise sd sigma from the MAD of first differences),
    keeps every segment at least `min_size` long (changepoints closer than that are merged: only the stronger
    is kept) and moves the level by at least `min_jump` sigma. Afterwards each changepoint is re-located given
    the others and dropped if it no longer passes (until nothing changes). Deterministic.
    """
    w = np.asarray(values, float)
    n = len(w)
    empty = LevelShiftFit([], np.zeros(n), np.zeros(n), noise_sd(w), w.copy())
    if n < 2 * min_size or not np.isfinite(w).all():
        return empty
    X0, first_seasonal = _base_design(n, season_period, harmonics)
    beta, *_ = np.linalg.lstsq(X0, w, rcond=None)
    seasonal = X0[:, first_seasonal:] @ beta[first_seasonal:]
    # Hampel filter on the deseasonalised series
    half = max(2, min_size // 2)
    x = w - seasonal
    sigma = noise_sd(x)
    if sigma <= 0:
        return empty
    median = pd.Series(x).rolling(2 * half + 1, center=True, min_periods=1).median().to_numpy()
    spikes = np.abs(x - median) > outlier_z * sigma
    cleaned = np.where(spikes, median + seasonal, w)

    candidates = np.arange(min_size, n - min_size + 1)
    steps = (np.arange(n)[:, None] >= candidates[None, :]).astype(float)
    threshold = penalty * math.log(n)

    def fit(chosen: list[int]) -> tuple[np.ndarray, np.ndarray]:
        X = np.hstack([X0, steps[:, [int(np.searchsorted(candidates, c)) for c in chosen]]]) if chosen else X0
        q, _ = np.linalg.qr(X)
        return q, cleaned - q @ (q.T @ cleaned)

    def best(others: list[int]) -> tuple[float, int | None, float]:
        """(gain in sigma^2 units, position, jump in sigma units) of the best step given the others."""
        q, resid = fit(others)
        allowed = np.ones(len(candidates), bool)
        for c in others:
            allowed &= np.abs(candidates - c) >= min_size
        if not allowed.any():
            return 0.0, None, 0.0
        c = steps[:, allowed] - q @ (q.T @ steps[:, allowed])
        norm = np.einsum("ij,ij->j", c, c)
        ok = norm > 1e-9
        gain = np.where(ok, (c.T @ resid) ** 2 / np.where(ok, norm, 1.0), 0.0) / sigma**2
        jump = np.where(ok, (c.T @ resid) / np.where(ok, norm, 1.0), 0.0) / sigma
        gain = np.where(np.abs(jump) >= min_jump, gain, 0.0)
        k = int(np.argmax(gain))
        return float(gain[k]), int(candidates[allowed][k]), float(jump[k])

    chosen: list[int] = []
    while len(chosen) < max_points:
        gain, at, _jump = best(chosen)
        if at is None or gain <= threshold:
            break
        chosen.append(at)
    for _ in range(10):  # refine positions, prune the ones that no longer pass
        changed = False
        for c in list(chosen):
            others = [o for o in chosen if o != c]
            gain, at, _jump = best(others)
            if at is None or gain <= threshold:
                chosen = others
                changed = True
                break
            if at != c:
                chosen = sorted([*others, at])
                changed = True
        if not changed:
            break
    chosen = sorted(chosen)
    if not chosen:
        return LevelShiftFit([], np.zeros(n), seasonal, sigma, cleaned)
    X = np.hstack([X0, steps[:, [int(np.searchsorted(candidates, c)) for c in chosen]]])
    beta, *_ = np.linalg.lstsq(X, cleaned, rcond=None)
    m = X0.shape[1]
    return LevelShiftFit(chosen, X[:, m:] @ beta[m:], X0[:, first_seasonal:] @ beta[first_seasonal:m], sigma, cleaned)


def changepoints(values: np.ndarray, min_size: int = 8, max_points: int = 5) -> list[int]:
    """Level-shift changepoints of a series without seasonality (see `fit_level_shifts`)."""
    return fit_level_shifts(values, None, 0, min_size=min_size, max_points=max_points).changepoints


def _season_period(freq: Frequency) -> float:
    """Length of the yearly cycle in periods (52.18 weeks, 12 months); the week for daily series."""
    return freq.season if freq.code == "D" else 365.25 / freq.period_days


MIN_TREND_EFFECT = 1.0  # the trend must move the level by at least one noise sd over the window
YEAR_DAYS = 364  # 52 weeks, 12 months or 365 days of history count as a year


def _span_text(n: int, freq: Frequency) -> str:
    unit = {"W": "week", "MS": "month", "D": "day"}.get(freq.code, "period")
    return f"over {n} {unit}{'s' if n != 1 else ''}"


def _cycles_text(freq: Frequency) -> str:
    return "needs 2 weeks" if freq.code == "D" else "needs 2 years"


def trend_changes(sen: float, n: int, freq: Frequency, log_scale: bool, level: float) -> tuple[float, float, str]:
    """(yearly change or NaN, headline change, its period) of a trend with Sen slope `sen` per period.

    The headline is the fitted trend line's change from the first to the last of the `n` periods observed
    (exp(sen * (n - 1)) - 1 on the log scale, sen * (n - 1) / level otherwise): an interpolation, never an
    extrapolation. Only with a year of history or more is the yearly rate given (compounded on the log scale)
    and used as the headline: compounding a 13-week slope to a year turns +10% into +46% and noise into
    thousands of per cent.
    """
    per_year = 365.25 / freq.period_days
    yearly = math.expm1(sen * per_year) if log_scale else sen * per_year / level
    if n * freq.period_days >= YEAR_DAYS:
        return yearly, yearly, "a year"
    span = math.expm1(sen * (n - 1)) if log_scale else sen * (n - 1) / level
    return math.nan, span, _span_text(n, freq)


def analyse(p: Prepared) -> TrendReport:
    """Trend report of one prepared series.

    Detection works on the log scale when the series is positive (revenue: multiplicative seasonality and
    growth become additive): level shifts by `fit_level_shifts` (trend + Fourier seasonality + steps, once
    there are two seasons), then the trend tests on the deseasonalised series with the detected shifts
    as nuisance levels. The direction is up/down only when Mann-Kendall with the Hamed-Rao correction and the OLS slope
    with HAC errors both give p < 0.05 and Sen's slope moves the level by at least MIN_TREND_EFFECT noise sds
    over the window. STL (on the original scale) gives the strengths and the residual anomalies.
    """
    y = p.y
    values = y.to_numpy(float)
    n = len(values)
    trend, seasonal, resid = decompose(y, p.freq)
    # detection series: the raw values where they are real observations. The cleaner's robust-z flags are
    # undone (near a level shift on a seasonal slope it flags, and interpolates away, the edge of the shift);
    # the seasonal-aware Hampel filter of fit_level_shifts handles outliers instead. Placeholders (zeros, runs
    # of identical values) and gaps keep their interpolated values.
    raw = p.raw.reindex(y.index)
    detect = raw.where(raw.notna() & ~placeholders(raw), y).to_numpy(float)
    log_scale = bool(np.all(detect > 0))
    work = np.log(detect) if log_scale else detect
    two_seasons = n >= 2 * p.freq.season + 1
    min_size = max(4, p.freq.season // 6) if p.freq.code != "D" else 7
    shifts = fit_level_shifts(
        work,
        _season_period(p.freq) if two_seasons else None,
        harmonics=min(4, p.freq.season // 2) if two_seasons else 0,
        min_size=min_size,
    )
    adjusted = shifts.cleaned - shifts.seasonal  # trend + level shifts + noise on the working scale
    breaks = shifts.changepoints
    tau, mk_p, sen = mann_kendall(adjusted, hamed_rao=True, breaks=breaks)
    hac_p = hac_trend(adjusted, breaks)[1] if n >= 6 + len(breaks) else 1.0
    level_adjusted = np.exp(adjusted) if log_scale else adjusted
    _t, _p, sen_level = mann_kendall(level_adjusted, breaks=breaks)
    hac_slope = hac_trend(level_adjusted, breaks)[0] if n >= 6 + len(breaks) else 0.0
    per_year = 365.25 / p.freq.period_days
    level = float(np.mean(np.abs(values))) or 1.0
    yearly, headline, period = trend_changes(sen, n, p.freq, log_scale, level)
    effect = abs(sen) * (n - 1) >= MIN_TREND_EFFECT * shifts.sigma
    significant = mk_p < 0.05 and hac_p < 0.05 and effect
    direction = ("up" if sen > 0 else "down") if significant and sen != 0 else "flat"
    cps = [y.index[i] for i in shifts.changepoints]
    z = np.abs(resid - np.median(resid)) / (max(_mad(resid), float(np.std(resid))) + 1e-9)
    anomalies = sorted(set(y.index[z > 3.5]) | set(p.outliers))
    report = TrendReport(
        series_id=p.series_id,
        start=str(y.index[0].date()),
        end=str(y.index[-1].date()),
        n_obs=n,
        direction=direction,
        mk_tau=tau,
        mk_p=mk_p,
        sen_slope_per_year=sen_level * per_year,
        hac_slope_per_year=hac_slope * per_year,
        hac_p=hac_p,
        relative_change_per_year=yearly,
        trend_strength=strength(trend, resid),
        seasonality_strength=strength(seasonal, resid) if two_seasons else math.nan,
        changepoints=[str(d.date()) for d in cps],
        anomalies=[str(d.date()) for d in anomalies],
        trend_change=headline,
        trend_change_period=period,
        seasonality_note="" if two_seasons else _cycles_text(p.freq),
    )
    report.summary = summarise(report)
    return report


def change_text(change: float, period: str) -> str:
    """'+12% a year', '+10% over 13 weeks' (the fitted trend's first-to-last change), 'n/a'."""
    if change is None or not math.isfinite(change):
        return "n/a"
    return f"{change * 100:+.0f}% {period}".strip()


def seasonality_sentence(value: float, note: str) -> str:
    """'Seasonality is strong (0.81).' or, below two cycles, that it cannot be judged yet."""
    if value is None or not math.isfinite(value):
        return f"Seasonality cannot be judged yet ({note or 'needs 2 full cycles'})."
    word = "strong" if value >= 0.6 else "moderate" if value >= 0.3 else "weak"
    return f"Seasonality is {word} ({value:.2f})."


def _mad(x: np.ndarray) -> float:
    return float(np.median(np.abs(x - np.median(x))) * 1.4826)


def summarise(r: TrendReport, elasticity: dict | None = None, pooled_from: str | None = None) -> str:
    """A short plain-language summary generated from the numbers (no free text from users).

    `pooled_from`: the market whose elasticity estimate this market shows (it was not estimated on its own)."""
    market = r.series_id.replace("|", " in ")
    if r.direction == "flat":
        first = f"{market}: no significant trend (Mann-Kendall p={r.mk_p:.2f})"
    else:
        first = (
            f"{market} is trending {r.direction}: {change_text(r.trend_change, r.trend_change_period)} "
            f"(Mann-Kendall p={r.mk_p:.3f}, HAC p={r.hac_p:.3f})"
        )
    parts = [first + "."]
    parts.append(seasonality_sentence(r.seasonality_strength, r.seasonality_note))
    if r.changepoints:
        parts.append(f"Level changes around {', '.join(r.changepoints[:3])}.")
    if r.anomalies:
        parts.append(f"{len(r.anomalies)} unusual period(s), latest {r.anomalies[-1]}.")
    if elasticity and elasticity.get("elasticity") is not None and not math.isnan(elasticity["elasticity"]):
        e, lo, hi = elasticity["elasticity"], elasticity["ci_low"], elasticity["ci_high"]
        label = f"Pooled price elasticity of {pooled_from.replace('|', ' in ')}" if pooled_from else "Price elasticity"
        parts.append(
            f"{label} {e:.2f} (95% CI {lo:.2f} to {hi:.2f}): a 10% price rise moves units by "
            f"about {((1.1**e) - 1) * 100:+.0f}%."
        )
    return " ".join(parts)
