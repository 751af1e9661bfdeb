"""Conversion factors into the reporting currency as SQL.

A rate row (date, base, quote, rate) says 1 base = rate quote; a factor is "reporting units per 1 unit".

Each currency pair's rate is forward-filled to the days amounts need converting on (the last rate on or
before the day), then every currency reachable through the pairs gets its factor as a chain of rates:
the chains come from a breadth-first search over the distinct pairs, run here in Python on the handful
of pairs present, so the SQL holds only arithmetic. Days before a pair's first rate, and currencies with no
path to the reporting currency, get no factor (NULL): an amount is never converted with a guess.
"""

# ruff: noqa: S608 - this module generates SQL: identifiers quoted, data values escaped literals, run values bound
from __future__ import annotations

from collections import deque

Pair = tuple[str, str]


def literal(text: str) -> str:
    """A string value from the data as a SQL literal (quotes doubled)."""
    return "'" + str(text).replace("'", "''") + "'"


def chains(pairs: list[Pair], reporting: str) -> dict[str, list[tuple[int, str]]]:
    """Currency -> [(pair index, "/" or "*")] turning reporting-per-known into reporting-per-currency.

    Pairs in sorted order, breadth-first from the reporting currency: the shortest chain wins, ties broken
    by sorted pair order."""
    pairs = sorted(set(pairs))
    neighbours: dict[str, list[tuple[str, int]]] = {}
    for index, (base, quote) in enumerate(pairs):
        neighbours.setdefault(base, []).append((quote, index))
        neighbours.setdefault(quote, []).append((base, index))
    found: dict[str, list[tuple[int, str]]] = {reporting: []}
    queue = deque([reporting])
    while queue:
        known = queue.popleft()
        for other, index in neighbours.get(known, []):
            if other in found:
                continue
            # 1 base = rate quote: reporting-per-quote = reporting-per-base / rate, and vice versa
            found[other] = [*found[known], (index, "/" if known == pairs[index][0] else "*")]
            queue.append(other)
    return found


def factor_ctes(pairs: list[Pair], reporting: str, days: str) -> list[tuple[str, str]]:
    """CTEs ending in `factors(date, currency, factor)` for the days of the relation `days(date)`, from the
    normalised `norm_fx_rates`. `pairs`: the distinct valid (base, quote) pairs of those rates."""
    pairs = sorted(set(pairs))
    found = chains(pairs, reporting)
    ctes = [("fx_days", f"SELECT DISTINCT date FROM {days}")]
    selects = [f"SELECT date, {literal(reporting)} AS currency, CAST(1.0 AS DOUBLE) AS factor FROM fx_days"]
    if pairs:
        ctes += [
            (
                "fx_valid",
                "SELECT date, base_currency AS base, quote_currency AS quote, rate FROM norm_fx_rates "
                "WHERE rate IS NOT NULL AND rate > 0 AND base_currency <> quote_currency",
            ),
            (
                "fx_grid",
                "SELECT d.date, p.base, p.quote, CAST(NULL AS DOUBLE) AS rate, 1 AS is_day FROM fx_days AS d "
                "CROSS JOIN (SELECT DISTINCT base, quote FROM fx_valid) AS p "
                "UNION ALL SELECT date, base, quote, rate, 0 AS is_day FROM fx_valid",
            ),
            (
                "fx_filled",
                "SELECT date, base, quote, is_day, last_value(rate IGNORE NULLS) OVER (PARTITION BY base, quote "
                "ORDER BY date, is_day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS rate FROM fx_grid",
            ),
            (
                "fx_wide",
                "SELECT date, "
                + ", ".join(
                    f"max(CASE WHEN base = {literal(b)} AND quote = {literal(q)} THEN rate END) AS r{i}"
                    for i, (b, q) in enumerate(pairs)
                )
                + " FROM fx_filled WHERE is_day = 1 GROUP BY date",
            ),
        ]
        for currency, chain in sorted(found.items()):
            if not chain:
                continue
            expression = "CAST(1.0 AS DOUBLE)"
            for index, op in chain:
                expression = f"({expression} {op} r{index})"
            selects.append(f"SELECT date, {literal(currency)} AS currency, {expression} AS factor FROM fx_wide")
    ctes.append(("factors", " UNION ALL ".join(selects)))
    return ctes


def converted(amount: str, alias: str = "x") -> str:
    """An amount in the reporting currency given the joined `factors` row `alias`: zero stays zero (in any
    currency), no known factor gives NULL."""
    return f"CASE WHEN {amount} = 0 THEN 0.0 ELSE {amount} * {alias}.factor END"
