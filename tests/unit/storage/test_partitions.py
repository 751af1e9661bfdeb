"""PartitionedDataset on the in-memory store, at the day grain (today's layout) and the month grain."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from retail_platform.storage import (
    DEFAULT_GRAIN,
    MemoryBlobStore,
    ObjectNotFoundError,
    PartitionedDataset,
    month_of,
    months_of,
    overlaps,
    period_of,
)


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


# ---------------------------------------------------------------- grain-agnostic reading


def _mixed_store() -> MemoryBlobStore:
    """A dataset in transition: March still in day partitions, April and May already monthly."""
    store = MemoryBlobStore()
    daily = PartitionedDataset(store, "sales")
    monthly = PartitionedDataset(store, "sales", grain="month")
    daily.write("2024-03-30", _frame("2024-03-30", 1))
    daily.write("2024-03-31", _frame("2024-03-31", 2))
    monthly.write("2024-04", pd.DataFrame({"date": ["2024-04-01", "2024-04-15"], "units": [3, 4]}))
    monthly.write("2024-05-02", _frame("2024-05-02", 5))
    return store


def test_labels_and_their_months():
    assert month_of("2024-02-29") == "2024-02"
    assert month_of(date(2024, 12, 31)) == "2024-12"
    assert month_of("2024-07") == "2024-07"
    assert month_of("2024-07-04T10:30:00") == "2024-07"
    assert months_of(["2024-03-31", "2024-03-01", "2024-04-01", "2024-04"]) == ["2024-03", "2024-04"]
    assert overlaps("2024-02", "2024-02-29") and overlaps("2024-02-01", "2024-02")
    assert not overlaps("2024-02", "2024-03-01") and not overlaps("2024-02-28", "2024-02-29")
    assert period_of("sales/month=2024-04/part-0.parquet") == "2024-04"
    assert period_of("sales/date=2024-04-01/part-x-0.parquet") == "2024-04-01"
    assert period_of("sales/part-0.parquet") is None
    with pytest.raises(ValueError, match="2024/04"):
        month_of("2024/04")
    with pytest.raises(ValueError, match="'2024-13'"):
        month_of("2024-13")
    with pytest.raises(ValueError, match="'2023-02-29'"):
        month_of("2023-02-29")


def test_listing_recognises_day_and_month_partitions_whatever_the_grain():
    store = _mixed_store()
    for grain in ("day", "month"):
        dataset = PartitionedDataset(store, "sales", grain=grain)
        assert dataset.partitions() == ["2024-03-30", "2024-03-31", "2024-04", "2024-05"]
        assert dataset.latest() == "2024-05"
        assert dataset.read()["units"].tolist() == [1, 2, 3, 4, 5]


def test_read_selects_every_partition_overlapping_day_or_month_labels():
    dataset = PartitionedDataset(_mixed_store(), "sales")
    assert dataset.read(["2024-03"])["units"].tolist() == [1, 2]  # a month reads its day partitions
    assert dataset.read(["2024-03-31"])["units"].tolist() == [2]
    assert dataset.read(["2024-04-15"])["units"].tolist() == [3, 4]  # a day inside a month object reads it whole
    assert dataset.read(["2024-03-31", "2024-05"])["units"].tolist() == [2, 5]
    assert dataset.read([date(2024, 4, 2), "2024-04-03"])["units"].tolist() == [3, 4]  # each object once
    assert dataset.read(["2024-06", "2024-03-29"]).empty
    assert dataset.keys(["2024-04-30"]) == ["sales/month=2024-04/part-0.parquet"]
    assert dataset.read_partition("2024-03")["units"].tolist() == [1, 2]
    with pytest.raises(ObjectNotFoundError, match="2024-06"):
        dataset.read_partition("2024-06")


def test_read_latest_reads_the_newest_label_of_either_grain():
    store = _mixed_store()
    label, frame = PartitionedDataset(store, "sales").read_latest()
    assert label == "2024-05" and frame["units"].tolist() == [5]
    store.put("sales/month=2024-05/part-0.parquet", b"torn write")
    label, frame = PartitionedDataset(store, "sales").read_latest()
    assert label == "2024-04" and frame["units"].tolist() == [3, 4]


def test_a_day_grain_dataset_cannot_write_a_month():
    with pytest.raises(ValueError, match="month '2024-03'"):
        PartitionedDataset(MemoryBlobStore(), "kpis").key("2024-03")
    with pytest.raises(ValueError, match="not a partition label"):
        PartitionedDataset(MemoryBlobStore(), "kpis").key("March")


def test_replacing_a_month_compacts_it_to_one_object():
    store = _mixed_store()
    store.put("sales/month=2024-04/part-extra.parquet", store.get("sales/month=2024-04/part-0.parquet"))
    monthly = PartitionedDataset(store, "sales", grain="month")
    rebuilt = {"2024-03": _frame("2024-03-31", 12), "2024-04-10": _frame("2024-04-10", 34)}
    assert monthly.write_many(rebuilt, replace=True) == ["2024-03", "2024-04"]
    assert sorted(store.objects) == [
        "sales/month=2024-03/part-0.parquet",
        "sales/month=2024-04/part-0.parquet",
        "sales/month=2024-05/part-0.parquet",
    ]
    assert monthly.read()["units"].tolist() == [12, 34, 5]
    monthly.write_many(rebuilt, replace=True)  # a re-run writes the same objects
    assert len(store.objects) == 3 and monthly.read()["units"].tolist() == [12, 34, 5]
    assert monthly.replace("2024-05-31", _frame("2024-05-31", 6)) == "sales/month=2024-05/part-0.parquet"
    assert monthly.read(["2024-05"])["units"].tolist() == [6]


def test_two_days_of_one_month_are_refused_in_one_write():
    monthly = PartitionedDataset(MemoryBlobStore(), "sales", grain="month")
    with pytest.raises(ValueError, match="same month partition"):
        monthly.write_many({"2024-03-01": _frame("2024-03-01", 1), "2024-03-02": _frame("2024-03-02", 2)})


def test_delete_removes_what_lies_inside_the_labels_only():
    store = _mixed_store()
    dataset = PartitionedDataset(store, "sales", grain="month")
    assert dataset.delete(["2024-04-15", "2024-03"]) == ["2024-03", "2024-04-15"]
    assert dataset.partitions() == ["2024-04", "2024-05"]  # the day did not remove April's month object
    dataset.delete(["2024-04"])
    assert dataset.partitions() == ["2024-05"]
