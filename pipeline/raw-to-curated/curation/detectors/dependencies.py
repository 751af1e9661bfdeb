"""Violations of functional dependencies the data itself shows (or the contract declares).

Strength of `determinant -> dependent`: the share of the rows, in determinant groups of two or more rows,
that carry their group's majority value (1 - the g3 error of TANE). A dependency is discovered when its
strength is at least `min_strength` over at least `min_groups` groups (postcode -> city, sku -> description,
order_id -> customer_id) and it is informative: its violations are at most `max_error_ratio` of those left
when the dependent is shuffled (a nearly constant column 'depends' on anything). Discovery runs on whole
determinant groups sampled to about `max_sample_rows` rows of a file's first batch (its later batches keep what
it found); violations are then looked for in every row.
Placeholder determinant values ('N/A', '0000') form no group. Free text and event times are never
discovered as dependents (an order's cancellation lines carry a later time than its sale lines).

In a violating group the minority rows are flagged with the majority value as `expected`, when the majority
is clear: a strict majority of the group, at least `majority_ratio` times as frequent as the flagged value.
A numeric dependent (a float such as a price per SKU) agrees when within 1 + `tolerance` of its group's
median; a value more than `far_ratio` times away from it is flagged ("prices far apart").

Of a two-way pair (sku <-> description) only one direction is checked: from the identifier, else from the
column with more distinct values. A row disagreeing with its determinant group on several dependents at once
is taken for another entity sharing the key (postcode 10115 in Berlin and in New York) and not flagged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from curation.detectors.context import Context
from curation.detectors.flags import Flag, clamp, number, shown
from curation.detectors.placeholders import placeholder_codes
from curation.detectors.policy import Dependency

DETERMINANT_TYPES = {"string", "int", "country", "currency", "email", "date"}
# never discovered as dependents: free text, and event times (an order's cancellation lines carry a later
# time than its sale lines); a contract can still declare such a dependency
EXCLUDED_DEPENDENTS = {"text", "timestamp"}


@dataclass(frozen=True)
class Found:
    determinant: tuple[str, ...]
    dependent: str
    numeric: bool
    strength: float
    declared: bool


def _is_numeric(ctx: Context, name: str) -> bool:
    return ctx.types[name] == "float"


def _agreement(a: np.ndarray, b: np.ndarray, nb: int) -> tuple[float, int]:
    """(share of the rows in multi-row determinant groups that carry their group's majority value, groups).

    1 - agreement is the g3 error of the dependency a -> b: the share of rows to drop for it to hold exactly.
    """
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    if a.size == 0:
        return 0.0, 0
    sizes = np.bincount(a)
    multi = sizes[a] >= 2
    a, b = a[multi], b[multi]
    if a.size == 0:
        return 0.0, 0
    pair_id, pairs = pd.factorize(a * np.int64(nb + 1) + b)
    counts = np.bincount(pair_id)
    majority = np.zeros(sizes.size, dtype=np.int64)
    np.maximum.at(majority, pairs // np.int64(nb + 1), counts)
    return float(majority.sum() / a.size), int((sizes >= 2).sum())


def _numeric_agreement(a: np.ndarray, x: np.ndarray, tolerance: float) -> tuple[float, int]:
    """(share of the rows in multi-row groups within `tolerance` of their group's median, groups)."""
    ok = (a >= 0) & np.isfinite(x)
    a, x = a[ok], x[ok]
    if a.size == 0:
        return 0.0, 0
    sizes = np.bincount(a)
    multi = sizes[a] >= 2
    a, x = a[multi], x[multi]
    if a.size == 0:
        return 0.0, 0
    median = pd.Series(x).groupby(a).transform("median").to_numpy()
    close = (x == median) | ((median > 0) & (np.abs(x / np.where(median > 0, median, 1) - 1) <= tolerance))
    return float(close.mean()), int((sizes >= 2).sum())


def _group_sample(a: np.ndarray, max_rows: int) -> np.ndarray:
    """Rows of a deterministic sample of whole determinant groups (about max_rows rows)."""
    valid = a >= 0
    n = int(valid.sum())
    if n <= max_rows:
        return np.flatnonzero(valid)
    m = int(np.ceil(n / max_rows))
    with np.errstate(over="ignore"):
        chosen = ((a.astype(np.uint64) * np.uint64(2654435761)) >> np.uint64(7)) % np.uint64(m) == 0
    return np.flatnonzero(valid & chosen)


def _strength(
    ctx: Context, a: np.ndarray, dep: str, params: dict, rows: np.ndarray | None = None, shuffle: bool = False
) -> tuple[float, int]:
    """Agreement of dependent `dep` with determinant codes `a` (given for `rows`, or for every row)."""
    rng = np.random.default_rng(1)
    if _is_numeric(ctx, dep):
        x = ctx.numbers(dep) if rows is None else ctx.numbers(dep)[rows]
        return _numeric_agreement(a, x if not shuffle else rng.permutation(x), params["tolerance"])
    fb = ctx.factor(dep)
    b = fb.codes if rows is None else fb.codes[rows]
    return _agreement(a, b if not shuffle else rng.permutation(b), fb.distinct)


def determinant_codes(ctx: Context, names: tuple[str, ...]) -> np.ndarray:
    """Group codes of the determinant, -1 where a part is missing or a placeholder ('N/A', '0000'). Memoised."""
    key = ("determinant", names)
    if key in ctx.cache:
        return ctx.cache[key]  # type: ignore[return-value]
    masked = []
    for name in names:
        codes = ctx.factor(name).codes
        bad = np.array(sorted(placeholder_codes(ctx, name)), dtype=np.int64) if ctx.is_text_valued(name) else []
        masked.append(np.where(np.isin(codes, bad), -1, codes) if len(bad) else codes)
    out = masked[0]
    for name, codes in zip(names[1:], masked[1:], strict=True):
        combined = np.where((out < 0) | (codes < 0), -1, out * np.int64(ctx.factor(name).distinct + 1) + codes)
        ids, _ = pd.factorize(combined)
        out = np.where(combined < 0, -1, ids)
    ctx.cache[key] = out
    return out


def discover(ctx: Context, params: dict) -> list[Found]:
    names = ctx.allowed("dependency", ctx.names)
    determinants = []
    for name in names:
        f = ctx.factor(name)
        if ctx.types[name] not in DETERMINANT_TYPES or f.distinct < 2 or f.distinct > 0.9 * f.non_null:
            continue
        determinants.append(name)
    dependents = [c for c in names if ctx.types[c] not in EXCLUDED_DEPENDENTS and ctx.factor(c).distinct >= 2]
    found: list[Found] = []
    for det in determinants:
        full = determinant_codes(ctx, (det,))
        rows = _group_sample(full, int(params["max_sample_rows"]))
        a = full[rows]
        det_distinct = ctx.factor(det).distinct
        for dep in dependents:
            if dep == det or (not _is_numeric(ctx, dep) and ctx.factor(dep).distinct > 1.1 * det_distinct + 10):
                continue  # a dependent with many more values than its determinant cannot depend on it
            strength, groups = _strength(ctx, a, dep, params, rows)
            if groups < params["min_groups"] or strength < params["min_strength"]:
                continue
            baseline, _ = _strength(ctx, a, dep, params, rows, shuffle=True)
            if (1 - strength) > params["max_error_ratio"] * (1 - baseline):
                continue  # the dependent is nearly constant: the 'dependency' explains nothing
            found.append(Found((det,), dep, _is_numeric(ctx, dep), strength, False))
    return _one_direction(ctx, found)


def _one_direction(ctx: Context, found: list[Found]) -> list[Found]:
    pairs = {(f.determinant[0], f.dependent) for f in found}
    order = {c: i for i, c in enumerate(ctx.names)}

    def rank(c: str) -> tuple:
        return (c in ctx.identifiers, ctx.factor(c).distinct, -order[c])

    keep = []
    for f in found:
        a, b = f.determinant[0], f.dependent
        if (b, a) in pairs and rank(b) > rank(a):
            continue
        keep.append(f)
    return keep


def _exact_violations(ctx: Context, dep: Found, params: dict) -> list[Flag]:
    a = determinant_codes(ctx, dep.determinant)
    fb = ctx.factor(dep.dependent)
    b = fb.codes
    valid = (a >= 0) & (b >= 0)
    if not valid.any():
        return []
    na = int(a.max()) + 1
    low = np.full(na, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(na, -1, dtype=np.int64)
    np.minimum.at(low, a[valid], b[valid])
    np.maximum.at(high, a[valid], b[valid])
    mixed = low < high  # determinant groups with more than one dependent value: the only ones to look at
    if not mixed.any():
        return []
    ok = np.flatnonzero(valid & mixed[np.maximum(a, 0)])
    pair = a[ok] * np.int64(fb.distinct + 1) + b[ok]
    pair_id, pair_values = pd.factorize(pair)
    pair_count = np.bincount(pair_id)
    pair_a = pair_values // np.int64(fb.distinct + 1)
    pair_b = pair_values % np.int64(fb.distinct + 1)
    n_values = np.bincount(pair_a)
    if not (n_values >= 2).any():
        return []
    table = pd.DataFrame({"a": pair_a, "b": pair_b, "count": pair_count})
    table = table[n_values[pair_a] >= 2].sort_values(["a", "count", "b"], ascending=[True, False, True])
    first = table.groupby("a").nth(0).set_index("a")
    second = table.groupby("a").nth(1).set_index("a")
    size = table.groupby("a")["count"].sum()
    majority_b = np.full(n_values.size, -1, dtype=np.int64)
    majority_n = np.zeros(n_values.size)
    runner_up = np.zeros(n_values.size)
    total = np.zeros(n_values.size)
    majority_b[first.index.to_numpy()] = first["b"].to_numpy()
    majority_n[first.index.to_numpy()] = first["count"].to_numpy()
    runner_up[second.index.to_numpy()] = second["count"].to_numpy()
    total[size.index.to_numpy()] = size.to_numpy()
    ra = a[ok]
    mine = pair_count[pair_id]
    bad = (
        (n_values[ra] >= 2)
        & (b[ok] != majority_b[ra])
        & (majority_n[ra] > runner_up[ra])
        & (majority_n[ra] >= params["majority_ratio"] * mine)
        & (majority_n[ra] * 2 > total[ra])
    )
    flags = []
    for i in np.flatnonzero(bad).tolist():
        row = int(ok[i])
        g = int(ra[i])
        share = majority_n[g] / total[g]
        confidence = clamp(dep.strength * (0.5 + 0.5 * share)) if not dep.declared else clamp(0.6 + 0.35 * share)
        expected = shown(fb.uniques[majority_b[g]])
        flags.append(Flag(row, dep.dependent, "dependency", confidence, expected, shown(fb.uniques[b[row]])))
    return flags


def _numeric_violations(ctx: Context, dep: Found, params: dict) -> list[Flag]:
    a = determinant_codes(ctx, dep.determinant)
    x = ctx.numbers(dep.dependent)
    ok = np.flatnonzero((a >= 0) & np.isfinite(x))
    if ok.size == 0:
        return []
    frame = pd.DataFrame({"a": a[ok], "x": x[ok]})
    grouped = frame.groupby("a")["x"]
    median = grouped.transform("median").to_numpy()
    size = grouped.transform("size").to_numpy()
    far = params["far_ratio"]
    xv = frame["x"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = xv / median
    bad = (size >= 3) & (median > 0) & ((xv <= 0) | (ratio > far) | (ratio < 1 / far))
    flags = []
    for i in np.flatnonzero(bad).tolist():
        row = int(ok[i])
        r = ratio[i] if ratio[i] > 0 else far * 10
        spread = abs(np.log(r)) / np.log(far)
        confidence = clamp(dep.strength * min(0.95, 0.5 + 0.2 * spread))
        expected = f"≈ {number(median[i])} (median for the same {', '.join(dep.determinant)})"
        flags.append(Flag(row, dep.dependent, "dependency", confidence, expected, shown(xv[i])))
    return flags


def _declared(ctx: Context, deps: tuple[Dependency, ...], params: dict) -> list[Found]:
    out = []
    for d in deps:
        if d.dependent not in ctx.types or any(c not in ctx.types for c in d.determinant):
            continue  # a column the batch does not carry
        strength, _ = _strength(ctx, determinant_codes(ctx, d.determinant), d.dependent, params)
        out.append(Found(d.determinant, d.dependent, _is_numeric(ctx, d.dependent), strength, True))
    return out


def dependencies(ctx: Context) -> list[Found]:
    """Declared dependencies plus, unless switched off, the ones discovered in this batch (memoised)."""
    if "dependencies" not in ctx.cache:
        params = ctx.policy.params("dependency")
        found = _declared(ctx, ctx.policy.dependencies, params)
        if params["auto"]:
            known = {(f.determinant, f.dependent) for f in found}
            if "discovered" not in ctx.memo:  # found on the file's first batch, looked for in every batch
                ctx.memo["discovered"] = discover(ctx, params)
            discovered: list[Found] = ctx.memo["discovered"]  # type: ignore[assignment]
            found += [
                f
                for f in discovered
                if (f.determinant, f.dependent) not in known
                and all(c in ctx.types for c in (*f.determinant, f.dependent))
            ]
        ctx.cache["dependencies"] = found
    return ctx.cache["dependencies"]  # type: ignore[return-value]


def detect(ctx: Context) -> list[Flag]:
    params = ctx.policy.params("dependency")
    by_determinant: dict[tuple[str, ...], list[Flag]] = {}
    for dep in dependencies(ctx):
        found = _numeric_violations(ctx, dep, params) if dep.numeric else _exact_violations(ctx, dep, params)
        by_determinant.setdefault(dep.determinant, []).extend(found)
    flags: list[Flag] = []
    for found in by_determinant.values():
        # a row disagreeing with its group on several dependents at once (postcode 10115 in Berlin and in
        # New York) is another entity sharing the key, not a wrong value
        per_row = Counter(f.row for f in found)
        flags.extend(f for f in found if per_row[f.row] == 1)
    return flags
