"""Which currency the pulse's amounts are in, from the prod data itself, and what FX gaps mean for them.

Prod datasets that hold `revenue_reporting` carry a `reporting_currency` column (the ISO code the pipeline
converted to); that column, never a hard-coded code, labels the amounts. A row without an FX rate has no
reporting amount: the panel then falls back to the local amount, so when no row of a currency could be
converted, the label is that currency (a one-currency shop with no FX file) or the notes say which
countries' revenue stays in local currency.
"""

from __future__ import annotations

import pandas as pd

DEFAULT = "EUR"


def _code(value: object) -> str | None:
    text = str(value).strip().upper() if value is not None and not pd.isna(value) else ""
    return text if len(text) == 3 and text.isalpha() else None


def reporting_label(kpis: pd.DataFrame, configured: str | None) -> str:
    """The `reporting_currency` column's code when present (the most frequent one if several), else the
    configured code when it is one (not "AUTO"), else the shop's only currency, else EUR."""
    if "reporting_currency" in kpis:
        codes = kpis["reporting_currency"].map(_code).dropna()
        if not codes.empty:
            return str(codes.value_counts().index[0])
    if code := _code(configured):
        return code
    currencies = kpis["currency"].map(_code).dropna().unique() if "currency" in kpis else []
    return str(currencies[0]) if len(currencies) == 1 else DEFAULT


def label_and_notes(kpis: pd.DataFrame, configured: str | None) -> tuple[str, list[str]]:
    """The label of the pulse's amounts and notes on revenue that could not be converted into it."""
    label = reporting_label(kpis, configured)
    if "revenue_reporting" not in kpis or "currency" not in kpis:
        return label, []
    converted = pd.to_numeric(kpis["revenue_reporting"], errors="coerce").notna()
    sold_in = set(kpis["currency"].dropna().astype(str))
    never = sorted(sold_in - set(kpis.loc[converted, "currency"].dropna().astype(str)))
    if not never:
        return label, []
    if sorted(sold_in) == never and len(never) == 1:
        only = never[0]
        if only == label:
            return label, []
        return only, [f"no FX rate from {only} to {label}: amounts are shown in {only}, the shop's only currency"]
    countries = sorted(kpis.loc[kpis["currency"].isin(never), "country"].dropna().astype(str).unique())
    return label, [
        f"no FX rate from {', '.join(never)} to {label}: revenue of {', '.join(countries[:8])}"
        f"{', ...' if len(countries) > 8 else ''} stays in local currency, so cross-country revenue comparisons "
        "with them mix currencies"
    ]
