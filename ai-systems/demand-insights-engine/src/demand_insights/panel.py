"""A long sales table (series id, date, quantity, optional features) as dense series x step matrices.

The time axis is the table's own calendar at its grain (grain.py: detected, or given). Daily: every day
between the first and the last date when the table has rows on (nearly) every day, otherwise the trading
days it has rows on (a shop closed on Saturdays gets a six-day week, and a horizon of 28 means 28 trading
days). Weekly: every 7 days from the first date. Monthly: every month, labelled by its first day (or its
last, when the table uses month ends). Rows of a finer table given a coarser grain are summed into their
step. A series exists from its first row on; steps of its life without a row are zero sales.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from demand_insights import grain as grains
from demand_insights.exceptions import InputDataError
from demand_insights.grain import Grain

DAILY_COVERAGE = 0.95  # share of calendar days with rows above which the calendar is every day
MAX_SERIES = 20_000
MAX_STEPS = 3_000


@dataclass
class Panel:
    ids: np.ndarray  # (n,) series ids
    groups: np.ndarray  # (n,) group (category / country) of each series, for cold-start levels
    countries: np.ndarray  # (n,) ISO country of each series ("" when unknown), for holidays
    dates: pd.DatetimeIndex  # (T,) the calendar
    y: np.ndarray  # (n, T) units; NaN before a series' first row
    price: np.ndarray | None = None  # (n, T) shelf price, forward-filled
    promo: np.ndarray | None = None  # (n, T) 0/1
    stockout: np.ndarray | None = None  # (n, T) 0/1, NaN unknown
    on_hand: np.ndarray | None = None  # (n,) last known stock on hand
    daily: bool = True  # calendar is every step of the grain (else trading days only)
    extra: dict = field(default_factory=dict)
    grain: Grain = grains.DAILY

    @property
    def n_series(self) -> int:
        return len(self.ids)

    @property
    def n_steps(self) -> int:
        return len(self.dates)

    def future_dates(self, horizon: int) -> pd.DatetimeIndex:
        """The next `horizon` calendar steps after the last date."""
        last = self.dates[-1]
        if self.grain is not grains.DAILY:
            return grains.after(last, horizon, self.grain)
        if self.daily:
            return pd.date_range(last + pd.Timedelta(days=1), periods=horizon, freq="D")
        recent = self.dates[self.dates > last - pd.Timedelta(days=56)]
        weekdays = set(recent.dayofweek) or set(range(7))
        out: list[pd.Timestamp] = []
        day = last
        while len(out) < horizon:
            day = day + pd.Timedelta(days=1)
            if day.dayofweek in weekdays:
                out.append(day)
        return pd.DatetimeIndex(out)

    def head(self, steps: int) -> Panel:
        """The panel cut after `steps` calendar steps (for backtests); series not yet born are dropped."""
        keep = ~np.all(np.isnan(self.y[:, :steps]), axis=1)

        def cut(m: np.ndarray | None) -> np.ndarray | None:
            return None if m is None else m[keep, :steps]

        return Panel(
            ids=self.ids[keep],
            groups=self.groups[keep],
            countries=self.countries[keep],
            dates=self.dates[:steps],
            y=self.y[keep, :steps],
            price=cut(self.price),
            promo=cut(self.promo),
            stockout=cut(self.stockout),
            on_hand=None if self.on_hand is None else self.on_hand[keep],
            daily=self.daily,
            grain=self.grain,
        )


def numbers(values: pd.Series) -> pd.Series:
    """A numeric or flag column as float64: booleans (also nullable, or as text "true"/"False") are 1/0, other
    text is parsed as a number, anything else is NaN. (Mapping an object column and filling it back with
    itself made pandas downcast object arrays on fillna: a FutureWarning on every run with null flags.)"""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64")
    text = values.astype("string").str.strip().str.lower().replace({"true": "1", "false": "0"})
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _require(frame: pd.DataFrame, columns: dict[str, str | None]) -> None:
    missing = [f"{role} column {name!r}" for role, name in columns.items() if name and name not in frame.columns]
    if missing:
        raise InputDataError(f"missing {', '.join(missing)}; the table has {sorted(map(str, frame.columns))[:20]}")


def from_long(
    frame: pd.DataFrame,
    id_col: str = "series_id",
    date_col: str = "date",
    qty_col: str = "units",
    *,
    price_col: str | None = None,
    promo_col: str | None = None,
    stockout_col: str | None = None,
    on_hand_col: str | None = None,
    group_col: str | None = None,
    country_col: str | None = None,
    grain: str | Grain | None = None,
) -> Panel:
    """Build a Panel from a long table; raises InputDataError with a clear message on unusable input.

    `grain` (daily / weekly / monthly) is detected from the dates when not given.
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InputDataError("the sales table is empty")
    _require(
        frame,
        {
            "id": id_col,
            "date": date_col,
            "quantity": qty_col,
            "price": price_col,
            "promo": promo_col,
            "stockout": stockout_col,
            "on_hand": on_hand_col,
            "group": group_col,
            "country": country_col,
        },
    )
    data = pd.DataFrame({"sid": frame[id_col].astype("string")})
    data["date"] = pd.to_datetime(frame[date_col], errors="coerce", utc=False)
    if isinstance(data["date"].dtype, pd.DatetimeTZDtype):
        data["date"] = data["date"].dt.tz_localize(None)
    data["date"] = data["date"].dt.normalize()
    data["qty"] = pd.to_numeric(frame[qty_col], errors="coerce")
    bad_dates, bad_qty = int(data["date"].isna().sum()), int(data["qty"].isna().sum())
    if bad_dates == len(data):
        raise InputDataError(f"column {date_col!r} holds no parseable dates")
    if bad_qty == len(data):
        raise InputDataError(f"column {qty_col!r} holds no numbers")
    for name, col in (("price", price_col), ("promo", promo_col), ("stockout", stockout_col), ("on_hand", on_hand_col)):
        if col:
            data[name] = numbers(frame[col])
    data["group"] = frame[group_col].astype("string").fillna("") if group_col else ""
    data["country"] = frame[country_col].astype("string").fillna("") if country_col else ""
    data = data.dropna(subset=["sid", "date", "qty"])
    if data.empty:
        raise InputDataError("no row has a series id, a date and a quantity")
    n_series = data["sid"].nunique()
    if n_series > MAX_SERIES:
        raise InputDataError(f"{n_series} series is more than one run handles ({MAX_SERIES}); shard the table")

    aggregations = {"qty": "sum", "group": "first", "country": "first"}
    for name, how in (("price", "mean"), ("promo", "max"), ("stockout", "max"), ("on_hand", "sum")):
        if name in data:
            aggregations[name] = how
    grouped = data.groupby(["sid", "date"], sort=True, observed=True)
    data = grouped.agg(aggregations).reset_index()
    if "on_hand" in data:  # a sum of no stock counts is unknown stock, not zero stock
        data.loc[grouped["on_hand"].count().to_numpy() == 0, "on_hand"] = np.nan
    step = grains.detect(pd.DatetimeIndex(data["date"])) if grain is None else grains.get(grain)
    month_end = step is grains.MONTHLY and grains.month_end_calendar(pd.DatetimeIndex(data["date"].unique()))
    if step is not grains.DAILY:  # rows of one week or month into one step: promo/stock-out days become shares
        data["date"] = grains.snap(data["date"], step, data["date"].min(), month_end)
        coarser = {**aggregations, "promo": "mean", "stockout": "mean", "on_hand": "last"}
        coarser = {k: v for k, v in coarser.items() if k in aggregations}
        data = data.groupby(["sid", "date"], sort=True, observed=True).agg(coarser).reset_index()

    observed = pd.DatetimeIndex(sorted(data["date"].unique()))
    if step is grains.DAILY:
        full = pd.date_range(observed[0], observed[-1], freq="D")
        daily = len(observed) >= DAILY_COVERAGE * len(full)
        dates = full if daily else observed
    else:
        dates, daily = grains.calendar(observed[0], observed[-1], step, month_end), True
    if len(dates) > MAX_STEPS:
        raise InputDataError(f"{len(dates)} {step.name} steps of history is more than one run handles ({MAX_STEPS})")

    ids = np.array(sorted(data["sid"].unique()), dtype=object)
    sid_index = pd.Index(ids)
    rows = sid_index.get_indexer(data["sid"])
    cols = dates.get_indexer(data["date"])
    keep = cols >= 0  # rows on a non-trading day of a trading-day calendar cannot happen; guard anyway
    rows, cols, data = rows[keep], cols[keep], data.loc[keep]
    n, steps = len(ids), len(dates)

    y = np.zeros((n, steps))
    y[rows, cols] = data["qty"].to_numpy(float)
    first = np.full(n, steps)
    np.minimum.at(first, rows, cols)
    born = np.arange(steps)[None, :] >= first[:, None]
    y[~born] = np.nan

    def matrix(name: str, fill_forward: bool) -> np.ndarray | None:
        if name not in data:
            return None
        m = np.full((n, steps), np.nan)
        m[rows, cols] = data[name].to_numpy(float)
        if fill_forward:
            m = pd.DataFrame(m.T).ffill().to_numpy().T
        return m

    price = matrix("price", fill_forward=True)
    promo = matrix("promo", fill_forward=False)
    if promo is not None:
        promo = np.where(np.isnan(promo), 0.0, promo)
    stockout = matrix("stockout", fill_forward=False)
    on_hand = None
    if "on_hand" in data:
        snapshots = data.dropna(subset=["on_hand"]).sort_values("date").groupby("sid")["on_hand"].last()
        on_hand = snapshots.reindex(ids).to_numpy(float)

    firsts = data.groupby("sid")[["group", "country"]].first().reindex(ids)
    return Panel(
        ids=ids,
        groups=firsts["group"].fillna("").astype(str).to_numpy(object),
        countries=firsts["country"].fillna("").astype(str).to_numpy(object),
        dates=dates,
        y=y,
        price=price,
        promo=promo,
        stockout=stockout,
        on_hand=on_hand,
        daily=daily,
        grain=step,
    )
