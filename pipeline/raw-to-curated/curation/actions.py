"""What a failed column check does to its row: quarantine (the default), warn (kept, flagged) or repair.

A repair cleans the failing cell's text with the column's recipe (`strip_suffix`, `strip_prefix`, `extract`;
for an `allowed` check also the case of an allowed value), parses and checks it again, and keeps the result
only when it now passes every check of the column; it is recorded in the row's `_repairs`
(`weight: '12.0 oz' -> '12.0' (repair strip_suffix [' oz'])`). A cell the recipe cannot fix is quarantined
with the check's reason. Only failing cells are touched, so contracts without actions pay nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from curation.problems import Notes
from curation.validation import Failure
from retail_platform.contracts import Column, Repair

Recoerce = Callable[[pd.Series], tuple[pd.Series, list[Failure]]]


def settle(
    text: pd.Series,
    coerced: pd.Series,
    failures: list[Failure],
    column: Column,
    recoerce: Recoerce,
    notes: Notes,
    shown: Callable[[object], str],
) -> pd.Series:
    """Route each failure by its check's action; returns the column with repaired cells replaced."""
    to_repair: list[Failure] = []
    for failure in failures:
        action = column.action_for(failure.check)
        if action == "repair":
            to_repair.append(failure)
        elif action == "warn":
            notes.warnings.add_positions(failure.positions, failure.messages())
        else:
            notes.reasons.add_positions(failure.positions, failure.messages())
    if not to_repair:
        return coerced
    positions = np.unique(np.concatenate([f.positions for f in to_repair]))
    original = text.iloc[positions].astype("string").reset_index(drop=True)
    fixed = repaired_text(original, column)
    changed = (fixed.notna() & fixed.ne(original).fillna(True)).to_numpy(dtype=bool)
    candidate, again = recoerce(fixed.where(changed))
    failing = np.zeros(len(positions), dtype=bool)
    for failure in again:
        failing[failure.positions] = True
    ok = changed & ~failing & candidate.notna().to_numpy(dtype=bool)
    if ok.any():
        coerced = coerced.copy()
        coerced.iloc[positions[ok]] = candidate.iloc[np.flatnonzero(ok)].to_numpy()
        recipe = (column.repair or Repair()).describe()
        messages = [
            f"{column.name}: {shown(before)!r} -> {shown(after)!r} (repair {recipe})"
            for before, after in zip(original[ok].tolist(), fixed[ok].tolist(), strict=True)
        ]
        notes.repairs.add_positions(positions[ok], messages)
    why = _why_not(again, changed, fixed, shown)
    for failure in to_repair:
        keep = np.isin(failure.positions, positions[ok], invert=True)
        if keep.any():
            at = np.searchsorted(positions, failure.positions[keep])
            messages = np.asarray(failure.messages(), dtype=object)[keep]
            notes.reasons.add_positions(
                failure.positions[keep], [m + why.get(i, "") for m, i in zip(messages, at, strict=True)]
            )
    return coerced


def _why_not(again: list[Failure], changed: np.ndarray, fixed: pd.Series, shown: Callable[[object], str]) -> dict:
    """Per repaired cell that still fails: ' (repaired to '-3': weight_oz: must be >= 0)'."""
    failed: dict[int, list[str]] = {}
    for failure in again:
        for i, message in zip(failure.positions.tolist(), failure.messages(), strict=True):
            if changed[i]:
                failed.setdefault(i, []).append(message)
    return {i: f" (repaired to {shown(fixed.iloc[i])!r}: {'; '.join(m)})" for i, m in failed.items()}


def repaired_text(values: pd.Series, column: Column) -> pd.Series:
    """The column's repair recipe applied to failing cells' text (missing where nothing could be done)."""
    recipe = column.repair or Repair()
    text = values.astype("string").str.strip()
    for suffix in recipe.strip_suffix:
        text = text.str.removesuffix(suffix)
    for prefix in recipe.strip_prefix:
        text = text.str.removeprefix(prefix)
    if recipe.extract:
        pattern = recipe.extract if re.compile(recipe.extract).groups else f"({recipe.extract})"
        text = text.str.extract(pattern, expand=False)
    text = text.str.strip()
    if column.allowed is not None:
        by_case = {str(v).casefold(): str(v) for v in column.allowed}
        cased = text.str.casefold().map(by_case)
        text = cased.where(cased.notna(), text).astype("string")
    return text
