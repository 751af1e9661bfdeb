"""Typos and rare variants of categorical values.

A rare value (at most `rare_share` of the column, or at most `rare_count` occurrences) that is a case,
whitespace or accent variant of a much more frequent value, or within a small Damerau-Levenshtein distance
of it, is a `typo` ('Electornics' beside 'Electronics'); with a clearly dominant variant (>= `repair_ratio`
times more frequent, no rival) the dominant value is proposed as its repair. In a grouping key
(`policy.grouping_key`: category, brand, region, ..., custom attributes) a handful of rows (at most
`rare_count`) holding a typo-shaped variant (`typo_shaped`: case/space/accent, two adjacent letters
swapped, an inner letter dropped or doubled) of the single value `key_repair_ratio` times more frequent is
also a clear repair: a 30-SKU catalogue's 'Beuaty' beside three 'Beauty' must not become a market. As
grouping keys are repaired by default, other edits there ('Boots' beside 'Books', 'Cables' beside
'Tables', 'Chair' beside 'Chairs') are never proposed as repairs, however rare: they are words of their
own as often as typos. A rare value of a low-cardinality column with no close variant, in a column whose other values
are all far more frequent, is a `rare_category` (lower confidence, never repaired).

Codes are not words: only values that are mostly letters are compared by edit distance, two values whose
digits differ ('Puzzle 1000pc' / 'Puzzle 100pc') are never typos of each other, and values shorter than 4
characters only match case/space variants ('SKU-10001' / 'sku-10001' still does). An edit repeated in the
same context across several values ('al_ami-2' / 'ak_ami-2', 'al_hf-1' / 'ak_hf-1') is structure, not a typo.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from curation.detectors.context import Context, fold
from curation.detectors.flags import Flag, clamp, shown
from curation.detectors.policy import grouping_key

_DIGITS = re.compile(r"\d+")
SYSTEMATIC = 3  # the same edit, in the same context, for this many different values is not a typo
MAX_DELETE_LENGTH = 20  # longer values are indexed with single deletions only (one edit found, not two)


def osa_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment (restricted Damerau-Levenshtein) distance, cut off above `limit`."""
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        best = cur[0]
        ca = a[i - 1]
        for j in range(1, lb + 1):
            cost = 0 if ca == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[lb]


def allowed_distance(length: int, max_distance: int, min_similarity: float) -> int:
    """How many edits a value of this length may be away from its variant."""
    if length < 4:
        return 0
    d = 1
    while d < max_distance and (d + 1) / length <= 1 - min_similarity:
        d += 1
    return d


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


@dataclass
class _Index:
    """Frequent values by folded form and by their deletion neighbourhood (SymSpell-style candidate lookup)."""

    by_fold: dict[str, list[int]]
    by_delete: dict[str, set[int]]


def wordlike(text: str) -> bool:
    """Mostly letters: a word or name that can be misspelt (a code such as 'SKU-10001' or '80331' cannot)."""
    letters = sum(ch.isalpha() for ch in text)
    return letters >= 3 and letters * 2 > len(text)


def _index(folded: list[str], members: np.ndarray, max_distance: int, min_similarity: float) -> _Index:
    by_fold: dict[str, list[int]] = {}
    by_delete: dict[str, set[int]] = {}
    for i in members.tolist():
        key = folded[i]
        by_fold.setdefault(key, []).append(i)
        if not wordlike(key):
            continue
        depth = allowed_distance(len(key), max_distance, min_similarity)
        if depth == 0:
            continue
        for d in _deletes(key, depth if len(key) <= MAX_DELETE_LENGTH else 1):
            by_delete.setdefault(d, set()).add(i)
    return _Index(by_fold, by_delete)


def _digits(text: str) -> list[str]:
    return _DIGITS.findall(text)


def candidate_columns(ctx: Context) -> list[str]:
    return [
        c
        for c in ctx.names
        if ctx.types[c] == "string"
        or (ctx.types[c] not in ("text", "email", "country", "currency") and ctx.frame[c].dtype == object)
    ]


def detect(ctx: Context) -> list[Flag]:
    typo_on, rare_on = ctx.policy.enabled("typo"), ctx.policy.enabled("rare_category")
    tp, rp = ctx.policy.params("typo"), ctx.policy.params("rare_category")
    flags: list[Flag] = []
    typo_cols = set(ctx.allowed("typo", candidate_columns(ctx))) if typo_on else set()
    rare_cols = set(ctx.allowed("rare_category", candidate_columns(ctx))) if rare_on else set()
    for name in [c for c in ctx.names if c in typo_cols or c in rare_cols]:
        f = ctx.factor(name)
        if f.distinct < 2 or f.distinct > tp["max_distinct"] or f.distinct > 0.5 * f.non_null:
            continue
        counts = f.counts.astype(np.float64)
        rare_limit = max(tp["rare_count"], tp["rare_share"] * f.non_null)
        rare = np.flatnonzero(counts <= rare_limit)
        if rare.size == 0:
            continue
        texts = ctx.texts(name)
        folded = [fold(t) for t in texts]
        key = grouping_key(name, tp["key_columns"])
        # close variants are looked for even when only rare_category runs: a misspelling is not a new category
        found: dict[int, tuple[int, int, float]] = {}  # rare code -> (variant code, distance, ratio)
        clear: set[int] = set()  # rare codes with a clear key repair despite a low ratio
        lowest = min(tp["min_ratio"], tp["key_repair_ratio"]) if key else tp["min_ratio"]
        frequent = np.flatnonzero(counts >= lowest * counts[rare].min())
        index = _index(folded, frequent, tp["max_distance"], tp["min_similarity"])
        for r in rare.tolist():
            options = _variants(r, folded, counts, index, tp, lowest)
            best = _chosen(r, options, folded, counts, tp, key)
            if best is not None:
                found[r] = best
                if best[2] < tp["repair_ratio"] and _clear_key_repair(r, options, folded, counts, tp, key):
                    clear.add(r)
        found = _without_systematic_edits(found, folded)
        if name in typo_cols:
            for r, (v, dist, ratio) in found.items():
                flags.extend(_typo_flags(f, name, r, v, dist, ratio, texts, tp, key, r in clear))
        if name in rare_cols:
            flags.extend(_rare_flags(f, name, rare, set(found), counts, rp))
    return flags


def _variants(
    r: int, folded: list[str], counts: np.ndarray, index: _Index, tp: dict, ratio: float
) -> list[tuple[int, float, int]]:
    """Values at least `ratio` times as frequent as rare value `r` and close to it: (distance, -count, code),
    closest then most frequent first. Case/space/accent variants (distance 0) exclude edit-distance ones."""
    key = folded[r]
    need = ratio * counts[r]
    options: list[tuple[int, float, int]] = []
    for v in index.by_fold.get(key, []):
        if v != r and counts[v] >= need:
            options.append((0, -counts[v], v))
    depth = allowed_distance(len(key), tp["max_distance"], tp["min_similarity"]) if wordlike(key) else 0
    if depth and not options:
        seen: set[int] = set()
        for d in _deletes(key, depth if len(key) <= MAX_DELETE_LENGTH else 1):
            seen |= index.by_delete.get(d, set())
        digits = _digits(key)
        for v in seen:
            if v == r or counts[v] < need or _digits(folded[v]) != digits:
                continue
            limit = min(depth, allowed_distance(len(folded[v]), tp["max_distance"], tp["min_similarity"]))
            dist = osa_distance(key, folded[v], limit)
            if 0 < dist <= limit:
                options.append((dist, -counts[v], v))
    return sorted(options)


def _chosen(
    r: int, options: list[tuple[int, float, int]], folded: list[str], counts: np.ndarray, tp: dict, key: bool
) -> tuple[int, int, float] | None:
    """The frequent value this rare one is most plausibly a misspelling of: (code, distance, frequency ratio).
    Below `min_ratio` only a typo-shaped variant in a grouping key counts."""
    for dist, neg, v in options:
        ratio = -neg / counts[r]
        if ratio >= tp["min_ratio"] or (key and typo_shaped(folded[r], folded[v])):
            return v, dist, ratio
    return None


def _clear_key_repair(
    r: int, options: list[tuple[int, float, int]], folded: list[str], counts: np.ndarray, tp: dict, key: bool
) -> bool:
    """A grouping key's few rows whose only close, more frequent value is a typo-shaped variant of them."""
    if not key or counts[r] > tp["rare_count"] or len({v for _, _, v in options}) != 1:
        return False
    _, neg, v = options[0]
    return -neg >= tp["key_repair_ratio"] * counts[r] and typo_shaped(folded[r], folded[v])


_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, set[str]]:
    """QWERTY keys next to each letter key (same row, and the staggered rows above and below)."""
    near: dict[str, set[str]] = {}
    for r, row in enumerate(_KEY_ROWS):
        for i, key in enumerate(row):
            spots = [(r, i - 1), (r, i + 1), (r - 1, i), (r - 1, i + 1), (r + 1, i - 1), (r + 1, i)]
            near[key] = {_KEY_ROWS[rr][ii] for rr, ii in spots if 0 <= rr < 3 and 0 <= ii < len(_KEY_ROWS[rr])}
    return near


KEYBOARD = _keyboard_neighbours()


def typo_shaped(rare: str, variant: str) -> bool:
    """`rare` is `variant` mistyped: equal once folded, two adjacent letters swapped, a letter replaced by
    its keyboard neighbour, one inner letter dropped (not the first or last: 'Shirt' is not 'Shirts'
    mistyped) or one letter doubled. 'Cables' is not 'Tables' mistyped: c and t are far apart."""
    if rare == variant:
        return True
    if len(rare) == len(variant):
        diff = [i for i, (a, b) in enumerate(zip(rare, variant, strict=True)) if a != b]
        if len(diff) == 1:
            return rare[diff[0]] in KEYBOARD.get(variant[diff[0]], set())
        if len(diff) != 2 or diff[1] != diff[0] + 1:
            return False
        return rare[diff[0]] == variant[diff[1]] and rare[diff[1]] == variant[diff[0]]
    if len(rare) == len(variant) - 1:
        return any(variant[:i] + variant[i + 1 :] == rare for i in range(1, len(variant) - 1))
    if len(rare) == len(variant) + 1:
        return any(rare[i] == rare[i - 1] and rare[:i] + rare[i + 1 :] == variant for i in range(1, len(rare)))
    return False


def edit_signature(rare: str, variant: str) -> tuple[object, ...]:
    """The edit that turns `variant` into `rare`: position, characters and one character of context on each
    side ('al_ami-2' -> 'ak_ami-2' and 'al_hf-1' -> 'ak_hf-1' both give (1, 'a', 'l', 'k', '_'))."""
    ops = [op for op in SequenceMatcher(None, variant, rare, autojunk=False).get_opcodes() if op[0] != "equal"]
    out: list[object] = []
    for _, i1, i2, j1, j2 in ops:
        out += [i1, variant[max(0, i1 - 1) : i1], variant[i1:i2], rare[j1:j2], variant[i2 : i2 + 1]]
    return tuple(out)


def _without_systematic_edits(
    found: dict[int, tuple[int, int, float]], folded: list[str]
) -> dict[int, tuple[int, int, float]]:
    """Drop variants that differ from their dominant value by an edit repeated across SYSTEMATIC values.

    Misspellings are scattered; the same edit in the same context for many different values ('al_ami-2' /
    'ak_ami-2', 'al_hf-1' / 'ak_hf-1': another state) is the data's own structure.
    """
    signatures = {r: edit_signature(folded[r], folded[v]) for r, (v, dist, _) in found.items() if dist > 0}
    counts = Counter(signatures.values())
    return {r: hit for r, hit in found.items() if counts.get(signatures.get(r), 0) < SYSTEMATIC}


def _typo_flags(f, name, r, v, dist, ratio, texts, tp, key: bool, clear_key_repair: bool) -> list[Flag]:
    """One flag per row holding rare value `r`. In a grouping key (repaired by default) only a typo-shaped
    variant is proposed as the repair, however frequent the other value."""
    closeness = {0: 1.0, 1: 0.95}.get(dist, 0.85)
    confidence = clamp(closeness * (0.55 + 0.45 * ratio / (ratio + 5)))
    strong = ratio >= tp["repair_ratio"] and (not key or typo_shaped(fold(texts[r]), fold(texts[v])))
    repair = texts[v] if strong or clear_key_repair else None
    expected = shown(texts[v])
    rows = np.flatnonzero(f.codes == r)
    observed = shown(texts[r])
    return [Flag(int(row), name, "typo", confidence, expected, observed, repair) for row in rows.tolist()]


def _rare_flags(f, name, rare, typo_codes, counts, rp) -> list[Flag]:
    if f.distinct > rp["max_distinct"] or f.non_null < rp["min_rows"]:
        return []
    very_rare = [r for r in rare.tolist() if counts[r] <= rp["max_count"]]
    if not very_rare or len(very_rare) > rp["max_rare_values"]:
        return []
    others = np.delete(counts, very_rare)
    if others.size == 0:
        return []
    floor = others.min()
    flags: list[Flag] = []
    for r in very_rare:
        if r in typo_codes or floor < rp["gap_ratio"] * counts[r]:
            continue
        gap = floor / counts[r]
        confidence = clamp(0.35 + 0.25 * min(1.0, gap / (4 * rp["gap_ratio"])))
        usual = [shown(f.uniques[i]) for i in np.argsort(-counts, kind="stable")[:3].tolist() if i not in very_rare]
        expected = usual[0] if len(others) == 1 else f"one of the {len(others)} usual values ({', '.join(usual)}…)"
        for row in np.flatnonzero(f.codes == r).tolist():
            flags.append(Flag(int(row), name, "rare_category", confidence, expected, shown(f.uniques[r])))
    return flags
