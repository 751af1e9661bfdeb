"""Which orders are fraudulent, and how: the labels that payment fraud models learn from."""

from __future__ import annotations

import numpy as np

from .params import Params, stream

NONE, ATO, STOLEN_CARD, CARD_TESTING = 0, 1, 2, 3
PATTERN_NAMES = {ATO: "account_takeover", STOLEN_CARD: "stolen_card", CARD_TESTING: "card_testing"}

ATO_SHARE = 0.004  # of orders: established account, new device, foreign IP, high amount, ships elsewhere
STOLEN_CARD_SHARE = 0.005  # of orders: guest, card from a third country, IP from a fourth, at night, high amount
CARD_TESTING_SHARE = 0.006  # attempts per order: bursts of tiny authorisations on fresh cards from one device/IP
HIGH_AMOUNT_QUANTILE = 0.75


def plan_order_fraud(params: Params, amount_eur: np.ndarray) -> np.ndarray:
    """Fraud kind per order; fraudsters go for the expensive baskets (top quartile, weighted by amount)."""
    rng = stream(params.seed, "fraud-plan")
    n = len(amount_eur)
    kinds = np.zeros(n, dtype=np.int64)
    if n == 0:
        return kinds
    cand = np.flatnonzero(amount_eur >= np.quantile(amount_eur, HIGH_AMOUNT_QUANTILE))
    k_ato = max(1, round(n * ATO_SHARE))
    k_stolen = max(1, round(n * STOLEN_CARD_SHARE))
    w = amount_eur[cand] / amount_eur[cand].sum()
    pick = rng.choice(cand, size=min(k_ato + k_stolen, len(cand)), replace=False, p=w)
    kinds[pick[:k_ato]] = ATO
    kinds[pick[k_ato:]] = STOLEN_CARD
    return kinds
