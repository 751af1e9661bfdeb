"""Fraud features from prod `payment_transactions` rows (and their history, for velocities).

Every feature is computed from rows at or before the payment's own timestamp, so scoring a day with
the preceding days as history gives the same values as training on the whole table.

Two implementations of the same features: `build_features` (pandas, per-key groups: the batch path and
training) and `build_features_small` (plain numpy on pairwise matrices, no DataFrame: the online route,
whose requests hold at most a hundred transactions). tests/unit/compliance_guardian/test_cg_fraud_fast.py
checks that they agree bit for bit.
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
RATIO_AFTER_ZERO_MEAN = 1e6  # amount against a prior mean of 0 (XGBoost refuses inf)
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
    # the rules baseline's signals, so that the trees need not rebuild a sum of red flags from few frauds
    "is_new_account",
    "card_testing_burst",
    "rules_score",
)
# features of models trained before the three rule signals were added (still loadable: see FraudModel)
FEATURES_V1: tuple[str, ...] = FEATURES[:-3]
NEW_ACCOUNT_DAYS = 2.0
BURST_SMALL_PAYMENTS = 3
RULE_POINTS = {
    "card_country_ne_billing": 1.0,
    "ip_country_ne_billing": 1.0,
    "shipping_ne_billing": 1.0,
    "is_night": 0.5,
    "is_guest": 0.5,
    "first_use_of_card_for_customer": 0.5,
    "card_testing_burst": 2.0,
    "is_new_account": 1.0,
}


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


class _Timeline:
    """Payment times and each key's rows in (key, time) order, computed once for all the velocity features.

    A window's start is found for every row at once: rows sorted by (key, time) are searched for
    (key, time - width) with both packed into one int64 (key code x (distinct times + 1) + time rank), so
    there is no loop per key value (an IP address or e-mail is often unique to one payment)."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.times = df["payment_ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        self.distinct = np.unique(self.times)
        self.rank = np.searchsorted(self.distinct, self.times)
        self._orders: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def order(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows that have `key`, ordered by (key, time) with ties in row (= time, payment_id) order, and their
        key codes."""
        if key not in self._orders:
            rows = np.flatnonzero(self.df[key].notna().to_numpy())
            codes = pd.factorize(self.df[key].to_numpy()[rows])[0].astype(np.int64)
            order = np.lexsort((self.times[rows], codes))  # stable
            self._orders[key] = rows[order], codes[order]
        return self._orders[key]

    def starts(self, rows: np.ndarray, codes: np.ndarray, width: int) -> np.ndarray:
        """For `rows` in (code, time) order: the position of the first row of the same code at or after
        time - width."""
        lower = np.searchsorted(self.distinct, self.times[rows] - width, side="left")
        stride = np.int64(len(self.distinct) + 1)
        return np.searchsorted(codes * stride + self.rank[rows], codes * stride + lower, side="left")

    def count(self, key: str, window: str, mask: pd.Series | None = None) -> np.ndarray:
        """Per row: earlier rows (same key, within window before it, optionally only those matching mask)."""
        out = np.zeros(len(self.df))
        rows, codes = self.order(key)
        if not len(rows):
            return out
        weights = np.ones(len(self.df)) if mask is None else np.asarray(mask, dtype=float)
        cum = np.concatenate([[0.0], np.cumsum(weights[rows])])
        left = self.starts(rows, codes, pd.Timedelta(window).value)
        out[rows] = cum[np.arange(len(rows))] - cum[left]
        return out

    def distinct_cards_per_device(self, window: str) -> np.ndarray:
        """Per row with a device and a card: distinct other cards among the device's earlier rows in the window.

        The (row, earlier row in the window) pairs are listed with numpy (as many as the per-device window
        counts add up to: the work the per-row sets did) and their distinct cards counted."""
        out = np.zeros(len(self.df))
        rows, devices = self.order("device_id")
        card = self.df["card"].to_numpy()
        with_card = pd.notna(card[rows])
        rows, devices = rows[with_card], devices[with_card]
        if len(rows) < 2:
            return out
        cards = pd.factorize(card[rows])[0].astype(np.int64)
        left = self.starts(rows, devices, pd.Timedelta(window).value)
        n = len(rows)
        width = np.arange(n) - left  # earlier rows of the same device in the window
        i = np.repeat(np.arange(n), width)
        j = np.arange(len(i)) - np.repeat(np.cumsum(width) - width, width) + np.repeat(left, width)
        other = cards[j] != cards[i]
        stride = np.int64(cards.max() + 1)
        distinct = np.unique(i[other] * stride + cards[j[other]])
        out[rows] = np.bincount(distinct // stride, minlength=n)
        return out


def _distinct_non_null(frame: pd.DataFrame) -> np.ndarray:
    """Per row, the number of distinct non-null values across the columns (DataFrame.nunique(axis=1))."""
    values = frame.to_numpy(dtype=object)
    codes = pd.factorize(values.ravel())[0].reshape(values.shape)  # -1 for null
    ordered = np.sort(codes, axis=1)
    new = np.ones(ordered.shape, dtype=bool)
    new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return ((ordered >= 0) & new).sum(axis=1).astype(float)


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
    ratio = (amount / prior_mean).replace(np.inf, RATIO_AFTER_ZERO_MEAN)  # earlier payments all of 0
    f["amount_vs_customer_mean"] = ratio.where(cust.notna()).fillna(-1.0)
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
    f["n_distinct_countries"] = _distinct_non_null(countries)
    pair = df["customer_id"].astype(str) + "#" + df["card"].astype(str)
    first = ~pair.duplicated() & df["customer_id"].notna() & df["card"].notna() & (prior_n > 0)
    f["first_use_of_card_for_customer"] = first.astype(float)
    f["is_card"] = (df["method"].fillna("").str.lower() == "card").astype(float)
    declined = df["status"].fillna("").str.lower().isin(["declined", "failed", "refused"])
    f["is_declined"] = declined.astype(float)
    timeline = _Timeline(df)
    for entity in ENTITIES:
        for name, window in WINDOWS.items():
            f[f"n_{entity}_{name}"] = timeline.count(entity, window)
    f["n_small_device_1h"] = timeline.count("device_id", "1h", amount < SMALL_AMOUNT)
    f["n_declined_device_24h"] = timeline.count("device_id", "24h", declined)
    f["n_cards_device_24h"] = timeline.distinct_cards_per_device("24h")
    for name, values in rule_signals(f).items():
        f[name] = values
    return f[list(FEATURES)].astype("float32")


def rule_signals(f) -> dict[str, np.ndarray]:
    """is_new_account, card_testing_burst and rules_score (the red-flag points of fraud.baseline) from the
    float64 base features (a DataFrame or a dict of arrays: both paths call this on the same values)."""
    age = np.asarray(f["account_age_days"], dtype=float)
    out = {
        "is_new_account": ((age >= 0) & (age < NEW_ACCOUNT_DAYS)).astype(float),
        "card_testing_burst": (np.asarray(f["n_small_device_1h"], dtype=float) >= BURST_SMALL_PAYMENTS).astype(float),
    }
    score = np.zeros(len(age))
    for name, points in RULE_POINTS.items():
        score = score + points * (out[name] if name in out else np.asarray(f[name], dtype=float))
    out["rules_score"] = score
    return out


_EXACT_INT = 2**53
_MAX_AMOUNT = 1e12  # sums of a hundred amounts stay exact integers in float64 when the amounts are integers
_DECLINED = ("declined", "failed", "refused")


def _number(value) -> float | None:
    """float of an int/float request value; None when absent, NaN, non-finite, huge or of another type."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int) and abs(value) >= _EXACT_INT:
        return None
    x = float(value)
    return x if np.isfinite(x) and abs(x) < _MAX_AMOUNT else None


def build_features_small(items: list[dict]) -> tuple[list[int], np.ndarray] | None:
    """Features of a small request (validated transaction dicts; earlier ones are history) without pandas.

    Returns (order, X): order[k] is the index in `items` of the k-th row in `prepare`'s order (time, then
    payment_id) and X the FEATURES matrix (float32) in that order: equal, value for value, to
    `build_features(pd.DataFrame(items))`. Pairwise n x n masks replace the per-key groups (n <= ~100).
    Returns None for anything this path does not handle (unparseable timestamps, non-string fields,
    non-finite or huge amounts): the caller then takes the DataFrame path, which raises the right error.
    """
    n = len(items)
    if not n:
        return None
    has_reporting = any("amount_reporting" in item for item in items)
    amounts = np.empty(n)
    for i, item in enumerate(items):
        if not isinstance(item.get("payment_id"), str) or not isinstance(item.get("payment_ts"), str):
            return None
        for column in OPTIONAL_STR:
            value = item.get(column)
            if value is not None and not isinstance(value, str):
                return None
        reporting = item.get("amount_reporting") if has_reporting else None
        if reporting is not None and not (isinstance(reporting, float) and np.isnan(reporting)):
            amount = _number(reporting)
        else:
            amount = _number(item.get("amount"))
        if amount is None:
            return None
        amounts[i] = amount
    # timestamps: the same pandas parser as `prepare` (format inferred from the request's first value)
    ts = pd.DatetimeIndex(
        pd.to_datetime(pd.Series([i["payment_ts"] for i in items], dtype=object), utc=True, errors="coerce")
    )
    if ts.hasnans:
        return None
    created_raw = [item.get("account_created_ts") for item in items]
    if any(v is not None and not isinstance(v, str) for v in created_raw):
        return None
    if any(v is not None for v in created_raw):
        created = pd.DatetimeIndex(pd.to_datetime(pd.Series(created_raw, dtype=object), utc=True, errors="coerce"))
    else:
        created = pd.DatetimeIndex([pd.NaT] * n, dtype="datetime64[ns, UTC]")
    ts_ns = ts.asi8
    order = sorted(range(n), key=lambda i: (int(ts_ns[i]), items[i]["payment_id"]))
    rows = [items[i] for i in order]
    take = np.asarray(order)
    ts, created, t = ts[take], created[take], ts_ns[take]
    amount = np.maximum(amounts[take], 0.0)

    def col(name: str) -> list:
        return [row.get(name) for row in rows]

    cust, device = col("customer_id"), col("device_id")
    card = [
        f"{r['card_bin']}|{r['card_last4']}"
        if r.get("card_bin") is not None and r.get("card_last4") is not None
        else None
        for r in rows
    ]
    f: dict[str, np.ndarray] = {}
    f["amount_log"] = np.log1p(amount)
    small = amount < SMALL_AMOUNT
    f["is_small_amount"] = small.astype(float)
    # customer history: pandas' grouped cumsum is a Kahan sum; the same steps here
    prior_sum, prior_n = np.full(n, np.nan), np.full(n, np.nan)
    state: dict[str, list[float]] = {}
    for k, c in enumerate(cust):
        if c is None:
            continue
        acc = state.setdefault(c, [0.0, 0.0, 0])
        y = amount[k] - acc[1]
        total = acc[0] + y
        comp = total - acc[0] - y
        acc[1] = 0.0 if comp != comp else comp
        acc[0] = total
        prior_sum[k] = total - amount[k]
        prior_n[k] = acc[2]
        acc[2] += 1
    has_cust = np.array([c is not None for c in cust])
    with np.errstate(divide="ignore", invalid="ignore"):
        prior_mean = prior_sum / np.where(prior_n == 0, np.nan, prior_n)
        vs_mean = amount / prior_mean
    vs_mean = np.where(vs_mean == np.inf, RATIO_AFTER_ZERO_MEAN, vs_mean)
    f["amount_vs_customer_mean"] = np.where(has_cust & ~np.isnan(vs_mean), vs_mean, -1.0)
    f["customer_prior_payments"] = np.where(has_cust, prior_n, -1.0)
    f["is_guest"] = (~has_cust).astype(float)
    age = np.asarray((ts - created).total_seconds()) / 86400.0
    f["account_age_days"] = np.where(np.isnan(age), -1.0, age)
    hour = np.asarray(ts.hour) + np.asarray(ts.minute) / 60.0
    f["hour_sin"] = np.sin(2 * np.pi * hour / 24)
    f["hour_cos"] = np.cos(2 * np.pi * hour / 24)
    f["is_night"] = ((hour >= 0) & (hour < 5)).astype(float)
    countries = {c: col(c) for c in ("card_country", "billing_country", "shipping_country", "ip_country")}

    def ne(a: str, b: str) -> np.ndarray:
        return np.array(
            [x is not None and y is not None and x != y for x, y in zip(countries[a], countries[b], strict=True)], float
        )

    f["card_country_ne_billing"] = ne("card_country", "billing_country")
    f["ip_country_ne_billing"] = ne("ip_country", "billing_country")
    f["shipping_ne_billing"] = ne("shipping_country", "billing_country")
    f["card_country_ne_ip"] = ne("card_country", "ip_country")
    f["n_distinct_countries"] = np.array(
        [len({v for v in vs if v is not None}) for vs in zip(*countries.values(), strict=True)], dtype=float
    )
    seen: set[str] = set()
    first = np.zeros(n)
    for k, (c, cd) in enumerate(zip(cust, card, strict=True)):
        pair = f"{c}#{cd}"
        first[k] = pair not in seen and c is not None and cd is not None and prior_n[k] > 0
        seen.add(pair)
    f["first_use_of_card_for_customer"] = first
    f["is_card"] = np.array([(m or "").lower() == "card" for m in col("method")], dtype=float)
    declined = np.array([(s or "").lower() in _DECLINED for s in col("status")])
    f["is_declined"] = declined.astype(float)
    earlier = np.tri(n, k=-1, dtype=bool)  # [i, j]: row j comes before row i
    within = {
        name: earlier & (t[None, :] >= t[:, None] - pd.Timedelta(window).value) for name, window in WINDOWS.items()
    }
    keys = {
        "card": card,
        "customer_id": cust,
        "device_id": device,
        "ip_address": col("ip_address"),
        "email": col("email"),
    }
    same: dict[str, np.ndarray] = {}
    for entity in ENTITIES:
        codes: dict[str, int] = {}
        code = np.array([-1 if v is None else codes.setdefault(v, len(codes)) for v in keys[entity]])
        same[entity] = (code[:, None] == code[None, :]) & (code >= 0)[:, None]
        for name in WINDOWS:
            f[f"n_{entity}_{name}"] = (within[name] & same[entity]).sum(axis=1).astype(float)
    f["n_small_device_1h"] = (within["1h"] & same["device_id"] & small[None, :]).sum(axis=1).astype(float)
    f["n_declined_device_24h"] = (within["24h"] & same["device_id"] & declined[None, :]).sum(axis=1).astype(float)
    cards_device = np.zeros(n)
    pairs = within["24h"] & same["device_id"]
    for i in range(n):
        if card[i] is not None and device[i] is not None:
            others = {card[j] for j in np.flatnonzero(pairs[i]) if card[j] is not None}
            cards_device[i] = len(others - {card[i]})
    f["n_cards_device_24h"] = cards_device
    f.update(rule_signals(f))
    return order, np.column_stack([f[name] for name in FEATURES]).astype(np.float32)


def own_features(rows: pd.DataFrame | list[dict], names: list[str]) -> pd.DataFrame:
    """A retailer's own feature columns (a model trained by `fraud-train --features`), as float32 in the model's
    order; BadRequestError naming the missing columns or the non-numeric values."""
    frame = pd.DataFrame(rows) if isinstance(rows, list) else rows
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise BadRequestError(f"the model scores its own features; missing: {', '.join(missing)}")
    values = frame[names].apply(pd.to_numeric, errors="coerce")
    bad = [name for name in names if values[name].isna().any() and frame[name].notna().any()]
    if bad and isinstance(rows, list):
        raise BadRequestError(f"features must be numbers: {', '.join(bad)}")
    return values.astype("float32")


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
