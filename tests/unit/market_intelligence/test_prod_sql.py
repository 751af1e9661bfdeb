"""The aggregates DuckDB computes over prod (market_intelligence.prod_sql) against independent pandas sums: the
real Superstore export's weekly revenue per region x segment (with every roll-up), and the weekly SKU panel of
generated daily sales; both equal the pandas path of the same module (dimensions / elasticity)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from market_intelligence import dimensions, elasticity, prod_sql, synthetic
from market_intelligence.exceptions import InputError

from retail_platform.storage import MemoryBlobStore, codec

SUPERSTORE = Path(__file__).resolve().parents[2] / "data" / "superstore-tableau" / "superstore_orders_sample.csv"
DIMS = ("region", "segment")


def write_monthly(store: MemoryBlobStore, name: str, frame: pd.DataFrame) -> None:
    months = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m").to_numpy()
    for month, part in frame.groupby(months):
        codec.write_parquet(store, f"{name}/month={month}/part-0.parquet", part)


@pytest.fixture(scope="module")
def superstore_mart() -> pd.DataFrame:
    """Daily revenue per region x segment as copilot_mart carries it, from the raw export (dollar strings)."""
    raw = pd.read_csv(SUPERSTORE, encoding="utf-8-sig")
    sales = pd.to_numeric(raw["Sales"].str.replace(r"[$,]", "", regex=True))
    mart = pd.DataFrame(
        {
            "date": pd.to_datetime(raw["Order Date"], format="%m/%d/%Y"),
            "sku": raw["Product Name"],
            "region": raw["Region"],
            "segment": raw["Segment"],
            "revenue_reporting": sales,
        }
    )
    mart.loc[mart.index[:3], "segment"] = ["", None, "  "]  # blank and missing values count as "unknown"
    return mart.groupby(["date", "sku", "region", "segment"], dropna=False, as_index=False)["revenue_reporting"].sum()


def independent_weekly(mart: pd.DataFrame) -> pd.DataFrame:
    """Weekly sums per market, each roll-up level by its own groupby (the test's own arithmetic)."""
    frame = mart.assign(
        date=mart["date"] - pd.to_timedelta(mart["date"].dt.weekday, unit="D"),
        segment=mart["segment"].fillna("").str.strip().replace("", "unknown"),
    )
    levels = []
    for k in range(3):
        for rolled in combinations(DIMS, k):
            level = frame.assign(**dict.fromkeys(rolled, "ALL"))
            levels.append(level.groupby(["date", *DIMS], as_index=False)["revenue_reporting"].sum())
    return pd.concat(levels).sort_values(["date", *DIMS], ignore_index=True)


def test_weekly_markets_of_the_real_superstore_export_match_pandas(superstore_mart):
    prod = MemoryBlobStore("prod")
    write_monthly(prod, "copilot_mart", superstore_mart)
    got = prod_sql.weekly_markets(prod, DIMS)
    expected = independent_weekly(superstore_mart)
    assert len(got) == len(expected) and got["region"].eq("ALL").any() and got["segment"].eq("unknown").any()
    pd.testing.assert_frame_equal(got[["date", *DIMS]], expected[["date", *DIMS]], check_dtype=False)
    np.testing.assert_allclose(got["revenue_reporting"], expected["revenue_reporting"], rtol=1e-9)
    pandas_path = dimensions.weekly_markets(superstore_mart, DIMS).sort_values(["date", *DIMS], ignore_index=True)
    np.testing.assert_allclose(got["revenue_reporting"], pandas_path["revenue_reporting"], rtol=1e-9)


def test_a_week_with_an_unconverted_amount_stays_unknown():
    rows = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-03-04", "2024-03-05", "2024-03-12"]),
            "region": ["West", "West", "West"],
            "revenue_reporting": [10.0, None, 5.0],
        }
    )
    prod = MemoryBlobStore("prod")
    write_monthly(prod, "copilot_mart", rows)
    got = prod_sql.weekly_markets(prod, ("region",)).set_index(["date", "region"])["revenue_reporting"]
    assert np.isnan(got[(pd.Timestamp("2024-03-04"), "West")]) and got[(pd.Timestamp("2024-03-11"), "ALL")] == 5.0


def test_an_unknown_dimension_lists_the_string_columns(superstore_mart):
    prod = MemoryBlobStore("prod")
    write_monthly(prod, "copilot_mart", superstore_mart)
    with pytest.raises(InputError, match=r"no column\(s\) \[.channel.\].*string columns are: region, segment$"):
        prod_sql.weekly_markets(prod, ("channel",))


def test_no_copilot_mart_is_an_empty_frame():
    assert prod_sql.weekly_markets(MemoryBlobStore("prod"), DIMS).empty
    assert prod_sql.weekly_sku_panel(MemoryBlobStore("prod")) is None


def test_weekly_sku_panel_matches_pandas():
    sales, mapping = synthetic.daily_sales(n_days=60, elasticities={"apparel": -1.8, "home": -0.6})
    mart = mapping.assign(date=sales["date"].min(), country="DE")
    prod = MemoryBlobStore("prod")
    write_monthly(prod, "daily_sales", sales)
    write_monthly(prod, "copilot_mart", mart)
    got = prod_sql.weekly_sku_panel(prod)
    keys = ["sku", "country", "week"]
    pandas_path = elasticity.weekly_sku_panel(sales, mapping).sort_values(keys, ignore_index=True)
    got = got.sort_values(keys, ignore_index=True)[list(pandas_path.columns)]
    pd.testing.assert_frame_equal(got, pandas_path, check_dtype=False)
    # and one SKU-week by hand
    first = sales.assign(date=pd.to_datetime(sales["date"]))
    row = got.iloc[0]
    days = first[(first["sku"] == row["sku"]) & (first["country"] == row["country"])]
    days = days[(days["date"] >= row["week"]) & (days["date"] < row["week"] + pd.Timedelta(days=7))]
    assert row["units"] == days["units"].sum() and row["price"] == pytest.approx(days["price"].mean())
