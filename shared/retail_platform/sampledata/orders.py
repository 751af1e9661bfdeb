"""Turn served demand lines into orders: grouping, customers, timestamps, order numbers, status, notes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cards
from .catalog import Catalog
from .countries import SHOP_TIMEZONE, CountryInfo, fill_digits
from .customers import Customers, assign_customers
from .demand import DemandLines
from .fraud import ATO, STOLEN_CARD, plan_order_fraud
from .params import Params, stream
from .pricing import PriceBook

LINES_PER_ORDER_BREAK = 0.55  # P(a line starts a new order): sizes 1-4, mean ~1.8
MAX_LINES = 4
HOUR_WEIGHTS = np.array(
    [
        0.6,
        0.35,
        0.2,
        0.15,
        0.15,
        0.25,
        0.6,
        1.2,
        2.0,
        2.6,
        3.0,
        3.3,
        3.8,
        3.7,
        3.3,
        3.2,
        3.3,
        3.6,
        4.2,
        5.0,
        5.4,
        5.0,
        3.6,
        1.8,
    ]
)
CHANNELS = ("web", "app", "marketplace")
CHANNEL_PROBS = (0.62, 0.26, 0.12)
CANCEL_SHARE = 0.02
RETURN_SHARE = 0.03
BENIGN_NOTE_SHARE = 0.12
LEAKED_PAN_SHARE = 0.004
LOOKALIKE_SHARE = 0.01
FIRST_ORDER_NO = 1_000_001


@dataclass(frozen=True)
class OrderBook:
    """Orders (chronological by order number) and their lines, cancellation lines included."""

    # per order
    order_no: np.ndarray  # str
    ts_utc: pd.DatetimeIndex  # tz-aware UTC
    country: np.ndarray  # int index
    customer: np.ndarray  # int index, -1 guest
    channel: np.ndarray  # str
    status: np.ndarray  # str
    ship_country: np.ndarray  # str code
    notes: list[str | None]
    leaked: list[tuple[int, str, str]]  # (order index, PAN as written, digits)
    lookalike: np.ndarray  # bool
    fraud: np.ndarray  # int fraud kind (0 none)
    amount: np.ndarray  # float, local currency
    # per line
    line_order: np.ndarray  # int order index
    line_no: np.ndarray
    line_sku: np.ndarray
    line_qty: np.ndarray  # negative for cancellation lines
    line_price: np.ndarray
    line_promo: np.ndarray
    line_cancel: np.ndarray  # bool
    line_ts_utc: pd.DatetimeIndex

    def __len__(self) -> int:
        return len(self.order_no)


def _group(lines: DemandLines, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(permutation of lines, order index per permuted line): 1-4 lines of one day and market per order."""
    key = lines.day.astype(np.int64) * 64 + lines.country
    perm = np.lexsort((rng.random(len(lines)), key))
    k = key[perm]
    brk = np.r_[True, k[1:] != k[:-1]] | (rng.random(len(lines)) < LINES_PER_ORDER_BREAK)
    while True:
        oid = np.cumsum(brk) - 1
        starts = np.flatnonzero(brk)
        pos = np.arange(len(lines)) - starts[oid]
        too_long = pos >= MAX_LINES
        if not too_long.any():
            return perm, oid
        brk |= too_long & (pos % MAX_LINES == 0)


def _local_to_utc(params: Params, day: np.ndarray, seconds: np.ndarray, tz: str) -> pd.DatetimeIndex:
    local = pd.DatetimeIndex(pd.Timestamp(params.start) + pd.to_timedelta(day, "D") + pd.to_timedelta(seconds, "s"))
    return local.tz_localize(tz, ambiguous=np.zeros(len(local), dtype=bool), nonexistent="shift_forward").tz_convert(
        "UTC"
    )


def _timestamps(
    params: Params,
    countries: tuple[CountryInfo, ...],
    day: np.ndarray,
    country: np.ndarray,
    night: np.ndarray,
    rng: np.random.Generator,
) -> pd.DatetimeIndex:
    """Order time: an intraday profile in the buyer's local time (night for stolen-card orders), as UTC."""
    hours = rng.choice(24, size=len(day), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    hours = np.where(night, rng.integers(0, 5, size=len(day)), hours)
    seconds = hours * 3600 + rng.integers(0, 3600, size=len(day))
    ts = np.empty(len(day), dtype="datetime64[ns]")
    for c, info in enumerate(countries):
        m = country == c
        if m.any():
            ts[m] = _local_to_utc(params, day[m], seconds[m], info.timezone).tz_localize(None).to_numpy()
    utc = pd.DatetimeIndex(ts).tz_localize("UTC")
    last = pd.Timestamp(params.end) + pd.Timedelta(days=1)
    beyond = utc.tz_convert(SHOP_TIMEZONE).tz_localize(None) >= last  # keep every order inside the history
    return _unambiguous(utc - pd.to_timedelta(np.where(beyond, 8 * 3600, 0), "s"))


def _unambiguous(utc: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Move instants whose naive shop-local time is ambiguous (the repeated hour when DST ends) 2 hours on.

    The order-lines export writes naive shop-local times; keeping them unambiguous means every bad
    timestamp in that file is a recorded defect.
    """
    local = utc.tz_convert(SHOP_TIMEZONE).tz_localize(None)
    ambiguous = local.tz_localize(SHOP_TIMEZONE, ambiguous="NaT", nonexistent="NaT").isna()
    return utc + pd.to_timedelta(np.where(ambiguous, 2 * 3600, 0), "s")


def build_orders(
    params: Params,
    catalog: Catalog,
    countries: tuple[CountryInfo, ...],
    prices: PriceBook,
    customers: Customers,
    lines: DemandLines,
) -> OrderBook:
    """Orders with customers, fraud plan, times, numbers, cancellations, statuses and notes."""
    rng = stream(params.seed, "orders")
    perm, oid = _group(lines, rng)
    day, sku, ctry, qty = lines.day[perm], lines.sku[perm], lines.country[perm], lines.qty[perm]
    price = prices.price[day, sku, ctry]
    promo = prices.promo[day, sku, ctry]
    n = int(oid[-1]) + 1 if len(oid) else 0
    first = np.flatnonzero(np.r_[True, oid[1:] != oid[:-1]])
    o_day, o_country = day[first], ctry[first]
    amount = np.bincount(oid, weights=qty * price, minlength=n)
    factor = np.array([c.price_factor for c in countries])

    fraud = plan_order_fraud(params, amount / factor[o_country])
    customer = assign_customers(
        params,
        customers,
        o_day,
        o_country,
        guest=fraud == STOLEN_CARD,
        min_tenure=np.where(fraud == ATO, 60, 0),
    )
    fraud[(fraud == ATO) & (customer < 0)] = 0
    ts = _timestamps(params, countries, o_day, o_country, fraud == STOLEN_CARD, rng)

    chrono = np.argsort(ts.asi8, kind="stable")  # order numbers follow time
    rank = np.empty(n, dtype=np.int64)
    rank[chrono] = np.arange(n)
    o_day, o_country, amount, fraud, customer = (a[chrono] for a in (o_day, o_country, amount, fraud, customer))
    ts = ts[chrono]
    oid = rank[oid]
    line_sort = np.lexsort((np.arange(len(oid)), oid))
    oid, sku, qty, price, promo = (a[line_sort] for a in (oid, sku, qty, price, promo))
    starts = np.flatnonzero(np.r_[True, oid[1:] != oid[:-1]])
    line_no = np.arange(len(oid)) - np.repeat(starts, np.diff(np.r_[starts, len(oid)])) + 1

    # status: cancellations get reversing lines, old orders are delivered, recent ones still on the way
    end_utc = pd.Timestamp(params.end, tz=SHOP_TIMEZONE) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    age_days = ((end_utc - ts) / pd.Timedelta(days=1)).to_numpy()
    cancelled = (rng.random(n) < CANCEL_SHARE) & (fraud == 0)
    returned = (rng.random(n) < RETURN_SHARE) & ~cancelled & (age_days > 14)
    status = np.where(age_days < 1, "placed", np.where(age_days < 4, "shipped", "delivered")).astype(object)
    status[returned] = "returned"
    status[cancelled] = "cancelled"
    cancel_ts = ts + pd.to_timedelta(rng.integers(1800, 48 * 3600, size=n), "s")
    cancel_ts = _unambiguous(cancel_ts.where(cancel_ts <= end_utc, end_utc))

    c_lines = np.flatnonzero(cancelled[oid])
    n_per_order = np.bincount(oid, minlength=n)
    all_oid = np.r_[oid, oid[c_lines]]
    all_no = np.r_[line_no, n_per_order[oid[c_lines]] + line_no[c_lines]]
    is_cancel = np.r_[np.zeros(len(oid), bool), np.ones(len(c_lines), bool)]
    line_ts = np.r_[ts[oid].asi8, cancel_ts[oid[c_lines]].asi8]
    final = np.lexsort((all_no, all_oid))

    channel = rng.choice(CHANNELS, size=n, p=CHANNEL_PROBS)
    codes = np.array([c.code for c in countries])
    ship = codes[o_country].astype(object)
    elsewhere = (rng.random(n) < 0.03) | (fraud == ATO)
    if len(countries) > 1:
        shift = rng.integers(1, len(countries), size=n)
        ship[elsewhere] = codes[(o_country[elsewhere] + shift[elsewhere]) % len(countries)]

    notes: list[str | None] = [None] * n
    leaked: list[tuple[int, str, str]] = []
    lookalike = np.zeros(n, dtype=bool)
    u = rng.random(n)
    order_no = np.array([str(FIRST_ORDER_NO + i) for i in range(n)])
    for i in np.flatnonzero(u < BENIGN_NOTE_SHARE + LEAKED_PAN_SHARE + LOOKALIKE_SHARE):
        if u[i] < LEAKED_PAN_SHARE:
            text, written, digits = cards.leaked_pan(rng)
            notes[i] = text
            leaked.append((int(i), written, digits))
        elif u[i] < LEAKED_PAN_SHARE + LOOKALIKE_SHARE:
            other = order_no[max(int(i) - int(rng.integers(1, 500)), 0)]
            phone = fill_digits(countries[o_country[i]].phone, rng)
            notes[i] = cards.lookalike_note(other, phone, rng)
            lookalike[i] = True
        else:
            notes[i] = cards.BENIGN_NOTES[int(rng.integers(len(cards.BENIGN_NOTES)))]

    return OrderBook(
        order_no=order_no,
        ts_utc=ts,
        country=o_country,
        customer=customer,
        channel=channel,
        status=status.astype(str),
        ship_country=ship.astype(str),
        notes=notes,
        leaked=leaked,
        lookalike=lookalike,
        fraud=fraud,
        amount=np.round(amount, 2),
        line_order=all_oid[final],
        line_no=all_no[final],
        line_sku=np.r_[sku, sku[c_lines]][final],
        line_qty=np.r_[qty, -qty[c_lines]][final],
        line_price=np.r_[price, price[c_lines]][final],
        line_promo=np.r_[promo, promo[c_lines]][final],
        line_cancel=is_cancel[final],
        line_ts_utc=pd.DatetimeIndex(line_ts[final]).tz_localize("UTC"),
    )
