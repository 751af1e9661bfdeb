"""Contract checks on coerced rows: required values, ranges, enumerations, patterns and rules.

Checks are vectorised masks; their messages go to the rows' notes (quarantine reasons or warnings).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from curation.problems import RowNotes
from retail_platform.contracts import Column, Condition, Rule

FUTURE_TOLERANCE = pd.Timedelta(days=1)  # clocks and time zones of shop systems differ
_OPS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}


def condition_mask(frame: pd.DataFrame, cond: Condition) -> np.ndarray:
    """Rows where a whitelisted condition holds (missing values never satisfy a comparison)."""
    values = frame[cond.column]
    if cond.op == "is_null":
        mask = values.isna() if cond.value else values.notna()
    elif cond.op == "equals":
        mask = values.astype(object) == cond.value
    elif cond.op == "in":
        mask = values.isin(list(cond.value))
    else:
        mask = _OPS[cond.op](pd.to_numeric(values, errors="coerce"), cond.value)
    return pd.Series(mask, index=frame.index).fillna(False).to_numpy(dtype=bool)


@dataclass
class Failure:
    """Rows (positions) of one column failing one check, with the message (one, or one per position)."""

    check: str
    positions: np.ndarray
    message: str | list[str]

    def messages(self) -> list[str]:
        return self.message if isinstance(self.message, list) else [self.message] * len(self.positions)


def _failure(check: str, mask: np.ndarray, message: str) -> list[Failure]:
    positions = np.flatnonzero(mask)
    return [Failure(check, positions, message)] if positions.size else []


def check_failures(values: pd.Series, column: Column, unparsed: np.ndarray) -> list[Failure]:
    """Required, range, enumeration, pattern and future checks of one column (vectorised masks).
    A cell already unparseable gets no second reason."""
    name = column.name
    found: list[Failure] = []
    present = values.notna().to_numpy(dtype=bool)
    if column.required:
        found += _failure("required", ~present & ~unparsed, f"{name}: required value is missing")
    if column.min is not None or column.max is not None:
        numbers = pd.to_numeric(values, errors="coerce")
        if column.min is not None:
            low = numbers <= column.min if column.min_exclusive else numbers < column.min
            sign = ">" if column.min_exclusive else ">="
            found += _failure("min", low.fillna(False).to_numpy(dtype=bool), f"{name}: must be {sign} {column.min}")
        if column.max is not None:
            high = (numbers > column.max).fillna(False).to_numpy(dtype=bool)
            found += _failure("max", high, f"{name}: must be <= {column.max}")
    if column.allowed is not None:
        outside = present & ~values.isin(list(column.allowed)).to_numpy(dtype=bool)
        found += _failure("allowed", outside, f"{name}: must be one of {list(column.allowed)}")
    if column.not_future:
        horizon = pd.Timestamp.now(tz="UTC") + FUTURE_TOLERANCE
        stamps = values if column.type == "timestamp" else values.dt.tz_localize("UTC")
        found += _failure(
            "not_future", (stamps > horizon).fillna(False).to_numpy(dtype=bool), f"{name}: is in the future"
        )
    if column.pattern is not None:
        matches = values.astype("string").str.fullmatch(column.pattern)
        found += _failure(
            "pattern", present & ~matches.fillna(True).to_numpy(dtype=bool), f"{name}: does not match {column.pattern}"
        )
    return found


def apply_rules(frame: pd.DataFrame, rules: tuple[Rule, ...], reasons: RowNotes, warnings: RowNotes) -> dict[str, int]:
    """Evaluate cross-field rules; returns how many rows each rule flagged."""
    counts: dict[str, int] = {}
    for rule in rules:
        hit = condition_mask(frame, rule.when)
        if rule.then is not None:
            hit &= ~condition_mask(frame, rule.then)
        counts[rule.name] = int(hit.sum())
        if rule.action == "quarantine":
            reasons.add(hit, f"rule {rule.name}")
        else:
            warnings.add(hit, rule.name)
    return counts
