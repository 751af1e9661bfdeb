"""Shared fixtures: payments shaped like prod payment_transactions, from the seeded sample generator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from retail_platform.sampledata import SMALL_PROFILE, generate

PROD_NAMES = {
    "id": "payment_id",
    "created": "payment_ts",
    "customer_ref": "customer_id",
    "order_ref": "order_id",
    "payment_method": "method",
    "bin_country": "card_country",
    "account_created": "account_created_ts",
}


def prod_like_payments(root: Path) -> pd.DataFrame:
    """The generator's raw payment exports mapped onto prod payment_transactions columns (BIN + last four only)."""
    raw = pd.concat(pd.read_parquet(p) for p in sorted((root / "sample" / "payments").glob("*.parquet")))
    out = raw.rename(columns=PROD_NAMES)
    out["card_bin"] = out["card_number"].str[:6]
    out["card_last4"] = out["card_number"].str[-4:]
    return out.drop(columns=["card_number"]).reset_index(drop=True)


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cg-sample")
    generate(root, seed=7, **SMALL_PROFILE)
    return root


@pytest.fixture(scope="session")
def payments(sample_root) -> pd.DataFrame:
    return prod_like_payments(sample_root)


@pytest.fixture(scope="session")
def trained(payments):
    from compliance_guardian.fraud.model import train

    return train(payments)
