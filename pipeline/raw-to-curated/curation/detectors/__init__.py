"""Data-quality detection past the contract's rules: pure functions on a curated batch (no S3, no Lambda).

`detect(frame, columns, policy)` runs every enabled detector on the rows that passed contract validation
and returns flags sorted by (row, column, detector). Each detector is guarded: one failing on odd data is
recorded as a note (see `run`) and logged; it never stops curation.

Detectors (module: flag `detector` names):
  categorical     typo, rare_category     rare variants of categorical values
  patterns        pattern                 values breaking a column's dominant shape
  placeholders    placeholder             'N/A', '-', '0000', numeric and date sentinels
  duplicates      near_duplicate          rows equal up to formatting or one column (whole-row flag)
  dependencies    dependency              postcode -> city, sku -> description, sku -> price far apart
  numeric         robust_zscore           median/MAD z per column and per group
                  isolation_forest        multivariate outliers (whole-row flag)
  profile         -                       per-column profile (`profile`), the input of drift
  drift           -                       batch profile vs history (`drift.compare`)

When several cell detectors flag the same cell, only the most specific one is kept, in the order
placeholder > typo > dependency > pattern > rare_category > robust_zscore.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from curation.detectors import categorical, dependencies, duplicates, numeric, patterns, placeholders
from curation.detectors.context import Context
from curation.detectors.drift import DriftFinding, compare
from curation.detectors.flags import CELL_DETECTORS, DETECTORS, Flag
from curation.detectors.policy import DEFAULTS, Dependency, QualityPolicy
from curation.detectors.profile import profile, profile_context
from retail_platform.observability import record

__all__ = [
    "DEFAULTS",
    "DETECTORS",
    "Dependency",
    "Detection",
    "DriftFinding",
    "Flag",
    "QualityPolicy",
    "compare",
    "detect",
    "profile",
    "run",
    "summarise",
]

log = logging.getLogger(__name__)


@dataclass
class Detection:
    flags: list[Flag]
    notes: list[dict[str, str]] = field(default_factory=list)  # {"detector": "detector_error", "step", "error"}
    seconds: dict[str, float] = field(default_factory=dict)
    profile: dict | None = None


# (step name, detector names it can emit, function)
STEPS: tuple[tuple[str, tuple[str, ...], Callable[[Context], list[Flag]]], ...] = (
    ("placeholders", ("placeholder",), placeholders.detect),
    ("categorical", ("typo", "rare_category"), categorical.detect),
    ("patterns", ("pattern",), patterns.detect),
    ("dependencies", ("dependency",), dependencies.detect),
    ("duplicates", ("near_duplicate",), duplicates.detect),
    ("robust_zscore", ("robust_zscore",), numeric.robust_flags),
    ("isolation_forest", ("isolation_forest",), numeric.isolation_flags),
)
_RANK = {name: i for i, name in enumerate(CELL_DETECTORS)}


def _resolve(flags: list[Flag]) -> list[Flag]:
    """One flag per (row, column, detector), the most confident; one cell detector per cell, the most specific."""
    best: dict[tuple[int, str | None, str], Flag] = {}
    for f in flags:
        key = (f.row, f.column, f.detector)
        if key not in best or f.confidence > best[key].confidence:
            best[key] = f
    per_cell: dict[tuple[int, str], Flag] = {}
    out: list[Flag] = []
    for f in best.values():
        if f.column is None or f.detector not in _RANK:
            out.append(f)
            continue
        cell = (f.row, f.column)
        if cell not in per_cell or _RANK[f.detector] < _RANK[per_cell[cell].detector]:
            per_cell[cell] = f
    out.extend(per_cell.values())
    out.sort(key=lambda f: (f.row, f.column or "", f.detector))
    return out


def run(
    frame: pd.DataFrame,
    columns: dict[str, str],
    policy: QualityPolicy | None = None,
    *,
    with_profile: bool = False,
    memo: dict | None = None,
) -> Detection:
    """All enabled detectors, with per-step timings, error notes and (optionally) the batch profile.

    `memo`: one dict per file, passed with each of its batches, so that the structure the detectors find in the
    first batch (a measure's grouping, the dependencies that hold) is not searched for again in every batch."""
    policy = policy or QualityPolicy()
    ctx = Context(frame, columns, policy, memo)
    found: list[Flag] = []
    notes: list[dict[str, str]] = []
    seconds: dict[str, float] = {}
    for step, emits, fn in STEPS:
        if ctx.n == 0 or not any(policy.enabled(d) for d in emits):
            continue
        started = time.perf_counter()
        try:
            found.extend(f for f in fn(ctx) if policy.enabled(f.detector))
        except Exception as e:  # one detector's failure on odd data must not stop curation
            log.warning("detector %s failed: %s", step, e, exc_info=True)
            record("DetectorErrors", 1, step=step)
            notes.append({"detector": "detector_error", "step": step, "error": f"{type(e).__name__}: {e}"[:300]})
        seconds[step] = round(time.perf_counter() - started, 3)
    batch_profile = None
    if with_profile:
        started = time.perf_counter()
        try:
            batch_profile = profile_context(ctx)
        except Exception as e:
            log.warning("profile failed: %s", e, exc_info=True)
            record("DetectorErrors", 1, step="profile")
            notes.append({"detector": "detector_error", "step": "profile", "error": f"{type(e).__name__}: {e}"[:300]})
        seconds["profile"] = round(time.perf_counter() - started, 3)
    return Detection(_resolve(found), notes, seconds, batch_profile)


def detect(frame: pd.DataFrame, columns: dict[str, str], policy: QualityPolicy | None = None) -> list[Flag]:
    """Flags of every enabled detector, sorted by (row, column, detector). See `run` for notes and timings."""
    return run(frame, columns, policy).flags


def summarise(flags: list[Flag]) -> dict:
    """Counts for a quality report: flags and flagged rows, per detector, per column, per detector and column."""
    by_detector = Counter(f.detector for f in flags)
    by_column = Counter(f.column or "(row)" for f in flags)
    by_both = Counter(f"{f.detector}:{f.column or '(row)'}" for f in flags)
    return {
        "flags": len(flags),
        "rows": len({f.row for f in flags}),
        "repairs_proposed": sum(f.repair is not None for f in flags),
        "by_detector": dict(sorted(by_detector.items())),
        "by_column": dict(sorted(by_column.items())),
        "by_detector_column": dict(sorted(by_both.items())),
    }
