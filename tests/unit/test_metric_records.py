"""Per-dataset and per-model metrics: one EMF record each, with the dimensions CloudWatch will index."""

from __future__ import annotations

import json

import pytest

from retail_platform.observability import metrics, record, record_model_scores
from retail_platform.settings import get_observability_settings


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


def emf_records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def test_a_record_carries_its_own_dimensions(capsys):
    record("RowsQuarantined", 7, dataset="orders")
    (emf,) = emf_records(capsys.readouterr().out)
    directive = emf["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == metrics.namespace
    assert sorted(directive["Dimensions"][0]) == ["dataset", "service"]
    assert [(m["Name"], m["Unit"]) for m in directive["Metrics"]] == [("RowsQuarantined", "Count")]
    service = get_observability_settings().service
    assert (emf["RowsQuarantined"], emf["dataset"], emf["service"]) == ([7.0], "orders", service)


def test_model_scores_are_flattened_numbers_with_the_version_as_metadata(capsys):
    scores = {"pr_auc": 0.93, "holdout": {"recall": 1.0, "note": "x"}, "ok": True, "missing": float("nan")}
    assert record_model_scores("fraud", "v7", scores) == 2
    records = emf_records(capsys.readouterr().out)
    got = {(r["model"], r["score"]): r["ModelScore"] for r in records}  # EMF values are lists
    assert got == {("fraud", "pr_auc"): [0.93], ("fraud", "holdout.recall"): [1.0]}
    assert {r["model_version"] for r in records} == {"v7"}
    assert record_model_scores("fraud", None, None) == 0
