"""Long-format series tables: validation, frequency inference, cleaning of outliers and placeholders."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from market_intelligence.exceptions import InputError

REQUIRED = ("series_id", "ds", "y")
MAX_SERIES = 5000
MAX_ROWS = 2_000_000


@dataclass(frozen=True)
class Frequency:
    code: str  # "W" or "MS" or "D"
    pandas_freq: str
    season: int
    horizon: int
    period_days: float


WEEKLY = Frequency("W", "W-MON", 52, 13, 7.0)
MONTHLY = Frequency("MS", "MS", 12, 12, 30.44)
DAILY = Frequency("D", "D", 7, 28, 1.0)


@dataclass
class Prepared:
    """One series ready for modelling: a regular index, cleaned values and what cleaning found."""

    series_id: str
    y: pd.Series  # cleaned, regular DatetimeIndex
    raw: pd.Series
    freq: Frequency
    outliers: list[pd.Timestamp] = field(default_factory=list)
    level_shift: pd.Timestamp | None = None


def validate_long(frame: pd.DataFrame) -> pd.DataFrame:
    """A long table (series_id, ds, y) with clean types, or InputError saying what is wrong."""
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InputError("the table is empty")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"missing columns: {', '.join(missing)} (need series_id, ds, y)")
    if len(frame) > MAX_ROWS:
        raise InputError(f"too many rows: {len(frame)} > {MAX_ROWS}")
    out = frame[list(REQUIRED)].copy()
    out["series_id"] = out["series_id"].astype(str)
    ds = pd.to_datetime(out["ds"], errors="coerce")
    if ds.isna().any():
        bad = out.loc[ds.isna(), "ds"].astype(str).head(3).tolist()
        raise InputError(f"column ds has values that are not dates, e.g. {bad}")
    y = pd.to_numeric(out["y"], errors="coerce")
    if y.isna().all():
        raise InputError("column y has no numeric values")
    out["ds"], out["y"] = ds.dt.tz_localize(None) if ds.dt.tz is not None else ds, y
    if out["series_id"].nunique() > MAX_SERIES:
        raise InputError(f"too many series: {out['series_id'].nunique()} > {MAX_SERIES}")
    return out.groupby(["series_id", "ds"], as_index=False)["y"].sum(min_count=1).sort_values(["series_id", "ds"])


def infer_frequency(ds: pd.Series) -> Frequency:
    """Weekly, monthly or daily from the median spacing of the dates."""
    dates = pd.Series(pd.to_datetime(ds).sort_values().unique())
    if len(dates) < 2:
        raise InputError("a series needs at least two dates to infer its frequency")
    step = float(dates.diff().dt.days.median())
    if step >= 27:
        return MONTHLY
    if step >= 6:
        return WEEKLY
    return DAILY


def regularise(values: pd.Series, freq: Frequency) -> pd.Series:
    """Values on a complete regular index (anchored like the data); gaps are NaN."""
    values = values.sort_index()
    if freq is WEEKLY:
        anchor = values.index.min()
        index = pd.date_range(anchor, values.index.max(), freq=pd.DateOffset(weeks=1))
    elif freq is MONTHLY:
        index = pd.date_range(values.index.min().to_period("M").to_timestamp(), values.index.max(), freq="MS")
        values = values.groupby(values.index.to_period("M").to_timestamp()).sum(min_count=1)
    else:
        index = pd.date_range(values.index.min(), values.index.max(), freq="D")
    return values.reindex(index)


def future_index(last: pd.Timestamp, freq: Frequency, horizon: int) -> pd.DatetimeIndex:
    if freq is WEEKLY:
        return pd.DatetimeIndex([last + pd.DateOffset(weeks=k) for k in range(1, horizon + 1)])
    if freq is MONTHLY:
        return pd.date_range(last + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    return pd.date_range(last + pd.Timedelta(days=1), periods=horizon, freq="D")


def robust_outliers(y: pd.Series, season: int, z: float = 5.0) -> pd.Series:
    """Boolean mask of points far from a centred rolling median (robust z on the MAD), plus placeholders:
    runs of three or more identical values, and zeros in a series that is otherwise far from zero."""
    values = y.astype(float)
    window = max(5, min(season // 2 * 2 + 1, 13))
    med = values.rolling(window, center=True, min_periods=3).median()
    resid = values - med
    mad = float(np.nanmedian(np.abs(resid - np.nanmedian(resid)))) * 1.4826
    mask = pd.Series(False, index=y.index)
    if mad > 0:
        mask |= (resid.abs() / mad) > z
    return (mask | placeholders(values)) & values.notna()


def placeholders(y: pd.Series) -> pd.Series:
    """Boolean mask of placeholder values: runs of three or more identical values, and zeros in a series that
    is otherwise far from zero (a series whose median is zero has none)."""
    values = y.astype(float)
    if not values.abs().median() > 0:
        return pd.Series(False, index=y.index)
    same = values.diff().eq(0)
    runs = same & same.shift(-1, fill_value=False)
    runs = runs | runs.shift(1, fill_value=False) | runs.shift(-1, fill_value=False)
    return (runs | values.eq(0)) & values.notna()


def detect_level_shift(y: pd.Series, window: int = 4, z: float = 6.0) -> pd.Timestamp | None:
    """The date of the largest persistent jump in level, or None.

    A jump is a one-period difference far beyond the typical difference (robust z on the MAD), after which
    the level stays moved: the median of the next `window` values differs from the median of the previous
    `window` values by most of the jump. A trend (many moderate differences) or an isolated spike (already
    cleaned, and not persistent) does not qualify.
    """
    values = y.astype(float).to_numpy()
    n = len(values)
    if n < 2 * window + 2 or np.isnan(values).any():
        return None
    diffs = np.diff(values)
    centre = np.median(diffs)
    mad = np.median(np.abs(diffs - centre)) * 1.4826 + 1e-9
    best, best_at = 0.0, None
    for k in range(window, n - window + 1):
        jump = diffs[k - 1] - centre
        score = abs(jump) / mad
        if score < z:
            continue
        before, after = np.median(values[k - window : k]), np.median(values[k : k + window])
        if np.sign(after - before) == np.sign(jump) and abs(after - before) >= 0.6 * abs(jump) and score > best:
            best, best_at = score, k
    return y.index[best_at] if best_at is not None else None


def prepare(series_id: str, frame: pd.DataFrame, freq: Frequency | None = None) -> Prepared:
    """A regular, cleaned series: placeholders/outliers replaced by interpolation, level shift located."""
    raw = frame.set_index("ds")["y"].astype(float)
    freq = freq or infer_frequency(frame["ds"])
    regular = regularise(raw, freq)
    if regular.notna().sum() < 4:
        raise InputError(f"series {series_id!r} has fewer than 4 observations")
    mask = robust_outliers(regular, freq.season)
    cleaned = regular.mask(mask)
    cleaned = cleaned.interpolate(limit_direction="both")
    shift = detect_level_shift(cleaned)
    return Prepared(series_id, cleaned, regular, freq, list(regular.index[mask]), shift)
