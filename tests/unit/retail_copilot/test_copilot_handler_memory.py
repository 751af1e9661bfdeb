"""retail-copilot's handler end to end on MemoryBlobStores (no S3 endpoint): monthly prod partitions, a
ProdDatasetUpdated event with month labels (and one with the older day labels), the snapshot it saves, and
questions answered from that snapshot through DuckDB, checked against pandas on the same frames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from retail_copilot.sessions import MemorySessionStore
from retail_copilot.store import CopilotData, recent

from retail_platform.local.run import LocalContext
from retail_platform.sql import SqlEngine
from retail_platform.storage import MemoryBlobStore, codec
from tests.support import LOCAL_BUCKETS, event, handler
from tests.unit.prod_on_memory import write_partitioned
from tests.unit.retail_copilot.synthetic import make_frames

COPILOT = "retail-copilot"


@pytest.fixture
def served(monkeypatch, tmp_path: Path):
    for name, bucket in LOCAL_BUCKETS.items():
        monkeypatch.setenv(name, bucket)
    mart, kpis = make_frames(seed=11, days=120)
    prod, artifacts = MemoryBlobStore("prod"), MemoryBlobStore("artifacts")
    months = write_partitioned(prod, "copilot_mart", mart, "month")
    write_partitioned(prod, "country_kpis", kpis, "month")
    fn = handler(COPILOT)
    data = CopilotData(prod, MemoryBlobStore("curated"), artifacts, lambda: SqlEngine(tmp_path / "sql"))
    monkeypatch.setattr(fn.SERVICE, "_data", data)
    monkeypatch.setattr(fn.SERVICE, "_sessions", MemorySessionStore())
    monkeypatch.setattr(fn.SERVICE, "_copilot", None)
    return fn, data, mart, months


def ask(fn, question: str) -> dict:
    request = event(COPILOT, "http-post-copilot-ask") | {"body": json.dumps({"question": question})}
    response = fn.lambda_handler(request, LocalContext("unit"))
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


@pytest.mark.parametrize("labels", ["month", "day"])
def test_an_update_event_with_month_or_day_labels_rebuilds_and_serves(served, labels):
    fn, data, mart, months = served
    update = event(COPILOT, "eventbridge-prod-dataset-updated-copilot-mart")
    update["detail"]["partitions"] = months[-2:] if labels == "month" else ["2024-06-29", "2024-06-30"]
    outcome = fn.lambda_handler(update, LocalContext("unit"))
    assert outcome["status"] == "rebuilt" and outcome["self_check"]["mismatches"] == 0, outcome
    pointer = data.snapshots.pointer()
    metadata = data.snapshots.read_json(pointer["version"], "metadata.json")
    assert metadata["engine"] == "duckdb" and metadata["inputs"]["copilot_mart"]["partitions"] == len(months) == 4
    assert metadata["inputs"]["copilot_mart"]["latest_partition"] == "2024-06"
    assert metadata["inputs"]["copilot_mart"]["rows"] == len(mart)
    assert codec.read_parquet(data.prod, outcome["digest_key"])["country"].eq("ALL").any()

    answer = ask(fn, "Revenue in Germany in May 2024")
    may = mart.loc[(mart["country"] == "DE") & mart["date"].between("2024-05-01", "2024-05-31")]
    assert answer["status"] == "answered" and answer["model_version"] == pointer["version"]
    assert answer["value"] == pytest.approx(round(may["revenue_reporting"].sum(), 2))
    by_month = ask(fn, "Units by month")["details"]["groups"]
    golden = mart.groupby(mart["date"].dt.strftime("%Y-%m"))["units"].sum()
    assert by_month == {k: float(v) for k, v in golden.items()}


def test_an_empty_prod_is_skipped_not_a_crash(served, monkeypatch, tmp_path):
    fn, _, _, _ = served
    empty = CopilotData(MemoryBlobStore(), MemoryBlobStore(), MemoryBlobStore(), lambda: SqlEngine(tmp_path / "e"))
    monkeypatch.setattr(fn.SERVICE, "_data", empty)
    outcome = fn.lambda_handler(event(COPILOT, "eventbridge-prod-dataset-updated-copilot-mart"), LocalContext("u"))
    assert outcome == {"status": "skipped", "reason": "prod copilot_mart is empty"}


def test_recent_partitions_are_chosen_by_days_whatever_the_grain():
    assert recent(["2024-04", "2024-05", "2024-06"], 35) == ["2024-05", "2024-06"]
    assert recent(["2024-06-01", "2024-06-20", "2024-06-30"], 20) == ["2024-06-20", "2024-06-30"]
    assert recent(["2024-05-30", "2024-06"], 7) == ["2024-06"]
    assert recent([], 35) == []


def test_a_question_before_any_sales_data_is_refused_with_the_reason_not_a_500(monkeypatch, tmp_path: Path):
    for name, bucket in LOCAL_BUCKETS.items():
        monkeypatch.setenv(name, bucket)
    fn = handler(COPILOT)
    empty = CopilotData(
        MemoryBlobStore("prod"), MemoryBlobStore("curated"), MemoryBlobStore("artifacts"), lambda: SqlEngine(tmp_path)
    )
    monkeypatch.setattr(fn.SERVICE, "_data", empty)
    monkeypatch.setattr(fn.SERVICE, "_sessions", MemorySessionStore())
    monkeypatch.setattr(fn.SERVICE, "_copilot", None)
    answer = ask(fn, "What was revenue last month?")
    assert answer["status"] == "refused" and "no sales data yet" in answer["answer"]
