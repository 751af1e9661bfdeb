"""The online fast path (numpy features, inplace_predict) gives exactly what the pandas batch path gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compliance_guardian import api
from compliance_guardian.fraud import features
from compliance_guardian.fraud.model import FraudModel

REQUEST_FIELDS = (
    "payment_id",
    "payment_ts",
    "amount",
    "currency",
    "customer_id",
    "order_id",
    "card_bin",
    "card_last4",
    "card_country",
    "billing_country",
    "shipping_country",
    "ip_country",
    "ip_address",
    "device_id",
    "email",
    "account_created_ts",
    "method",
    "status",
)


def as_requests(rows: pd.DataFrame) -> list[dict]:
    """Payments as the JSON objects a client sends (ISO 8601 strings, nulls as None)."""
    items = []
    for row in rows.to_dict("records"):
        item = {}
        for name in REQUEST_FIELDS:
            value = row.get(name)
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                item[name] = None
            elif isinstance(value, pd.Timestamp):
                item[name] = value.strftime("%Y-%m-%dT%H:%M:%SZ")
            else:
                item[name] = value
        items.append(item)
    return items


def batch_path(items: list[dict]) -> tuple[list[str], np.ndarray]:
    df = features.prepare(pd.DataFrame(items))
    return df["payment_id"].tolist(), features.build_features(df, prepared=True).to_numpy()


def assert_same_features(items: list[dict]) -> np.ndarray:
    order, X = features.build_features_small(items)
    ids, expected = batch_path(items)
    assert [items[i]["payment_id"] for i in order] == ids
    assert X.dtype == np.float32 and X.shape == expected.shape
    mismatch = [
        (ids[r], features.FEATURES[c], X[r, c], expected[r, c]) for r, c in zip(*np.nonzero(expected != X), strict=True)
    ]
    assert not mismatch, mismatch[:5]
    return X


def request_windows(payments: pd.DataFrame, size: int, count: int, seed: int = 3) -> list[list[dict]]:
    """Windows of consecutive payments (their history is in the same request), around frauds and at random,
    each shuffled: the client's order is not the time order."""
    ordered = payments.sort_values("payment_ts", kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    frauds = np.flatnonzero(ordered["is_fraud"].to_numpy())
    starts = [max(0, int(i) - size // 2) for i in rng.choice(frauds, size=count // 2, replace=False)]
    starts += [int(s) for s in rng.integers(0, len(ordered) - size, size=count - len(starts))]
    windows = []
    for start in starts:
        items = as_requests(ordered.iloc[start : start + size])
        windows.append([items[i] for i in rng.permutation(len(items))])
    return windows


@pytest.mark.parametrize("size", [1, 3, 25, 100])
def test_fast_features_equal_batch_features_on_generated_payments(payments, size):
    for items in request_windows(payments, size, count=12):
        assert_same_features(items)


def test_fast_features_equal_batch_features_on_edge_cases():
    base = {
        "payment_ts": "2024-01-01T00:00:00Z",
        "amount": 2.0,
        "customer_id": "c1",
        "card_bin": "411111",
        "card_last4": "1111",
        "card_country": "BR",
        "billing_country": "DE",
        "device_id": "d1",
        "ip_address": "10.0.0.1",
        "email": "a@example.test",
        "method": "Card",
        "status": "DECLINED",
    }
    items = [
        {**base, "payment_id": "p3", "amount": 0},  # zero amounts: a later ratio against a mean of 0
        {**base, "payment_id": "p1", "amount": 0.0},
        {**base, "payment_id": "p2", "payment_ts": "2024-01-01T00:30:00Z", "amount": 19, "amount_reporting": 21.5},
        {**base, "payment_id": "p0", "payment_ts": "2024-01-01T00:30:00Z", "card_last4": None, "status": "failed"},
        {**base, "payment_id": "p4", "payment_ts": "2024-01-01T01:00:00Z", "customer_id": None, "card_last4": "2222"},
        {**base, "payment_id": "p5", "payment_ts": "2024-01-01T01:00:00Z", "card_last4": "3333", "amount": 4.99},
        {**base, "payment_id": "p6", "payment_ts": "2024-01-02T00:59:59Z", "device_id": None, "amount": 1e5},
        {
            **base,
            "payment_id": "p7",
            "payment_ts": "2024-01-08T00:00:00Z",
            "account_created_ts": "2024-01-07T12:00:00Z",
        },
        {**base, "payment_id": "p8", "payment_ts": "2024-01-08T00:00:00Z", "method": None, "status": None},
        {"payment_id": "p9", "payment_ts": "2024-01-08T23:59:00Z", "amount": 7},  # only the required fields
        {**base, "payment_id": "pa", "payment_ts": "2024-01-08T04:59:00Z", "ip_address": None, "amount": 3},
        {**base, "payment_id": "pb", "payment_ts": "2024-01-08T05:00:00Z", "card_country": "", "amount": 3},
    ]
    X = assert_same_features(items)
    assert np.isfinite(X).all()
    # mixed UTC offsets are converted to UTC before the time order and the windows
    shifted = [dict(item, payment_ts=item["payment_ts"].replace("Z", "+02:00")) for item in items]
    assert_same_features(shifted)


def test_fast_path_declines_what_it_does_not_handle():
    ok = {"payment_id": "a", "payment_ts": "2024-01-01T00:00:00Z", "amount": 1.0}
    assert features.build_features_small([dict(ok, payment_ts="yesterday")]) is None
    assert features.build_features_small([dict(ok, amount=float("inf"))]) is None
    assert features.build_features_small([dict(ok, device_id=7)]) is None
    assert features.build_features_small([]) is None


def test_inplace_predict_equals_dmatrix_predict(trained, payments):
    import xgboost as xgb

    model, _ = trained
    X = features.build_features(payments.head(500))
    dm = xgb.DMatrix(X.to_numpy(), feature_names=list(features.FEATURES))
    assert np.array_equal(model.raw_scores(X), model.booster.predict(dm))


def test_fast_scores_equal_batch_scores(trained, payments):
    model, _ = trained
    loaded = FraudModel.from_files(model.to_files())  # as served: JSON booster, one thread
    for items in request_windows(payments, 40, count=6, seed=11):
        _, X = features.build_features_small(items)
        fast = loaded.score_matrix(X)
        df = features.prepare(pd.DataFrame(items))
        slow = loaded.score(features.build_features(df, prepared=True))
        assert np.array_equal(fast["fraud_probability"], slow["fraud_probability"].to_numpy())
        assert np.array_equal(fast["is_alert"], slow["is_alert"].to_numpy())
        assert fast["reasons"] == slow["reasons"].tolist()


def test_score_transactions_fast_and_dataframe_paths_answer_the_same(trained, payments, monkeypatch):
    model, _ = trained
    requests = request_windows(payments, 10, count=4, seed=5) + request_windows(payments, 1, count=2, seed=5)
    fast = [api.score_transactions(model, items) for items in requests]
    monkeypatch.setattr(features, "build_features_small", lambda items: None)
    slow = [api.score_transactions(model, items) for items in requests]
    assert fast == slow
    assert [r["payment_id"] for r in fast[0]] == [i["payment_id"] for i in requests[0]]  # the client's order


def test_models_trained_before_the_rule_signals_still_score(trained, payments):
    import json

    import xgboost as xgb

    model, _ = trained
    v1 = list(features.FEATURES_V1)
    X = features.build_features(payments.head(300))
    booster = xgb.train(
        {"max_depth": 2, "seed": 7}, xgb.DMatrix(X[v1].to_numpy(), label=payments.head(300).is_fraud), 5
    )
    files = FraudModel(booster, (1.0, 0.0), 0.5, dict(model.metadata, features=v1)).to_files()
    assert json.loads(files["metadata.json"])["features"] == v1
    old = FraudModel.from_files(files)
    _, X_small = features.build_features_small(as_requests(payments.head(5)))
    assert old.score_matrix(X_small)["fraud_probability"].shape == (5,)
