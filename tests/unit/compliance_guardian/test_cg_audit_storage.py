"""compliance-guardian's batch paths on an in-memory store: the vectorised card-data audit finds exactly what a
cell-by-cell scan finds, day and month partitions are read and their findings written at their own grain, and a
payments event of a month scores every day with payments of that month."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from compliance_guardian import audit, batch, jobs
from compliance_guardian.config import GuardianSettings
from compliance_guardian.store import Buckets
from retail_platform.pii import sensitive
from retail_platform.storage import MemoryBlobStore, PartitionedDataset, read_parquet
from tests.support import DATA
from tests.unit.test_pan_brand_matrix import MATRIX, SEPARATORS, WITH_CONTEXT, WITHOUT_CONTEXT, written

PCI = DATA / "pci"
LEAK = "my card 4111 1111 1111 1111 exp 01/27"


def texts() -> list[str]:
    """Every brand-matrix sentence, the PCI hard negatives, lookalikes and Presidio cases, and plain notes."""
    out = [
        template.format(n=written(digits, sep))
        for _, digits in MATRIX
        for sep in SEPARATORS
        for template in WITH_CONTEXT + WITHOUT_CONTEXT
    ]
    for name in ("hard_negatives", "lookalikes", "presidio_unit_cases"):
        out += [json.loads(line)["text"] for line in (PCI / f"{name}.jsonl").open(encoding="utf-8")]
    out += ["leave at door", "cvv 123", "exp 04/27 order 1234 5678", "", "ref 2024-01-31 10:22:31 qty 12"]
    return out


def cell_by_cell(frame: pd.DataFrame) -> set[tuple]:
    """The audit's answer computed the slow, obvious way: every text or integer cell with 12+ digits scanned."""
    found = set()
    for column in frame.columns:
        for row, value in enumerate(frame[column]):
            if isinstance(value, int | np.integer) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or sum(ch.isdigit() for ch in value) < 12:
                continue
            for f in sensitive.find_card_data(value):
                found.add((column, row, f.kind, f.start, f.end, f.brand))
    return found


def as_set(found: pd.DataFrame) -> set[tuple]:
    return {(r.column, int(r.row), r.kind, int(r.start), int(r.end), r.brand) for r in found.itertuples(index=False)}


def test_the_vectorised_audit_finds_what_a_cell_by_cell_scan_finds():
    notes = texts()
    n = len(notes)
    rng = np.random.default_rng(3)
    pans_as_numbers = [int(d) for _, d in MATRIX if len(d) <= 18]
    numbers = [
        pans_as_numbers[i % len(pans_as_numbers)] if i % 7 == 0 else int(rng.integers(0, 10**9)) for i in range(n)
    ]
    frame = pd.DataFrame(
        {
            "notes": notes,
            "category": pd.Categorical([notes[i] if i % 11 == 0 else "toys" for i in range(n)]),
            "card_as_number": np.array(numbers, dtype="int64"),
            "amount": rng.random(n) * 1e16,  # a float never holds a card number
            "placed": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="s"),
        }
    )
    found = audit.audit_frame(frame, "orders", "2024-01")
    assert as_set(found) == cell_by_cell(frame)
    assert set(found["column"]) == {"notes", "category", "card_as_number"}
    # recall 1.0 on the brand matrix through the audit: every generated number is found where it was written
    matrix_rows = {(int(r.row), int(r.start)) for r in found.itertuples() if r.column == "notes" and r.kind == "pan"}
    i = 0
    for _, digits in MATRIX:
        for sep in SEPARATORS:
            for template in WITH_CONTEXT + WITHOUT_CONTEXT:
                assert (i, template.index("{n}")) in matrix_rows, f"{digits[:6]}… sep={sep!r} {template!r}"
                i += 1


def test_types_that_cannot_hold_card_data_are_skipped_without_looking():
    import pyarrow as pa

    assert audit.candidate_rows(pa.array([4111111111111111.0, 1.5])).size == 0
    assert audit.candidate_rows(pa.array([True, False])).size == 0
    assert audit.candidate_rows(pa.array([4111111111111111, 41111111111, -4111111111111111])).tolist() == [0, 2]
    assert audit.candidate_rows(pa.array(["4111 1111 1111 1111", "order 12345", None, "cvv 123"])).tolist() == [0, 3]


@pytest.fixture
def prod() -> MemoryBlobStore:
    store = MemoryBlobStore("local-prod")
    leaked = pd.DataFrame({"order_id": ["1", "2"], "notes": ["leave at door", LEAK]})
    PartitionedDataset(store, "copilot_mart", grain="month").write("2023-12", leaked)
    PartitionedDataset(store, "copilot_mart").write("2023-11-30", leaked.iloc[::-1].reset_index(drop=True))
    return store


def findings(store: MemoryBlobStore, key: str) -> list[list]:
    frame = read_parquet(store, key)
    return frame[["column", "row", "kind"]].values.tolist()


def test_month_and_day_partitions_are_audited_and_findings_kept_at_their_grain(prod):
    result = batch.audit_partitions(prod, "copilot_mart", ["2023-12"])
    assert result["by_partition"] == {"2023-12": 2}
    month_key = "pci_findings/month=2023-12/part-copilot_mart.parquet"
    assert findings(prod, month_key) == [["notes", 1, "pan"], ["notes", 1, "expiry"]]
    # an old event's day label reads the month object holding it
    assert batch.audit_partitions(prod, "copilot_mart", ["2023-12-31"])["by_partition"] == {"2023-12": 2}
    # a month label finds a day partition inside it; a month without data gets empty findings
    result = batch.audit_partitions(prod, "copilot_mart", ["2023-11", "2024-01"])
    assert result["by_partition"] == {"2023-11-30": 2, "2024-01": 0}
    assert findings(prod, "pci_findings/date=2023-11-30/part-copilot_mart.parquet")[0] == ["notes", 0, "pan"]
    assert findings(prod, "pci_findings/month=2024-01/part-copilot_mart.parquet") == []


def test_a_reaudited_month_replaces_its_day_findings_of_that_dataset_only(prod):
    old = PartitionedDataset(prod, "pci_findings")
    old.write("2023-12-05", audit.empty_findings(), part="part-copilot_mart.parquet")
    old.write("2023-12-05", audit.empty_findings(), part="part-orders.parquet")
    batch.audit_partitions(prod, "copilot_mart", ["2023-12"])
    keys = sorted(prod.list("pci_findings/"))
    assert "pci_findings/date=2023-12-05/part-copilot_mart.parquet" not in keys
    assert "pci_findings/date=2023-12-05/part-orders.parquet" in keys
    assert "pci_findings/month=2023-12/part-copilot_mart.parquet" in keys


def test_curated_audit_reads_month_partitions_within_the_window():
    buckets = Buckets(MemoryBlobStore("p"), MemoryBlobStore("c"), MemoryBlobStore("a"))
    leaked = pd.DataFrame({"notes": [LEAK]})
    buckets.curated.put("orders/month=2023-12/part-abc-0.parquet", _parquet(leaked))
    buckets.curated.put("orders/month=2023-10/part-abc-0.parquet", _parquet(leaked))  # older than the window
    buckets.curated.put("_reports/orders/x.parquet", _parquet(leaked))
    result = batch.audit_curated(buckets, SimpleNamespace(), GuardianSettings.from_env({}))
    assert result == {"curated_datasets": 1, "findings": 2, "by_dataset": {"orders": 2}}


def _parquet(frame: pd.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def test_a_month_event_of_payments_scores_every_day_with_payments(payments):
    buckets = Buckets(MemoryBlobStore("local-prod"), MemoryBlobStore("c"), MemoryBlobStore("local-artifacts"))
    month = payments["payment_ts"].dt.strftime("%Y-%m")
    PartitionedDataset(buckets.prod, batch.PAYMENTS, grain="month").write_many(
        {m: part.reset_index(drop=True) for m, part in payments.groupby(month)}
    )
    last = month.max()
    settings = SimpleNamespace(event_bus_name="bus", prod_bucket="local-prod")
    cfg = GuardianSettings.from_env({})
    result = jobs.on_dataset_updated(buckets, None, settings, cfg, batch.PAYMENTS, [last])
    fraud = result["fraud"]
    assert fraud["status"] == "scored" and fraud["model"]["trained"] is True
    days = payments.loc[month == last, "payment_ts"].dt.strftime("%Y-%m-%d")
    assert sorted(fraud["days"]) == sorted(set(days))
    assert {d: v["scored"] for d, v in fraud["days"].items()} == days.value_counts().to_dict()
    alerts = PartitionedDataset(buckets.prod, batch.ALERTS)
    assert alerts.partitions() == sorted(set(days))  # alerts stay one object per day
    assert len(alerts.read()) == sum(v["alerts"] for v in fraud["days"].values())
    # the newest day is the data's, not the month's end: a second event does not retrain
    again = jobs.on_dataset_updated(buckets, None, settings, cfg, batch.PAYMENTS, [days.max()])
    assert (again["fraud"]["model"]["trained"], again["fraud"]["model"]["reason"]) == (False, "current")
    assert list(again["fraud"]["days"]) == [days.max()]
    newest = datetime.fromisoformat(days.max()).date()
    assert batch.newest_payment_day(buckets.prod, [last]) == newest
    assert batch.newest_payment_day(buckets.prod, [(newest + timedelta(days=40)).isoformat()]) is None


@pytest.mark.parametrize("label", ["2024-13", "2023-02-29", "yesterday", "20240305", ""])
def test_an_event_naming_something_else_than_a_day_or_month_is_refused(prod, label):
    from retail_platform.exceptions import BadEventError

    buckets = Buckets(prod, MemoryBlobStore("c"), MemoryBlobStore("a"))
    settings = SimpleNamespace(event_bus_name="bus", prod_bucket="local-prod")
    with pytest.raises(BadEventError, match="not a partition label"):
        batch.run_prod_update(buckets, settings, GuardianSettings.from_env({}), "copilot_mart", ["2023-12", label])
    assert not list(prod.list("pci_findings/"))  # refused before anything was written
