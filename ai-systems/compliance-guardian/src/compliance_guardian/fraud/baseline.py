"""A rules baseline of the kind a shop runs before it has a model: points per red flag."""

from __future__ import annotations

import numpy as np
import pandas as pd

RULES = {
    "card_country_ne_billing": 1.0,
    "ip_country_ne_billing": 1.0,
    "shipping_ne_billing": 1.0,
    "is_night": 0.5,
    "is_guest": 0.5,
    "first_use_of_card_for_customer": 0.5,
}


def rules_score(features: pd.DataFrame) -> np.ndarray:
    """Red-flag points; card-testing bursts (3+ small payments from a device within an hour) add 2."""
    score = np.zeros(len(features))
    for name, weight in RULES.items():
        score += weight * features[name].to_numpy()
    score += 2.0 * (features["n_small_device_1h"].to_numpy() >= 3)
    score += 1.0 * ((features["account_age_days"].to_numpy() >= 0) & (features["account_age_days"].to_numpy() < 2))
    return score
