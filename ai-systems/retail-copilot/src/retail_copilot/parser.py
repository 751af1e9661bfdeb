"""Question -> QueryPlan, deterministically: keyword rules, the period grammar and the data's own entities.

Nothing in a question is ever executed: the parser only fills the fields of a typed plan.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from retail_copilot.catalog import Catalog, entity_mentions, words
from retail_copilot.countries import world_mentions
from retail_copilot.periods import MONTHS, Period, find_periods, shift_years
from retail_copilot.plan import DATA_INTENTS, TIME_GROUPS, QueryPlan
from retail_copilot.vocabulary import Vocabulary

MAX_TOP_N = 50
_WORD_RE = re.compile(r"[a-z0-9]+(?:[&'-][a-z0-9]+)*")
MONTH_NAMES = set(MONTHS)
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")

# Things the data cannot tell; each with the reason given to the user.
UNSUPPORTED = [
    (r"\b(cogs|cost of goods|expenses?|ebitda|net income)\b", "costs of goods or expenses"),
    (r"\b(weather|temperature|rain|forecast for the weather)\b", "the weather"),
    (r"\b(stock price|share price|stock market|shares|dividend)\b", "share prices"),
    (r"\b(employees?|staff|salar(?:y|ies)|wages|ceo|manager's name)\b", "staff or people"),
    (
        r"\b(e-?mail|phone|address|names? of (?:our )?customers|customer names?|who bought|card numbers?|passwords?)\b",
        "personal data about customers",
    ),
    (r"\b(competitors?|amazon|ebay|market share)\b", "competitors"),
    (r"\b(advertising|marketing spend|ad spend|clicks?|conversion rate|website visits|traffic)\b", "web or marketing"),
    (r"\b(return rate|returns|refunds?)\b", "returns and refunds"),
]
CODE_LIKE = re.compile(
    r"(__\w+__|\bimport\s+\w|\beval\s*\(|\bexec\s*\(|os\.system|subprocess|drop\s+table|select\s+\*|;\s*--|<script|\$\{)",
    re.IGNORECASE,
)

INTENT_WORDS = [
    ("fraud", r"\b(fraud\w*|suspicious|chargebacks?|scam)\b"),
    ("quality", r"\b(data quality|quality|quarantin\w*|defects?|bad records|rejected rows|invalid rows|data issues)\b"),
    ("pulse", r"\b(pulse|market trends?|market signals?|macro|economy|market outlook|markets? (?:look|doing))\b"),
    (
        "stockout",
        r"\b(run(?:ning)? out|stock-?outs?|out of stock|low stock|restock|reorder|stock levels?|inventory|"
        r"on hand|sell out)\b",
    ),
    (
        "forecast",
        r"\b(forecasts?|predict\w*|projections?|project(?:ed)?|next (?:week|month|quarter|year|\d+ days)|"
        r"will .* sell|expected)\b",
    ),
    ("help", r"^\s*(help|what can you do|what can i ask|\?)\s*\??$"),
]
COMPARE_WORDS = (
    r"\b(vs\.?|versus|compared?|comparison|against|than|growth|grow|grew|change[ds]?|drop(?:ped)?|fall|fell|"
    r"rise|rose|increase[ds]?|decrease[ds]?|decline[ds]?|difference|up or down|how did|why did|why were|why was)\b"
)
TREND_WORDS = (
    r"\b(trends?|over time|daily|weekly|monthly|quarterly|yearly|annually|per (?:day|week|month|quarter|year)|"
    r"by (?:day|week|month|quarter|year)|each (?:day|week|month|quarter|year)|every (?:day|week|month)|time series)\b"
)
BREAKDOWN_WORDS = r"\b(by|per|each|break(?:\s*it|\s*that|\s*this)?\s*down|breakdown|split|across)\b"
TOP_WORDS = (
    r"\b(top|best|bottom|worst|highest|lowest|most|least|biggest|largest|smallest|best-selling|best selling|"
    r"leading|strongest|weakest|rank\w*)\b"
)
NUMBER_WORDS = {
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
}
FOLLOW_UP = re.compile(
    r"^\s*(and|what about|how about|same for|same but|now|also|break (?:it|that|this) down|split (?:it|that)|"
    r"only|just|instead|then)\b"
)
STOPWORDS = set(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "for",
        "on",
        "at",
        "to",
        "from",
        "by",
        "per",
        "with",
        "and",
        "or",
        "vs",
        "versus",
        "what",
        "was",
        "were",
        "is",
        "are",
        "did",
        "do",
        "does",
        "how",
        "much",
        "many",
        "which",
        "who",
        "our",
        "we",
        "us",
        "me",
        "my",
        "i",
        "you",
        "show",
        "tell",
        "give",
        "list",
        "please",
        "total",
        "overall",
        "sum",
        "value",
        "number",
        "amount",
        "sold",
        "sell",
        "selling",
        "sales",
        "revenue",
        "units",
        "unit",
        "orders",
        "order",
        "customers",
        "customer",
        "top",
        "best",
        "worst",
        "bottom",
        "highest",
        "lowest",
        "most",
        "least",
        "last",
        "this",
        "next",
        "previous",
        "past",
        "year",
        "years",
        "month",
        "months",
        "week",
        "weeks",
        "day",
        "days",
        "quarter",
        "today",
        "yesterday",
        "compared",
        "compare",
        "compare",
        "to",
        "against",
        "than",
        "growth",
        "change",
        "trend",
        "trends",
        "over",
        "time",
        "daily",
        "weekly",
        "monthly",
        "breakdown",
        "break",
        "down",
        "split",
        "each",
        "every",
        "country",
        "countries",
        "market",
        "markets",
        "category",
        "categories",
        "product",
        "products",
        "sku",
        "skus",
        "item",
        "items",
        "article",
        "articles",
        "between",
        "ranked",
        "rank",
        "ranking",
        "performance",
        "perform",
        "performed",
        "doing",
        "do",
        "did",
        "go",
        "went",
        "look",
        "looks",
        "looking",
        "like",
        "about",
        "all",
        "any",
        "some",
        "there",
        "their",
        "it",
        "that",
        "those",
        "these",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "get",
        "got",
        "can",
        "could",
        "would",
        "should",
        "will",
        "up",
        "down",
        "drop",
        "dropped",
        "rise",
        "rose",
        "increase",
        "decrease",
        "why",
        "when",
        "where",
        "much",
        "more",
        "less",
        "same",
        "only",
        "just",
        "also",
        "now",
        "then",
        "instead",
        "average",
        "avg",
        "aov",
        "basket",
        "size",
        "value",
        "revenue",
        "turnover",
        "takings",
        "money",
        "euros",
        "eur",
        "s",
        "make",
        "made",
        "bring",
        "brought",
        "generate",
        "generated",
        "earn",
        "earned",
        "in-store",
        "store",
        "shop",
        "shops",
        "online",
        "performing",
        "performer",
        "performers",
        "leading",
        "strongest",
        "weakest",
        "biggest",
        "largest",
        "smallest",
        "sellers",
        "seller",
        "quantity",
        "volume",
        "pieces",
        "number",
        "ones",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "whole",
        "entire",
        "period",
        "data",
        "so",
        "far",
        "to-date",
        "date",
        "wtd",
        "mtd",
        "qtd",
        "ytd",
        "n",
    ]
)
PRODUCT_CUES = re.compile(r"\b(product|sku|item|article|of the|sales of|units of|sell of|for the)\b")


def mask_cards(text: str) -> str:
    """Digits that look like a card number are never echoed or stored."""
    return _CARD.sub("[card number removed]", text)


def _top_n(text: str) -> int | None:
    m = re.search(
        r"\b(?:top|bottom|best|worst|first|highest|lowest)\s+(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")\b", text
    )
    if m:
        value = m.group(1)
        return int(value) if value.isdigit() else NUMBER_WORDS[value]
    m = re.search(r"\b(\d{1,3})\s+(?:best|top|worst|biggest|largest|products|skus|items|countries|categories)\b", text)
    return int(m.group(1)) if m else None


def _horizon_days(text: str) -> int:
    """How far ahead a forecast or stock-out question looks, in days (default a week)."""
    m = re.search(r"\bnext\s+(\d{1,3})\s+(day|week)s?\b", text)
    if m:
        return int(m.group(1)) * (7 if m.group(2) == "week" else 1)
    if re.search(r"\bnext (?:30 days|month)\b", text):
        return 30
    if re.search(r"\bnext (?:quarter|3 months)\b", text):
        return 91
    if re.search(r"\b(?:tomorrow)\b", text):
        return 1
    return 7


class QuestionParser:
    """Turns one question (and the previous turn's plan) into a QueryPlan."""

    def __init__(self, catalog: Catalog, anchor: date | None) -> None:
        self.catalog = catalog
        self.anchor = anchor or date.today()
        self.vocabulary = Vocabulary(catalog)

    def parse(self, question: str, previous: QueryPlan | None = None) -> QueryPlan:
        original = mask_cards(question.strip())
        text = " ".join(original.lower().split())
        if not text:
            return QueryPlan("clarify", message="The question is empty.", options=self.examples())
        if CODE_LIKE.search(original):
            return QueryPlan(
                "refuse", message="I answer questions about the shop's data; I do not run code or queries."
            )

        spans: list[tuple[int, int]] = []
        periods = find_periods(text, self.anchor)
        spans += [p.span for p in periods]
        countries, country_spans, _ = self.catalog.find_countries(text, original)
        spans += country_spans
        categories, attributes, category_spans, attribute_spans = entity_mentions(self.catalog, text, spans)
        spans += attribute_spans
        unknown_countries = [
            (name, code)
            for name, code, span in world_mentions(text)
            if code not in self.catalog.countries and not any(span[0] < e and s < span[1] for s, e in spans)
        ]
        if unknown_countries:
            name = unknown_countries[0][0].title()
            have = ", ".join(sorted(self.catalog.countries.values())) or "none yet"
            return QueryPlan(
                "refuse",
                message=f"There is no data for {name}. Countries with data: {have}.",
                options=[f"Total revenue in {n} last month" for n in list(self.catalog.countries.values())[:2]],
            )
        spans += category_spans
        skus, sku_spans = self.catalog.find_skus(original)
        spans += sku_spans

        residual = self._residual(text, spans)
        if residual and not skus:
            product_plan = self._products(residual, text)
            if isinstance(product_plan, QueryPlan):
                return product_plan
            skus = product_plan
        if skus:
            # the product's own words are not keywords ("rain coat" is not about the weather, "rose" not a rise)
            described = set(words(" ".join(self.catalog.products.get(sku, "") for sku in skus)))
            categories = [
                c
                for c in categories
                if any(
                    self.catalog.category_of(text[a:b]) == c and not set(words(text[a:b])) <= described
                    for a, b in category_spans
                )
            ]
            # same-length blanks keep the spans found above valid
            text = _WORD_RE.sub(lambda m: "_" * len(m.group(0)) if m.group(0) in described else m.group(0), text)
        refusal = self._unsupported(text)
        if refusal is not None:
            return refusal
        intent = next((name for name, pattern in INTENT_WORDS if re.search(pattern, text)), None)
        metric, measure = self.vocabulary.metric(text)
        is_follow_up = bool(previous) and (
            bool(FOLLOW_UP.search(text))
            or (
                intent is None
                and metric is None
                and not re.search(TOP_WORDS, text)
                and not re.search(COMPARE_WORDS, text)
                and not re.search(TREND_WORDS, text)
                and len(text.split()) <= 6
                and bool(countries or categories or skus or periods or attributes)
            )
        )

        if not skus:
            unknown = self._unknown_place(original, spans)
            if unknown:
                return QueryPlan(
                    "refuse",
                    message=(
                        f"I do not know '{unknown}' as a country, category or product in the data. "
                        f"Countries: {', '.join(self.catalog.countries.values()) or 'none yet'}; "
                        f"categories: {', '.join(self.catalog.categories) or 'none yet'}."
                    ),
                    options=self.examples()[:2],
                )

        plan = QueryPlan(
            intent or "totals",
            metric or "revenue",
            countries=countries,
            categories=categories,
            skus=skus,
            attributes=attributes,
            measure=measure,
        )
        if metric is None and intent is None:
            plan.assumptions.append("metric: revenue (say units, orders or average order value for another)")
        if intent is None:
            plan = self._data_intent(plan, text, periods)
        else:
            plan.period = periods[0].period if periods else None
            if intent in ("forecast", "stockout"):
                plan.top_n = _horizon_days(text)
        if is_follow_up and previous is not None:
            plan = self._merge(previous, plan, text, periods, metric, intent)
        elif (
            intent is None
            and metric is None
            and not (countries or categories or skus or periods or attributes)
            and not re.search(TOP_WORDS, text)
            and not re.search(TREND_WORDS, text)
        ):
            return QueryPlan(
                "clarify",
                message="I am not sure what you want to know. Which figure and for which period?",
                options=self.examples(),
            )
        return plan

    # ------------------------------------------------------------------ pieces

    def _unsupported(self, text: str) -> QueryPlan | None:
        """A refusal for what the data cannot tell (profit without a profit column, the weather, ...)."""
        reason = self.vocabulary.unsupported(text)
        for pattern, what in UNSUPPORTED:
            if reason is None and re.search(pattern, text):
                reason = f"The platform's data has nothing about {what}, so I cannot answer that."
        return None if reason is None else QueryPlan("refuse", message=reason, options=self.examples())

    def _data_intent(self, plan: QueryPlan, text: str, periods: list) -> QueryPlan:
        group = self.vocabulary.grouping(text)
        top_words = re.search(TOP_WORDS, text)
        compare = re.search(COMPARE_WORDS, text) or len(periods) >= 2
        if compare and not (top_words and not re.search(r"\b(vs\.?|versus|compared?)\b", text)):
            plan.intent = "compare"
            plan.period = periods[0].period if periods else None
            if len(periods) >= 2:
                second = periods[1]
                phrase = text[second.span[0] : second.span[1]]
                plan.compare = (
                    shift_years(plan.period, -1, f"{periods[0].period.label}, a year earlier")
                    if re.fullmatch(r"(?:last|previous|past) year", phrase) and plan.period.unit != "year"
                    else second.period
                )
            elif (
                re.search(r"\b(last year|a year ago|year on year|year over year|yoy|previous year)\b", text)
                and plan.period
            ):
                plan.compare = shift_years(plan.period, -1, f"{plan.period.label}, a year earlier")
            if group is not None and group not in TIME_GROUPS:
                plan.group_by = group
            return plan
        plan.period = periods[0].period if periods else None
        if top_words and not re.search(r"\bmost recent\b", text):
            plan.intent = "top"
            plan.ascending = bool(re.search(r"\b(bottom|worst|lowest|least|smallest|weakest)\b", text))
            # "best day in December" ranks days; the words of a period ("last month") do not count
            outside_periods = list(text)
            for match in periods:
                outside_periods[match.span[0] : match.span[1]] = " " * (match.span[1] - match.span[0])
            named = self.vocabulary.dimension("".join(outside_periods))
            plan.group_by = named[0] if named else "product"
            n = _top_n(text)
            if n is None:
                n = 5 if named is None or self.vocabulary.is_plural(named[1], named[0]) else 1
            plan.top_n = max(1, min(n, MAX_TOP_N))
            return plan
        if re.search(TREND_WORDS, text):
            plan.intent = "trend"
            plan.group_by = group if group in TIME_GROUPS else None
            return plan
        if group is not None or re.search(r"\bbreak(?:\s*\w+)?\s*down\b|\bbreakdown\b|\bsplit\b", text):
            plan.intent = "trend" if group in TIME_GROUPS else "breakdown"
            plan.group_by = group or ("category" if plan.countries else "country")
            return plan
        plan.intent = "totals"
        return plan

    def _merge(self, previous: QueryPlan, new: QueryPlan, text: str, periods: list, metric, intent) -> QueryPlan:
        """A follow-up: what the new question names replaces the previous turn's values; the rest is kept."""
        if intent is not None and intent not in DATA_INTENTS:
            return new
        merged = replace(previous, message=None, options=[], assumptions=[], follow_up=True)
        if previous.intent in ("refuse", "clarify", "help"):
            merged.intent = new.intent if new.intent not in ("refuse", "clarify") else "totals"
        if metric is not None:
            merged.metric, merged.measure = new.metric, new.measure
        if new.countries:
            merged.countries = new.countries
        if new.categories:
            merged.categories = new.categories
        if new.skus:
            merged.skus = new.skus
        if new.attributes:
            merged.attributes = {**merged.attributes, **new.attributes}
        if periods:
            merged.period = new.period
            if new.intent == "compare":
                merged.compare = new.compare
            elif merged.intent == "compare" and merged.compare and merged.period:
                merged.compare = None  # recomputed from the new period
        group = self.vocabulary.grouping(text)
        if re.search(r"\bbreak(?:\s*\w+)?\s*down\b|\bsplit\b|\bby\b|\bper\b", text) and group:
            merged.group_by = group
            if merged.intent in ("totals", "breakdown", "compare"):
                merged.intent = "trend" if group in TIME_GROUPS else "breakdown"
            if merged.intent == "top":
                merged.group_by = group
        if (
            new.intent in ("top", "trend")
            and new.intent != merged.intent
            and (re.search(TOP_WORDS, text) or re.search(TREND_WORDS, text))
        ):
            merged.intent, merged.group_by, merged.top_n, merged.ascending = (
                new.intent,
                new.group_by,
                new.top_n,
                new.ascending,
            )
        if re.search(r"\b(all countries|every country|everywhere|overall|in total)\b", text):
            merged.countries = []
        return merged

    def _unknown_place(self, original: str, spans: list[tuple[int, int]]) -> str | None:
        """A capitalised name after in/for/from that matched nothing ("revenue in Atlantis")."""
        for m in re.finditer(r"\b(?:in|for|from|at)\s+([A-Z][a-zA-Z]{2,}(?:\s+[A-Z][a-zA-Z]+)*)", original):
            if any(m.start(1) < e and s < m.end(1) for s, e in spans):
                continue
            name = m.group(1)
            lowered = name.lower()
            if lowered in STOPWORDS or lowered in MONTH_NAMES or re.fullmatch(r"q[1-4]|week|total|all|our", lowered):
                continue
            return name
        return None

    def _residual(self, text: str, spans: list[tuple[int, int]]) -> str:
        chars = list(text)
        for start, end in spans:
            for i in range(start, end):
                chars[i] = " "
        vocabulary = self.vocabulary.words
        remaining = [
            w
            for w in words("".join(chars))
            if w not in STOPWORDS and w not in vocabulary and not w.isdigit() and len(w) > 1
        ]
        return " ".join(remaining)

    def _products(self, residual: str, text: str) -> list[str] | QueryPlan:
        """SKUs a residual phrase names by fuzzy description match, a clarification, or nothing."""
        matches = self.catalog.match_products(residual)
        cue = bool(PRODUCT_CUES.search(text))
        margin = matches[0][1] - matches[1][1] if len(matches) > 1 else 100.0
        if not matches or not (matches[0][1] >= 85 or (matches[0][1] >= 70 and margin >= 15)):
            if cue:
                return QueryPlan(
                    "refuse",
                    message=f"I could not find a product matching '{residual}'.",
                    options=["Top 5 products by revenue last month"],
                )
            return []
        best_score = matches[0][1]
        close = [sku for sku, score in matches if score >= 100 and best_score - score < 0.5]
        if best_score >= 100 and len(close) > 1:
            return QueryPlan(
                "clarify",
                message=f"Several products match '{residual}'. Which one do you mean?",
                options=[f"{self.catalog.products[s]} ({s})" for s in close[:5]],
            )
        return [matches[0][0]]

    def examples(self) -> list[str]:
        country = next(iter(self.catalog.countries.values()), "Germany")
        return [
            f"Top 5 products by revenue in {country} last month",
            "How did revenue this quarter compare with last year?",
            "Which SKUs will run out next week?",
            "Any fraud alerts today?",
            "What is the data quality status?",
        ]


def describe(period: Period | None) -> str:
    return period.label if period else "all available data"
