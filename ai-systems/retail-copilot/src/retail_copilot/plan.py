"""The typed query plan a question becomes: the only thing the query engine executes."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from retail_copilot.periods import Period

INTENTS = (
    "totals",
    "breakdown",
    "top",
    "compare",
    "trend",
    "forecast",
    "stockout",
    "fraud",
    "quality",
    "pulse",
    "help",
    "refuse",
    "clarify",
)
DATA_INTENTS = ("totals", "breakdown", "top", "compare", "trend")
METRICS = (
    "revenue",
    "units",
    "orders",
    "aov",
    "customers",  # distinct customers (customer_transactions)
    "daily_customers",  # distinct customers per day, averaged (country_kpis)
    "skus",  # distinct products
    "countries",  # distinct countries
    "distinct",  # distinct values of a custom dimension (`measure` names it)
    "profit",  # the `profit` attribute, or revenue - `cost`
    "margin",  # profit / revenue, in %
    "measure",  # the sum of a custom numeric attribute (`measure` names it)
)
TIME_GROUPS = ("day", "week", "month", "quarter", "year")
GROUPS = ("country", "category", "product", *TIME_GROUPS)
# a custom attribute: a snake_case column name; the engine checks that the data has it
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass
class QueryPlan:
    intent: str
    metric: str = "revenue"
    period: Period | None = None
    compare: Period | None = None
    countries: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)  # custom dimension -> values kept
    measure: str | None = None  # the custom column of the "measure" and "distinct" metrics
    group_by: str | None = None
    top_n: int | None = None
    ascending: bool = False
    message: str | None = None  # why a refusal / what a clarification asks
    options: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    follow_up: bool = False

    def __post_init__(self) -> None:
        if self.intent not in INTENTS:
            raise ValueError(f"unknown intent {self.intent!r}")
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}")
        if self.group_by is not None and self.group_by not in GROUPS and not ATTRIBUTE_NAME.match(self.group_by):
            raise ValueError(f"unknown grouping {self.group_by!r}")
        if (self.metric in ("measure", "distinct")) != (self.measure is not None):
            raise ValueError(f"metric {self.metric!r} and measure {self.measure!r} do not go together")
        names = [*self.attributes, *([self.measure] if self.measure else [])]
        bad = [n for n in names if not isinstance(n, str) or not ATTRIBUTE_NAME.match(n)]
        if bad:
            raise ValueError(f"not an attribute name: {bad[0]!r}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["period"] = self.period.to_dict() if self.period else None
        data["compare"] = self.compare.to_dict() if self.compare else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryPlan:
        values = dict(data)
        values["period"] = Period.from_dict(data["period"]) if data.get("period") else None
        values["compare"] = Period.from_dict(data["compare"]) if data.get("compare") else None
        allowed = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in allowed})
