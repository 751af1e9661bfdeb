"""Payment authorisations for the orders, plus injected fraud (account takeover, stolen card, testing)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import cards
from .countries import FOREIGN_CARD_COUNTRIES, FOREIGN_IP_OCTETS, SHOP_TIMEZONE, CountryInfo, random_ip
from .customers import Customers, device_id
from .fraud import ATO, CARD_TESTING, CARD_TESTING_SHARE, PATTERN_NAMES, STOLEN_CARD
from .orders import OrderBook
from .params import Params, stream

METHODS = ("card", "paypal", "bank_transfer", "gift_card")
METHOD_PROBS = (0.70, 0.18, 0.08, 0.04)
DECLINED_RETRY_SHARE = 0.02
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SECOND = 1_000_000_000  # ns
DISPOSABLE_DOMAINS = ("mailinator.com", "guerrillamail.com", "yopmail.com", "10minutemail.com")


def _payment_ids(n: int, rng: np.random.Generator) -> list[str]:
    chars = np.array(list(BASE62))[rng.integers(0, 62, size=(n, 20))]
    ids = ["pi_" + x for x in np.ascontiguousarray(chars).view("<U20").ravel().tolist()]
    if len(set(ids)) != n:  # astronomically unlikely; fail loudly rather than emit duplicates
        raise RuntimeError("payment id collision")
    return ids


def _throwaway_email(rng: np.random.Generator) -> str:
    local = "".join(BASE62[int(c)] for c in rng.integers(10, 62, size=8)).lower()
    return f"{local}@{DISPOSABLE_DOMAINS[int(rng.integers(len(DISPOSABLE_DOMAINS)))]}"


def build_payments(
    params: Params, countries: tuple[CountryInfo, ...], customers: Customers, orders: OrderBook
) -> tuple[pd.DataFrame, dict[str, str]]:
    """(payments sorted by time, {payment_id: fraud pattern})."""
    rng = stream(params.seed, "payments")
    codes = [c.code for c in countries]
    bins = cards.build_bin_table(tuple(codes) + FOREIGN_CARD_COUNTRIES, rng)
    bin_country = {b: code for code, entries in bins.items() for b, _, _ in entries}
    foreign_ip = list(FOREIGN_IP_OCTETS)

    wallet: list[list[str]] = []  # each customer's cards, mostly issued at home
    for i in range(len(customers)):
        home = codes[customers.country[i]]
        wallet.append(
            [
                cards.issue_card(bins, home if rng.random() < 0.94 else codes[int(rng.integers(len(codes)))], rng)
                for _ in range(int(rng.integers(1, 3)))
            ]
        )
    signup_ns = (
        (
            pd.Timestamp(params.start)
            + pd.to_timedelta(customers.signup_day, "D")
            + pd.to_timedelta(customers.signup_seconds, "s")
        )
        .tz_localize(SHOP_TIMEZONE)
        .asi8
    )
    order_ns = orders.ts_utc.asi8
    nat = np.iinfo(np.int64).min  # NaT

    rows: list[dict[str, object]] = []
    fraud_kind: list[int] = []
    n = len(orders)
    method = rng.choice(METHODS, size=n, p=METHOD_PROBS)
    delay = rng.integers(5, 120, size=n)
    u = rng.random((n, 4))
    for i in range(n):
        kind = int(orders.fraud[i])
        c = int(orders.country[i])
        info = countries[c]
        cust = int(orders.customer[i])
        ts = int(order_ns[i]) + int(delay[i]) * SECOND
        m = "card" if kind else str(method[i])
        row: dict[str, object] = {
            "order_ref": orders.order_no[i],
            "customer_ref": customers.customer_id[cust] if cust >= 0 else None,
            "created": ts,
            "amount": float(orders.amount[i]),
            "currency": info.currency,
            "payment_method": m,
            "billing_country": info.code,
            "shipping_country": orders.ship_country[i],
            "account_created": int(signup_ns[cust]) if cust >= 0 else nat,
        }
        if cust >= 0:
            row["email"] = customers.email[cust] or None
            devs = customers.devices[cust]
            row["device_id"] = devs[int(u[i, 0] * len(devs))]
        else:
            first = info.first_names[int(rng.integers(len(info.first_names)))]
            row["email"] = f"{first}{int(rng.integers(10, 9999))}@{info.email_domains[0]}"
            row["device_id"] = device_id(rng)
        if u[i, 1] < 0.85 and cust >= 0:
            row["ip_address"], row["ip_country"] = customers.home_ip[cust], info.code
        elif u[i, 1] < 0.96:
            row["ip_address"], row["ip_country"] = random_ip(info.ip_octets, rng), info.code
        else:  # travelling
            other = countries[int(rng.integers(len(countries)))]
            row["ip_address"], row["ip_country"] = random_ip(other.ip_octets, rng), other.code
        pan = None
        if m == "card":
            pan = (
                wallet[cust][int(u[i, 2] * len(wallet[cust]))] if cust >= 0 else cards.issue_card(bins, info.code, rng)
            )
        status = "refunded" if orders.status[i] in ("cancelled", "returned") else "approved"

        if kind == ATO:  # someone else logged into an established account: new device, foreign IP
            ip_cc = foreign_ip[int(rng.integers(len(foreign_ip)))]
            row["device_id"] = device_id(rng)
            row["ip_address"], row["ip_country"] = random_ip(FOREIGN_IP_OCTETS[ip_cc], rng), ip_cc
            status = "chargeback" if u[i, 3] < 0.65 else "approved"
        elif kind == STOLEN_CARD:  # guest checkout with a card from a third country, IP from a fourth
            card_cc = [k for k in bins if k != info.code][int(rng.integers(len(bins) - 1))]
            pan = cards.issue_card(bins, card_cc, rng)
            ips = [k for k in foreign_ip if k != card_cc]
            ip_cc = ips[int(rng.integers(len(ips)))]
            row["ip_address"], row["ip_country"] = random_ip(FOREIGN_IP_OCTETS[ip_cc], rng), ip_cc
            row["email"] = _throwaway_email(rng)
            status = "chargeback" if u[i, 3] < 0.55 else "declined" if u[i, 3] < 0.85 else "approved"
        elif m == "card" and u[i, 3] < DECLINED_RETRY_SHARE:  # a declined first attempt, then success
            retry = dict(
                row,
                created=ts - int(rng.integers(30, 300)) * SECOND,
                card_number=pan,
                bin_country=bin_country[pan[:6]],
                status="declined",
            )
            rows.append(retry)
            fraud_kind.append(0)
        row["card_number"] = pan
        row["bin_country"] = bin_country[pan[:6]] if pan else None
        row["status"] = status
        rows.append(row)
        fraud_kind.append(kind)

    # card testing: bursts of tiny authorisations on fresh cards, minutes apart, one device and IP
    n_attempts = max(10, int(CARD_TESTING_SHARE * n))
    t0 = pd.Timestamp(params.start, tz="UTC").value
    while n_attempts > 0:
        size = min(n_attempts, int(rng.integers(10, 41)))
        n_attempts -= size
        ip_cc = foreign_ip[int(rng.integers(len(foreign_ip)))]
        ip, dev = random_ip(FOREIGN_IP_OCTETS[ip_cc], rng), device_id(rng)
        target = countries[int(rng.integers(len(countries)))]
        start = t0 + int(rng.integers(0, params.days * 86400 - 3600)) * SECOND
        offsets = np.sort(rng.integers(0, int(rng.integers(120, 900)), size=size))
        for k in range(size):
            card_cc = list(bins)[int(rng.integers(len(bins)))]
            pan = cards.issue_card(bins, card_cc, rng)
            rows.append(
                {
                    "order_ref": None,
                    "customer_ref": None,
                    "created": start + int(offsets[k]) * SECOND,
                    "amount": round(float(rng.uniform(0.5, 3.0)), 2),
                    "currency": target.currency,
                    "payment_method": "card",
                    "billing_country": target.code,
                    "shipping_country": None,
                    "account_created": nat,
                    "email": _throwaway_email(rng),
                    "device_id": dev,
                    "ip_address": ip,
                    "ip_country": ip_cc,
                    "card_number": pan,
                    "bin_country": card_cc,
                    "status": "approved" if rng.random() < 0.15 else "declined",
                }
            )
            fraud_kind.append(CARD_TESTING)

    df = pd.DataFrame(rows)
    df.insert(0, "id", _payment_ids(len(df), rng))
    df["is_fraud"] = np.array(fraud_kind) > 0
    pattern = np.array([PATTERN_NAMES.get(k, "") for k in fraud_kind])
    for col in ("created", "account_created"):
        df[col] = pd.DatetimeIndex(df[col].to_numpy(dtype=np.int64).view("datetime64[ns]")).tz_localize("UTC")
    order = np.argsort(df["created"].to_numpy(), kind="stable")
    df = df.iloc[order].reset_index(drop=True)
    pattern = pattern[order]
    labels = {pid: p for pid, p in zip(df["id"], pattern, strict=True) if p}
    columns = [
        "id",
        "order_ref",
        "customer_ref",
        "created",
        "amount",
        "currency",
        "payment_method",
        "card_number",
        "bin_country",
        "billing_country",
        "shipping_country",
        "ip_country",
        "ip_address",
        "device_id",
        "email",
        "account_created",
        "status",
        "is_fraud",
    ]
    return df[columns], labels
