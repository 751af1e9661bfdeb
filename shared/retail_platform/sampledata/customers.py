"""The customer base (signup, segment, churn, purchase intensity) and who places which order."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .countries import CountryInfo, random_ip, random_postcode
from .params import Params, stream

SEGMENTS = ("consumer", "business", "vip")
SEGMENT_PROBS = (0.85, 0.10, 0.05)
SEGMENT_INTENSITY = {"consumer": 1.0, "business": 1.6, "vip": 2.5}
CHURNER_SHARE = 0.6
GUEST_SHARE = 0.08
NEW_CUSTOMER_BOOST_DAYS = 14  # new sign-ups are likelier to buy in their first two weeks


@dataclass(frozen=True)
class Customers:
    """Column arrays, one entry per customer."""

    customer_id: np.ndarray  # str
    country: np.ndarray  # int index into the params' countries
    segment: np.ndarray  # str
    signup_day: np.ndarray  # int day index (negative: before the history)
    signup_seconds: np.ndarray  # int seconds after midnight (shop time) of the sign-up
    churn_day: np.ndarray  # float day index after which the customer buys no more (inf: loyal)
    intensity: np.ndarray  # relative purchase rate
    email: np.ndarray  # str ('' when not given)
    city: np.ndarray  # str
    postcode: np.ndarray  # str
    home_ip: np.ndarray  # str
    devices: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.customer_id)


def device_id(rng: np.random.Generator) -> str:
    """A random 16-hex-digit device fingerprint."""
    return "".join("0123456789abcdef"[int(i)] for i in rng.integers(0, 16, size=16))


def build_customers(params: Params, countries: tuple[CountryInfo, ...]) -> Customers:
    """Customers spread over markets by size; a third already existed before the history starts."""
    rng = stream(params.seed, "customers")
    n, D = params.n_customers, params.days
    weights = np.array([c.demand_scale for c in countries])
    country = rng.choice(len(countries), size=n, p=weights / weights.sum())
    segment = rng.choice(SEGMENTS, size=n, p=SEGMENT_PROBS)
    existing = rng.random(n) < 0.35
    signup = np.where(existing, -rng.integers(1, 3 * 365, size=n), rng.integers(0, D, size=n))
    churner = rng.random(n) < CHURNER_SHARE
    lifetime = 20 + rng.exponential(max(60.0, 0.5 * D), size=n)
    churn = np.where(churner, np.maximum(signup, 0) + lifetime, np.inf)
    intensity = rng.gamma(2.0, 0.5, size=n) * np.array([SEGMENT_INTENSITY[s] for s in segment])

    emails, cities, postcodes, ips, devices = [], [], [], [], []
    for i in range(n):
        info = countries[country[i]]
        first = info.first_names[int(rng.integers(len(info.first_names)))]
        last = info.last_names[int(rng.integers(len(info.last_names)))].replace(" ", "")
        domain = info.email_domains[int(rng.integers(len(info.email_domains)))]
        email = f"{first}.{last}{i % 97}@{domain}"
        u = rng.random()
        if u < 0.04:
            email = email.title()  # 'Oliver.Smith12@Gmail.Com': case must not matter
        elif u < 0.06:
            email = ""
        emails.append(email)
        ci = int(rng.choice(len(info.cities), p=[0.3, 0.2, 0.2, 0.15, 0.15]))
        city, prefix = info.cities[ci]
        cities.append(city)
        postcodes.append(random_postcode(info, prefix, rng))
        ips.append(random_ip(info.ip_octets, rng))
        devices.append(tuple(device_id(rng) for _ in range(int(rng.integers(1, 4)))))

    return Customers(
        customer_id=np.array([str(10001 + i) for i in range(n)]),
        country=country,
        segment=segment,
        signup_day=signup,
        signup_seconds=rng.integers(7 * 3600, 23 * 3600, size=n),
        churn_day=churn,
        intensity=intensity,
        email=np.array(emails),
        city=np.array(cities),
        postcode=np.array(postcodes),
        home_ip=np.array(ips),
        devices=tuple(devices),
    )


def assign_customers(
    params: Params,
    customers: Customers,
    day: np.ndarray,
    country: np.ndarray,
    guest: np.ndarray,
    min_tenure: np.ndarray,
) -> np.ndarray:
    """Customer index per order (-1 = guest checkout) among those signed up and not churned that day."""
    rng = stream(params.seed, "assign-customers")
    out = np.full(len(day), -1, dtype=np.int64)
    guest = guest | (rng.random(len(day)) < GUEST_SHARE)
    by_country = {c: np.flatnonzero(customers.country == c) for c in np.unique(country)}
    key = day.astype(np.int64) * 64 + country
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1], True])
    for lo, hi in itertools.pairwise(bounds):
        idx = order[lo:hi]
        d, c = int(day[idx[0]]), int(country[idx[0]])
        pool = by_country[c]
        signup = customers.signup_day[pool]
        alive = (signup <= d) & (d < customers.churn_day[pool])
        w = customers.intensity[pool] * (1 + 2 * (d - signup < NEW_CUSTOMER_BOOST_DAYS)) * alive
        for tenure in np.unique(min_tenure[idx]):
            sel = idx[(min_tenure[idx] == tenure) & ~guest[idx]]
            wt = w * (d - signup >= tenure)
            if len(sel) == 0 or wt.sum() == 0:
                continue
            out[sel] = pool[rng.choice(len(pool), size=len(sel), p=wt / wt.sum())]
    return out
