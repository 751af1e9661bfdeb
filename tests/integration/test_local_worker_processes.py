"""The main job's AI systems on worker processes: dependency order, concurrency, failure isolation, --workers 1.

The handlers here are small fakes (the point is the schedule): each writes what it did, when and in which process to
a log, sleeps a little, and some fail, one by raising, one by killing its own process.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from retail_platform.local import run
from retail_platform.local.console import Stages
from retail_platform.local.functions import FunctionSpec

PROD = {"prod_datasets": {"daily_sales": ["2024-01"], "market_series": ["2024-01"]}}
FAKE = """
import json, os, time

def lambda_handler(event, context):
    dataset = event["detail"]["dataset"]
    line = {{"system": {name!r}, "event": dataset, "pid": os.getpid(), "start": time.time()}}
    if {dies!r} == dataset:
        with open({log!r}, "a") as f:
            f.write(json.dumps(line) + "\\n")
        os._exit(3)
    time.sleep({sleep})
    line["end"] = time.time()
    with open({log!r}, "a") as f:
        f.write(json.dumps(line) + "\\n")
    if {raises!r} == dataset:
        raise ValueError("no " + dataset)
    return {{"status": "done", "event": dataset, "report_html": "<p>" + {name!r} + "</p>"}}
"""
SLEEP = {"market-intelligence-hub": 0.8, "demand-insights-engine": 0.5}


def fakes(tmp_path: Path, log: Path, dies: str | None = None, raises: str | None = None) -> tuple[FunctionSpec, ...]:
    """The five systems' names on fake handlers: compliance raises on `raises`, pulse dies on `dies`."""
    specs = []
    for name in (
        "compliance-guardian",
        "demand-insights-engine",
        "market-intelligence-hub",
        "retail-copilot",
        "global-market-pulse",
    ):
        folder = tmp_path / name
        folder.mkdir()
        source = FAKE.format(
            name=name,
            log=str(log),
            sleep=SLEEP.get(name, 0.1),
            dies=dies if name == "global-market-pulse" else None,
            raises=raises if name == "compliance-guardian" else None,
        )
        (folder / "handler.py").write_text(source)
        specs.append(FunctionSpec(name, "FakeFunction", "AiSystemsStack", folder / "handler.py"))
    return tuple(specs)


def records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_systems_run_concurrently_in_their_own_processes_and_the_copilot_last(tmp_path, monkeypatch):
    log = tmp_path / "calls.jsonl"
    monkeypatch.setattr(run, "AI_SYSTEMS", fakes(tmp_path, log, dies="daily_sales", raises="daily_sales"))
    stages, said = Stages(), []
    results = run.run_ai_systems("local-prod", PROD, said.append, stages, workers=2)
    calls = records(log)
    by_system: dict[str, list[dict]] = {}
    for call in calls:
        by_system.setdefault(call["system"], []).append(call)
    # every system in a process of its own, none in this one; each system's events in order
    pids = {name: {c["pid"] for c in found} for name, found in by_system.items()}
    assert all(len(p) == 1 for p in pids.values()) and len(set.union(*pids.values())) == 5
    assert os.getpid() not in set.union(*pids.values())
    for name, found in by_system.items():
        expected = ["daily_sales"] if name == "global-market-pulse" else ["daily_sales", "market_series"]
        assert [c["event"] for c in sorted(found, key=lambda c: c["start"])] == expected, name
    # the two longest started together; never more than two at once; the copilot after all the others
    spans = {n: (min(c["start"] for c in f), max(c.get("end", c["start"]) for c in f)) for n, f in by_system.items()}
    mi, demand = spans["market-intelligence-hub"], spans["demand-insights-engine"]
    assert mi[0] < demand[1] and demand[0] < mi[1]
    for name, (start, _) in spans.items():
        assert sum(s <= start < e for n, (s, e) in spans.items() if n != name) <= 1, name
    assert spans["retail-copilot"][0] >= max(end for n, (_, end) in spans.items() if n != "retail-copilot")
    # failures stay with their system: compliance raised on one event and handled the next, pulse's worker died
    assert results["compliance-guardian"]["status"] == "failed"
    assert [e["event"] for e in results["compliance-guardian"]["errors"]] == ["daily_sales"]
    assert results["compliance-guardian"]["outputs"] == [{"status": "done", "event": "market_series"}]
    assert results["global-market-pulse"]["status"] == "failed"
    assert results["global-market-pulse"]["errors"][0]["event"] == "worker"
    assert {n: r["status"] for n, r in results.items()} == {
        "compliance-guardian": "failed",
        "demand-insights-engine": "ran",
        "market-intelligence-hub": "ran",
        "retail-copilot": "ran",
        "global-market-pulse": "failed",
    }
    assert run.failed_systems(results) == ["compliance-guardian", "global-market-pulse"]
    # the parent kept the bars and the log lines: each system's events counted, the stage of them all
    assert stages.results["AI systems (all)"].done == 5
    assert stages.results["AI systems (all)"].status == "failed"
    assert stages.results["market-intelligence-hub"].done == 2 and stages.results["retail-copilot"].done == 2
    assert stages.results["market-intelligence-hub"].seconds == results["market-intelligence-hub"]["seconds"]
    assert stages.results["AI systems (all)"].seconds >= max(r["seconds"] for r in results.values())
    assert "market-intelligence-hub: ProdDatasetUpdated daily_sales handled in" in "\n".join(said)
    assert "retail-copilot: ran in" in said[-1]


@pytest.fixture
def fresh_fake_modules(monkeypatch):
    """The in-process run imports the fakes under the real handlers' module names: forget them afterwards."""
    for name in ("compliance_guardian", "demand_insights_engine", "market_intelligence_hub", "retail_copilot"):
        monkeypatch.setitem(sys.modules, f"handler_{name}", None)
        del sys.modules[f"handler_{name}"]
    monkeypatch.setitem(sys.modules, "handler_global_market_pulse", None)
    del sys.modules["handler_global_market_pulse"]


def test_one_worker_and_two_give_the_same_results(tmp_path, monkeypatch, fresh_fake_modules):
    outcomes = []
    for count in (1, 2):
        folder = tmp_path / str(count)
        folder.mkdir()
        monkeypatch.setattr(run, "AI_SYSTEMS", fakes(folder, folder / "calls.jsonl", raises="market_series"))
        results = run.run_ai_systems("local-prod", PROD, lambda _m: None, Stages(), workers=count)
        outcomes.append({name: {k: v for k, v in r.items() if k != "seconds"} for name, r in results.items()})
        pids = {c["pid"] for c in records(folder / "calls.jsonl")}
        assert (pids == {os.getpid()}) == (count == 1)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]["compliance-guardian"]["errors"][0]["error"] == "ValueError: no market_series"
    assert outcomes[0]["retail-copilot"]["report_html"] == "<p>retail-copilot</p>"
