"""Quality flags act downstream: the generated --small sample through the real raw-to-curated and
curated-to-prod handlers (moto's S3 endpoint); none of the typos the generator injected (its manifest)
reaches a grouping key of any prod dataset, and the misspelt categories are repaired, not dropped."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from marts import PROD_DATASETS
from retail_platform import s3io
from retail_platform.local.run import run_pipeline, upload_tree
from retail_platform.sampledata import SMALL_PROFILE, generate
from retail_platform.sampledata.defects import CATEGORY_TYPOS

RAW, CURATED, PROD = "local-raw", "local-curated", "local-prod"
TYPO_KINDS = ("category_typo", "invalid_country", "invalid_currency")


@pytest.fixture
def sample(tmp_path):
    root = tmp_path / "raw"
    generate(root, seed=7, **SMALL_PROFILE)
    records = [json.loads(line) for line in (root / "_manifest" / "defects.jsonl").read_text().splitlines()]
    return root, [r for r in records if r["kind"] in TYPO_KINDS]


def string_values(frame: pd.DataFrame) -> set[str]:
    """Every value of the frame's string columns (the grouping keys: category, country, channel, ...)."""
    columns = [c for c in frame.columns if frame[c].dtype == object and c != "description"]
    return {v for c in columns for v in frame[c].dropna().unique() if isinstance(v, str)}


def test_no_injected_typo_reaches_a_grouping_key_of_any_prod_dataset(s3, sample):
    root, typos = sample
    category_typos = {r["value"]: r["original"] for r in typos if r["kind"] == "category_typo"}
    assert category_typos and set(category_typos.items()) <= {(v, k) for k, v in CATEGORY_TYPOS.items()}

    run_pipeline(s3, RAW, upload_tree(s3, RAW, root), progress=lambda _: None)

    for name in PROD_DATASETS:
        prod = s3io.read_parquet_prefix(s3, PROD, f"{name}/")
        assert not prod.empty, name
        leaked = string_values(prod) & {r["value"] for r in typos}
        assert not leaked, f"{name}: {sorted(leaked)}"
    market = s3io.read_parquet_prefix(s3, PROD, "market_series/")
    assert set(market["category"]) - {"ALL", "uncategorised"} <= set(CATEGORY_TYPOS)

    # the misspelt products were repaired (recorded in _repairs), not quarantined
    products = s3io.read_parquet_prefix(s3, CURATED, "products/")
    repaired = products.loc[products["_repairs"].fillna("").str.contains("(typo)", regex=False)]
    assert set(zip(repaired["category"], repaired["_repairs"], strict=True)) == {
        (original, f"category: {typo!r} -> {original!r} (typo)") for typo, original in category_typos.items()
    }
