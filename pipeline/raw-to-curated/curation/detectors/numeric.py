"""Numeric anomalies the contract's ranges miss: robust z-scores (globally and per group) and IsolationForest.

Robust z: each measure is first put on a symmetric scale (magnitudes when a few values are negative, such
as cancellation quantities; log1p when right-skewed, such as prices), then z = (t - median) / scale with
scale = max(1.4826 * MAD, IQR / 1.349). A value is flagged when |z| > `threshold` **and** it lies beyond the
data's own tail fence (the 99.9th percentile plus its distance from the median, mirrored below), so that a
naturally long tail is not reported row by row.

Per group (`group_by`, or chosen automatically): the grouping whose within-group spread is smallest, among
the low-cardinality columns and their pairs with another category (sku, or sku + currency), is used when
it at least halves the spread. Each row in a group of `min_group_size` or more is judged against its own
group's median, with the group's MAD floored by the pooled within-group spread; other rows are judged globally.

IsolationForest (scikit-learn, random_state=0, n_jobs=1) runs on the standardised measures when there are
at least `min_rows` rows and `min_columns` measures: fitted on at most `max_fit_rows` rows; rows are
scored when at least one measure is beyond 3 robust sd or their squared distance is in the top 1 % (other
rows sit in the dense core and cannot reach the threshold); rows whose anomaly score s(x) exceeds
`score_threshold` are flagged whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from curation.detectors.context import Context
from curation.detectors.flags import Flag, clamp, number, shown

GROUP_TYPES = {"string", "int", "country", "currency", "bool", "email"}
MAX_PAIR_DISTINCT = 50
MIN_COVERAGE = 0.5
MIN_GAIN = 0.5  # a grouping is used when its pooled within-group spread is at most half the global spread
PRESCREEN_Z = 3.0


@dataclass(frozen=True)
class Transform:
    kind: str  # raw | log | abs | abslog
    center: float
    scale: float

    def apply(self, x: np.ndarray) -> np.ndarray:
        return apply(self.kind, x)

    def invert(self, t: float) -> float:
        if self.kind in ("log", "abslog"):
            return float(np.expm1(t))
        return float(t)


def apply(kind: str, x: np.ndarray) -> np.ndarray:
    m = np.abs(x) if kind in ("abs", "abslog") else x
    if kind in ("log", "abslog"):
        with np.errstate(invalid="ignore"):
            return np.log1p(np.where(m >= 0, m, np.nan))
    return m


def choose_kind(v: np.ndarray) -> str:
    """raw | log | abs | abslog for the finite values v."""
    neg, pos = float((v < 0).mean()), float((v > 0).mean())
    use_abs = 0 < neg <= 0.2 and pos >= 0.5
    m = np.abs(v) if use_abs else v
    if m.min() >= 0:
        q01, q50, q99 = np.quantile(m, (0.01, 0.5, 0.99))
        if (q99 - q50) > 3 * max(q50 - q01, 1e-12) or (q50 > 0 and q99 > 5 * q50):
            return "abslog" if use_abs else "log"
    return "abs" if use_abs else "raw"


def robust_scale(t: np.ndarray, center: float | None = None) -> float:
    """max(1.4826 MAD, IQR / 1.349), falling back to the 1-99 % range and the mean absolute deviation."""
    if t.size == 0:
        return 0.0
    c = float(np.median(t)) if center is None else center
    q01, q25, q75, q99 = np.quantile(t, (0.01, 0.25, 0.75, 0.99))
    s = max(1.4826 * float(np.median(np.abs(t - c))), (q75 - q25) / 1.349)
    if s <= 0:
        s = (q99 - q01) / 4.65
    if s <= 0:
        s = 1.2533 * float(np.mean(np.abs(t - c)))
    return float(s)


def tail_fence(t: np.ndarray) -> tuple[float, float]:
    """Bounds beyond which a value is outside the data's own tail (see the module docstring)."""
    p = min(0.999, max(0.9, 1 - 10 / max(t.size, 1)))
    lo, mid, hi = np.quantile(t, (1 - p, 0.5, p))
    return float(lo - (mid - lo)), float(hi + (hi - mid))


def fit_transform(x: np.ndarray, min_rows: int) -> Transform | None:
    v = x[np.isfinite(x)]
    if v.size < min_rows:
        return None
    kind = choose_kind(v)
    t = apply(kind, v)
    t = t[np.isfinite(t)]
    center = float(np.median(t))
    scale = robust_scale(t, center)
    floor = 0.01 if kind in ("log", "abslog") else 0.01 * abs(center)
    scale = max(scale, floor)
    if scale <= 0:
        return None
    return Transform(kind, center, scale)


def _confidence(z: np.ndarray, threshold: float) -> np.ndarray:
    return np.clip(0.5 + 0.5 * (1 - threshold / np.maximum(np.abs(z), threshold)), 0, 0.99)


def _bounds(tr: Transform, lo_t: float, hi_t: float) -> str:
    lo, hi = tr.invert(lo_t), tr.invert(hi_t)
    prefix = "|x| " if tr.kind in ("abs", "abslog") else ""
    if tr.kind in ("log", "abslog"):
        lo = max(lo, 0.0)
    return f"{prefix}within [{number(lo)}, {number(hi)}]"


# ------------------------------------------------------------------------------------------- grouping
def _pooled_spread(codes: np.ndarray, t: np.ndarray, min_size: int) -> tuple[float, float]:
    """(pooled within-group robust spread, share of the rows in groups of min_size or more)."""
    ok = (codes >= 0) & np.isfinite(t)
    if not ok.any():
        return np.inf, 0.0
    frame = pd.DataFrame({"g": codes[ok], "t": t[ok]})
    grouped = frame.groupby("g")["t"]
    size = grouped.transform("size").to_numpy()
    big = size >= min_size
    coverage = float(big.sum() / t.size)
    if coverage < MIN_COVERAGE:
        return np.inf, coverage
    resid = (frame["t"].to_numpy() - grouped.transform("median").to_numpy())[big]
    return robust_scale(resid, 0.0), coverage


def _group_codes(ctx: Context, names: tuple[str, ...], rows: np.ndarray | None = None) -> np.ndarray:
    out = ctx.factor(names[0]).codes
    for name in names[1:]:
        other = ctx.factor(name)
        combined = np.where((out < 0) | (other.codes < 0), -1, out * (other.distinct + 1) + other.codes)
        codes, _ = pd.factorize(combined)
        out = np.where(combined < 0, -1, codes)
    return out if rows is None else out[rows]


def choose_groups(ctx: Context, column: str, tr: Transform, params: dict) -> tuple[str, ...] | None:
    """The grouping that best explains a measure's spread, or None when none halves it."""
    min_size = int(params["min_group_size"])
    rows = ctx.sample_rows(int(params["max_sample_rows"]), salt=5)
    t = tr.apply(ctx.numbers(column) if rows is None else ctx.numbers(column)[rows])
    finite = np.isfinite(t)
    global_spread = robust_scale(t[finite]) if finite.any() else 0.0
    if global_spread <= 0:
        return None
    singles = []
    for name in ctx.names:
        if name == column or ctx.types[name] not in GROUP_TYPES:
            continue
        f = ctx.factor(name)
        if 2 <= f.distinct <= f.non_null / min_size:
            singles.append(name)
    scored: list[tuple[float, tuple[str, ...]]] = []
    for name in singles:
        spread, _ = _pooled_spread(_group_codes(ctx, (name,), rows), t, min_size)
        scored.append((spread, (name,)))
    if not scored:
        return None
    scored.sort(key=lambda s: s[0])
    best = scored[0][1]
    for name in singles:
        if name in best or ctx.factor(name).distinct > MAX_PAIR_DISTINCT:
            continue
        key = (*best, name)
        spread, _ = _pooled_spread(_group_codes(ctx, key, rows), t, min_size)
        scored.append((spread, key))
    scored.sort(key=lambda s: (s[0], len(s[1])))
    spread, key = scored[0]
    return key if np.isfinite(spread) and spread <= MIN_GAIN * global_spread else None


# ------------------------------------------------------------------------------------------- robust z
def _global_flags(ctx, name, x, tr, rows_mask, threshold) -> list[Flag]:
    t = tr.apply(x)
    finite = np.isfinite(t)
    lo_f, hi_f = tail_fence(t[finite])
    z = np.where(finite, (t - tr.center) / tr.scale, 0.0)
    hit = finite & rows_mask & (np.abs(z) > threshold) & ((t < lo_f) | (t > hi_f))
    if not hit.any():
        return []
    expected = _bounds(tr, min(tr.center - threshold * tr.scale, lo_f), max(tr.center + threshold * tr.scale, hi_f))
    conf = _confidence(z, threshold)
    return [Flag(int(r), name, "robust_zscore", clamp(conf[r]), expected, shown(x[r]))
            for r in np.flatnonzero(hit).tolist()]


def _group_flags(ctx, name, x, tr, key, params) -> tuple[list[Flag], np.ndarray]:
    """Flags judged within groups, and the mask of rows that were judged that way."""
    threshold, min_size = params["threshold"], int(params["min_group_size"])
    codes = _group_codes(ctx, key)
    t = tr.apply(x)
    ok = (codes >= 0) & np.isfinite(t)
    idx = np.flatnonzero(ok)
    frame = pd.DataFrame({"g": codes[idx], "t": t[idx]})
    grouped = frame.groupby("g")["t"]
    size = grouped.transform("size").to_numpy()
    big = size >= min_size
    idx, frame = idx[big], frame[big]
    judged = np.zeros(ctx.n, dtype=bool)
    judged[idx] = True
    if idx.size == 0:
        return [], judged
    grouped = frame.groupby("g")["t"]
    med = grouped.transform("median").to_numpy()
    resid = frame["t"].to_numpy() - med
    mad = 1.4826 * pd.Series(np.abs(resid)).groupby(frame["g"].to_numpy()).transform("median").to_numpy()
    pooled = max(robust_scale(resid, 0.0), 0.01 if tr.kind in ("log", "abslog") else 0.01 * abs(tr.center))
    scale = np.maximum(mad, pooled)
    z = resid / scale
    lo_f, hi_f = tail_fence(resid)
    hit = (np.abs(z) > threshold) & ((resid < lo_f) | (resid > hi_f))
    flags = []
    label = "+".join(key)
    conf = _confidence(z, threshold)
    for i in np.flatnonzero(hit).tolist():
        row = int(idx[i])
        lo = med[i] + min(-threshold * scale[i], lo_f)
        hi = med[i] + max(threshold * scale[i], hi_f)
        expected = f"{_bounds(tr, lo, hi)} for its {label}"
        flags.append(Flag(row, name, "robust_zscore", clamp(conf[i]), expected, shown(x[row])))
    return flags, judged


def robust_flags(ctx: Context) -> list[Flag]:
    params = ctx.policy.params("robust_zscore")
    group_by = ctx.policy.detector("robust_zscore").group_by
    flags: list[Flag] = []
    for name in ctx.allowed("robust_zscore", ctx.numeric):
        x = ctx.numbers(name)
        tr = fit_transform(x, int(params["min_rows"]))
        if tr is None:
            continue
        if group_by is not None:
            key = tuple(c for c in group_by if c in ctx.types and c != name) or None
        else:
            key = choose_groups(ctx, name, tr, params)
        judged = np.zeros(ctx.n, dtype=bool)
        if key:
            group_flags, judged = _group_flags(ctx, name, x, tr, key, params)
            flags.extend(group_flags)
        flags.extend(_global_flags(ctx, name, x, tr, ~judged, params["threshold"]))
    return flags


# ------------------------------------------------------------------------------------------- isolation forest
def isolation_flags(ctx: Context) -> list[Flag]:
    from sklearn.ensemble import IsolationForest  # imported here: only paid for when it runs

    params = ctx.policy.params("isolation_forest")
    if ctx.n < params["min_rows"]:
        return []
    names, transforms = [], []
    for name in ctx.allowed("isolation_forest", ctx.numeric):
        tr = fit_transform(ctx.numbers(name), int(params["min_rows"]))
        if tr is not None:
            names.append(name)
            transforms.append(tr)
    if len(names) < params["min_columns"]:
        return []
    z = np.empty((ctx.n, len(names)), dtype=np.float32)
    for j, (name, tr) in enumerate(zip(names, transforms, strict=True)):
        col = (tr.apply(ctx.numbers(name)) - tr.center) / tr.scale
        z[:, j] = np.clip(np.nan_to_num(col, nan=0.0, posinf=50.0, neginf=-50.0), -50, 50)
    fit_rows = ctx.sample_rows(int(params["max_fit_rows"]), salt=3)
    fit = z if fit_rows is None else z[fit_rows]
    model = IsolationForest(n_estimators=int(params["n_estimators"]), random_state=0, n_jobs=1).fit(fit)
    squared = np.einsum("ij,ij->i", z, z)
    cutoff = np.quantile(np.einsum("ij,ij->i", fit, fit), 0.99)
    candidates = np.flatnonzero((np.abs(z).max(axis=1) >= PRESCREEN_Z) | (squared >= cutoff))
    if candidates.size == 0:
        return []
    scores = -model.score_samples(z[candidates])
    threshold = params["score_threshold"]
    flags = []
    for i in np.flatnonzero(scores >= threshold).tolist():
        row = int(candidates[i])
        order = np.argsort(-np.abs(z[row]))[:2]
        parts = [f"{names[j]}={shown(ctx.numbers(names[j])[row])}" for j in order.tolist()]
        observed = f"score {scores[i]:.2f}: " + ", ".join(parts)
        confidence = clamp(0.5 + 0.5 * (scores[i] - threshold) / max(1e-9, 1 - threshold))
        flags.append(Flag(row, None, "isolation_forest", confidence, f"anomaly score < {threshold:g}",
                          observed[:60]))
    return flags


def detect(ctx: Context) -> list[Flag]:
    """Both numeric detectors (the suite runs them separately, each guarded)."""
    flags: list[Flag] = []
    if ctx.policy.enabled("robust_zscore"):
        flags.extend(robust_flags(ctx))
    if ctx.policy.enabled("isolation_forest"):
        flags.extend(isolation_flags(ctx))
    return flags
