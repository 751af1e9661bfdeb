"""The main job's schedule of the AI systems: who waits for whom, who starts first, and the --workers option."""

from __future__ import annotations

import argparse

import pytest
from retail_copilot.store import INSIGHT_DATASETS

from retail_platform.local import functions, workers
from retail_platform.local.__main__ import build_parser, workers_option
from retail_platform.local.functions import AI_SYSTEMS
from tests.support import ROOT


def test_the_copilot_waits_for_every_system_whose_insights_it_reads_and_nobody_else_waits():
    assert set(INSIGHT_DATASETS) <= set(functions.PRODUCERS)  # a new insight dataset must name its producer here
    assert functions.depends_on("retail-copilot") == {
        "compliance-guardian",
        "demand-insights-engine",
        "market-intelligence-hub",
        "global-market-pulse",
    }
    for spec in AI_SYSTEMS:
        if spec.name != "retail-copilot":
            assert functions.depends_on(spec.name) == set(), spec.name


def test_each_producer_really_writes_the_dataset_it_is_named_for():
    for dataset, system in functions.PRODUCERS.items():
        sources = (ROOT / "ai-systems" / system / "src").rglob("*.py")
        assert any(f'"{dataset}' in path.read_text() for path in sources), (dataset, system)


def test_in_one_process_the_copilot_moves_after_the_systems_it_reads_and_the_rest_keep_their_order():
    order = [spec.name for spec in functions.in_dependency_order(AI_SYSTEMS)]
    assert order == [
        "compliance-guardian",
        "demand-insights-engine",
        "market-intelligence-hub",
        "global-market-pulse",
        "retail-copilot",
    ]
    given = [spec.name for spec in AI_SYSTEMS]
    assert given.index("retail-copilot") < given.index("global-market-pulse")  # so the order really changed


def test_the_longest_systems_start_first_and_unknown_ones_last():
    specs = [*AI_SYSTEMS, AI_SYSTEMS[0].__class__("new-system", "X", "AiSystemsStack", ROOT / "none.py")]
    order = [spec.name for spec in workers.scheduled(list(reversed(specs)))]
    assert order[:2] == ["market-intelligence-hub", "demand-insights-engine"]
    assert order[-1] == "new-system" and sorted(order) == sorted(s.name for s in specs)


def test_workers_default_to_the_cores_and_refuse_nonsense():
    assert build_parser().parse_args([]).workers == workers.default_workers() >= 1
    assert build_parser().parse_args(["--workers", "1"]).workers == 1
    for bad in ("0", "-2", "two"):
        with pytest.raises(argparse.ArgumentTypeError, match="at least 1"):
            workers_option(bad)


def test_workers_get_the_endpoint_settings_of_the_parent(monkeypatch):
    monkeypatch.setenv("LOCAL_ENDPOINT_URL", "http://127.0.0.1:5999")
    monkeypatch.setenv("PROD_BUCKET", "local-prod")
    monkeypatch.setenv("UNRELATED_SECRET", "not for workers")
    environment = workers.worker_environment()
    assert environment["LOCAL_ENDPOINT_URL"] == "http://127.0.0.1:5999" and environment["PROD_BUCKET"] == "local-prod"
    assert "UNRELATED_SECRET" not in environment
