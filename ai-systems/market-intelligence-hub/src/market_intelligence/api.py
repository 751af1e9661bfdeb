"""Online queries answered from stored results: the latest forecast or trend analysis of one market."""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any

import pandas as pd

from market_intelligence import store
from market_intelligence.exceptions import InputError, NotFoundError, UnavailableError
from market_intelligence.store import Buckets
from retail_platform.exceptions import StorageError
from retail_platform.observability import logger, record
from retail_platform.storage.blobstore import BlobStore

_NAME = re.compile(r"^[A-Za-z0-9 _\-&/.]{1,64}$")
_CACHE_SECONDS = 60.0
_cache: dict[tuple[str, str], tuple[float, str | None, pd.DataFrame]] = {}


def parse_market(params: dict[str, str] | None) -> tuple[str, str]:
    """(category, country) from query parameters, or InputError that says what is wrong."""
    params = params or {}
    unknown = set(params) - {"category", "country"}
    if unknown:
        raise InputError(f"unknown query parameters: {', '.join(sorted(unknown))} (use category and country)")
    category = (params.get("category") or "ALL").strip()
    country = (params.get("country") or "ALL").strip()
    if not _NAME.match(category):
        raise InputError("category must be 1-64 letters, digits, spaces or - _ & / .")
    if not (country == "ALL" or re.fullmatch(r"[A-Za-z]{2}", country)):
        raise InputError("country must be a two-letter ISO code or ALL")
    return category, country.upper()


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


def _market_rows(frame: pd.DataFrame, category: str, country: str, what: str) -> pd.DataFrame:
    if frame.empty:
        raise NotFoundError(f"no {what} have been computed yet")
    rows = frame[(frame["category"].str.lower() == category.lower()) & (frame["country"] == country)]
    if rows.empty:
        raise NotFoundError(f"unknown market: category={category!r}, country={country!r}")
    return rows


def forecast(buckets: Buckets, params: dict[str, str] | None) -> dict:
    category, country = parse_market(params)
    as_of, frame = _latest(buckets.prod, store.FORECASTS)
    rows = _market_rows(frame, category, country, "forecasts").sort_values("step")
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
        "market": {"category": str(first["category"]), "country": country},
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
    category, country = parse_market(params)
    as_of, frame = _latest(prod, store.TRENDS)
    row = _market_rows(frame, category, country, "trend analyses").iloc[0].to_dict()
    out = {k: _clean(v) for k, v in row.items()}
    for key in ("changepoints", "anomalies"):
        out[key] = json.loads(row[key]) if isinstance(row[key], str) else []
    out["market"] = {"category": out.pop("category"), "country": out.pop("country")}
    out["as_of"] = as_of
    return out
