"""PartitionedDataset on the in-memory store, at the day grain (today's layout) and the month grain."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from retail_platform.storage import DEFAULT_GRAIN, MemoryBlobStore, PartitionedDataset


def _frame(day: str, units: int) -> pd.DataFrame:
    return pd.DataFrame({"date": [day], "units": [units]})


def test_default_grain_is_day_with_todays_key_layout():
    dataset = PartitionedDataset(MemoryBlobStore(), "demand_forecasts/")
    assert DEFAULT_GRAIN == dataset.grain == "day"
    assert dataset.key("2024-03-05") == "demand_forecasts/date=2024-03-05/part-0.parquet"
    assert dataset.key(date(2024, 3, 5)) == "demand_forecasts/date=2024-03-05/part-0.parquet"


def test_month_grain_maps_days_to_their_month():
    dataset = PartitionedDataset(MemoryBlobStore(), "sales", grain="month")
    assert dataset.period("2024-03-05") == "2024-03"
    assert dataset.key(date(2024, 3, 31)) == "sales/month=2024-03/part-0.parquet"
    assert dataset.key("2024-03") == "sales/month=2024-03/part-0.parquet"
    dataset.write("2024-03-05", _frame("2024-03-05", 1))
    dataset.write("2024-03-20", _frame("2024-03-20", 2))  # same month: replaces the partition
    dataset.write("2024-04-01", _frame("2024-04-01", 3))
    assert dataset.partitions() == ["2024-03", "2024-04"]
    assert dataset.read(["2024-03"])["units"].tolist() == [2]
    assert dataset.read_latest()[0] == "2024-04"


def test_unknown_grain_is_refused():
    with pytest.raises(ValueError, match="week"):
        PartitionedDataset(MemoryBlobStore(), "x", grain="week")  # type: ignore[arg-type]


def test_write_read_list_delete_days():
    store = MemoryBlobStore()
    dataset = PartitionedDataset(store, "kpis")
    other = PartitionedDataset(store, "kpis_extra")  # a sibling prefix is not part of the dataset
    other.write("2024-01-01", _frame("2024-01-01", 99))
    assert dataset.write_many({"2024-01-02": _frame("2024-01-02", 2), "2024-01-01": _frame("2024-01-01", 1)}) == [
        "2024-01-01",
        "2024-01-02",
    ]
    dataset.write("2024-01-03", pd.DataFrame({"date": [], "units": []}))  # empty parts are skipped on read
    assert dataset.partitions() == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert dataset.latest() == "2024-01-03"
    assert dataset.read()["units"].tolist() == [1, 2]
    assert dataset.read(["2024-01-02"], columns=["units"]).to_dict("list") == {"units": [2]}
    assert dataset.delete(["2024-01-02", date(2024, 1, 1)]) == ["2024-01-01", "2024-01-02"]
    assert dataset.partitions() == ["2024-01-03"]
    assert PartitionedDataset(store, "empty").read().empty


def test_read_latest_falls_back_past_a_corrupt_partition():
    store = MemoryBlobStore()
    dataset = PartitionedDataset(store, "fc")
    dataset.write("2024-01-01", _frame("2024-01-01", 1))
    store.put(dataset.key("2024-01-02"), b"not parquet")
    day, frame = dataset.read_latest()
    assert day == "2024-01-01" and frame["units"].tolist() == [1]
    assert PartitionedDataset(store, "none").read_latest() is None


def test_listing_groups_keys_outside_partitions_under_none():
    store = MemoryBlobStore()
    store.put("orders/date=2024-01-01/a.parquet", b"")
    store.put("orders/date=2024-01-01/b.parquet", b"")
    store.put("orders/legacy.parquet", b"")
    store.put("orders/_manifest.json", b"")
    assert PartitionedDataset(store, "orders").listing() == {
        "2024-01-01": ["orders/date=2024-01-01/a.parquet", "orders/date=2024-01-01/b.parquet"],
        None: ["orders/legacy.parquet"],
    }


def test_listing_takes_several_suffixes():
    store = MemoryBlobStore()
    store.put("alerts/date=2024-01-01/part-0.parquet", b"")
    store.put("alerts/date=2024-01-02/alerts.json", b"[]")
    assert PartitionedDataset(store, "alerts").listing((".parquet", ".json")) == {
        "2024-01-01": ["alerts/date=2024-01-01/part-0.parquet"],
        "2024-01-02": ["alerts/date=2024-01-02/alerts.json"],
    }


def test_named_parts_share_a_partition():
    dataset = PartitionedDataset(MemoryBlobStore(), "pci_findings")
    assert dataset.write("2024-01-01", _frame("2024-01-01", 1), part="part-orders.parquet") == (
        "pci_findings/date=2024-01-01/part-orders.parquet"
    )
    dataset.write("2024-01-01", _frame("2024-01-01", 2), part="part-payments.parquet")
    assert dataset.partitions() == ["2024-01-01"]
    assert sorted(dataset.read(["2024-01-01"])["units"]) == [1, 2]
