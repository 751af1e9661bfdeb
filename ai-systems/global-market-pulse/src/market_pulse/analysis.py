"""The whole analysis: a daily country panel in, every pulse table out (plus JSON documents for serving)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market_pulse import anomalies, comovement, growth, pulse_index, seasonality, significance
from market_pulse.exceptions import PulseInputError

MIN_DAYS = 14
TABLES = (
    "kpis",
    "growth",
    "country_tests",
    "pair_tests",
    "shares",
    "seasonality",
    "correlations",
    "granger",
    "clusters",
    "anomalies",
    "pulse",
)


@dataclass(frozen=True)
class PulseConfig:
    window_days: int = 28
    alpha: float = 0.05
    n_boot: int = 1000
    seed: int = 7
    z_threshold: float = 4.0
    shift_threshold: float = 6.0
    granger_max_lag: int = 7
    granger_countries: int = 12
    pair_countries: int = 60
    cluster_distance: float = 0.7


@dataclass
class PulseResult:
    as_of: str
    start: str
    reporting_currency: str
    config: PulseConfig
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    input_fingerprint: str = ""
    dimension: str = "country"  # what a market is: "country", or custom attributes such as "region"

    @property
    def version(self) -> str:
        """Deterministic: same inputs and configuration, same version."""
        return f"{self.as_of.replace('-', '')}-{self.input_fingerprint[:10]}"


def fingerprint(panel: pd.DataFrame, config: PulseConfig) -> str:
    digest = hashlib.sha256(pd.util.hash_pandas_object(panel, index=False).to_numpy().tobytes())
    digest.update(json.dumps(asdict(config), sort_keys=True).encode())
    return digest.hexdigest()


def _kpis(panel: pd.DataFrame, days: int) -> pd.DataFrame:
    last = panel["date"].max()
    recent = panel[panel["date"] > last - pd.Timedelta(days=days)]
    agg = {"revenue": "sum", "revenue_local": "sum", "orders": "sum"}
    for column in ("customers", "units", "cancelled_orders", "new_customers", "returning_customers"):
        if column in recent and recent[column].notna().any():
            agg[column] = "sum"
    out = recent.groupby("country").agg(agg)
    out["currency"] = panel.groupby("country")["currency"].last()
    out["aov"] = out["revenue"] / out["orders"].replace(0, np.nan)
    if "cancelled_orders" in out:
        out["cancellation_rate"] = out["cancelled_orders"] / out["orders"].replace(0, np.nan)
    if "new_customers" in out:
        known = (out["new_customers"] + out["returning_customers"]).replace(0, np.nan)
        out["new_customer_share"] = out["new_customers"] / known
    if "fx_converted" in recent and recent["fx_converted"].notna().any():
        # share of the window's days whose revenue had an FX rate to the reporting currency
        out["fx_converted_share"] = recent.groupby("country")["fx_converted"].mean()
    out["days"] = days
    return out.reset_index()


def _rate_change(panel: pd.DataFrame, numerator: str, denominator: str | tuple[str, str], days: int) -> pd.Series:
    if numerator not in panel or panel[numerator].isna().all():
        return pd.Series(dtype=float)
    last = panel["date"].max()
    recent = panel["date"] > last - pd.Timedelta(days=days)
    reference = (panel["date"] > last - pd.Timedelta(days=2 * days)) & ~recent
    denom = panel[denominator] if isinstance(denominator, str) else panel[denominator[0]] + panel[denominator[1]]
    frame = pd.DataFrame({"country": panel["country"], "num": panel[numerator], "den": denom})

    def rate(mask: pd.Series) -> pd.Series:
        sums = frame[mask].groupby("country")[["num", "den"]].sum()
        return sums["num"] / sums["den"].replace(0, np.nan)

    return rate(recent) - rate(reference)


def limits(panel: pd.DataFrame) -> list[str]:
    """What this panel's shape leaves out (short history, one country, no customer data), in words."""
    notes = []
    n_days = panel["date"].nunique()
    for window in growth.WINDOWS:
        if n_days < window.days + window.lag:
            notes.append(
                f"{n_days} days of history, {window.name} growth needs {window.days + window.lag}: "
                f"{window.name} revenue and order growth skipped"
            )
    if panel["country"].nunique() < 2:
        notes.append("one country only: market shares, pair tests and cross-country co-movement say nothing")
    if "new_customers" not in panel or panel["new_customers"].isna().all():
        notes.append("no customer_transactions in prod: new vs returning customers skipped")
    return notes


def analyse(
    panel: pd.DataFrame,
    config: PulseConfig | None = None,
    reporting_currency: str = "EUR",
    *,
    dimension: str = "country",
    holiday_countries: Mapping[str, str] | None = None,
) -> PulseResult:
    """Every pulse table for a completed daily panel (see panel.complete) whose `country` column holds the
    markets: countries, or the labels of a custom `dimension` (markets.py) whose public holidays are those of
    `holiday_countries[market]` (none when absent)."""
    config = config or PulseConfig()
    if panel.empty:
        raise PulseInputError("the input has no rows")
    n_days = panel["date"].nunique()
    if n_days < MIN_DAYS:
        raise PulseInputError(f"at least {MIN_DAYS} days of history are needed, got {n_days}")
    days = config.window_days
    wide = panel.pivot(index="date", columns="country", values="revenue").astype(float).fillna(0.0)
    orders_wide = panel.pivot(index="date", columns="country", values="orders").astype(float).fillna(0.0)
    factors = growth.weekday_factors(wide)
    adjusted = growth.seasonally_adjusted(wide, factors)
    result = PulseResult(
        as_of=wide.index[-1].date().isoformat(),
        start=wide.index[0].date().isoformat(),
        reporting_currency=reporting_currency,
        config=config,
        input_fingerprint=fingerprint(panel, config),
        dimension=dimension,
    )
    t = result.tables
    t["kpis"] = _kpis(panel, days)
    t["growth"] = pd.concat(
        [
            growth.growth_table(wide, measure="revenue", n_boot=config.n_boot, seed=config.seed),
            growth.growth_table(orders_wide, measure="orders", n_boot=config.n_boot, seed=config.seed),
        ],
        ignore_index=True,
    )
    tested = significance.adjust_for_tests(wide, days)
    t["country_tests"] = significance.country_tests(tested, days=days, alpha=config.alpha)
    t["pair_tests"] = significance.pair_tests(
        tested, days=days, alpha=config.alpha, max_countries=config.pair_countries
    )
    t["shares"] = significance.share_shifts(wide, days=days, alpha=config.alpha)
    years = sorted({*wide.index.year, wide.index[-1].year + 1})
    where = {c: c for c in wide.columns} if holiday_countries is None else holiday_countries
    holiday_names = {c: seasonality.country_holidays(where.get(c, ""), years) if where.get(c) else {} for c in wide}
    t["seasonality"] = seasonality.profile(wide, factors, holidays_by_country=holiday_names)
    weekly = comovement.weekly_growth(wide)
    t["correlations"] = comovement.correlations(weekly)
    t["clusters"] = comovement.clusters(weekly, distance=config.cluster_distance)
    t["granger"] = comovement.granger(
        adjusted, max_lag=config.granger_max_lag, max_countries=config.granger_countries, alpha=config.alpha
    )
    t["anomalies"] = anomalies.detect(
        wide,
        z_threshold=config.z_threshold,
        shift_threshold=config.shift_threshold,
        holidays_by_country=holiday_names,
    )
    t["pulse"] = _pulse(result, panel, days)
    for name, table in t.items():
        table.insert(0, "as_of", result.as_of)
        t[name] = table
    return result


def _pulse(result: PulseResult, panel: pd.DataFrame, days: int) -> pd.DataFrame:
    t = result.tables
    countries = sorted(panel["country"].unique())
    signals = pd.DataFrame({"country": countries}).set_index("country")
    revenue_growth = t["growth"][t["growth"]["measure"] == "revenue"]
    orders_wide = panel.pivot(index="date", columns="country", values="orders").astype(float).fillna(0.0)
    bases = growth.base_orders(orders_wide)
    for window, column in (("mom", "mom_growth"), ("yoy", "yoy_growth"), ("wow", "wow_growth")):
        rows = revenue_growth[revenue_growth["window"] == window].set_index("country")
        if not rows.empty:
            counts = bases[bases["window"] == window].set_index("country").reindex(rows.index)
            base = counts["base_orders"]
            material = base >= pulse_index.MIN_BASE_ORDERS
            value = rows["growth"].astype(float)
            if window == "mom":  # adjusted by last year's same weeks only when those hold enough orders too
                last_year = counts["last_year_orders"]
                usable = last_year.isna() | (last_year >= pulse_index.MIN_BASE_ORDERS)
                value = rows["growth_sa"].where(rows["growth_sa"].notna() & usable, value).astype(float)
            # a percentage off a tiny base neither drives the index nor is shown: the change in money is
            signals[column] = value.where(material)
            signals[f"{column}_change"] = (rows["recent"] - rows["reference"]).where(~material | value.isna())
            signals[f"{column}_base_orders"] = base
    if not t["shares"].empty:
        signals["share_shift_pp"] = t["shares"].set_index("country")["shift_pp"]
    signals["new_customer_share_change"] = _rate_change(
        panel, "new_customers", ("new_customers", "returning_customers"), days
    )
    signals["cancellation_rate_change"] = _rate_change(panel, "cancelled_orders", "orders", days)
    recent_anomalies = t["anomalies"][
        (t["anomalies"]["date"] > (pd.Timestamp(result.as_of) - pd.Timedelta(days=days)).date().isoformat())
        & t["anomalies"]["kind"].isin(["spike", "drop"])
    ]
    net = recent_anomalies.assign(sign=np.sign(recent_anomalies["z"])).groupby("country")["sign"].sum()
    signals["recent_anomalies"] = net.reindex(countries).astype(float).fillna(0.0)
    significant = {}
    if not t["country_tests"].empty:
        significant = t["country_tests"].set_index("country")["significant"].astype(bool).to_dict()
    out = pulse_index.compute(signals.reset_index(), significant, currency=result.reporting_currency)
    return out.merge(signals.reset_index(), on="country", how="left")


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return [_clean(r) for r in frame.drop(columns=["as_of"], errors="ignore").to_dict(orient="records")]


def documents(result: PulseResult) -> dict[str, Any]:
    """JSON documents served by GET /pulse and GET /pulse/{country}."""
    t = result.tables
    pulse = t["pulse"].set_index("country")
    kpis = t["kpis"].set_index("country")
    clusters = t["clusters"].set_index("country")["cluster"] if not t["clusters"].empty else pd.Series(dtype=int)
    summary, countries = [], {}
    mom = t["growth"][(t["growth"]["measure"] == "revenue") & (t["growth"]["window"] == "mom")].set_index("country")
    for country in pulse.sort_values("pulse_index", ascending=False).index:
        entry = {
            "country": country,
            "pulse_index": pulse.loc[country, "pulse_index"],
            "explanation": pulse.loc[country, "explanation"],
            "revenue_28d": kpis.loc[country, "revenue"] if country in kpis.index else None,
            "revenue_mom": mom.loc[country, "growth"] if country in mom.index else None,
            "cluster": clusters.get(country),
        }
        summary.append(_clean(entry))

        def rows(name: str, *columns: str, c: str = country) -> list[dict[str, Any]]:
            frame = t[name]
            if frame.empty:
                return []
            mask = np.zeros(len(frame), dtype=bool)
            for column in columns:
                mask |= (frame[column] == c).to_numpy()
            return _records(frame[mask])

        countries[country] = {
            **summary[-1],
            "kpis_28d": _records(t["kpis"][t["kpis"]["country"] == country])[0] if country in kpis.index else {},
            "growth": rows("growth", "country"),
            "test": (rows("country_tests", "country") or [None])[0],
            "share": (rows("shares", "country") or [None])[0],
            "seasonality": (rows("seasonality", "country") or [None])[0],
            "anomalies": rows("anomalies", "country"),
            "significant_pair_differences": [
                r for r in rows("pair_tests", "country_a", "country_b") if r["significant"]
            ],
            "leads": [r for r in rows("granger", "leader") if r["significant"]],
            "follows": [r for r in rows("granger", "follower") if r["significant"]],
            "components": _clean({k: pulse.loc[country, k] for k in pulse_index.COMPONENTS if k in pulse.columns}),
        }
    return {
        "as_of": result.as_of,
        "start": result.start,
        "reporting_currency": result.reporting_currency,
        "dimension": result.dimension,
        "version": result.version,
        "countries": countries,
        "summary": summary,
    }
