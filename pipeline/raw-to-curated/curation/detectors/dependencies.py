"""Violations of functional dependencies the data itself shows (or the contract declares).

A dependency `determinant -> dependent` holds when almost every determinant group of two or more rows has a
single dependent value (postcode -> city, sku -> description, order_id -> customer_id). Discovered ones must
also be informative: the same share expected by chance, if the columns were unrelated, must be low.
In a violating group the minority rows are flagged with the majority value as `expected`, when the majority
is clear (at least `majority_ratio` times as frequent as the flagged value).

A numeric dependent (a float such as a price per SKU) holds when groups are consistent (max/min within
1 + `tolerance`); a value more than `far_ratio` times away from its group's median is flagged
("prices far apart").

Of a two-way pair (sku <-> description) only one direction is checked: from the identifier, else from the
column with more distinct values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from curation.detectors.context import Context
from curation.detectors.flags import Flag, clamp, number, shown
from curation.detectors.policy import Dependency

DETERMINANT_TYPES = {"string", "int", "country", "currency", "email", "date"}
EXCLUDED_DEPENDENTS = {"text"}


@dataclass(frozen=True)
class Found:
    determinant: tuple[str, ...]
    dependent: str
    numeric: bool
    strength: float
    declared: bool


def _codes(ctx: Context, names: tuple[str, ...], rows: np.ndarray | None = None) -> np.ndarray:
    """Group codes of one or more columns (-1 when any of them is missing)."""
    out = ctx.factor(names[0]).codes
    for name in names[1:]:
        other = ctx.factor(name)
        combined = out * (other.distinct + 1) + other.codes
        combined = np.where((out < 0) | (other.codes < 0), -1, combined)
        codes, _ = pd.factorize(combined)
        out = np.where(combined < 0, -1, codes)
    return out if rows is None else out[rows]


def _is_numeric(ctx: Context, name: str) -> bool:
    return ctx.types[name] == "float"


def _exact_strength(a: np.ndarray, b: np.ndarray, nb: int, min_groups: int) -> tuple[float, float, int]:
    """(share of multi-row groups with one dependent value, that share expected by chance, number of groups)."""
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    if a.size == 0:
        return 0.0, 1.0, 0
    sizes = np.bincount(a)
    multi = sizes >= 2
    groups = int(multi.sum())
    if groups < min_groups:
        return 0.0, 1.0, groups
    pairs = pd.unique(a * np.int64(nb + 1) + b)
    distinct = np.bincount(pairs // np.int64(nb + 1), minlength=sizes.size)
    strength = float((distinct[multi] == 1).mean())
    p = np.bincount(b, minlength=nb) / b.size
    p = p[p > 0]
    baseline = 0.0
    group_sizes, how_many = np.unique(sizes[multi], return_counts=True)
    for s, k in zip(group_sizes.tolist(), how_many.tolist(), strict=True):
        baseline += k * float(np.sum(p ** min(s, 200)))
    return strength, baseline / groups, groups


def _numeric_strength(a: np.ndarray, x: np.ndarray, tolerance: float, min_groups: int,
                      shuffle: bool = False) -> tuple[float, int]:
    ok = (a >= 0) & np.isfinite(x)
    a, x = a[ok], x[ok]
    if shuffle:
        x = np.random.default_rng(1).permutation(x)
    if a.size == 0:
        return 0.0, 0
    frame = pd.DataFrame({"a": a, "x": x})
    g = frame.groupby("a")["x"].agg(["min", "max", "size"])
    g = g[g["size"] >= 2]
    if len(g) < min_groups:
        return 0.0, len(g)
    lo, hi = g["min"].to_numpy(), g["max"].to_numpy()
    consistent = (hi == lo) | ((lo > 0) & (hi <= lo * (1 + tolerance)))
    return float(consistent.mean()), len(g)


def discover(ctx: Context, params: dict) -> list[Found]:
    rows = ctx.sample_rows(int(params["max_sample_rows"]), salt=11)
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
        a = _codes(ctx, (det,), rows)
        for dep in dependents:
            if dep == det:
                continue
            if _is_numeric(ctx, dep):
                x = ctx.numbers(dep) if rows is None else ctx.numbers(dep)[rows]
                strength, groups = _numeric_strength(a, x, params["tolerance"], params["min_groups"])
                if strength < params["min_strength"]:
                    continue
                baseline, _ = _numeric_strength(a, x, params["tolerance"], params["min_groups"], shuffle=True)
            else:
                fb = ctx.factor(dep)
                b = fb.codes if rows is None else fb.codes[rows]
                strength, baseline, groups = _exact_strength(a, b, fb.distinct, params["min_groups"])
            if strength >= params["min_strength"] and baseline <= params["max_baseline"]:
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
    a = _codes(ctx, dep.determinant)
    fb = ctx.factor(dep.dependent)
    b = fb.codes
    ok = np.flatnonzero((a >= 0) & (b >= 0))
    if ok.size == 0:
        return []
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
    bad = (n_values[ra] >= 2) & (b[ok] != majority_b[ra]) & (majority_n[ra] > runner_up[ra]) \
        & (majority_n[ra] >= params["majority_ratio"] * mine)
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
    a = _codes(ctx, dep.determinant)
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
        a = _codes(ctx, d.determinant)
        if _is_numeric(ctx, d.dependent):
            strength, _ = _numeric_strength(a, ctx.numbers(d.dependent), params["tolerance"], 1)
        else:
            fb = ctx.factor(d.dependent)
            strength, _, _ = _exact_strength(a, fb.codes, fb.distinct, 1)
        out.append(Found(d.determinant, d.dependent, _is_numeric(ctx, d.dependent), strength, True))
    return out


def dependencies(ctx: Context) -> list[Found]:
    """Declared dependencies plus, unless switched off, the ones discovered in this batch (memoised)."""
    if "dependencies" not in ctx.cache:
        params = ctx.policy.params("dependency")
        found = _declared(ctx, ctx.policy.dependencies, params)
        if params["auto"]:
            known = {(f.determinant, f.dependent) for f in found}
            found += [f for f in discover(ctx, params) if (f.determinant, f.dependent) not in known]
        ctx.cache["dependencies"] = found
    return ctx.cache["dependencies"]  # type: ignore[return-value]


def detect(ctx: Context) -> list[Flag]:
    params = ctx.policy.params("dependency")
    flags: list[Flag] = []
    for dep in dependencies(ctx):
        flags.extend(_numeric_violations(ctx, dep, params) if dep.numeric else _exact_violations(ctx, dep, params))
    return flags
