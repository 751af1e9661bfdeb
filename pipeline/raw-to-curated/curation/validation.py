"""Contract checks on coerced rows: required values, ranges, enumerations, patterns and rules.

Produces, per row, the reasons that quarantine it and the warnings that travel with it into curated.
"""

from __future__ import annotations

import operator

import pandas as pd

from retail_platform.contracts import CanonicalDataset, Condition, Rule

_OPS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}


def condition_mask(frame: pd.DataFrame, cond: Condition) -> pd.Series:
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
    return pd.Series(mask, index=frame.index).fillna(False).astype(bool)


def column_checks(frame: pd.DataFrame, canonical: CanonicalDataset, reasons: list[list[str]]) -> None:
    positions = range(len(frame))
    for name, column in canonical.columns.items():
        values = frame[name]
        failures: list[tuple[pd.Series, str]] = []
        if column.required:
            failures.append((values.isna(), f"{name}: required value is missing"))
        if column.min is not None or column.max is not None:
            numbers = pd.to_numeric(values, errors="coerce")
            if column.min is not None:
                low = numbers <= column.min if column.min_exclusive else numbers < column.min
                sign = ">" if column.min_exclusive else ">="
                failures.append((low.fillna(False), f"{name}: must be {sign} {column.min}"))
            if column.max is not None:
                failures.append(((numbers > column.max).fillna(False), f"{name}: must be <= {column.max}"))
        if column.allowed is not None:
            outside = values.notna() & ~values.isin(list(column.allowed))
            failures.append((outside, f"{name}: must be one of {list(column.allowed)}"))
        if column.pattern is not None:
            matches = values.astype("string").str.fullmatch(column.pattern)
            wrong = values.notna() & ~matches.fillna(True).astype(bool)
            failures.append((wrong, f"{name}: does not match {column.pattern}"))
        for mask, message in failures:
            for i in (p for p, hit in zip(positions, mask.to_numpy(), strict=True) if hit):
                if not any(r.startswith(f"{name}:") for r in reasons[i]):  # one reason per cell is enough
                    reasons[i].append(message)


def apply_rules(
    frame: pd.DataFrame, rules: tuple[Rule, ...], reasons: list[list[str]], warnings: list[list[str]]
) -> dict[str, int]:
    """Evaluate cross-field rules; returns how many rows each rule flagged."""
    counts: dict[str, int] = {}
    for rule in rules:
        hit = condition_mask(frame, rule.when)
        if rule.then is not None:
            hit &= ~condition_mask(frame, rule.then)
        counts[rule.name] = int(hit.sum())
        target = reasons if rule.action == "quarantine" else warnings
        label = f"rule {rule.name}" if rule.action == "quarantine" else rule.name
        for i, flagged in enumerate(hit.to_numpy()):
            if flagged:
                target[i].append(label)
    return counts
