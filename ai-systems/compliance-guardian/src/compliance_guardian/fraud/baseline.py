"""A rules baseline of the kind a shop runs before it has a model: points per red flag.

The points (features.RULE_POINTS) and their computation (features.rule_signals) are the ones the model also
gets as features, so the baseline and the model's rule signals cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compliance_guardian.fraud.features import rule_signals


def rules_score(features: pd.DataFrame) -> np.ndarray:
    """Red-flag points; card-testing bursts (3+ small payments from a device within an hour) add 2, an account
    younger than 2 days adds 1."""
    return rule_signals(features)["rules_score"]
