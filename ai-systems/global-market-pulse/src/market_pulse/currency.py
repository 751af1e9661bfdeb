"""Which currency the pulse's amounts are in, from the prod data itself, and what FX gaps mean for them.

Prod datasets that hold `revenue_reporting` carry a `reporting_currency` column (the ISO code the pipeline
converted to); that column, never a hard-coded code, labels the amounts. A row without an FX rate has no
reporting amount: the panel then falls back to the local amount, so when no row of a currency could be
converted, the label is that currency (a one-currency shop with no FX file) or the notes say which
countries' revenue stays in local currency.

Everything here is decided from a small summary (`summarise`: rows and converted rows per reporting
currency, currency and country), which the batch path gets from SQL (prod_sql) and the CLI and tests from a
pandas frame.
"""

from __future__ import annotations

import pandas as pd

DEFAULT = "EUR"
SUMMARY_KEYS = ["reporting_currency", "currency", "country"]


def _code(value: object) -> str | None:
    text = str(value).strip().upper() if value is not None and not pd.isna(value) else ""
    return text if len(text) == 3 and text.isalpha() else None


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows and FX-converted rows (`converted`: NaN when there is no `revenue_reporting` column) per
    (reporting_currency, currency, country) of a row-level frame; absent key columns are NULL."""
    keys = pd.DataFrame(
        {k: frame[k].astype("object").where(frame[k].notna(), None) if k in frame else None for k in SUMMARY_KEYS},
        index=frame.index,
    ).astype("object")
    if "revenue_reporting" in frame:
        keys["converted"] = pd.to_numeric(frame["revenue_reporting"], errors="coerce").notna().astype(int)
    else:
        keys["converted"] = float("nan")
    keys["rows"] = 1
    grouped = keys.groupby(SUMMARY_KEYS, dropna=False, as_index=False)
    return grouped.agg(rows=("rows", "sum"), converted=("converted", lambda s: s.sum(min_count=1)))


def label_from_summary(summary: pd.DataFrame, configured: str | None) -> str:
    """The most frequent `reporting_currency` code when there is one, else the configured code when it is one
    (not "AUTO"), else the shop's only currency, else EUR."""
    codes = summary["reporting_currency"].map(_code)
    weights = summary["rows"][codes.notna()].groupby(codes[codes.notna()]).sum()
    if not weights.empty:
        return str(weights.sort_index().idxmax())
    if code := _code(configured):
        return code
    currencies = summary["currency"].map(_code).dropna().unique()
    return str(currencies[0]) if len(currencies) == 1 else DEFAULT


def notes_from_summary(summary: pd.DataFrame, configured: str | None) -> tuple[str, list[str]]:
    """The label of the pulse's amounts and notes on revenue that could not be converted into it."""
    label = label_from_summary(summary, configured)
    known = summary["converted"].notna() & summary["currency"].notna()
    if not known.any():
        return label, []
    sold = summary.loc[known]
    sold_in = set(sold["currency"].astype(str))
    never = sorted(sold_in - set(sold.loc[sold["converted"] > 0, "currency"].astype(str)))
    if not never:
        return label, []
    if sorted(sold_in) == never and len(never) == 1:
        only = never[0]
        if only == label:
            return label, []
        return only, [f"no FX rate from {only} to {label}: amounts are shown in {only}, the shop's only currency"]
    countries = sorted(sold.loc[sold["currency"].isin(never), "country"].dropna().astype(str).unique())
    return label, [
        f"no FX rate from {', '.join(never)} to {label}: revenue of {', '.join(countries[:8])}"
        f"{', ...' if len(countries) > 8 else ''} stays in local currency, so cross-country revenue comparisons "
        "with them mix currencies"
    ]


def reporting_label(kpis: pd.DataFrame, configured: str | None) -> str:
    """`label_from_summary` of a row-level frame."""
    return label_from_summary(summarise(kpis), configured)


def label_and_notes(kpis: pd.DataFrame, configured: str | None) -> tuple[str, list[str]]:
    """`notes_from_summary` of a row-level frame."""
    return notes_from_summary(summarise(kpis), configured)
