"""A bank of questions with ground truth computed here with plain pandas, independently of the copilot's engine.

`build_bank(mart, kpis)` picks entities and periods from the data and returns cases; `score(copilot, cases)`
asks every question and compares the copilot's numbers with the expected ones. Used by the unit tests (generated
data), the integration tests (Online Retail through the pipeline) and tools/benchmarks/retail-copilot.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

TOLERANCE = 0.011  # answers are rounded to cents


@dataclass
class Case:
    question: str
    intent: str  # the intent the case exercises (for per-intent figures)
    expected: Any
    check: Callable[[dict[str, Any], Any], bool]
    session: str | None = None  # cases sharing a session are asked in order (follow-ups)
    kind: str = "answer"  # answer | refusal


@dataclass
class Score:
    total: int = 0
    correct: int = 0
    by_intent: dict[str, list[int]] = field(default_factory=dict)
    failures: list[tuple[str, Any, Any]] = field(default_factory=list)
    refusals_total: int = 0
    refusals_correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def refusal_rate(self) -> float:
        return self.refusals_correct / self.refusals_total if self.refusals_total else 1.0


# ---------------------------------------------------------------------- checks


def _close(a: Any, b: Any) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) <= TOLERANCE


def check_value(answer: dict[str, Any], expected: float) -> bool:
    return answer["status"] == "answered" and _close(answer["value"], expected)


def check_groups(answer: dict[str, Any], expected: dict[str, float]) -> bool:
    if answer["status"] != "answered":
        return False
    groups = answer["details"].get("groups", {})
    return set(groups) == set(expected) and all(_close(groups[k], v) for k, v in expected.items())


def check_ranking(answer: dict[str, Any], expected: list[tuple[str, float]]) -> bool:
    """Same values in the same order; keys must match wherever the value is not tied."""
    if answer["status"] != "answered" or answer["table"] is None:
        return False
    ranking = answer["details"].get("ranking", [])
    values = [row[-1] for row in answer["table"]["rows"]]
    if len(ranking) != len(expected) or not all(_close(v, e[1]) for v, e in zip(values, expected, strict=True)):
        return False
    counts = pd.Series([round(e[1], 2) for e in expected]).value_counts()
    return all(k == e[0] or counts[round(e[1], 2)] > 1 for k, e in zip(ranking, expected, strict=True))


def check_series(answer: dict[str, Any], expected: dict[str, float]) -> bool:
    if answer["status"] != "answered":
        return False
    series = answer["details"].get("series", {})
    return set(series) == set(expected) and all(_close(series[k], v) for k, v in expected.items())


def check_refusal(answer: dict[str, Any], _: Any) -> bool:
    """Honest: refused (or asked to clarify), and no number given."""
    return answer["status"] in ("refused", "clarify") and answer["value"] is None


def check_not_available(answer: dict[str, Any], dataset: str) -> bool:
    return answer["status"] == "answered" and "not available yet" in answer["answer"] and dataset in answer["answer"]


# ---------------------------------------------------------------------- ground truth (plain pandas)


def _window(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    return frame[(frame["date"] >= pd.Timestamp(start)) & (frame["date"] <= pd.Timestamp(end))]


class Truth:
    def __init__(self, mart: pd.DataFrame, kpis: pd.DataFrame) -> None:
        self.mart = mart.assign(date=pd.to_datetime(mart["date"]))
        self.kpis = kpis.assign(date=pd.to_datetime(kpis["date"]))
        self.anchor = self.mart["date"].max().date()

    def value(self, metric: str, start: date, end: date, country: str | None = None, sku: str | None = None) -> float:
        if metric in ("revenue", "units") or sku is not None:
            rows = _window(self.mart, start, end)
            if country:
                rows = rows[rows["country"] == country]
            if sku:
                rows = rows[rows["sku"] == sku]
            column = {"revenue": "revenue_reporting", "units": "units", "orders": "orders"}[metric]
            return float(rows[column].sum())
        rows = _window(self.kpis, start, end)
        if country:
            rows = rows[rows["country"] == country]
        if metric == "orders":
            return float(rows["orders"].sum())
        if metric == "aov":
            orders = rows["orders"].sum()
            return float(rows["revenue_reporting"].sum() / orders) if orders else float("nan")
        raise ValueError(metric)

    def groups(self, metric: str, by: str, start: date, end: date, country: str | None = None) -> dict[str, float]:
        rows = _window(self.mart, start, end)
        if country:
            rows = rows[rows["country"] == country]
        column = "revenue_reporting" if metric == "revenue" else metric
        sums = rows.groupby(by)[column].sum()
        return {str(k): float(v) for k, v in sums.items() if not pd.isna(v)}

    def ranking(self, metric: str, by: str, n: int, start: date, end: date, country: str | None = None):
        sums = pd.Series(self.groups(metric, by, start, end, country))
        frame = sums.rename("v").rename_axis("k").reset_index().sort_values(["v", "k"], ascending=[False, True])
        return [(str(k), float(v)) for k, v in zip(frame["k"].head(n), frame["v"].head(n), strict=True)]

    def weekly(self, metric: str, start: date, end: date, country: str | None = None) -> dict[str, float]:
        rows = _window(self.mart, start, end)
        if country:
            rows = rows[rows["country"] == country]
        column = "revenue_reporting" if metric == "revenue" else metric
        iso = rows["date"].dt.isocalendar()
        labels = iso["year"].astype(str) + "-W" + iso["week"].astype(int).map("{:02d}".format)
        return {str(k): float(v) for k, v in rows.groupby(labels)[column].sum().items()}


# ---------------------------------------------------------------------- periods (written out, not parsed)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    p = pd.Period(year=year, month=month, freq="M")
    return p.start_time.date(), p.end_time.date()


def quarter_bounds(year: int, q: int) -> tuple[date, date]:
    p = pd.Period(f"{year}Q{q}", freq="Q")
    return p.start_time.date(), p.end_time.date()


MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


# ---------------------------------------------------------------------- the bank

REFUSALS = [
    "What was our profit margin last month?",
    "What will the weather be like in {country} tomorrow?",
    "What is our share price today?",
    "List the email addresses of our best customers",
    "Who is the manager of the {country} store?",
    "What was the revenue in Atlantis last month?",
    "How much revenue did we make in {missing}?",
    "import os; os.system('rm -rf /')",
    "__import__('os').system('ls')",
    "What was revenue in 2031?",
    "Units sold in Q1 1999",
    "What is the conversion rate of our website?",
    "What was the return rate last month?",
    "How much did we spend on advertising?",
    "Show me the card number 4111 1111 1111 1111 transactions",
    "What is our market share against Amazon?",
    "How are we doing?",
    "What were the costs of goods sold in {country}?",
]


def _safe_products(mart: pd.DataFrame, catalog, n: int) -> list[tuple[str, str]]:
    """Best-selling products whose description names no country, month or category (unambiguous to ask)."""
    ranked = mart.groupby(["sku", "description"])["units"].sum().sort_values(ascending=False)
    picked: list[tuple[str, str]] = []
    seen: set[str] = set()
    months = "|".join(m.lower() for m in MONTH_NAMES)
    for (sku, description), _ in ranked.items():
        text = str(description).lower()
        if (
            not isinstance(description, str)
            or description in seen
            or re.search(rf"\b({months}|week|q[1-4]|\d{{4}})\b", text)
            or catalog.find_countries(text, str(description))[0]
            or catalog.find_categories(text)[0]
            or len(description.split()) < 2
        ):
            continue
        matches = catalog.match_products(description)
        if not matches or matches[0][0] != sku or (len(matches) > 1 and matches[1][1] >= matches[0][1] - 0.5):
            continue
        seen.add(description)
        picked.append((sku, description))
        if len(picked) == n:
            break
    return picked


def build_bank(mart: pd.DataFrame, kpis: pd.DataFrame, catalog) -> list[Case]:
    truth = Truth(mart, kpis)
    anchor = truth.anchor
    cases: list[Case] = []
    countries = list(catalog.countries)[:3]
    names = [catalog.countries[c] for c in countries]
    missing = next(n for n in ("Japan", "Brazil", "Mexico", "India", "Kenya") if n not in catalog.countries.values())

    # periods named in full
    last_month_end = anchor.replace(day=1) - timedelta(days=1)
    lm = month_bounds(last_month_end.year, last_month_end.month)
    prev = lm[0] - timedelta(days=1)
    pm = month_bounds(prev.year, prev.month)
    q_now = (anchor.month - 1) // 3 + 1
    quarter = quarter_bounds(anchor.year, q_now - 1) if q_now > 1 else quarter_bounds(anchor.year - 1, 4)
    quarter_label = f"Q{(quarter[0].month - 1) // 3 + 1} {quarter[0].year}"
    iso = anchor.isocalendar()
    week_start = date.fromisocalendar(iso.year, iso.week, 1) - timedelta(days=14)
    week = (week_start, week_start + timedelta(days=6))
    wk = week_start.isocalendar()
    periods = [
        ("last month", lm),
        (f"in {MONTH_NAMES[pm[0].month - 1]} {pm[0].year}", pm),
        (f"in {quarter_label}", quarter),
        (f"in week {wk.week} {wk.year}", week),
        ("in the last 7 days", (anchor - timedelta(days=6), anchor)),
        ("in the last 30 days", (anchor - timedelta(days=29), anchor)),
        ("yesterday", (anchor - timedelta(days=1), anchor - timedelta(days=1))),
        (
            f"between {lm[0].isoformat()} and {(lm[0] + timedelta(days=9)).isoformat()}",
            (lm[0], lm[0] + timedelta(days=9)),
        ),
    ]

    # only periods that lie inside the data (outside it the honest answer is a refusal, asked separately)
    first = truth.mart["date"].min().date()
    periods = [p for p in periods if p[1][0] >= first]
    if quarter[0] < first:
        quarter = lm
        periods[2] = ("last month", lm)

    # totals: metric x country x period
    for label, (start, end) in periods:
        for code, name in zip(countries, names, strict=True):
            cases.append(
                Case(
                    f"What was the total revenue in {name} {label}?",
                    "totals",
                    truth.value("revenue", start, end, code),
                    check_value,
                )
            )
            cases.append(
                Case(
                    f"How many units did we sell in {name} {label}?",
                    "totals",
                    truth.value("units", start, end, code),
                    check_value,
                )
            )
        cases.append(Case(f"How many orders {label}?", "totals", truth.value("orders", start, end), check_value))
    for code, name in zip(countries, names, strict=True):
        for label, (start, end) in periods[:3]:
            cases.append(
                Case(
                    f"Number of orders in {name} {label}",
                    "totals",
                    truth.value("orders", start, end, code),
                    check_value,
                )
            )
            orders = truth.value("orders", start, end, code)
            if orders > 0:
                aov = truth.value("aov", start, end, code)
                cases.append(Case(f"Average order value in {name} {label}", "totals", aov, check_value))
    # a country by its code
    cases.append(
        Case(f"Units sold in {countries[0]} last month", "totals", truth.value("units", *lm, countries[0]), check_value)
    )

    # products by fuzzy name
    for sku, description in _safe_products(truth.mart, catalog, 6):
        words = description.lower()
        cases.append(
            Case(
                f"How many units of {words} did we sell {periods[2][0]}?",
                "totals",
                truth.value("units", *quarter, sku=sku),
                check_value,
            )
        )
        cases.append(
            Case(f"Revenue of {words} last month", "totals", truth.value("revenue", *lm, sku=sku), check_value)
        )

    # breakdowns
    for label, (start, end) in periods[:4]:
        cases.append(
            Case(
                f"Revenue by country {label}", "breakdown", truth.groups("revenue", "country", start, end), check_groups
            )
        )
        cases.append(
            Case(
                f"Units by category in {names[0]} {label}",
                "breakdown",
                truth.groups("units", "category", start, end, countries[0]),
                check_groups,
            )
        )

    # top-N
    for label, (start, end) in periods[:4]:
        for n, (code, name) in zip((3, 5, 10), zip(countries, names, strict=True), strict=False):
            cases.append(
                Case(
                    f"Top {n} products by units in {name} {label}",
                    "top",
                    truth.ranking("units", "sku", n, start, end, code),
                    check_ranking,
                )
            )
        cases.append(
            Case(
                f"Which country had the highest revenue {label}?",
                "top",
                truth.ranking("revenue", "country", 1, start, end),
                check_ranking,
            )
        )
        cases.append(
            Case(
                f"Top 3 categories by revenue {label}",
                "top",
                truth.ranking("revenue", "category", 3, start, end),
                check_ranking,
            )
        )

    # comparisons
    for code, name in zip(countries, names, strict=True):
        for metric in ("revenue", "units"):
            expected = truth.value(metric, *lm, code) - truth.value(metric, *pm, code)
            cases.append(
                Case(
                    f"How did {metric} in {name} in {MONTH_NAMES[lm[0].month - 1]} {lm[0].year} compare with "
                    f"{MONTH_NAMES[pm[0].month - 1]} {pm[0].year}?",
                    "compare",
                    expected,
                    check_value,
                )
            )
        week_before = (week[0] - timedelta(days=7), week[1] - timedelta(days=7))
        cases.append(
            Case(
                f"Why did sales drop in {name} in week {wk.week} {wk.year}?",
                "compare",
                truth.value("revenue", *week, code) - truth.value("revenue", *week_before, code),
                check_value,
            )
        )

    # trends
    for code, name in zip([None, *countries[:2]], ["", *names[:2]], strict=True):
        where = f" in {name}" if name else ""
        cases.append(
            Case(
                f"Weekly units trend{where} {periods[2][0]}",
                "trend",
                truth.weekly("units", *quarter, code),
                check_series,
            )
        )

    # follow-ups (multi-turn)
    for i, (label, (start, end)) in enumerate(periods[:3]):
        session = f"bank-follow-up-{i}"
        cases.append(
            Case(
                f"Total revenue in {names[0]} {label}",
                "totals",
                truth.value("revenue", start, end, countries[0]),
                check_value,
                session,
            )
        )
        cases.append(
            Case(
                f"And in {names[1]}?",
                "follow-up",
                truth.value("revenue", start, end, countries[1]),
                check_value,
                session,
            )
        )
        cases.append(
            Case("What about units?", "follow-up", truth.value("units", start, end, countries[1]), check_value, session)
        )
        cases.append(
            Case(
                "Break that down by category",
                "follow-up",
                truth.groups("units", "category", start, end, countries[1]),
                check_groups,
                session,
            )
        )

    # insights that do not exist in a bare prod bucket
    cases.append(Case("Any fraud alerts today?", "fraud", "fraud_alerts", check_not_available))
    cases.append(
        Case("What is the demand forecast for next week?", "forecast", "demand_forecasts", check_not_available)
    )
    cases.append(Case("How does the market pulse look?", "pulse", "pulse", check_not_available))

    # honest refusals
    for text in REFUSALS:
        cases.append(
            Case(text.format(country=names[0], missing=missing), "refusal", None, check_refusal, kind="refusal")
        )
    return cases


def score(ask: Callable[[str, str | None], dict[str, Any]], cases: list[Case]) -> Score:
    result = Score()
    for case in cases:
        answer = ask(case.question, case.session)
        ok = bool(case.check(answer, case.expected))
        result.total += 1
        result.correct += ok
        tally = result.by_intent.setdefault(case.intent, [0, 0])
        tally[0] += ok
        tally[1] += 1
        if case.kind == "refusal":
            result.refusals_total += 1
            result.refusals_correct += ok
        if not ok:
            result.failures.append((case.question, case.expected, answer.get("answer")))
    return result
