"""Online requests, validated: JSON in, JSON out. Knows nothing of Lambda or API Gateway."""

from __future__ import annotations

import math
from typing import Any

from compliance_guardian import scan
from compliance_guardian.exceptions import BadRequestError, PayloadTooLargeError

DETECTOR_VERSION = "card-data-rules-1"
MAX_TEXT_CHARS = 100_000
TRANSACTION_FIELDS = {
    "payment_id": str,
    "payment_ts": str,
    "amount": (int, float),
    "amount_reporting": (int, float),
    "currency": str,
    "customer_id": str,
    "order_id": str,
    "card_bin": str,
    "card_last4": str,
    "card_country": str,
    "billing_country": str,
    "shipping_country": str,
    "ip_country": str,
    "ip_address": str,
    "device_id": str,
    "email": str,
    "account_created_ts": str,
    "method": str,
    "status": str,
}


def scan_request(payload: dict[str, Any], default_policy: str) -> dict[str, Any]:
    """{"text": "..."} or {"records": [{...}, ...]}, optional "policy" (bin_last4 | last4)."""
    policy = payload.get("policy", default_policy)
    if not isinstance(policy, str):
        raise BadRequestError("policy must be a string: bin_last4 or last4")
    has_text, has_records = "text" in payload, "records" in payload
    if has_text == has_records:
        raise BadRequestError('send exactly one of "text" (a string) or "records" (a list of objects)')
    if has_text:
        text = payload["text"]
        if not isinstance(text, str):
            raise BadRequestError('"text" must be a string')
        if len(text) > MAX_TEXT_CHARS:
            raise PayloadTooLargeError(f'"text" has {len(text)} characters; the limit is {MAX_TEXT_CHARS}')
        result = scan.scan_text(text, policy)
    else:
        records = payload["records"]
        if not isinstance(records, list) or not records:
            raise BadRequestError('"records" must be a non-empty list of objects')
        result = scan.scan_records(records, policy)
    result["detector_version"] = DETECTOR_VERSION
    result["policy"] = policy
    return result


def validate_transactions(payload: dict[str, Any], max_batch: int) -> list[dict[str, Any]]:
    """One transaction ({"transaction": {...}}) or a small batch ({"transactions": [...]})."""
    if ("transaction" in payload) == ("transactions" in payload):
        raise BadRequestError('send exactly one of "transaction" (an object) or "transactions" (a list)')
    items = [payload["transaction"]] if "transaction" in payload else payload["transactions"]
    if not isinstance(items, list) or not items:
        raise BadRequestError('"transactions" must be a non-empty list of objects')
    if len(items) > max_batch:
        raise PayloadTooLargeError(f"{len(items)} transactions; at most {max_batch} per request")
    for i, item in enumerate(items):
        where = f"transactions[{i}]" if "transactions" in payload else "transaction"
        if not isinstance(item, dict):
            raise BadRequestError(f"{where} must be an object")
        for field in ("payment_id", "payment_ts", "amount"):
            if item.get(field) is None:
                raise BadRequestError(f"{where}.{field} is required")
        for field, value in item.items():
            expected = TRANSACTION_FIELDS.get(field)
            if expected is None or value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, expected):
                kind = "a number" if expected == (int, float) else "a string"
                raise BadRequestError(f"{where}.{field} must be {kind}")
        if not math.isfinite(float(item["amount"])) or float(item["amount"]) < 0:
            raise BadRequestError(f"{where}.amount must be a finite number >= 0")
        if "card_number" in item or "pan" in item:
            raise BadRequestError(f"{where}: send card_bin and card_last4, never a full card number")
    return items


def score_transactions(model: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scores of the given transactions; earlier ones in the same request count as their history.

    Requests are small (at most a hundred transactions), so their features come from the numpy path
    (`build_features_small`, no DataFrame, about a millisecond); anything it does not handle takes the
    pandas batch path, which computes the same features (and raises the right error for bad input).
    A model trained on the retailer's own feature columns (its metadata lists them) scores those fields of
    each transaction as they are.
    """
    from compliance_guardian.fraud.features import build_features_small, own_features

    fast = build_features_small(items) if model.platform_features else None
    if not model.platform_features:
        result = model.score_matrix(own_features(items, model.feature_names).to_numpy())
        ids = [item["payment_id"] for item in items]
    elif fast is not None:
        order, X = fast
        result = model.score_matrix(X)
        ids = [items[i]["payment_id"] for i in order]
    else:
        ids, result = _score_frame(model, items)
    out = [
        {
            "payment_id": payment_id,
            "fraud_probability": float(result["fraud_probability"][k]),
            "is_alert": bool(result["is_alert"][k]),
            "reasons": result["reasons"][k],
        }
        for k, payment_id in enumerate(ids)
    ]
    position = {item["payment_id"]: n for n, item in enumerate(items)}
    return sorted(out, key=lambda r: position.get(r["payment_id"], 0))


def _score_frame(model: Any, items: list[dict[str, Any]]) -> tuple[list[Any], dict[str, list[Any]]]:
    """The DataFrame path: payment ids in prepare()'s order and their scores."""
    import pandas as pd

    from compliance_guardian.fraud.features import build_features, prepare

    frame = pd.DataFrame(items)
    df = prepare(frame)
    if len(df) != len(frame):
        raise BadRequestError("payment_ts must be ISO 8601 timestamps, e.g. 2024-03-05T14:22:05Z")
    result = model.score(build_features(df, prepared=True))
    return df["payment_id"].tolist(), {name: result[name].tolist() for name in result.columns}
