"""Which columns define a market, and the weekly revenue series of every market they define.

By default a market is `category x country` and its weekly revenue comes from prod `market_series` (the
mart already holds the "ALL" totals). A shop whose export carries custom string attributes (region,
segment, channel, ... carried into prod `copilot_mart` as extra columns, interfaces #4) names them in
MARKET_DIMENSIONS (or `--dimensions` on the command line): then every market is one combination of those
attributes' values, with "ALL" totals over every subset of them, and its weekly revenue (weeks start on
Monday, like market_series) is summed from copilot_mart's daily rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import combinations

import pandas as pd

from market_intelligence.exceptions import InputError

DEFAULT = ("category", "country")
ALL = "ALL"
MAX_DIMENSIONS = 3  # 2^3 = 8 roll-up levels; more makes thousands of thin markets
SOURCE_DATASET = "copilot_mart"  # the daily prod dataset that carries every custom attribute
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# columns of this system's own results: a dimension by that name would overwrite one of them
RESERVED = frozenset(
    {"series_id", "ds", "y", "step", "yhat", "yhat_lower", "yhat_upper", "model", "members", "interval",
     "cv_mase", "cv_mape", "model_version", "as_of", "dimensions", "date", "summary", "direction", "start", "end",
     "n_obs", "changepoints", "anomalies", "units", "revenue_reporting", "reporting_currency"}
)  # fmt: skip


def parse(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """Dimension names from "region, segment" (or a list); empty means the default, category x country."""
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text or [])
    names = [n for n in names if n]
    if not names:
        return DEFAULT
    bad = [n for n in names if not _NAME.match(n)]
    if bad:
        raise InputError(f"market dimensions must be snake_case column names, got {bad}")
    if len(set(names)) != len(names):
        raise InputError(f"market dimensions repeat a name: {names}")
    if len(names) > MAX_DIMENSIONS:
        raise InputError(f"at most {MAX_DIMENSIONS} market dimensions, got {len(names)}: {names}")
    reserved = sorted(set(names) & RESERVED)
    if reserved:
        raise InputError(f"{reserved} cannot be market dimensions (names of the system's own columns)")
    return tuple(names)


def is_default(dimensions: tuple[str, ...]) -> bool:
    return tuple(dimensions) == DEFAULT


def series_ids(frame: pd.DataFrame, dimensions: tuple[str, ...]) -> pd.Series:
    """`value|value|...` in the order of `dimensions` (the platform's `category|country` by default)."""
    ids = frame[dimensions[0]].astype(str)
    for name in dimensions[1:]:
        ids = ids + "|" + frame[name].astype(str)
    return ids


def split_ids(ids: pd.Series, dimensions: tuple[str, ...]) -> pd.DataFrame:
    """The dimension columns back from series ids (a value holding "|" stays whole in the last column)."""
    parts = ids.astype(str).str.split("|", n=len(dimensions) - 1, expand=True)
    parts = parts.reindex(columns=range(len(dimensions)))
    parts.columns = list(dimensions)
    return parts.fillna("")


def missing_columns_error(missing: list[str], string_columns: Iterable[str]) -> InputError:
    """The error for dimensions that are not columns of the source dataset, listing the ones it has."""
    return InputError(
        f"{SOURCE_DATASET} has no column(s) {missing} to use as market dimensions; "
        f"its string columns are: {', '.join(sorted(string_columns)) or 'none'}"
    )


def weekly_markets(rows: pd.DataFrame, dimensions: tuple[str, ...]) -> pd.DataFrame:
    """Daily prod rows (date, revenue_reporting, the dimensions) -> weekly revenue per market with every roll-up.

    Columns: date (Monday of the week), the dimensions, revenue_reporting. A market-week with any row whose
    revenue has no reporting-currency amount (no FX rate) is null, never a partial sum; a row without a value
    of a dimension counts as "unknown" there (its revenue stays in the totals).
    """
    need = ["date", "revenue_reporting", *dimensions]
    missing = [c for c in need if c not in rows.columns]
    if missing:
        raise missing_columns_error(
            missing, [c for c in rows.columns if rows[c].dtype == object and c not in ("date", "sku")]
        )
    dates = pd.to_datetime(rows["date"])
    frame = pd.DataFrame({"date": (dates - pd.to_timedelta(dates.dt.weekday, unit="D")).dt.normalize()})
    for name in dimensions:
        frame[name] = rows[name].astype("string").fillna("unknown").str.strip().replace("", "unknown").astype(str)
    revenue = pd.to_numeric(rows["revenue_reporting"], errors="coerce")
    frame["revenue_reporting"] = revenue.fillna(0.0)
    frame["unconverted"] = revenue.isna().astype(int)
    levels = []
    for k in range(len(dimensions) + 1):
        for rolled in combinations(dimensions, k):
            level = frame.copy()
            for name in rolled:
                level[name] = ALL
            levels.append(level)
    stacked = pd.concat(levels, ignore_index=True)
    out = stacked.groupby(["date", *dimensions], sort=True).agg(
        revenue_reporting=("revenue_reporting", "sum"), unconverted=("unconverted", "sum")
    )
    out["revenue_reporting"] = out["revenue_reporting"].where(out["unconverted"] == 0)
    return out.drop(columns="unconverted").reset_index()
