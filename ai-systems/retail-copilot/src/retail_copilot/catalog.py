"""The entities a question can name, learned from the data: countries, categories, products (SKU + description).

Built by the batch path from prod `copilot_mart` and saved as JSON (the copilot's "model"), or built on the fly
from the frames the serving path loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from retail_copilot.attributes import MAX_VALUES, Attributes
from retail_copilot.countries import alias_pattern, country_aliases

_WORD = re.compile(r"[a-z0-9]+(?:[&'-][a-z0-9]+)*")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """(key, value) pairs -> key -> distinct values in order of first mention."""
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        if value not in out.setdefault(key, []):
            out[key].append(value)
    return out


def entity_mentions(
    catalog: Catalog, text: str, taken: list[tuple[int, int]]
) -> tuple[list[str], dict[str, list[str]], list[tuple[int, int]], list[tuple[int, int]]]:
    """Categories and custom dimension values named in the text: where the two overlap ("Office Supplies" and the
    sub-category "Supplies"; the segment "Home Office" and the category variant "office") the longer match wins,
    a tie goes to the category. Returns categories, {dimension: values}, their spans."""
    categories = catalog.category_matches(text)
    values = catalog.value_matches(text, taken)

    def size(span: tuple[int, int]) -> int:
        return span[1] - span[0]

    def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a[0] < b[1] and b[0] < a[1]

    categories = [c for c in categories if not any(overlaps(c[0], v[0]) and size(v[0]) > size(c[0]) for v in values)]
    values = [v for v in values if not any(overlaps(v[0], c[0]) and size(c[0]) >= size(v[0]) for c in categories)]
    found = _grouped([("category", c) for _, c in categories]).get("category", [])
    return found, _grouped([(d, v) for _, d, v in values]), [s for s, _ in categories], [s for s, _, _ in values]


@dataclass
class Catalog:
    countries: dict[str, str]  # code -> display name
    categories: list[str]
    products: dict[str, str]  # sku -> description
    product_category: dict[str, str] = field(default_factory=dict)
    first_date: str | None = None
    last_date: str | None = None
    dimensions: dict[str, list[str]] = field(default_factory=dict)  # custom dimension -> its values (nameable)
    measures: list[str] = field(default_factory=list)  # custom numeric attributes
    _aliases: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._aliases = country_aliases(self.countries)
        self._alias_re = alias_pattern(tuple(self._aliases)) if self._aliases else None
        variants: dict[str, str] = {}
        for category in self.categories:
            variants[category.lower()] = category
            variants[category.lower().replace("&", "and")] = category
            first = category.lower().split()[0].strip("&,")
            if len(first) > 3 and first not in {"home", "health"}:
                variants.setdefault(first, category)
        for variant, category in list(variants.items()):
            variants.setdefault(variant + "s", category)
        self._category_variants = variants
        self._category_re = alias_pattern(tuple(variants)) if variants else None
        self._sku_upper = {sku.upper(): sku for sku in self.products}
        self._choices = {sku: desc.lower() for sku, desc in self.products.items()}
        self._processed: dict[str, str] | None = None  # descriptions through rapidfuzz's processor, built once
        self._values: dict[str, list[str]] = {}  # lower-case value -> the dimensions holding it
        for column, values in self.dimensions.items():
            for value in values:
                if len(value) >= 2 and not value.isdigit():
                    self._values.setdefault(value.lower(), []).append(column)
        self._value_re: re.Pattern[str] | None = None  # compiled on first use

    @classmethod
    def from_mart(cls, mart: pd.DataFrame) -> Catalog:
        """The entities of a copilot_mart frame (empty frame: an empty catalogue)."""
        if mart.empty:
            return cls({}, [], {})
        from retail_copilot.countries import country_name

        # most active country first (examples and suggestions name it)
        activity = mart.groupby("country")["units"].sum().sort_values(ascending=False, kind="mergesort")
        countries = {str(code): country_name(str(code)) for code in activity.index}
        categories = sorted(mart["category"].dropna().unique())
        latest = mart.sort_values("date").drop_duplicates("sku", keep="last")
        products = {
            str(r.sku): (str(r.description) if isinstance(r.description, str) and r.description else str(r.sku))
            for r in latest.itertuples()
        }
        product_category = {str(r.sku): str(r.category) for r in latest.itertuples()}
        attributes = Attributes.of(mart)
        dimensions = {}
        for column in attributes.dimensions:
            counts = mart[column].dropna().astype(str).value_counts(sort=True)
            dimensions[column] = sorted(counts.index[:MAX_VALUES])
        return cls(
            countries,
            categories,
            products,
            product_category,
            pd.Timestamp(mart["date"].min()).date().isoformat(),
            pd.Timestamp(mart["date"].max()).date().isoformat(),
            dimensions,
            list(attributes.measures),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "countries": self.countries,
            "categories": self.categories,
            "products": self.products,
            "product_category": self.product_category,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "dimensions": self.dimensions,
            "measures": self.measures,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalog:
        return cls(
            dict(data["countries"]),
            list(data["categories"]),
            dict(data["products"]),
            dict(data.get("product_category", {})),
            data.get("first_date"),
            data.get("last_date"),
            {str(k): list(v) for k, v in data.get("dimensions", {}).items()},
            list(data.get("measures", [])),
        )

    # ------------------------------------------------------------------ matching

    def find_countries(self, text: str, original: str) -> tuple[list[str], list[tuple[int, int]], list[str]]:
        """Country codes named in the text (by name, alias or upper-case code), their spans, and unknown names.

        Unknown names are words after "in"/"for" that look like a place but match no country in the data.
        """
        found: list[str] = []
        spans: list[tuple[int, int]] = []
        for m in self._alias_re.finditer(text) if self._alias_re else ():
            code = self._aliases[m.group(1)]
            if code not in found:
                found.append(code)
            spans.append(m.span())
        for m in re.finditer(r"(?<![A-Za-z])([A-Z]{2})(?![A-Za-z])", original):
            code = m.group(1)
            if (
                code in self.countries
                and code not in found
                and not any(m.start() < e and s < m.end() for s, e in spans)
            ):
                found.append(code)
                spans.append(m.span())
        return found, spans, []

    def find_categories(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        matches = self.category_matches(text)
        return _grouped([("category", c) for _, c in matches]).get("category", []), [s for s, _ in matches]

    def category_matches(self, text: str) -> list[tuple[tuple[int, int], str]]:
        """(span, category) of every category named in the (lower-case) text."""
        if self._category_re is None:
            return []
        return [(m.span(), self._category_variants[m.group(1)]) for m in self._category_re.finditer(text)]

    def value_matches(self, text: str, taken: list[tuple[int, int]]) -> list[tuple[tuple[int, int], str, str]]:
        """(span, dimension, value) of every custom dimension value named in the (lower-case) text, outside the
        spans already taken. A value held by several dimensions ("New York": state and city) goes to the one
        whose name the question also says, else to the one with the fewest values."""
        if not self._values:
            return []
        if self._value_re is None:
            self._value_re = alias_pattern(tuple(self._values))
        found = []
        for m in self._value_re.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            columns = self._values[m.group(1)]
            named = [c for c in columns if c.replace("_", " ") in text or c in text]
            column = (named or sorted(columns, key=lambda c: len(self.dimensions[c])))[0]
            value = next(v for v in self.dimensions[column] if v.lower() == m.group(1))
            found.append((m.span(), column, value))
        return found

    def product_label(self, sku: str) -> str:
        """'Description (SKU)', or the SKU alone when the data names its products by their description."""
        name = self.products.get(str(sku))
        return f"{name} ({sku})" if name and name != str(sku) else str(sku)

    def category_of(self, variant: str) -> str | None:
        return self._category_variants.get(variant)

    def find_skus(self, original: str) -> tuple[list[str], list[tuple[int, int]]]:
        """SKU codes written as they are (case-insensitive, whole token)."""
        found: list[str] = []
        spans: list[tuple[int, int]] = []
        upper = self._sku_upper
        for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9_-]{2,}", original):
            token = m.group(0).upper()
            if token in upper and any(ch.isdigit() for ch in token):
                sku = upper[token]
                if sku not in found:
                    found.append(sku)
                spans.append(m.span())
        return found, spans

    def match_products(self, phrase: str, limit: int = 5) -> list[tuple[str, float]]:
        """Products whose description best matches a phrase: (sku, score 0-100), best first."""
        if not phrase.strip() or not self.products:
            return []
        from rapidfuzz import fuzz, process, utils

        choices = self._choices
        if self._processed is None:
            # the same processing extract(processor=default_process) applies to every choice on every call
            self._processed = {sku: utils.default_process(desc) for sku, desc in choices.items()}
        results = process.extract(
            utils.default_process(phrase.lower()),
            self._processed,
            scorer=fuzz.token_set_ratio,
            processor=None,
            limit=limit * 4,
        )
        scored = []
        for _desc, score, sku in results:
            # prefer descriptions whose words cover the phrase's words and are short (fewer extra words)
            bonus = fuzz.ratio(phrase.lower(), choices[sku]) / 100
            scored.append((sku, float(score) + bonus))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:limit]
