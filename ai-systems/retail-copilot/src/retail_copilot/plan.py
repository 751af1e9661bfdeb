"""The typed query plan a question becomes: the only thing the query engine executes."""

from __future__ import annotations

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
METRICS = ("revenue", "units", "orders", "aov", "customers")
GROUPS = ("country", "category", "product", "day", "week", "month")


@dataclass
class QueryPlan:
    intent: str
    metric: str = "revenue"
    period: Period | None = None
    compare: Period | None = None
    countries: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
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
        if self.group_by is not None and self.group_by not in GROUPS:
            raise ValueError(f"unknown grouping {self.group_by!r}")

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
