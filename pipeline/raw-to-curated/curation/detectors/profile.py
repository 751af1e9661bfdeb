"""Per-column profile of a batch: completeness, distinct values, top values, dominant shape, distribution.

The result is plain JSON (numbers, strings, lists, dicts), so it can be stored as the dataset's profile
history and compared by `drift.compare`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from curation.detectors.context import NUMERIC_TYPES, TEMPORAL_TYPES, Context
from curation.detectors.flags import shown
from curation.detectors.patterns import shapes
from curation.detectors.policy import QualityPolicy

TOP_VALUES = 20
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
PROFILE_VERSION = 1


def _round(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(f"{x:.6g}")


def _numeric(values: np.ndarray) -> dict[str, Any]:
    v = values[~np.isnan(values)]
    if v.size == 0:
        return {}
    q = np.quantile(v, QUANTILES)
    return {
        "min": _round(v.min()),
        "max": _round(v.max()),
        "mean": _round(v.mean()),
        "std": _round(v.std()),
        **{f"p{round(p * 100):02d}": _round(x) for p, x in zip(QUANTILES, q, strict=True)},
        "zeros": round(float((v == 0).mean()), 6),
        "negatives": round(float((v < 0).mean()), 6),
    }


def _temporal(series: pd.Series) -> dict[str, Any]:
    s = series.dropna()
    if s.empty:
        return {}
    return {"min": shown(s.min()), "max": shown(s.max())}


def profile_context(ctx: Context, top: int = TOP_VALUES) -> dict[str, Any]:
    n = ctx.n
    out: dict[str, Any] = {"version": PROFILE_VERSION, "rows": n, "columns": {}}
    for name in ctx.names:
        kind = ctx.types[name]
        f = ctx.factor(name)
        order = np.argsort(-f.counts, kind="stable")[:top]
        entry: dict[str, Any] = {
            "type": kind,
            "non_null": round(f.non_null / n, 6) if n else None,
            "distinct": f.distinct,
            "top": [[shown(f.uniques[i]), int(f.counts[i])] for i in order.tolist()],
        }
        if kind in NUMERIC_TYPES:
            entry["numeric"] = _numeric(ctx.numbers(name))
        elif kind == "bool":
            values = ctx.numbers(name)
            entry["numeric"] = {"mean": _round(np.nanmean(values))} if np.isfinite(values).any() else {}
        elif kind in TEMPORAL_TYPES:
            entry["range"] = _temporal(ctx.frame[name])
        elif ctx.is_text_valued(name):
            both = shapes(ctx, name)
            if both is not None:
                entry["patterns"] = {
                    level.level: [
                        [level.names[i], round(float(level.shares[i]), 6)]
                        for i in np.argsort(-level.shares, kind="stable")[:3].tolist()
                    ]
                    for level in both
                }
                lengths = np.array([len(str(v)) for v in f.uniques], dtype=np.float64)
                entry["length"] = {
                    "min": int(lengths.min()),
                    "max": int(lengths.max()),
                    "mean": _round(float(np.average(lengths, weights=f.counts))),
                }
        out["columns"][name] = entry
    return out


def profile(frame: pd.DataFrame, columns: dict[str, str], policy: QualityPolicy | None = None) -> dict[str, Any]:
    """Profile every data column of the frame (lineage columns, starting with `_`, are left out)."""
    return profile_context(Context(frame, columns, policy or QualityPolicy()))
