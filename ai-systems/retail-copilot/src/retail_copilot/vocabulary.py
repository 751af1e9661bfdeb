"""The words a question uses for figures and groupings, built once per catalogue: the fixed ones (revenue, units,
country, month, ...) plus the data's custom attributes (region, segment, sub category, profit, discount, ...).

Only plan fields come out of here (a metric name, a column name from the catalogue); nothing is executed.
"""

from __future__ import annotations

import re

from retail_copilot.attributes import display, name_pattern
from retail_copilot.catalog import Catalog

PROFIT_WORDS = r"\b(profits?|profitable|profitability|margins?)\b"
COST_WORDS = r"\b(costs?)\b"
METRIC_WORDS = [
    ("aov", r"\b(average order value|aov|average basket|basket size|average order|avg order value|order value)\b"),
    ("daily_customers", r"\b(customers? (?:per|a|each) day|daily customers|average (?:number of )?customers)\b"),
    ("customers", r"\b(customers?|shoppers?|buyers?|clients?)\b"),
    ("orders", r"\b(orders?|transactions?|baskets?|purchases)\b"),
    ("units", r"\b(units?|quantity|quantities|items? sold|pieces|volume|how many .*\bsold|how many .*\bsell)\b"),
    (
        "revenue",
        r"\b(revenue|sales|turnover|takings|income|money|earn(?:ed|ings)?|sold for|eur|euros?|€|"
        r"how much .*\b(?:sell|sold))\b",
    ),
]
DIMENSIONS = [
    ("country", r"\b(countr(?:y|ies)|markets?|nations?|regions?)\b"),
    ("category", r"\b(categor(?:y|ies)|departments?|product groups?|segments?)\b"),
    ("product", r"\b(products?|skus?|items?|articles?|sellers?)\b"),
    ("day", r"\b(day|days|daily)\b"),
    ("week", r"\b(weeks?|weekly)\b"),
    ("month", r"\b(months?|monthly)\b"),
    ("quarter", r"\b(quarters?|quarterly)\b"),
    ("year", r"\b(years?|yearly|annual(?:ly)?)\b"),
]
# "how many <noun>": a distinct count (the custom dimensions are added per catalogue)
DISTINCT_NOUNS = [
    ("customers", r"customers?|shoppers?|buyers?|clients?"),
    ("orders", r"orders?|transactions?|invoices?"),
    ("skus", r"products?|skus?|items?|articles?|stock codes?"),
    ("countries", r"countr(?:y|ies)|markets?|nations?"),
]
DISTINCT_LEAD = r"\b(?:how many|number of|count of|count the|total number of|distinct|unique|different)\s+"
SOLD_WORDS = r"\b(sold|sell|sells|selling|bought|units?|quantity)\b"
GROUP_LEAD = re.compile(
    r"\b(?:by|per|each|across|for each|for every|split by|broken down by|break(?:\s+\w+)?\s+down\s+by)\s+(?:the\s+)?"
)
ADVERBS = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}
MARGIN_WORDS = r"\b(margins?|profitability)\b"


class Vocabulary:
    """Figures and dimensions a question can name, for one catalogue."""

    def __init__(self, catalog: Catalog) -> None:
        custom = sorted(catalog.dimensions, key=len, reverse=True)  # "sub_category" before "category"
        self.custom_dimensions = [(name, name_pattern(name)) for name in custom]
        taken = set(catalog.dimensions)
        fixed = []
        for name, pattern in DIMENSIONS:
            # a custom "region" or "segment" replaces the fixed synonym (country / category)
            for word in ("region", "segment"):
                if word in taken:
                    pattern = pattern.replace(f"|{word}s?", "")
            fixed.append((name, pattern))
        self.dimensions = self.custom_dimensions + fixed
        measures = [m for m in catalog.measures if m not in ("profit", "margin")]
        self.measures = [(name, name_pattern(name)) for name in sorted(measures, key=len, reverse=True)]
        self.has_profit = "profit" in catalog.measures or "cost" in catalog.measures
        self.has_margin = self.has_profit or "margin" in catalog.measures
        self.has_cost = "cost" in catalog.measures
        nouns = [(name, name_pattern(name)[2:-2]) for name in custom] + DISTINCT_NOUNS
        self.distinct = [(name, re.compile(DISTINCT_LEAD + rf"(?:{pattern})\b")) for name, pattern in nouns]
        self.words = {w for name in [*catalog.dimensions, *catalog.measures] for w in re.split(r"_", name)}
        self.words |= {w + "s" for w in self.words} | {"profit", "profits", "profitable", "margin", "margins"}
        self.words |= {"distinct", "unique", "different", "count", "quarter", "quarters", "quarterly", "yearly"}

    # ------------------------------------------------------------------ figures

    def unsupported(self, text: str) -> str | None:
        """Why a question about profit, margin or cost cannot be answered from this data (None if it can)."""
        can = self.has_margin if re.search(MARGIN_WORDS, text) else self.has_profit
        if re.search(PROFIT_WORDS, text) and not can:
            return (
                "The sales data has no profit or cost column, so I cannot answer profit or margin questions. "
                "Name a Profit or Cost column as a custom attribute in the source contract to ask them."
            )
        if re.search(COST_WORDS, text) and not self.has_cost and not any(re.search(p, text) for _, p in self.measures):
            return "The sales data has no cost column, so I cannot answer that."
        return None

    def metric(self, text: str) -> tuple[str | None, str | None]:
        """(metric, custom column) the question asks for; (None, None) when it names none."""
        daily = METRIC_WORDS[1]
        if re.search(daily[1], text):
            return daily[0], None
        sold = re.search(SOLD_WORDS, text) and not re.search(r"\b(distinct|different|unique)\b", text)
        for name, pattern in self.distinct:
            if pattern.search(text) and not (name in ("skus", "orders") and sold):
                if name in ("customers", "orders", "skus", "countries"):
                    return name, None
                return "distinct", name
        if re.search(MARGIN_WORDS, text) and self.has_margin:
            return "margin", None
        if re.search(PROFIT_WORDS, text) and self.has_profit:
            return "profit", None
        for name, pattern in self.measures:
            if re.search(pattern, text):
                return "measure", name
        metric = next((name for name, pattern in METRIC_WORDS if re.search(pattern, text)), None)
        if metric == "customers" and re.search(r"\b(average order value|aov)\b", text):
            metric = "aov"
        return metric, None

    # ------------------------------------------------------------------ dimensions

    def dimension(self, text: str) -> tuple[str, str] | None:
        """The first dimension the text names and the words that named it."""
        found = [
            (m.start(), -len(m.group(0)), name, m.group(0)) for name, p in self.dimensions for m in re.finditer(p, text)
        ]
        if not found:
            return None
        _, _, name, said = min(found)
        return name, said

    def grouping(self, text: str) -> str | None:
        """The dimension after "by" / "per" / "each" ..., or the one a time adverb names ("monthly")."""
        for lead in GROUP_LEAD.finditer(text):
            rest = text[lead.end() :]
            for name, pattern in self.dimensions:
                if re.match(pattern, rest):
                    return name
        for adverb, name in ADVERBS.items():
            if re.search(rf"\b{adverb}\b", text):
                return name
        if re.search(r"\bannual(?:ly)?\b", text):
            return "year"
        return None

    def is_plural(self, said: str, name: str) -> bool:
        """Whether the words that named a dimension are its plural ("regions", "sub categories")."""
        return said.rstrip().lower() != display(name) and said.endswith("s") and not display(name).endswith("s")
