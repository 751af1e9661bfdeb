"""Periods in questions ("last month", "Q3 2011", "week 12", "yesterday") resolved against the data's latest day.

Every relative period is anchored on the latest date present in the data, not on the wall clock, so that
the same question over the same data always gets the same answer. The definitions (documented in
docs/ai-systems/retail-copilot.md) are:

* today / yesterday: the latest day / the day before it;
* this week / last week: the ISO week (Monday-Sunday) holding the latest day (up to it) / the week before;
* this month / last month, this quarter / last quarter, this year / last year: calendar units, the current
  one up to the latest day, the previous one whole;
* last N days / weeks / months: the N days / 7N days / N months ending on the latest day;
* week N [YYYY]: ISO week N; Qn [YYYY]: calendar quarter; a month name [YYYY]; a year YYYY; an ISO date
  YYYY-MM-DD; "from <date> to <date>" / "between <date> and <date>".
  Without a year: the most recent such period that starts on or before the latest day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "fourteen": 14,
    "thirty": 30,
}


@dataclass(frozen=True)
class Period:
    """An inclusive range of days with the words that named it."""

    start: date
    end: date
    label: str
    unit: str = "custom"  # day | week | month | quarter | year | custom

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label, "unit": self.unit}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Period:
        return cls(
            date.fromisoformat(data["start"]),
            date.fromisoformat(data["end"]),
            data["label"],
            data.get("unit", "custom"),
        )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class PeriodMatch:
    period: Period
    span: tuple[int, int]  # where in the (lower-cased) text it was found


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def shift_years(period: Period, years: int, label: str) -> Period:
    def shift(day: date) -> date:
        try:
            return day.replace(year=day.year + years)
        except ValueError:  # 29 February
            return day.replace(year=day.year + years, day=28)

    return Period(shift(period.start), shift(period.end), label, period.unit)


def previous_period(period: Period) -> Period:
    """The period before: the previous calendar unit, or the same number of days just before."""
    if period.unit == "month":
        start = add_months(period.start, -1)
        return Period(
            start, month_end(start.year, start.month), f"{calendar.month_name[start.month]} {start.year}", "month"
        )
    if period.unit == "quarter":
        start = add_months(period.start, -3)
        end = month_end(add_months(start, 2).year, add_months(start, 2).month)
        return Period(start, end, f"Q{(start.month - 1) // 3 + 1} {start.year}", "quarter")
    if period.unit == "year":
        return Period(
            date(period.start.year - 1, 1, 1), date(period.start.year - 1, 12, 31), str(period.start.year - 1), "year"
        )
    if period.unit == "week":
        start = period.start - timedelta(days=7)
        iso = start.isocalendar()
        return Period(start, start + timedelta(days=6), f"week {iso.week} {iso.year}", "week")
    length = period.days
    end = period.start - timedelta(days=1)
    unit = "day" if length == 1 else "custom"
    return Period(
        end - timedelta(days=length - 1), end, "the previous " + (f"{length} days" if length > 1 else "day"), unit
    )


def _quarter(year: int, q: int) -> Period:
    start = date(year, 3 * q - 2, 1)
    return Period(start, month_end(year, 3 * q), f"Q{q} {year}", "quarter")


def _month(year: int, month: int) -> Period:
    return Period(date(year, month, 1), month_end(year, month), f"{calendar.month_name[month]} {year}", "month")


def _iso_week(year: int, week: int) -> Period | None:
    try:
        start = date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    return Period(start, start + timedelta(days=6), f"week {week} {year}", "week")


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text]


_NUM = r"(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")"
_DATE = r"(\d{4}-\d{2}-\d{2})"

# (pattern, builder(match, anchor) -> Period | None); the first patterns are the most specific.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\b(?:from|between)\s+{_DATE}\s+(?:to|and|until|-)\s+{_DATE}\b"), "range"),
    (re.compile(r"\bq([1-4])\s*(?:of\s+)?(\d{4})\b"), "quarter_year"),
    (re.compile(r"\b(\d{4})\s*q([1-4])\b"), "year_quarter"),
    (re.compile(r"\b(?:the\s+)?(first|second|third|fourth)\s+quarter(?:\s+of)?\s+(\d{4})\b"), "quarter_word_year"),
    (re.compile(r"\bq([1-4])\b"), "quarter"),
    (re.compile(r"\b(?:iso\s+)?week\s*(\d{1,2})(?:\s*(?:of\s+)?(\d{4}))?\b"), "week"),
    (re.compile(rf"\b({_MONTH_RE})\.?\s*(?:of\s+)?(\d{{4}})\b"), "month_year"),
    (re.compile(r"\b(\d{4})-(\d{2})\b(?!-)"), "year_month"),
    (re.compile(_DATE), "date"),
    (re.compile(rf"\b(?:last|past|previous|the last|the past)\s+{_NUM}\s+(day|week|month)s?\b"), "last_n"),
    (re.compile(r"\b(?:today|latest day|last day)\b"), "today"),
    (re.compile(r"\byesterday\b"), "yesterday"),
    (re.compile(r"\b(this|current|last|previous|past)\s+(week|month|quarter|year)\b"), "relative"),
    (re.compile(r"\b(?:week to date|wtd)\b"), "wtd"),
    (re.compile(r"\b(?:month to date|mtd)\b"), "mtd"),
    (re.compile(r"\b(?:quarter to date|qtd)\b"), "qtd"),
    (re.compile(r"\b(?:year to date|ytd)\b"), "ytd"),
    (re.compile(rf"\b(?:in|during|for|of)\s+({_MONTH_RE})\b"), "month"),
    (re.compile(r"\b(?:in|during|for|of|year)\s+((?:19|20)\d{2})\b"), "year"),
    (re.compile(r"\b((?:19|20)\d{2})\b"), "year"),
]
_QUARTER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4}


def _latest_start_on_or_before(anchor: date, build) -> Period | None:
    """The most recent period built for the anchor's year (or the year before) that has started."""
    for year in (anchor.year, anchor.year - 1):
        period = build(year)
        if period is not None and period.start <= anchor:
            return period
    return None


def _build(kind: str, m: re.Match[str], anchor: date) -> Period | None:
    if kind == "range":
        start, end = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        if end < start:
            start, end = end, start
        return Period(start, end, f"{start.isoformat()} to {end.isoformat()}")
    if kind == "quarter_year":
        return _quarter(int(m.group(2)), int(m.group(1)))
    if kind == "year_quarter":
        return _quarter(int(m.group(1)), int(m.group(2)))
    if kind == "quarter_word_year":
        return _quarter(int(m.group(2)), _QUARTER_WORDS[m.group(1)])
    if kind == "quarter":
        q = int(m.group(1))
        return _latest_start_on_or_before(anchor, lambda y: _quarter(y, q))
    if kind == "week":
        week = int(m.group(1))
        if m.group(2):
            return _iso_week(int(m.group(2)), week)
        iso_year = anchor.isocalendar().year
        for year in (iso_year, iso_year - 1):
            period = _iso_week(year, week)
            if period is not None and period.start <= anchor:
                return period
        return None
    if kind == "month_year":
        return _month(int(m.group(2)), MONTHS[m.group(1)])
    if kind == "year_month":
        month = int(m.group(2))
        return _month(int(m.group(1)), month) if 1 <= month <= 12 else None
    if kind == "date":
        try:
            day = date.fromisoformat(m.group(1))
        except ValueError:
            return None
        return Period(day, day, day.isoformat(), "day")
    if kind == "last_n":
        n, unit = _number(m.group(1)), m.group(2)
        if n <= 0:
            return None
        if unit == "day":
            return Period(anchor - timedelta(days=n - 1), anchor, f"the last {n} days")
        if unit == "week":
            return Period(anchor - timedelta(days=7 * n - 1), anchor, f"the last {n} weeks")
        return Period(add_months(anchor, -n) + timedelta(days=1), anchor, f"the last {n} months")
    if kind == "today":
        return Period(anchor, anchor, f"the latest day ({anchor.isoformat()})", "day")
    if kind == "yesterday":
        day = anchor - timedelta(days=1)
        return Period(day, day, f"the day before the latest ({day.isoformat()})", "day")
    if kind == "relative":
        which, unit = m.group(1), m.group(2)
        current = _current(unit, anchor)
        if which in ("this", "current"):
            return current
        return previous_period(Period(current.start, _full_end(current), current.label, unit))
    if kind in ("wtd", "mtd", "qtd", "ytd"):
        return _current({"wtd": "week", "mtd": "month", "qtd": "quarter", "ytd": "year"}[kind], anchor)
    if kind == "month":
        month = MONTHS[m.group(1)]
        return _latest_start_on_or_before(anchor, lambda y: _month(y, month))
    if kind == "year":
        year = int(m.group(1))
        return Period(date(year, 1, 1), date(year, 12, 31), str(year), "year")
    return None


def _current(unit: str, anchor: date) -> Period:
    if unit == "week":
        start = anchor - timedelta(days=anchor.weekday())
        iso = anchor.isocalendar()
        return Period(start, anchor, f"this week (week {iso.week} {iso.year}, to {anchor.isoformat()})", "week")
    if unit == "month":
        return Period(
            anchor.replace(day=1), anchor, f"{calendar.month_name[anchor.month]} {anchor.year} to date", "month"
        )
    if unit == "quarter":
        q = (anchor.month - 1) // 3 + 1
        return Period(date(anchor.year, 3 * q - 2, 1), anchor, f"Q{q} {anchor.year} to date", "quarter")
    return Period(date(anchor.year, 1, 1), anchor, f"{anchor.year} to date", "year")


def _full_end(period: Period) -> date:
    if period.unit == "week":
        return period.start + timedelta(days=6)
    if period.unit == "month":
        return month_end(period.start.year, period.start.month)
    if period.unit == "quarter":
        last = add_months(period.start, 2)
        return month_end(last.year, last.month)
    return date(period.start.year, 12, 31)


def find_periods(text: str, anchor: date) -> list[PeriodMatch]:
    """Every period named in the (lower-cased) text, left to right, without overlaps."""
    found: list[PeriodMatch] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            period = _build(kind, m, anchor)
            if period is None:
                continue
            found.append(PeriodMatch(period, m.span()))
            taken.append(m.span())
    return sorted(found, key=lambda p: p.span[0])
