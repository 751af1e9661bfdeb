"""Fraud features from prod `payment_transactions` rows (and their history, for velocities).

Every feature is computed from rows at or before the payment's own timestamp, so scoring a day with
the preceding days as history gives the same values as training on the whole table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compliance_guardian.exceptions import BadRequestError

REQUIRED = ("payment_id", "payment_ts", "amount")
OPTIONAL_STR = (
    "customer_id",
    "card_bin",
    "card_last4",
    "card_country",
    "billing_country",
    "shipping_country",
    "ip_country",
    "ip_address",
    "device_id",
    "email",
    "method",
    "status",
)
SMALL_AMOUNT = 5.0
WINDOWS = {"1h": "1h", "24h": "24h", "7d": "7D"}
ENTITIES = ("card", "customer_id", "device_id", "ip_address", "email")

FEATURES: tuple[str, ...] = (
    "amount_log",
    "is_small_amount",
    "amount_vs_customer_mean",
    "customer_prior_payments",
    "is_guest",
    "account_age_days",
    "hour_sin",
    "hour_cos",
    "is_night",
    "card_country_ne_billing",
    "ip_country_ne_billing",
    "shipping_ne_billing",
    "card_country_ne_ip",
    "n_distinct_countries",
    "first_use_of_card_for_customer",
    "is_card",
    "is_declined",
    *(f"n_{entity}_{window}" for entity in ENTITIES for window in WINDOWS),
    "n_small_device_1h",
    "n_declined_device_24h",
    "n_cards_device_24h",
)


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Validated, typed and time-sorted copy of a payments table; raises BadRequestError on bad input."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise BadRequestError(f"payments table is missing required columns: {', '.join(missing)}")
    df = frame.copy()
    for column in OPTIONAL_STR:
        if column not in df.columns:
            df[column] = None
        df[column] = df[column].astype("object").where(df[column].notna(), None)
    df["payment_ts"] = pd.to_datetime(df["payment_ts"], utc=True, errors="coerce")
    amount_col = "amount_reporting" if "amount_reporting" in df.columns else "amount"
    df["_amount"] = pd.to_numeric(df[amount_col], errors="coerce")
    if amount_col != "amount":
        df["_amount"] = df["_amount"].fillna(pd.to_numeric(df["amount"], errors="coerce"))
    bad = df["payment_ts"].isna() | df["_amount"].isna()
    if bad.all() and len(df):
        raise BadRequestError("no row has a valid payment_ts and a numeric amount")
    df = df.loc[~bad]
    if "account_created_ts" in df.columns:
        df["account_created_ts"] = pd.to_datetime(df["account_created_ts"], utc=True, errors="coerce")
    else:
        df["account_created_ts"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    df["card"] = np.where(
        df["card_bin"].notna() & df["card_last4"].notna(),
        df["card_bin"].astype(str) + "|" + df["card_last4"].astype(str),
        None,
    )
    df = df.sort_values(["payment_ts", "payment_id"], kind="stable").reset_index(drop=True)
    return df


def _rolling_count(df: pd.DataFrame, key: str, window: str, mask: pd.Series | None = None) -> np.ndarray:
    """Per row: earlier rows (same key, within window before it, optionally only those matching mask)."""
    out = np.zeros(len(df))
    width = pd.Timedelta(window).to_timedelta64()
    weights = np.ones(len(df)) if mask is None else np.asarray(mask, dtype=float)
    times = df["payment_ts"].to_numpy(dtype="datetime64[ns]")
    keyed = df[key].notna().to_numpy()
    positions = np.flatnonzero(keyed)
    if not len(positions):
        return out
    codes = pd.factorize(df[key].to_numpy()[positions])[0]
    for group in pd.Series(positions).groupby(codes).indices.values():
        idx = positions[group]  # time-sorted rows of one key
        t = times[idx]
        cum = np.concatenate([[0.0], np.cumsum(weights[idx])])
        left = np.searchsorted(t, t - width, side="left")
        out[idx] = cum[np.arange(len(idx))] - cum[left]
    return out


def _distinct_cards_per_device(df: pd.DataFrame, window: pd.Timedelta) -> np.ndarray:
    out = np.zeros(len(df))
    sub = df.loc[df["device_id"].notna() & df["card"].notna(), ["device_id", "card", "payment_ts"]]
    for _, group in sub.groupby("device_id", sort=False):
        if len(group) < 2:
            continue
        times = group["payment_ts"].to_numpy()
        cards = group["card"].to_numpy()
        idx = group.index.to_numpy()
        left = 0
        for i in range(len(group)):
            while times[left] < times[i] - window:
                left += 1
            out[idx[i]] = len(set(cards[left:i]) - {cards[i]})
    return out


def build_features(frame: pd.DataFrame, prepared: bool = False) -> pd.DataFrame:
    """Feature matrix (columns FEATURES, same row order as `prepare(frame)`)."""
    df = frame if prepared else prepare(frame)
    f = pd.DataFrame(index=df.index)
    amount = df["_amount"].clip(lower=0)
    f["amount_log"] = np.log1p(amount)
    f["is_small_amount"] = (amount < SMALL_AMOUNT).astype(float)
    cust = df["customer_id"]
    grouped = amount.groupby(cust)
    prior_sum = grouped.cumsum() - amount
    prior_n = grouped.cumcount()
    prior_mean = prior_sum / prior_n.replace(0, np.nan)
    f["amount_vs_customer_mean"] = (amount / prior_mean).where(cust.notna()).fillna(-1.0)
    f["customer_prior_payments"] = prior_n.where(cust.notna()).fillna(-1.0)
    f["is_guest"] = cust.isna().astype(float)
    age = (df["payment_ts"] - df["account_created_ts"]).dt.total_seconds() / 86400.0
    f["account_age_days"] = age.fillna(-1.0)
    hour = df["payment_ts"].dt.hour + df["payment_ts"].dt.minute / 60.0
    f["hour_sin"] = np.sin(2 * np.pi * hour / 24)
    f["hour_cos"] = np.cos(2 * np.pi * hour / 24)
    f["is_night"] = ((hour >= 0) & (hour < 5)).astype(float)

    def ne(a: str, b: str) -> pd.Series:
        both = df[a].notna() & df[b].notna()
        return (both & (df[a] != df[b])).astype(float)

    f["card_country_ne_billing"] = ne("card_country", "billing_country")
    f["ip_country_ne_billing"] = ne("ip_country", "billing_country")
    f["shipping_ne_billing"] = ne("shipping_country", "billing_country")
    f["card_country_ne_ip"] = ne("card_country", "ip_country")
    countries = df[["card_country", "billing_country", "shipping_country", "ip_country"]]
    f["n_distinct_countries"] = countries.nunique(axis=1).astype(float)
    pair = df["customer_id"].astype(str) + "#" + df["card"].astype(str)
    first = ~pair.duplicated() & df["customer_id"].notna() & df["card"].notna() & (prior_n > 0)
    f["first_use_of_card_for_customer"] = first.astype(float)
    f["is_card"] = (df["method"].fillna("").str.lower() == "card").astype(float)
    declined = df["status"].fillna("").str.lower().isin(["declined", "failed", "refused"])
    f["is_declined"] = declined.astype(float)
    for entity in ENTITIES:
        for name, window in WINDOWS.items():
            f[f"n_{entity}_{name}"] = _rolling_count(df, entity, window)
    f["n_small_device_1h"] = _rolling_count(df, "device_id", "1h", amount < SMALL_AMOUNT)
    f["n_declined_device_24h"] = _rolling_count(df, "device_id", "24h", declined)
    f["n_cards_device_24h"] = _distinct_cards_per_device(df, pd.Timedelta("24h"))
    return f[list(FEATURES)].astype("float32")


def labels(frame: pd.DataFrame, column: str = "is_fraud") -> np.ndarray:
    """0/1 labels; raises BadRequestError when the column is absent or holds non-boolean values."""
    if column not in frame.columns:
        raise BadRequestError(f"label column {column!r} not found")
    values = frame[column]
    if values.dtype == bool:
        return values.to_numpy().astype(int)
    truth = {True: 1, False: 0, "1": 1, "0": 0, "true": 1, "false": 0}
    mapped = values.map(lambda v: truth.get(v.lower() if isinstance(v, str) else v))
    if mapped.isna().any():
        raise BadRequestError(f"label column {column!r} must hold booleans or 0/1 only")
    return mapped.to_numpy().astype(int)
