"""Answers from the other AI systems' insights and the pipeline's quality reports.

Their schemas are theirs: columns are looked up by meaning (a forecast column, a risk column) and anything
that is not there is said plainly. When an insight dataset does not exist yet, the answer says so.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from retail_copilot.catalog import Catalog
from retail_copilot.engine import Result
from retail_copilot.plan import QueryPlan
from retail_platform.pii.pan import mask_text

SENSITIVE = re.compile(r"(card|pan|cvv|iban|email|phone|address|name)", re.IGNORECASE)
MAX_ROWS = 10


def not_available(dataset: str, what: str, instead: str) -> Result:
    return Result(
        f"{what} are not available yet: the prod dataset '{dataset}' has not been written by its AI system. {instead}",
        datasets=[],
        details={"missing_dataset": dataset},
    )


def safe_table(frame: pd.DataFrame, limit: int = MAX_ROWS) -> dict[str, Any]:
    """A small table without personal or card columns, with any card number in text masked."""
    columns = [c for c in frame.columns if not SENSITIVE.search(str(c))][:8]
    rows = []
    for values in frame[columns].head(limit).itertuples(index=False):
        row = []
        for value in values:
            if isinstance(value, str):
                row.append(mask_text(value)[0])
            elif isinstance(value, float | np.floating):
                row.append(None if np.isnan(value) else round(float(value), 4))
            elif isinstance(value, pd.Timestamp):
                row.append(value.isoformat())
            elif isinstance(value, np.integer | np.bool_):
                row.append(value.item())
            else:
                row.append(value if isinstance(value, int | bool) or value is None else str(value))
        rows.append(row)
    return {"columns": [str(c) for c in columns], "rows": rows}


def _column(frame: pd.DataFrame, *patterns: str) -> str | None:
    for pattern in patterns:
        for column in frame.columns:
            if re.search(pattern, str(column), re.IGNORECASE):
                return str(column)
    return None


def _filter(frame: pd.DataFrame, plan: QueryPlan) -> pd.DataFrame:
    out = frame
    if plan.countries and "country" in out.columns:
        out = out.loc[out["country"].astype(str).isin(plan.countries)]
    if plan.skus and "sku" in out.columns:
        out = out.loc[out["sku"].astype(str).isin(plan.skus)]
    if plan.categories and "category" in out.columns:
        out = out.loc[out["category"].astype(str).isin(plan.categories)]
    return out


def _dates(frame: pd.DataFrame) -> pd.Series | None:
    column = _column(
        frame, r"^date$", r"^day$", r"^(event|alert|created|detected)_?(ts|at|time|date)$", r"_ts$", r"^ts$"
    )
    if column is None:
        return None
    return pd.to_datetime(frame[column], errors="coerce", utc=True).dt.tz_localize(None).dt.normalize()


def fraud(plan: QueryPlan, data: tuple[pd.DataFrame, Any] | None, anchor: date) -> Result:
    if data is None:
        return not_available(
            "fraud_alerts",
            "Fraud alerts",
            "The compliance-guardian system writes them; ask about sales, orders or data quality meanwhile.",
        )
    frame = _filter(data[0], plan)
    dates = _dates(frame)
    period = plan.period
    if dates is not None and period is not None:
        frame = frame.loc[(dates >= pd.Timestamp(period.start)) & (dates <= pd.Timestamp(period.end))]
        when = period.label
    elif dates is not None and not frame.empty:
        latest = dates.max()
        frame = frame.loc[dates == latest]
        when = f"the latest day with alerts ({latest.date().isoformat()})"
    else:
        when = "the latest partitions"
    score = _column(frame, r"score", r"probab", r"risk")
    if score is not None:
        frame = frame.sort_values(score, ascending=False, kind="mergesort")
    n = len(frame)
    text = f"{n} fraud alert{'s' if n != 1 else ''} in {when}." if n else f"No fraud alerts in {when}."
    return Result(text, float(n), table=safe_table(frame), datasets=["fraud_alerts"], details={"alerts": n})


def forecast(plan: QueryPlan, data: tuple[pd.DataFrame, Any] | None, anchor: date) -> Result:
    if data is None:
        return not_available(
            "demand_forecasts",
            "Demand forecasts",
            "The demand-insights-engine system writes them; "
            "I can show the recent trend instead (ask 'units trend last 8 weeks').",
        )
    frame, _ = data
    frame = _filter(frame, plan)
    value_column = _column(
        frame, r"^(forecast|yhat|prediction|predicted)(_units)?$", r"forecast", r"pred", r"yhat", r"units"
    )
    target = _column(frame, r"^(target_date|forecast_date|ds)$", r"target", r"horizon_date")
    if value_column is None:
        return Result(
            "The demand forecasts have no forecast column I recognise.",
            table=safe_table(frame),
            datasets=["demand_forecasts"],
        )
    if target is not None:
        days = pd.to_datetime(frame[target], errors="coerce").dt.normalize()
        horizon = plan.top_n or 7  # the parser puts the horizon in days here for forecasts
        if plan.period is not None and plan.period.start > anchor:
            start, end = plan.period.start, plan.period.end
        else:
            start, end = anchor + timedelta(days=1), anchor + timedelta(days=horizon)
        frame = frame.loc[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))]
        when = f"{start} to {end}"
    else:
        when = "the forecast horizon"
    total = float(pd.to_numeric(frame[value_column], errors="coerce").sum())
    text = f"Forecast {value_column} for {when}: {total:,.0f} across {len(frame)} rows."
    return Result(text, round(total, 2), table=safe_table(frame), datasets=["demand_forecasts"])


NAMED = 5  # SKUs an answer names in its text (the table and details hold up to MAX_ROWS)


def _product(catalog: Catalog, sku: Any) -> str:
    return catalog.product_label(str(sku))


def _figure(value: Any, digits: int = 1) -> float | None:
    number = pd.to_numeric(value, errors="coerce")
    return None if pd.isna(number) else round(float(number), digits)


def _named(entries: list[dict[str, Any]], describe: Any) -> str:
    """'1. Name (SKU) in DE: 3 days of cover; 2. ...' for the first NAMED entries."""
    shown = "; ".join(f"{i}. {describe(e)}" for i, e in enumerate(entries[:NAMED], 1))
    return shown + (f"; and {len(entries) - NAMED} more" if len(entries) > NAMED else "")


def _advice_at_risk(frame: pd.DataFrame, horizon_days: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The latest advice sorted most at risk first, the rows at risk within the horizon, and the rule used:
    days of cover within the horizon, else a stock-out probability of at least 50%."""
    dates = _dates(frame)
    if dates is not None and dates.notna().any():
        frame = frame.loc[dates == dates.max()]  # the newest advice only (older partitions are superseded)
    cover = "days_of_cover" if "days_of_cover" in frame.columns else None
    risk = "stockout_risk" if "stockout_risk" in frame.columns else _column(frame, r"stockout_?(risk|prob)")
    if cover is not None:
        days = pd.to_numeric(frame[cover], errors="coerce")
        order = frame.assign(_cover=days.fillna(np.inf))
        keys = ["_cover"] + ([risk] if risk else [])
        ordered = order.sort_values(keys, ascending=[True] + ([False] if risk else []), kind="mergesort")
        at_risk = ordered.loc[ordered["_cover"] <= horizon_days].drop(columns="_cover")
        return ordered.drop(columns="_cover"), at_risk, f"days of cover within {horizon_days} days"
    if risk is not None:
        ordered = frame.sort_values(risk, ascending=False, kind="mergesort")
        at_risk = ordered.loc[pd.to_numeric(ordered[risk], errors="coerce") >= 0.5]
        return ordered, at_risk, f"stock-out probability of 50% or more over its horizon ({risk})"
    return frame, frame, "every SKU it lists (it has no cover or risk column)"


def _no_stock_figures(frame: pd.DataFrame) -> Result:
    """The advice exists but knows no stock on hand (the exports had no inventory data): no risk can be judged."""
    skus = frame["sku"].nunique() if "sku" in frame.columns else len(frame)
    return Result(
        f"I cannot tell which SKUs will run out: the inventory advice has no stock on hand for any of its {skus:,} "
        "SKUs (the exports carry no inventory data), so it gives reorder points only, not stock-out risk.",
        None,
        datasets=["inventory_advice"],
        details={"at_risk": [], "skus": [], "stock_known": 0},
    )


def _advice_answer(frame: pd.DataFrame, horizon_days: int, catalog: Catalog) -> Result:
    ordered, at_risk, rule = _advice_at_risk(frame, horizon_days)
    if (
        "on_hand" in ordered.columns
        and len(ordered)
        and pd.to_numeric(ordered["on_hand"], errors="coerce").isna().all()
    ):
        return _no_stock_figures(ordered)
    entries = []
    for row in (at_risk if not at_risk.empty else ordered).head(MAX_ROWS).to_dict("records"):
        sku = row.get("sku", row.get("series_id", "?"))
        entries.append(
            {
                "sku": str(sku),
                "name": catalog.products.get(str(sku)),
                "country": row.get("country"),
                "days_of_cover": _figure(row.get("days_of_cover")),
                "stockout_risk": _figure(row.get("stockout_risk"), 3),
                "on_hand": _figure(row.get("on_hand"), 0),
                "order_qty": _figure(row.get("order_qty"), 0),
            }
        )

    def describe(e: dict[str, Any]) -> str:
        where = f" in {e['country']}" if e["country"] else ""
        figures = []
        if e["days_of_cover"] is not None:
            figures.append(f"{e['days_of_cover']:g} days of cover")
        if e["stockout_risk"] is not None:
            figures.append(f"{100 * e['stockout_risk']:.0f}% stock-out risk")
        if e["on_hand"] is not None:
            figures.append(f"{e['on_hand']:,.0f} on hand")
        return f"{_product(catalog, e['sku'])}{where}" + (f": {', '.join(figures)}" if figures else "")

    n = len(at_risk)
    if n:
        text = (
            f"{n} SKU-location{'s' if n != 1 else ''} may run out within {horizon_days} days (inventory advice, "
            f"{rule}): {_named(entries, describe)}."
        )
    elif entries:
        text = (
            f"No SKU is expected to run out within {horizon_days} days (inventory advice, {rule}); "
            f"the least covered: {_named(entries[:3], describe)}."
        )
    else:
        text = "The inventory advice lists no SKU for those filters."
    columns = ["product", "country", "days_of_cover", "stockout_risk", "on_hand", "order_qty"]
    rows = [[_product(catalog, e["sku"]), *(e[c] for c in columns[1:])] for e in entries]
    return Result(
        text,
        float(n),
        table={"columns": columns, "rows": rows},
        datasets=["inventory_advice"],
        details={"at_risk": [f"{e['sku']}/{e['country']}" for e in entries[:n]], "skus": entries[: n or 3]},
    )


def stockout(
    plan: QueryPlan,
    advice: tuple[pd.DataFrame, Any] | None,
    daily_sales: pd.DataFrame | None,
    anchor: date,
    horizon_days: int,
    catalog: Catalog,
) -> Result:
    """Stock-out risk: the inventory-advice system's answer if it exists, otherwise days of cover from daily_sales.
    Either way the answer names the SKUs (id and name) with their figures."""
    if advice is not None:
        frame, _ = advice
        return _advice_answer(_filter(frame, plan), horizon_days, catalog)
    if daily_sales is None or daily_sales.empty or "on_hand" not in daily_sales.columns:
        return not_available(
            "inventory_advice",
            "Stock-out predictions",
            "There are no stock snapshots in daily_sales either, so I cannot estimate days of cover.",
        )
    sales = daily_sales.copy()
    sales["date"] = pd.to_datetime(sales["date"]).dt.normalize()
    sales = _filter(sales, plan)
    if plan.categories:
        skus = [sku for sku, category in catalog.product_category.items() if category in plan.categories]
        sales = sales.loc[sales["sku"].astype(str).isin(skus)]
    if sales.empty:
        return Result("No sales or stock rows match those filters.", 0.0, datasets=["daily_sales"])
    last = sales["date"].max()
    window = sales.loc[sales["date"] > last - pd.Timedelta(days=28)]
    demand = window.groupby(["sku", "country"])["units"].sum().clip(lower=0) / 28.0
    stock_rows = sales.dropna(subset=["on_hand"]).sort_values("date", kind="mergesort")
    stock = stock_rows.groupby(["sku", "country"]).tail(1).set_index(["sku", "country"])["on_hand"].astype("float64")
    table = (
        pd.DataFrame({"on_hand": stock, "daily_demand": demand})
        .dropna(subset=["on_hand"])
        .fillna({"daily_demand": 0.0})
    )
    table = table.loc[table["daily_demand"] > 0]
    table["days_of_cover"] = table["on_hand"] / table["daily_demand"]
    at_risk = table.loc[table["days_of_cover"] <= horizon_days].sort_values(
        ["days_of_cover", "daily_demand"], ascending=[True, False], kind="mergesort"
    )
    entries = [
        {
            "sku": str(sku),
            "name": catalog.products.get(str(sku)),
            "country": country,
            "on_hand": int(r.on_hand),
            "daily_units_28d": round(float(r.daily_demand), 2),
            "days_of_cover": round(float(r.days_of_cover), 1),
        }
        for (sku, country), r in at_risk.head(MAX_ROWS).iterrows()
    ]
    rows = [
        [_product(catalog, e["sku"]), e["country"], e["on_hand"], e["daily_units_28d"], e["days_of_cover"]]
        for e in entries
    ]

    def describe(e: dict[str, Any]) -> str:
        return (
            f"{_product(catalog, e['sku'])} in {e['country']}: {e['days_of_cover']:g} days of cover "
            f"({e['on_hand']:,} on hand, {e['daily_units_28d']:g} a day)"
        )

    n = len(at_risk)
    text = (
        f"{n} SKU-country pair{'s' if n != 1 else ''} may run out within {horizon_days} days"
        + (f": {_named(entries, describe)}" if n else "")
        + f" (stock on hand at the last snapshot ÷ average daily units of the last 28 days to "
        f"{last.date().isoformat()}; the inventory-advice system's forecasts are not available yet)."
    )
    return Result(
        text,
        float(n),
        table={"columns": ["product", "country", "on_hand", "daily_units_28d", "days_of_cover"], "rows": rows},
        datasets=["daily_sales"],
        details={"at_risk": [f"{sku}/{country}" for sku, country in at_risk.index], "skus": entries},
    )


def quality(reports: list[dict[str, Any]]) -> Result:
    """Data quality over raw-to-curated's reports: one report per (source file, dataset), and a file whose contract
    feeds several datasets (a denormalised export) has one report per dataset, each counting the file's raw rows.
    Files and raw rows are therefore counted once per source file; quarantine rates are per dataset."""
    if not reports:
        return Result(
            "No data-quality reports found in the curated bucket (_reports/) yet.", datasets=[], details={"reports": 0}
        )
    totals: dict[str, dict[str, int]] = {}
    raw_rows: dict[str, int] = {}  # source file -> raw rows read (the same in each of its datasets' reports)
    failed_files: set[str] = set()
    for report in reports:
        name = str(report.get("dataset", "?"))
        source = str(report.get("source_key") or report.get("report_key") or id(report))
        entry = totals.setdefault(name, {"files": 0, "rows_in": 0, "rows_curated": 0, "rows_quarantined": 0})
        entry["files"] += 1
        if report.get("file_error"):
            failed_files.add(source)
        for key in ("rows_in", "rows_curated", "rows_quarantined"):
            entry[key] += int(report.get(key) or 0)
        raw_rows[source] = max(raw_rows.get(source, 0), int(report.get("rows_in") or 0))
    rows = [
        [
            name,
            entry["files"],
            entry["rows_in"],
            entry["rows_curated"],
            entry["rows_quarantined"],
            round(100 * entry["rows_quarantined"] / entry["rows_in"], 2) if entry["rows_in"] else 0.0,
        ]
        for name, entry in sorted(totals.items())
    ]
    files, rows_in = len(raw_rows), sum(raw_rows.values())
    text = f"{files:,} file{'s' if files != 1 else ''} curated ({rows_in:,} raw rows) into {len(rows)} dataset" + (
        "s" if len(rows) != 1 else ""
    )
    quarantined = [r for r in rows if r[4]]
    if quarantined:
        worst = max(quarantined, key=lambda r: (r[5], r[0]))
        text += (
            "; rows quarantined with a reason: "
            + ", ".join(f"{r[0]} {r[4]:,} of {r[2]:,} ({r[5]:g}%)" for r in quarantined)
            + f". Highest quarantine rate: {worst[0]} ({worst[5]:g}%)."
        )
    else:
        text += "; no row was quarantined."
    if failed_files:
        text += f" {len(failed_files)} file(s) could not be read at all and were quarantined whole."
    return Result(
        text,
        max((r[5] for r in rows), default=0.0),
        table={
            "columns": ["dataset", "files", "rows_in", "rows_curated", "rows_quarantined", "quarantine_%"],
            "rows": rows,
        },
        datasets=["_reports (curated)"],
        details={"files": files, "raw_rows": rows_in},
    )


def pulse(plan: QueryPlan, data: dict[str, tuple[pd.DataFrame, Any] | None]) -> Result:
    available = {name: d for name, d in data.items() if d is not None}
    if not available:
        return not_available(
            "pulse",
            "Market pulse and market trends",
            "The global-market-pulse and market-intelligence-hub systems write them; "
            "ask 'revenue by country last month' meanwhile.",
        )
    name, (frame, _) = next(iter(available.items()))
    frame = _filter(frame, plan)
    dates = _dates(frame)
    if dates is not None and not frame.empty:
        frame = frame.loc[dates == dates.max()]
    return Result(
        f"Latest {name.replace('_', ' ')}: {len(frame)} rows.",
        float(len(frame)),
        table=safe_table(frame),
        datasets=list(available),
    )
