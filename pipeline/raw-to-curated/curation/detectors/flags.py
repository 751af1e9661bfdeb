"""The one finding type every detector returns."""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHOWN = 60

# Detector names, in order of precedence when several of them flag the same cell (the first explains it best).
CELL_DETECTORS = ("placeholder", "typo", "dependency", "pattern", "rare_category", "robust_zscore")
ROW_DETECTORS = ("near_duplicate", "isolation_forest")
DETECTORS = CELL_DETECTORS + ROW_DETECTORS


@dataclass(frozen=True)
class Flag:
    """One finding: which row (0-based position in the frame given) and column, who raised it, how sure it is."""

    row: int
    column: str | None  # None for whole-row findings (near-duplicates, IsolationForest)
    detector: str
    confidence: float  # 0..1
    expected: str | None  # what the value should have looked like
    observed: str | None  # the value seen, cut to 60 characters
    repair: object | None = None  # a proposed replacement, only where the evidence is strong


def shown(value: object) -> str | None:
    """A value as text for a flag, cut to MAX_SHOWN characters (values are already PAN-masked upstream)."""
    if value is None:
        return None
    try:
        if value != value:  # NaN / NaT / NA
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "isoformat"):
        text = value.isoformat()
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def number(value: float) -> str:
    """A bound or statistic for `expected`, short and readable."""
    return f"{value:.6g}"


def clamp(x: float) -> float:
    return round(float(min(1.0, max(0.0, x))), 3)
