"""Trend analysis of one series: STL, Mann-Kendall and HAC-regression trend tests, trend and seasonality
strength, changepoints with dates, residual anomalies and a plain-language summary built from those numbers."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from market_intelligence.series import Frequency, Prepared


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
    relative_change_per_year: float
    trend_strength: float
    seasonality_strength: float
    changepoints: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    summary: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def mann_kendall(values: np.ndarray) -> tuple[float, float, float]:
    """Kendall's tau, the two-sided p-value (normal approximation with tie correction) and Sen's slope."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 4:
        return 0.0, 1.0, 0.0
    i, j = np.triu_indices(n, k=1)
    s = float(np.sign(x[j] - x[i]).sum())
    _, counts = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float(np.sum(counts * (counts - 1) * (2 * counts + 5)))) / 18.0
    z = 0.0 if var <= 0 else (s - np.sign(s)) / math.sqrt(var)
    p = float(2 * stats.norm.sf(abs(z)))
    tau = s / (n * (n - 1) / 2)
    slope = float(np.median((x[j] - x[i]) / (j - i)))
    return float(tau), p, slope


def hac_trend(values: np.ndarray) -> tuple[float, float]:
    """OLS slope per period of y on time with Newey-West (HAC) standard errors, and its p-value."""
    import statsmodels.api as sm

    n = len(values)
    x = sm.add_constant(np.arange(n, dtype=float))
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


def changepoints(values: np.ndarray, min_size: int = 4, max_points: int = 5) -> list[int]:
    """Mean-shift changepoints by binary segmentation with a BIC-type penalty (noise from MAD of diffs)."""
    x = np.asarray(values, float)
    n = len(x)
    sigma = np.median(np.abs(np.diff(x) - np.median(np.diff(x)))) * 1.4826 / math.sqrt(2) + 1e-9
    penalty = 3.0 * sigma**2 * math.log(max(n, 2))
    found: list[int] = []

    def best_split(lo: int, hi: int) -> tuple[float, int | None]:
        seg = x[lo:hi]
        m = len(seg)
        if m < 2 * min_size:
            return 0.0, None
        csum = np.cumsum(seg)
        total = csum[-1]
        ks = np.arange(min_size, m - min_size + 1)
        left = csum[ks - 1]
        gain = left**2 / ks + (total - left) ** 2 / (m - ks) - total**2 / m
        k = int(np.argmax(gain))
        return float(gain[k]), lo + int(ks[k])

    segments = [(0, n)]
    while segments and len(found) < max_points:
        scored = [(best_split(lo, hi), (lo, hi)) for lo, hi in segments]
        (gain, at), (lo, hi) = max(scored, key=lambda item: item[0][0])
        if at is None or gain <= penalty:
            break
        found.append(at)
        segments.remove((lo, hi))
        segments += [(lo, at), (at, hi)]
    return sorted(found)


def analyse(p: Prepared) -> TrendReport:
    y = p.y
    values = y.to_numpy(float)
    trend, seasonal, resid = decompose(y, p.freq)
    deseasonalised = values - seasonal
    tau, mk_p, sen = mann_kendall(deseasonalised)
    hac_slope, hac_p = hac_trend(deseasonalised) if len(values) >= 6 else (0.0, 1.0)
    per_year = 365.25 / p.freq.period_days
    level = float(np.mean(np.abs(values))) or 1.0
    significant = mk_p < 0.05 and hac_p < 0.05
    direction = ("up" if sen > 0 else "down") if significant and sen != 0 else "flat"
    # changepoints on the deseasonalised series with robust (clipped) residual spikes
    clipped = trend + np.clip(resid, -3 * _mad(resid), 3 * _mad(resid))
    cps = [y.index[i] for i in changepoints(clipped)]
    z = np.abs(resid - np.median(resid)) / (max(_mad(resid), float(np.std(resid))) + 1e-9)
    anomalies = sorted(set(y.index[z > 3.5]) | set(p.outliers))
    report = TrendReport(
        series_id=p.series_id,
        start=str(y.index[0].date()),
        end=str(y.index[-1].date()),
        n_obs=len(values),
        direction=direction,
        mk_tau=tau,
        mk_p=mk_p,
        sen_slope_per_year=sen * per_year,
        hac_slope_per_year=hac_slope * per_year,
        hac_p=hac_p,
        relative_change_per_year=sen * per_year / level,
        trend_strength=strength(trend, resid),
        seasonality_strength=strength(seasonal, resid),
        changepoints=[str(d.date()) for d in cps],
        anomalies=[str(d.date()) for d in anomalies],
    )
    report.summary = summarise(report)
    return report


def _mad(x: np.ndarray) -> float:
    return float(np.median(np.abs(x - np.median(x))) * 1.4826)


def summarise(r: TrendReport, elasticity: dict | None = None) -> str:
    """A short plain-language summary generated from the numbers (no free text from users)."""
    market = r.series_id.replace("|", " in ")
    if r.direction == "flat":
        first = f"{market}: no significant trend (Mann-Kendall p={r.mk_p:.2f})"
    else:
        first = (
            f"{market} is trending {r.direction} by about {abs(r.relative_change_per_year) * 100:.0f}% a year "
            f"(Mann-Kendall p={r.mk_p:.3f}, HAC p={r.hac_p:.3f})"
        )
    parts = [first + "."]
    season_word = "strong" if r.seasonality_strength >= 0.6 else "moderate" if r.seasonality_strength >= 0.3 else "weak"
    parts.append(f"Seasonality is {season_word} ({r.seasonality_strength:.2f}).")
    if r.changepoints:
        parts.append(f"Level changes around {', '.join(r.changepoints[:3])}.")
    if r.anomalies:
        parts.append(f"{len(r.anomalies)} unusual period(s), latest {r.anomalies[-1]}.")
    if elasticity and elasticity.get("elasticity") is not None and not math.isnan(elasticity["elasticity"]):
        e, lo, hi = elasticity["elasticity"], elasticity["ci_low"], elasticity["ci_high"]
        parts.append(
            f"Price elasticity {e:.2f} (95% CI {lo:.2f} to {hi:.2f}): a 10% price rise moves units by "
            f"about {((1.1**e) - 1) * 100:+.0f}%."
        )
    return " ".join(parts)
