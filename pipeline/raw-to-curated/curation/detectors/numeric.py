"""Numeric anomalies the contract's ranges miss: robust z-scores (globally and per group) and IsolationForest.

Robust z: each measure is first put on a symmetric scale (magnitudes when a few values are negative, such
as cancellation quantities; log1p when right-skewed, such as prices), then z = (t - median) / scale with
scale = max(1.4826 * MAD, IQR / 1.349). A value is flagged when |z| > `threshold` **and** it lies beyond the
data's own tail fence (the 99.9th percentile plus its distance from the median, mirrored below), so that a
naturally long tail is not reported row by row.

Per group (`group_by`, or chosen automatically on a file's first batch, kept for its other batches): the column
whose groups leave the smallest pooled within-group spread is used when its groups of `min_group_size` or more
cover half the rows and it at least halves the global spread (near-ties go to identifiers: sku rather than its
description); a pair with another low-cardinality column (sku + currency) replaces it when that cuts the spread
by a further fifth. Each row in
a group of three or more is judged against its own group's median, with the group's MAD floored by the pooled
within-group spread, beyond the residuals' own (symmetric) tail fence; other rows are judged globally. The
threshold grows as 1 + 1/sqrt(m) with the m values a median and MAD come from (5.7 for a group of 50, 7.2 for 5).

IsolationForest (scikit-learn, random_state=0, n_jobs=1) runs when there are at least `min_rows` rows and
`min_columns` measures. Its features are the robust z-scores above (against the group where there is one), so
a SEK price is not 'unusual' next to EUR ones. It is fitted on at most `max_fit_rows` rows with trees grown on
`max_samples` rows each (more than the usual 256, so that an outlier is more often inside a tree's sample than
beyond it). Rows are scored when at least two measures are beyond 3 robust sd and beyond their 0.5 % tails
(the others sit in the dense core or are univariate extremes, which are the z-scores' job: IsolationForest
cannot tell a value far beyond the data's range from the most extreme ordinary one); when no row is, the
model is not even fitted. A row is flagged whole when its anomaly score s(x)
exceeds both `score_threshold` and, plus `margin`, the level that ordinary rows would exceed about 0.1 times
in a batch of this size (the calibration scores' tail extrapolated, see `_tail_threshold`).
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
PRESCREEN_Z = 3.0  # IsolationForest scores rows beyond 3 robust sd and beyond the 0.5 % tail of two measures
PRESCREEN_QUANTILE = 0.995
MIN_JUDGED = 3  # rows in groups this big are judged against their group (its median survives one outlier)
TIE = 0.05  # spreads within 5 % of the lowest are equally good groupings
PAIR_GAIN = 0.8  # a pair of columns replaces the best single one when it cuts the spread by a fifth
CALIBRATION_ROWS = 10_000  # IsolationForest: rows of the fit sample whose scores calibrate the threshold


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
def _group_codes(ctx: Context, names: tuple[str, ...]) -> np.ndarray:
    key = ("group_codes", names)
    if key not in ctx.cache:
        out = ctx.factor(names[0]).codes
        width = ctx.factor(names[0]).distinct
        for name in names[1:]:
            other = ctx.factor(name)
            combined = np.where((out < 0) | (other.codes < 0), -1, out * (other.distinct + 1) + other.codes)
            width = width * (other.distinct + 1)
            if width > 4 * ctx.n:  # too sparse for bincount: renumber
                codes, uniques = pd.factorize(combined)
                combined, width = np.where(combined < 0, -1, codes), len(uniques)
            out = combined
        ctx.cache[key] = out
    return ctx.cache[key]  # type: ignore[return-value]


def _pooled_spread(codes: np.ndarray, t: np.ndarray, finite: np.ndarray, min_size: int, max_rows: int) -> float:
    """Pooled within-group robust spread over groups of min_size or more (inf when they cover < half the rows).

    Measured on whole groups sampled to about max_rows rows, so that group sizes stay intact.
    """
    ok = finite & (codes >= 0)
    if not ok.any():
        return np.inf
    sizes = np.bincount(codes[ok], minlength=int(codes.max()) + 1)
    big = ok & (sizes[np.maximum(codes, 0)] >= min_size)
    n_big = int(big.sum())
    if n_big < MIN_COVERAGE * int(finite.sum()):
        return np.inf
    if n_big > max_rows:
        big &= codes % int(np.ceil(n_big / max_rows)) == 0  # codes number groups by first appearance
    g, tv = codes[big], t[big]
    resid = tv - pd.Series(tv).groupby(g).transform("median").to_numpy()
    return robust_scale(resid, 0.0)


def choose_groups(ctx: Context, column: str, tr: Transform, params: dict) -> tuple[str, ...] | None:
    """The grouping that best explains a measure's spread, or None when none halves it."""
    min_size, max_rows = int(params["min_group_size"]), int(params["max_sample_rows"])
    t = tr.apply(ctx.numbers(column))
    finite = np.isfinite(t)
    rows = ctx.sample_rows(max_rows, salt=5)
    sample = t if rows is None else t[rows]
    sample = sample[np.isfinite(sample)]
    global_spread = robust_scale(sample) if sample.size else 0.0
    if global_spread <= 0:
        return None
    singles = []
    for name in ctx.names:
        if name == column or ctx.types[name] not in GROUP_TYPES:
            continue
        f = ctx.factor(name)
        if 2 <= f.distinct <= f.non_null / min_size:
            singles.append(name)
    scored_keys: list[tuple[float, tuple[str, ...]]] = []
    for name in singles:
        scored_keys.append((_pooled_spread(_group_codes(ctx, (name,)), t, finite, min_size, max_rows), (name,)))
    if not scored_keys:
        return None
    order = {c: i for i, c in enumerate(ctx.names)}

    def preferred(keys: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        # among near-equal spreads: identifiers first (sku rather than its description), then fewer columns
        return sorted(keys, key=lambda k: (not any(c in ctx.identifiers for c in k), len(k), [order[c] for c in k]))

    lowest_single = min(s[0] for s in scored_keys)
    if not np.isfinite(lowest_single):
        return None
    best = preferred([k for s, k in scored_keys if s <= lowest_single * (1 + TIE)])[0]
    best_spread = dict((k, s) for s, k in scored_keys)[best]
    partners = [
        c
        for c in ctx.names
        if c not in best
        and c != column
        and ctx.types[c] in GROUP_TYPES
        and 2 <= ctx.factor(c).distinct <= MAX_PAIR_DISTINCT
    ]
    for key in [(*best, c) for c in partners]:
        spread = _pooled_spread(_group_codes(ctx, key), t, finite, min_size, max_rows)
        if spread <= PAIR_GAIN * best_spread:  # finer groups always fit a little better: ask for a real gain
            scored_keys.append((spread, key))
    lowest = min(s[0] for s in scored_keys)
    if not np.isfinite(lowest) or lowest > MIN_GAIN * global_spread:
        return None
    return preferred([k for s, k in scored_keys if s <= lowest * (1 + TIE)])[0]


# ------------------------------------------------------------------------------------------- robust z
@dataclass
class Scored:
    """A measure's robust z per row (against its group where it has one, else globally) and its outliers."""

    name: str
    transform: Transform
    key: tuple[str, ...] | None
    z: np.ndarray  # NaN where the value is missing
    hits: dict[int, str]  # row -> expected range


def _global(
    x: np.ndarray, tr: Transform, threshold: float, rows: np.ndarray, z: np.ndarray, hits: dict[int, str]
) -> None:
    t = tr.apply(x)
    finite = np.isfinite(t)
    if not finite.any():
        return
    lo_f, hi_f = tail_fence(t[finite])
    threshold = threshold * (1 + 1 / np.sqrt(finite.sum()))  # few rows: a rougher median and MAD
    zz = (t - tr.center) / tr.scale
    z[rows] = zz[rows]
    hit = np.zeros(x.size, dtype=bool)
    hit[rows] = finite[rows] & (np.abs(zz[rows]) > threshold) & ((t[rows] < lo_f) | (t[rows] > hi_f))
    if hit.any():
        expected = _bounds(tr, min(tr.center - threshold * tr.scale, lo_f), max(tr.center + threshold * tr.scale, hi_f))
        for r in np.flatnonzero(hit).tolist():
            hits[r] = expected


def _grouped(
    ctx: Context, x: np.ndarray, tr: Transform, key: tuple[str, ...], params: dict, z: np.ndarray, hits: dict[int, str]
) -> np.ndarray:
    """Judge rows in groups of min_group_size or more against their group; returns the mask of rows judged."""
    threshold = params["threshold"]
    codes = _group_codes(ctx, key)
    t = tr.apply(x)
    ok = (codes >= 0) & np.isfinite(t)
    sizes = np.bincount(codes[ok], minlength=int(codes.max()) + 1) if ok.any() else np.zeros(0, dtype=np.int64)
    big = ok & (sizes[np.maximum(codes, 0)] >= MIN_JUDGED) if sizes.size else ok & False
    idx = np.flatnonzero(big)
    judged = np.zeros(ctx.n, dtype=bool)
    judged[idx] = True
    if idx.size == 0:
        return judged
    g, tv = codes[idx], t[idx]
    med = pd.Series(tv).groupby(g).transform("median").to_numpy()
    resid = tv - med
    mad = 1.4826 * pd.Series(np.abs(resid)).groupby(g).transform("median").to_numpy()
    pooled = max(robust_scale(resid, 0.0), 0.01 if tr.kind in ("log", "abslog") else 0.01 * abs(tr.center))
    scale = np.maximum(mad, pooled)
    zz = resid / scale
    z[idx] = zz
    group_size = sizes[g].astype(np.float64)
    limit = threshold * (1 + 1 / np.sqrt(group_size))  # a small group's median and MAD are rough: ask for more
    lo_f, hi_f = tail_fence(resid)
    lo_f, hi_f = min(lo_f, -hi_f), max(hi_f, -lo_f)  # symmetric: a promo-priced median must not make the list price odd
    label = "+".join(key)
    for i in np.flatnonzero((np.abs(zz) > limit) & ((resid < lo_f) | (resid > hi_f))).tolist():
        lo = med[i] + min(-limit[i] * scale[i], lo_f)
        hi = med[i] + max(limit[i] * scale[i], hi_f)
        hits[int(idx[i])] = f"{_bounds(tr, lo, hi)} for its {label}"
    return judged


def scored(ctx: Context) -> list[Scored]:
    """Every measure scored once (memoised): robust z-scores feed both the z flags and IsolationForest."""
    if "scored" in ctx.cache:
        return ctx.cache["scored"]  # type: ignore[return-value]
    params = ctx.policy.params("robust_zscore")
    group_by = ctx.policy.detector("robust_zscore").group_by
    names = set(ctx.allowed("robust_zscore", ctx.numeric)) | set(ctx.allowed("isolation_forest", ctx.numeric))
    out = []
    for name in [c for c in ctx.numeric if c in names]:
        x = ctx.numbers(name)
        tr = fit_transform(x, int(params["min_rows"]))
        if tr is None:
            continue
        if group_by is not None:
            key = tuple(c for c in group_by if c in ctx.types and c != name) or None
        elif ("group_key", name) in ctx.memo:  # chosen on the file's first batch
            key = ctx.memo[("group_key", name)]  # type: ignore[assignment]
        else:
            key = ctx.memo[("group_key", name)] = choose_groups(ctx, name, tr, params)
        z = np.full(ctx.n, np.nan)
        hits: dict[int, str] = {}
        judged = _grouped(ctx, x, tr, key, params, z, hits) if key else np.zeros(ctx.n, dtype=bool)
        _global(x, tr, params["threshold"], np.flatnonzero(~judged), z, hits)
        out.append(Scored(name, tr, key, z, hits))
    ctx.cache["scored"] = out
    return out


def robust_flags(ctx: Context) -> list[Flag]:
    threshold = ctx.policy.params("robust_zscore")["threshold"]
    allowed = set(ctx.allowed("robust_zscore", ctx.numeric))
    flags: list[Flag] = []
    for s in scored(ctx):
        if s.name not in allowed:
            continue
        x = ctx.numbers(s.name)
        for row, expected in sorted(s.hits.items()):
            conf = float(_confidence(np.array([s.z[row]]), threshold)[0])
            flags.append(Flag(row, s.name, "robust_zscore", clamp(conf), expected, shown(x[row])))
    return flags


# ------------------------------------------------------------------------------------------- isolation forest
def _tail_threshold(scores: np.ndarray, n: int, expected_false: float = 0.1) -> float:
    """Score that ordinary rows exceed about `expected_false` times in a batch of n rows.

    Peaks over threshold: the excesses over the calibration scores' 99th percentile are taken as exponential
    (their mean is the scale) and extrapolated to a tail probability of expected_false / n.
    """
    u = float(np.quantile(scores, 0.99))
    excess = scores[scores > u] - u
    if excess.size < 5:
        return float(scores.max())
    beta = float(excess.mean())
    return u + beta * max(0.0, float(np.log(0.01 * n / expected_false)))


def isolation_flags(ctx: Context) -> list[Flag]:
    params = ctx.policy.params("isolation_forest")
    if ctx.n < params["min_rows"]:
        return []
    allowed = set(ctx.allowed("isolation_forest", ctx.numeric))
    measures = [s for s in scored(ctx) if s.name in allowed]
    if len(measures) < params["min_columns"]:
        return []
    z = np.empty((ctx.n, len(measures)), dtype=np.float32)
    for j, s in enumerate(measures):
        z[:, j] = np.clip(np.nan_to_num(s.z, nan=0.0, posinf=50.0, neginf=-50.0), -50, 50)
    # only rows in the tails of two measures or more can be multivariate outliers: without any, no model at all
    fit_rows = ctx.sample_rows(int(params["max_fit_rows"]), salt=3)
    fit = z if fit_rows is None else z[fit_rows]
    low = np.minimum(-PRESCREEN_Z, np.quantile(fit, 1 - PRESCREEN_QUANTILE, axis=0))
    high = np.maximum(PRESCREEN_Z, np.quantile(fit, PRESCREEN_QUANTILE, axis=0))
    candidates = np.flatnonzero(((z < low) | (z > high)).sum(axis=1) >= 2)
    if candidates.size == 0:
        return []
    from sklearn.ensemble import IsolationForest  # imported here: only paid for when it runs

    model = IsolationForest(
        n_estimators=int(params["n_estimators"]),
        random_state=0,
        n_jobs=1,
        max_samples=min(len(fit), int(params["max_samples"])),
    ).fit(fit)
    calibration = -model.score_samples(fit[:CALIBRATION_ROWS] if len(fit) > CALIBRATION_ROWS else fit)
    threshold = round(max(params["score_threshold"], _tail_threshold(calibration, ctx.n) + params["margin"]), 3)
    scores = -model.score_samples(z[candidates])
    flags = []
    for i in np.flatnonzero(scores >= threshold).tolist():
        row = int(candidates[i])
        order = np.argsort(-np.abs(z[row]))[:2]
        parts = [f"{measures[j].name}={shown(ctx.numbers(measures[j].name)[row])}" for j in order.tolist()]
        observed = f"score {scores[i]:.2f}: " + ", ".join(parts)
        confidence = clamp(0.5 + 0.5 * (scores[i] - threshold) / max(1e-9, 1 - threshold))
        flags.append(Flag(row, None, "isolation_forest", confidence, f"anomaly score < {threshold:g}", observed[:60]))
    return flags


def detect(ctx: Context) -> list[Flag]:
    """Both numeric detectors (the suite runs them separately, each guarded)."""
    flags: list[Flag] = []
    if ctx.policy.enabled("robust_zscore"):
        flags.extend(robust_flags(ctx))
    if ctx.policy.enabled("isolation_forest"):
        flags.extend(isolation_flags(ctx))
    return flags
