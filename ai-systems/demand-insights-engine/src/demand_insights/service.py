"""Use cases: the batch runs (prod datasets in, insights datasets and models out) and online lookups.

Knows storage through injected `BlobStore`s (store.Stores: S3 in Lambda, in memory in tests), nothing of
Lambda or HTTP.

Retraining policy (forecast): retrain when there is no usable model, when the newest sales day is 7 or
more days past the model's training window, or when more than 10% of today's series are unknown to it;
otherwise the stored model forecasts from the new history. The churn model is cheap and is retrained on
every customer_transactions update.
"""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
import pandas as pd

from demand_insights import store
from demand_insights.config import get_demand_settings
from demand_insights.exceptions import InputDataError, NotFoundError, RequestError
from retail_platform.storage import BlobStore

RETRAIN_AFTER_DAYS = 7
NEW_SERIES_SHARE = 0.10
SEP = "|"
MAX_QUERY_HORIZON = 365  # one yearly cycle of daily data; a stored forecast answers the steps it has
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/ ]{0,63}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
CUSTOMER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


Stores = store.Stores


def sales_panel(daily_sales: pd.DataFrame):
    """The platform's daily_sales as a panel of SKU x country series."""
    from demand_insights.panel import from_long

    required = {"date", "sku", "country", "units"}
    missing = sorted(required - set(daily_sales.columns))
    if missing:
        raise InputDataError(f"daily_sales is missing columns {missing}")
    frame = daily_sales.copy()
    frame["series_id"] = frame["sku"].astype(str) + SEP + frame["country"].astype(str)
    return from_long(
        frame,
        "series_id",
        "date",
        "units",
        price_col="price" if "price" in frame else None,
        promo_col="promo_flag" if "promo_flag" in frame else None,
        stockout_col="stockout_flag" if "stockout_flag" in frame else None,
        on_hand_col="on_hand" if "on_hand" in frame else None,
        group_col="country",
        country_col="country",
    )


def _needs_training(model, panel) -> str | None:
    if model is None:
        return "no stored model"
    from demand_insights.features import FEATURES

    if model.metadata.get("features") != FEATURES or "target_scaling" not in model.metadata:
        return "stored model was trained on another feature set"
    if model.grain is not panel.grain:
        return f"stored model is {model.grain.name}, the sales are {panel.grain.name}"
    end = pd.Timestamp(model.metadata["training_window"]["end"])
    if (panel.dates[-1] - end).days >= RETRAIN_AFTER_DAYS:
        return f"model trained to {end.date()}, data to {panel.dates[-1].date()}"
    known = set(model.metadata["series"])
    unknown = sum(1 for s in panel.ids if s not in known)
    if unknown > NEW_SERIES_SHARE * panel.n_series:
        return f"{unknown} of {panel.n_series} series are new"
    return None


def _stock_note(panel) -> str | None:
    """What the inventory advice cannot say for lack of stock data (None when every series has a level)."""
    known = 0 if panel.on_hand is None else int(np.isfinite(panel.on_hand).sum())
    if known == 0:
        return "no inventory data (on_hand): stock-out risk and order quantities skipped; reorder points only"
    if known < panel.n_series:
        return f"stock on hand known for {known} of {panel.n_series} series: stock-out advice for those only"
    return None


def _forecast_with_model(stores: Stores, panel, horizon: int, force_retrain: bool):
    """The stored model if it still fits the data, else a new one: (model, forecasts, retrain reason)."""
    from demand_insights import forecast

    model = None
    if not force_retrain:
        model = store.load_model(
            stores.artifacts,
            "forecast",
            forecast.ForecastModel.from_files,
            optional=(forecast.MEDIAN_FILE, forecast.XGB_FILE),
        )
    reason = "forced" if force_retrain else _needs_training(model, panel)
    if reason is None and model.horizon < horizon:
        reason = f"stored model forecasts {model.horizon} steps, {horizon} are needed"
    if reason is not None:
        budget = get_demand_settings().budget
        model = forecast.fit(
            panel, horizon, version=store.new_version(), max_rows=budget.max_rows, rounds=budget.rounds
        )
        store.save_model(stores.artifacts, "forecast", model.version, model.to_files())
    return model, model.forecast(panel, horizon), reason


def run_forecasts(stores: Stores, *, force_retrain: bool = False) -> dict[str, Any]:
    """daily_sales -> demand_forecasts + inventory_advice partitions (day = last sales day) and a model.

    Any grain (the sales table's dates decide) and any history: below the model's minimum the forecast is
    the seasonal-naive baseline with its own intervals. What could not be done is listed in `skipped`.
    """
    from demand_insights import aggregate, fallback, forecast, inventory, prod_sql

    started = time.perf_counter()
    sales = prod_sql.daily_units(stores.prod)  # summed per day x SKU x country by DuckDB, not read whole
    if sales.empty:
        raise InputDataError(f"no daily_sales under {stores.prod.bucket}/daily_sales/: demand forecasts skipped")
    panel = sales_panel(sales)
    horizon = forecast.MAX_HORIZON if panel.grain.code == "D" else panel.grain.default_horizon
    notes: list[str] = []
    if panel.n_steps < forecast.MIN_STEPS:
        fc, note = fallback.baseline_forecast(panel, horizon)
        model, reason = None, None
        notes.append(note)
    else:
        model, fc, reason = _forecast_with_model(stores, panel, horizon, force_retrain)
    version = model.version if model is not None else fallback.VERSION
    widened = float(fc.attrs.get("mean_outside_before_widening", 0.0))
    sku_country = fc["series_id"].str.split(SEP, n=1, expand=True, regex=False)
    fc.insert(1, "sku", sku_country[0])
    fc.insert(2, "country", sku_country[1])
    on_hand = pd.Series(panel.on_hand if panel.on_hand is not None else np.nan, index=panel.ids)
    if note := _stock_note(panel):
        notes.append(note)
    advice = inventory.advise(fc, on_hand, inventory.policy_for(panel.grain))
    advice_ids = advice["series_id"].str.split(SEP, n=1, expand=True, regex=False)
    advice.insert(1, "sku", advice_ids[0])
    advice.insert(2, "country", advice_ids[1])
    advice["origin_date"] = panel.dates[-1]
    advice["model_version"] = version
    day = str(panel.dates[-1].date())
    history = aggregate.history_totals(panel.dates, np.nansum(panel.y, axis=0), panel.grain.code, sales["date"])
    keys = [
        store.write_partition(stores.prod, store.FORECASTS, day, fc),
        store.write_partition(stores.prod, store.INVENTORY, day, advice),
    ]
    return {
        "task": "forecast",
        "model_version": version,
        "trained": reason is not None,
        "retrain_reason": reason,
        "series": int(panel.n_series),
        "grain": panel.grain.name,
        "horizon": horizon,
        "seasonal_period": panel.grain.period,
        "history": {"start": str(panel.dates[0].date()), "end": day, "steps": int(panel.n_steps)},
        "holdout": model.metadata.get("holdout") if model is not None else None,
        "mean_outside_p10_p90": forecast.mean_outside_share(fc),
        "mean_outside_before_widening": round(widened, 4),
        "series_correlation": round(aggregate.common_correlation(panel.y, panel.grain.period), 4),
        "skipped": notes,
        "keys": keys,
        "partitions": {store.FORECASTS: [day], store.INVENTORY: [day]},
        "seconds": round(time.perf_counter() - started, 2),
        "_frames": {"forecasts": fc, "advice": advice, "sales": sales, "history": history},
    }


def run_customers(stores: Stores) -> dict[str, Any]:
    """customer_transactions -> customer_insights partition (day = last transaction day) and a churn model.

    The transactions stay in DuckDB (prod_sql.SqlTransactions): every feature is a GROUP BY per customer."""
    from demand_insights import customers, prod_sql

    started = time.perf_counter()
    with prod_sql.transactions(stores.prod) as tx:
        if tx is None:
            raise InputDataError("no customer_transactions in prod: customer analytics (RFM, churn, CLV) skipped")
        skipped: list[str] = []
        try:
            model: customers.ChurnModel | None = customers.fit_churn(tx, version=store.new_version())
        except InputDataError as e:  # RFM segments still stand; churn and CLV are left missing, not guessed
            model = None
            skipped.append(f"churn model not trained ({e}): RFM segments only, no churn probability or CLV")
        if model is not None:
            store.save_model(stores.artifacts, "churn", model.version, model.to_files())
        table = customers.insights(tx, model)
        day = str(tx.end.date())
    key = store.write_partition(stores.prod, store.CUSTOMERS, day, table)
    return {
        "task": "customers",
        "model_version": model.version if model is not None else customers.NO_MODEL,
        "customers": len(table),
        "metrics": model.metadata["metrics"] if model is not None else None,
        "skipped": skipped,
        "keys": [key],
        "partitions": {store.CUSTOMERS: [day]},
        "seconds": round(time.perf_counter() - started, 2),
        "_frames": {"customers": table},
    }


# ------------------------------------------------------------------------------------------ online


class ResultCache:
    """The newest stored insights partition of a dataset, re-listed at most every `ttl` seconds."""

    def __init__(self, dataset: str, ttl: float = 60.0) -> None:
        self.dataset, self.ttl = dataset, ttl
        self._loaded: tuple[str, pd.DataFrame] | None = None
        self._checked = 0.0

    def get(self, prod: BlobStore) -> tuple[str, pd.DataFrame]:
        now = time.monotonic()
        if self._loaded is None or now - self._checked > self.ttl:
            latest = store.partitions(prod, self.dataset)
            if not latest:
                self._loaded = None
            elif self._loaded is None or latest[0] != self._loaded[0]:
                self._loaded = store.read_latest(prod, self.dataset) or self._loaded
            self._checked = now
        if self._loaded is None:
            raise NotFoundError(f"no {self.dataset} have been computed yet")
        return self._loaded


def parse_forecast_query(params: dict[str, str] | None) -> tuple[str, str | None, int]:
    params = params or {}
    unknown = sorted(set(params) - {"sku", "country", "horizon"})
    if unknown:
        raise RequestError(f"unknown query parameters {unknown}; allowed: sku, country, horizon")
    sku = (params.get("sku") or "").strip()
    if not sku:
        raise RequestError("query parameter 'sku' is required")
    if not SKU_RE.match(sku):
        raise RequestError("'sku' must be 1-64 letters, digits or _.-/ characters")
    country = params.get("country")
    if country is not None:
        country = country.strip().upper()
        if not COUNTRY_RE.match(country):
            raise RequestError("'country' must be an ISO 3166 alpha-2 code such as GB")
    raw_h = params.get("horizon", "28")
    try:
        horizon = int(raw_h)
    except (TypeError, ValueError) as e:
        raise RequestError(f"'horizon' must be an integer between 1 and {MAX_QUERY_HORIZON}, got {raw_h!r}") from e
    if not 1 <= horizon <= MAX_QUERY_HORIZON:
        raise RequestError(
            f"'horizon' must be between 1 and {MAX_QUERY_HORIZON} (steps of the stored forecast), got {horizon}"
        )
    return sku, country, horizon


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, pd.Timestamp):
                v = str(v.date())
            elif isinstance(v, float):
                v = None if np.isnan(v) else round(v, 3)
            elif isinstance(v, np.integer):
                v = int(v)
            elif isinstance(v, np.bool_):
                v = bool(v)
            clean[k] = v
        out.append(clean)
    return out


def forecasts_with_advice(
    forecasts: ResultCache, advice: ResultCache, prod: BlobStore
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The newest stored forecasts and inventory advice (None when there is none: no on_hand column)."""
    _, forecast_table = forecasts.get(prod)
    try:
        return forecast_table, advice.get(prod)[1]
    except NotFoundError:  # forecasts without advice: the forecast alone
        return forecast_table, None


def forecast_answer(forecasts: pd.DataFrame, advice: pd.DataFrame | None, sku: str, country: str | None, horizon: int):
    rows = forecasts.loc[forecasts["sku"] == sku]
    if country:
        rows = rows.loc[rows["country"] == country]
    if rows.empty:
        where = f" in {country}" if country else ""
        raise NotFoundError(f"no forecast for sku {sku!r}{where}")
    rows = rows.loc[rows["horizon"] <= horizon].sort_values(["country", "horizon"])
    series = []
    for ctry, part in rows.groupby("country", sort=True):
        entry: dict[str, Any] = {
            "country": ctry,
            "days": _records(part[["target_date", "horizon", "mean", "p10", "p50", "p90"]]),
            "total": {k: round(float(part[k].sum()), 3) for k in ("mean", "p50")},
        }
        if advice is not None:
            adv = advice.loc[(advice["sku"] == sku) & (advice["country"] == ctry)]
            if not adv.empty:
                entry["inventory"] = _records(adv.drop(columns=["series_id", "sku", "country", "model_version"]))[0]
        series.append(entry)
    return {
        "sku": sku,
        "horizon": horizon,
        "origin_date": str(pd.Timestamp(rows["origin_date"].iloc[0]).date()),
        "model_version": str(rows["model_version"].iloc[0]),
        "series": series,
    }


def parse_customer_id(value: str | None) -> str:
    value = (value or "").strip()
    if not CUSTOMER_RE.match(value):
        raise RequestError("customer id must be 1-64 letters, digits or _.- characters")
    return value


def customer_answer(table: pd.DataFrame, customer_id: str) -> dict[str, Any]:
    row = table.loc[table["customer_id"].astype(str) == customer_id]
    if row.empty:
        raise NotFoundError(f"no customer {customer_id!r} in the stored customer insights")
    return _records(row)[0]
