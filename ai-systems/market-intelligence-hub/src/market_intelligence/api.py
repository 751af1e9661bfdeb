"""Online queries answered from stored results: the latest forecast or trend analysis of one market."""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any

import pandas as pd

from market_intelligence import dimensions, store
from market_intelligence.exceptions import InputError, NotFoundError, UnavailableError
from market_intelligence.store import Buckets
from retail_platform.exceptions import StorageError
from retail_platform.observability import logger, record
from retail_platform.storage.blobstore import BlobStore

_NAME = re.compile(r"^[A-Za-z0-9 _\-&/.]{1,64}$")
_CACHE_SECONDS = 60.0
_cache: dict[tuple[str, str], tuple[float, str | None, pd.DataFrame]] = {}


def parse_market(params: dict[str, str] | None, dims: tuple[str, ...] = dimensions.DEFAULT) -> dict[str, str]:
    """The market's value per dimension (ALL when not given) from query parameters, or InputError that says
    what is wrong. The dimensions are those the stored results were computed for (category and country
    unless MARKET_DIMENSIONS names others)."""
    params = params or {}
    unknown = set(params) - set(dims)
    if unknown:
        raise InputError(f"unknown query parameters: {', '.join(sorted(unknown))} (use {' and '.join(dims)})")
    market = {}
    for name in dims:
        value = (params.get(name) or dimensions.ALL).strip()
        if name == "country":
            if not (value == dimensions.ALL or re.fullmatch(r"[A-Za-z]{2}", value)):
                raise InputError("country must be a two-letter ISO code or ALL")
            value = value.upper()
        elif not _NAME.match(value):
            raise InputError(f"{name} must be 1-64 letters, digits, spaces or - _ & / .")
        market[name] = value
    return market


def _dimensions_of(frame: pd.DataFrame) -> tuple[str, ...]:
    """The market dimensions stored results were computed for (results from before the setting: the default)."""
    if frame.empty or "dimensions" not in frame.columns or not isinstance(frame["dimensions"].iloc[0], str):
        return dimensions.DEFAULT
    return tuple(frame["dimensions"].iloc[0].split(","))


def _latest(prod: BlobStore, dataset: str) -> tuple[str | None, pd.DataFrame]:
    now = time.monotonic()
    hit = _cache.get((prod.bucket, dataset))
    if hit and now - hit[0] < _CACHE_SECONDS:
        return hit[1], hit[2]
    days = store.partition_dates(prod, dataset)
    day, frame = None, pd.DataFrame()
    for candidate in days:  # newest first; an unreadable (corrupt) partition falls back to the one before
        try:
            day, frame = candidate, store.dataset(prod, dataset).read([candidate])
            break
        except (OSError, StorageError, ValueError) as e:
            logger.warning(
                "unreadable results partition", extra={"dataset": dataset, "date": candidate, "error": str(e)}
            )
    else:
        if days:
            raise UnavailableError(f"stored {dataset} exist but none can be read; the next batch run rewrites them")
    if day is not None and day != days[0]:
        logger.warning(
            "serving an earlier results partition", extra={"dataset": dataset, "date": day, "newest": days[0]}
        )
    _cache[(prod.bucket, dataset)] = (now, day, frame)
    return day, frame


def clear_cache() -> None:
    _cache.clear()


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def _market_rows(frame: pd.DataFrame, params: dict[str, str] | None, what: str) -> tuple[dict, pd.DataFrame]:
    """The asked market (parsed against the stored results' dimensions) and its rows; 404 when unknown."""
    market = parse_market(params, _dimensions_of(frame))
    if frame.empty:
        raise NotFoundError(f"no {what} have been computed yet")
    chosen = pd.Series(True, index=frame.index)
    for name, value in market.items():
        chosen &= frame[name].astype(str).str.lower() == value.lower()
    rows = frame[chosen]
    if rows.empty:
        raise NotFoundError("unknown market: " + ", ".join(f"{k}={v!r}" for k, v in market.items()))
    return market, rows


def forecast(buckets: Buckets, params: dict[str, str] | None) -> dict:
    as_of, frame = _latest(buckets.prod, store.FORECASTS)
    market, rows = _market_rows(frame, params, "forecasts")
    rows = rows.sort_values("step")
    first = rows.iloc[0]
    version = str(first["model_version"])
    validation = []
    try:
        scores = store.read_scores(buckets.artifacts, version)
        mine = scores[scores["series_id"] == first["series_id"]].sort_values("cv_mase")
        validation = [
            {k: _clean(v) for k, v in r.items() if k in ("model", "cv_mase", "cv_mape")}
            for r in mine.to_dict("records")
        ]
    except Exception as e:  # scores are extra detail; the forecast itself is what was asked for
        logger.warning("validation scores unreadable", extra={"model_version": version, "error": type(e).__name__})
        record("DegradedAnswers", 1, part="market-validation-scores")
        validation = []
    return {
        "market": {name: str(first[name]) for name in market},
        "as_of": as_of,
        "model_version": version,
        "model": str(first["model"]),
        "members": str(first["members"]).split(","),
        "validation": {
            "metric": "rolling-origin CV",
            "cv_mase": _clean(first["cv_mase"]),
            "cv_mape": _clean(first["cv_mape"]),
        },
        "models_compared": validation,
        "interval": _clean(first["interval"]),
        "forecast": [
            {
                "ds": _clean(r["ds"]),
                "yhat": _clean(r["yhat"]),
                "lower": _clean(r["yhat_lower"]),
                "upper": _clean(r["yhat_upper"]),
            }
            for r in rows.to_dict("records")
        ],
    }


def trends(prod: BlobStore, params: dict[str, str] | None) -> dict:
    as_of, frame = _latest(prod, store.TRENDS)
    market, rows = _market_rows(frame, params, "trend analyses")
    row = rows.iloc[0].to_dict()
    out = {k: _clean(v) for k, v in row.items()}
    for key in ("changepoints", "anomalies"):
        out[key] = json.loads(row[key]) if isinstance(row[key], str) else []
    out["market"] = {name: out.pop(name) for name in market}
    out.pop("dimensions", None)
    out["as_of"] = as_of
    return out
