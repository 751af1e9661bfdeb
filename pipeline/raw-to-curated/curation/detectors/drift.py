"""Batch-to-history drift of a dataset's profile, in the spirit of Deequ / Glue Data Quality anomaly detection.

Metrics: row count; per column completeness, distinct count and mean; the category mix of low-cardinality
columns (population stability index and the largest change of one value's share).
With at least `min_history` earlier profiles a scalar metric must stay within mean +- k * std of its history
(the band is never narrower than `min_tolerance` of the mean, nor than 0.01 for shares); with fewer, only
a relative change above `max_change` against their mean is reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from curation.detectors.policy import QualityPolicy

PSI_EPSILON = 1e-4
MAX_MIX_DISTINCT = 50


@dataclass(frozen=True)
class DriftFinding:
    metric: str  # row_count | completeness | distinct | mean | category_mix
    column: str | None
    current: float
    expected_range: tuple[float, float]
    severity: str  # high | medium
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["expected_range"] = list(self.expected_range)
        return d


def _scalars(profile: dict[str, Any]) -> dict[tuple[str, str | None], float]:
    out: dict[tuple[str, str | None], float] = {}
    if isinstance(profile.get("rows"), int | float):
        out[("row_count", None)] = float(profile["rows"])
    for name, col in (profile.get("columns") or {}).items():
        if col.get("non_null") is not None:
            out[("completeness", name)] = float(col["non_null"])
        if col.get("distinct") is not None:
            out[("distinct", name)] = float(col["distinct"])
        mean = (col.get("numeric") or {}).get("mean")
        if mean is not None and col.get("type") != "bool":
            out[("mean", name)] = float(mean)
    return out


def _mix(col: dict[str, Any]) -> dict[str, float] | None:
    if not col or col.get("distinct") is None or col["distinct"] > MAX_MIX_DISTINCT or not col.get("top"):
        return None
    if col.get("type") in ("int", "float", "date", "timestamp", "text"):
        return None
    total = sum(c for _, c in col["top"])
    if total <= 0:
        return None
    return {str(v): c / total for v, c in col["top"]}


def _psi(current: dict[str, float], reference: dict[str, float]) -> tuple[float, float, str]:
    keys = set(current) | set(reference)
    psi, worst, worst_key = 0.0, 0.0, ""
    for k in keys:
        c, r = max(current.get(k, 0.0), PSI_EPSILON), max(reference.get(k, 0.0), PSI_EPSILON)
        psi += (c - r) * math.log(c / r)
        change = abs(current.get(k, 0.0) - reference.get(k, 0.0))
        if change > worst:
            worst, worst_key = change, k
    return psi, worst, worst_key


def _band(metric: str, values: list[float], params: dict) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    floor = params["min_tolerance"] * abs(mean)
    if metric == "completeness":
        floor = max(floor, 0.01)
    elif metric in ("row_count", "distinct"):
        floor = max(floor, 1.0)
    tol = max(params["k"] * std, floor)
    return mean - tol, mean + tol


def _rounded(x: float) -> float:
    return float(f"{x:.6g}")


def compare(
    current: dict[str, Any], history: list[dict[str, Any]], policy: QualityPolicy | None = None
) -> list[DriftFinding]:
    """Drift findings of a batch profile (from `profile`) against earlier profiles of the same dataset."""
    params = (policy or QualityPolicy()).params("drift")
    if not history:
        return []
    findings: list[DriftFinding] = []
    now = _scalars(current)
    past = [_scalars(p) for p in history]
    enough = len(history) >= params["min_history"]
    for (metric, column), value in sorted(now.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        values = [p[(metric, column)] for p in past if (metric, column) in p]
        if not values:
            continue
        if len(values) >= params["min_history"] and enough:
            lo, hi = _band(metric, values, params)
            if lo <= value <= hi:
                continue
            width = max(hi - lo, 1e-12)
            outside = (lo - value) if value < lo else (value - hi)
            severity = "high" if outside > width else "medium"
            if metric == "completeness" and value < lo and (lo - value) > 0.2:
                severity = "high"
            findings.append(
                DriftFinding(
                    metric,
                    column,
                    _rounded(value),
                    (_rounded(lo), _rounded(hi)),
                    severity,
                    f"{len(values)} earlier batches: mean ± {params['k']:g}·std",
                )
            )
        else:
            ref = sum(values) / len(values)
            change = abs(value - ref) / max(abs(ref), 1e-12)
            if change <= params["max_change"]:
                continue
            lo, hi = ref * (1 - params["max_change"]), ref * (1 + params["max_change"])
            severity = "high" if change > 2 * params["max_change"] else "medium"
            band = (_rounded(min(lo, hi)), _rounded(max(lo, hi)))
            findings.append(
                DriftFinding(
                    metric,
                    column,
                    _rounded(value),
                    band,
                    severity,
                    f"{change:.0%} change against {len(values)} earlier batch(es)",
                )
            )
    for name, col in sorted((current.get("columns") or {}).items()):
        mix = _mix(col)
        if mix is None:
            continue
        earlier = [m for m in (_mix((p.get("columns") or {}).get(name, {})) for p in history) if m]
        if not earlier:
            continue
        reference: dict[str, float] = {}
        for m in earlier:
            for k, v in m.items():
                reference[k] = reference.get(k, 0.0) + v / len(earlier)
        psi, worst, key = _psi(mix, reference)
        if psi > params["psi"] or worst > params["max_share_change"]:
            severity = "high" if psi > 2 * params["psi"] or worst > 2 * params["max_share_change"] else "medium"
            findings.append(
                DriftFinding(
                    "category_mix",
                    name,
                    round(psi, 4),
                    (0.0, params["psi"]),
                    severity,
                    f"PSI {psi:.3f}; largest share change {worst:.0%} ({key[:40]})",
                )
            )
    return findings
