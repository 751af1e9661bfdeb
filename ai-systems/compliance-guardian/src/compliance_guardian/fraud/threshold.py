"""The fraud alert threshold, chosen on the validation period from an objective a deployment states.

Objectives (`FRAUD_THRESHOLD_OBJECTIVE`, the stack parameter `FraudThresholdObjective`, `fraud-train
--objective`):
* `precision:P` (the default, P = 0.5): the lowest threshold whose validation precision is at least P, which
  is the one that catches the most fraud while at least P of the alerts are fraud. When no threshold reaches
  P, the one with the best F1 is taken and the reason says so.
* `alerts_per_day:N`: the lowest threshold that raises at most N alerts per day of the validation period
  (an analyst team's daily budget).
* `alert_rate:R`: the share R of payments to alert on (the old setting; kept for deployments that set it).

A threshold always comes with the reason it was chosen and its validation precision and recall, so that
`fraud-train` and the report can say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("precision", "alerts_per_day", "alert_rate")
DEFAULT_OBJECTIVE = "precision:0.5"


@dataclass(frozen=True)
class Objective:
    kind: str
    target: float

    def __str__(self) -> str:
        return f"{self.kind}:{self.target:g}"


def parse_objective(text: str) -> Objective:
    """`precision:0.5`, `alerts_per_day:20` or `alert_rate:0.02`; ValueError with the accepted forms otherwise."""
    kind, _, value = str(text).strip().partition(":")
    try:
        target = float(value)
    except ValueError:
        target = float("nan")
    kind = kind.strip().lower()
    if kind not in KINDS or not np.isfinite(target):
        raise ValueError(
            f"threshold objective {text!r}: expected precision:P (0 < P <= 1), alerts_per_day:N (N > 0) "
            "or alert_rate:R (0 < R < 1)"
        )
    if (kind == "precision" and not 0 < target <= 1) or (kind == "alert_rate" and not 0 < target < 1):
        raise ValueError(f"threshold objective {text!r}: {kind} must lie in (0, 1]")
    if kind == "alerts_per_day" and target <= 0:
        raise ValueError(f"threshold objective {text!r}: alerts_per_day must be > 0")
    return Objective(kind, target)


@dataclass(frozen=True)
class Choice:
    threshold: float
    objective: Objective
    reason: str
    validation: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": round(self.threshold, 6),
            "objective": str(self.objective),
            "why": self.reason,
            "validation": self.validation,
        }


def _curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct candidate thresholds (descending) and, for `p >= t`: alerts, true positives, precision."""
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    last_of_tie = np.r_[ps[1:] != ps[:-1], True]
    alerts = np.arange(1, len(ps) + 1)[last_of_tie]
    hits = np.cumsum(ys)[last_of_tie]
    return ps[last_of_tie], alerts, hits, hits / alerts


def days_of(times: Any) -> float:
    """Length of a period in days from its timestamps (at least an hour, so a burst is not a per-day rate)."""
    if times is None or not len(times):
        return 1.0
    t = pd.to_datetime(pd.Series(times), utc=True).dropna()
    if t.empty:
        return 1.0
    return max((t.max() - t.min()) / pd.Timedelta(days=1), 1 / 24)


def choose(y: np.ndarray, p: np.ndarray, objective: Objective, times: Any = None) -> Choice:
    """The threshold the objective asks for, on validation labels `y` and scores `p` (and their times)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    if not len(p):
        return Choice(0.5, objective, "no validation rows: 0.5 used", {})
    thresholds, alerts, hits, precision = _curve(y, p)
    positives = max(int(y.sum()), 1)
    days = days_of(times)
    if objective.kind == "precision":
        ok = np.flatnonzero(precision >= objective.target)
        if ok.size:
            k = ok[-1]  # lowest threshold (most alerts) that still meets the target precision
            reason = (
                f"lowest threshold whose validation precision is >= {objective.target:g}: it alerts on "
                f"{hits[k]} of {int(y.sum())} frauds with {alerts[k]} alerts"
            )
        else:
            f1 = 2 * hits / (alerts + positives)
            k = int(np.argmax(f1))
            reason = (
                f"no threshold reaches validation precision {objective.target:g} (best {precision.max():.3f}); "
                "the threshold with the best F1 instead"
            )
    elif objective.kind == "alerts_per_day":
        budget = objective.target * days
        ok = np.flatnonzero(alerts <= budget)
        k = ok[-1] if ok.size else 0
        reason = (
            f"lowest threshold with at most {objective.target:g} alerts per day on the validation period "
            f"({days:.2f} days): {alerts[k] / days:.1f} alerts per day"
        )
    else:
        ok = np.flatnonzero(alerts <= objective.target * len(p))
        k = ok[-1] if ok.size else 0
        reason = f"lowest threshold that alerts on at most {objective.target:.2%} of validation payments"
    validation = {
        "precision": round(float(precision[k]), 4),
        "recall": round(float(hits[k] / positives), 4),
        "alerts": int(alerts[k]),
        "alerts_per_day": round(float(alerts[k] / days), 2),
        "rows": len(p),
        "positives": int(y.sum()),
    }
    return Choice(float(thresholds[k]), objective, reason, validation)
