"""The performance report (tools/benchmarks/report.py) and its cost model (tools/benchmarks/cost_model.py)."""

from __future__ import annotations

import json

import pytest

from tools.benchmarks import report

cost_model = report.cost_model


# ------------------------------------------------------------------------------------ cost model
def small_case():
    workload = cost_model.Workload(
        order_lines=1000,
        other_rows_per_order_line=0,
        objects_per_month=10,
        raw_bytes_per_row=1e6,  # 1 GB of raw data a month
        curated_to_raw=0.5,
        prod_to_curated=0.5,
        artifacts_gb=0,
        storage_months=2,
        api_requests=1_000_000,
        copilot_share=0,
        prod_rebuilds_per_month=0,
        events_per_pipeline_run=2,
        log_bytes_per_invocation=1_000_000,
        log_stored_months=10,
        log_compression=0.5,
        s3_puts_per_object=10,
        s3_lists_per_object=0,
        s3_gets_per_object=100,
    )
    fn = cost_model.FunctionUsage(
        "f", memory_mb=2048, invocations=100, seconds=10, basis="test", tmp_mb=1536, init_s=2, cold_starts=50
    )
    platform = cost_model.Platform(image_mb={"a": 1500, "b": 500}, states_per_execution=4, alarms=5)
    return cost_model.estimate(workload, [fn], platform)


def line(lines, service: str, item_start: str):
    (found,) = [x for x in lines if x.service == service and x.item.startswith(item_start)]
    return found


def test_lambda_gb_seconds_include_init_and_tmp_above_512_mb():
    lines = small_case()
    compute = line(lines, "Lambda", "f: compute")
    # 100 x 10 s + 50 cold starts x 2 s = 1,100 s at 2 GB = 2,200 GB-s
    assert compute.quantity == pytest.approx(2200)
    assert compute.usd == pytest.approx(2200 * 0.0000166667)
    assert line(lines, "Lambda", "f: requests").usd == pytest.approx(100 * 0.20 / 1e6)
    tmp = line(lines, "Lambda", "f: /tmp")
    assert tmp.quantity == pytest.approx(1100)  # 1,100 s x (1,536 - 512) MB = 1 GB
    assert tmp.usd == pytest.approx(1100 * 0.0000000309)


def test_other_services_by_hand():
    lines = small_case()
    assert line(lines, "Step Functions", "pipeline").quantity == 40  # 10 executions x 4 states
    assert line(lines, "Step Functions", "pipeline").usd == pytest.approx(0.001)
    assert line(lines, "API Gateway", "HTTP API").usd == pytest.approx(1.00)
    storage = line(lines, "S3", "storage")
    assert storage.quantity == pytest.approx(3.5)  # 2 months x 1 GB x (1 + 0.5 + 0.25)
    assert storage.usd == pytest.approx(3.5 * 0.023)
    assert line(lines, "S3", "PUT").usd == pytest.approx(100 * 0.005 / 1000)
    assert line(lines, "S3", "GET").usd == pytest.approx(1000 * 0.0004 / 1000)
    assert line(lines, "ECR", "image").quantity == pytest.approx(2.0)
    assert line(lines, "ECR", "image").usd == pytest.approx(0.20)
    assert line(lines, "CloudWatch", "logs ingested").usd == pytest.approx(0.1 * 0.50)
    assert line(lines, "CloudWatch", "logs stored").usd == pytest.approx(0.1 * 10 * 0.5 * 0.03)
    assert line(lines, "CloudWatch", "alarms").usd == pytest.approx(0.50)
    assert line(lines, "EventBridge", "custom").quantity == 20
    assert line(lines, "X-Ray", "traces").quantity == 1_000_100


def test_total_by_hand():
    # 0.0366667 + 0.00002 + 0.000034 (Lambda) + 0.001 (SFN) + 1.00 (API) + 0.0805 + 0.0005 + 0.0004 (S3)
    # + 0.20 (ECR) + 0.05 + 0.015 + 0.50 (CloudWatch) + 0.00002 (EventBridge) + 5.0005 (X-Ray)
    lines = small_case()
    assert cost_model.total(lines) == pytest.approx(6.88464069, rel=1e-6)
    assert sum(cost_model.by_service(lines).values()) == pytest.approx(cost_model.total(lines))


def test_every_price_names_its_source():
    for name, price in cost_model.PRICES.items():
        assert price.usd > 0, name
        assert price.source.startswith("aws.amazon.com/"), name


# ------------------------------------------------------------------------------------ composition
COPILOT = report.FunctionSpec(
    name="retail-copilot",
    logical_id="RetailCopilotFunction",
    stack="AiSystemsStack",
    memory_mb=1024,
    tmp_mb=512,
    image_tag="retailcopilotfunction:python3.11-v1",
    routes=["POST /copilot/ask"],
)


def figures(p50_ms: float, accuracy: float) -> dict:
    return {
        "retail-copilot": {
            "system": "retail-copilot",
            "measured_at": "2026-01-01T00:00:00Z",
            "load_average": 1.0,
            "routes": {"POST /copilot/ask": {"p50_ms": p50_ms, "p99_ms": 2 * p50_ms, "n": 10}},
            "quality": [
                {
                    "id": "accuracy_uci",
                    "data": "UCI sample",
                    "metric": "exact answers",
                    "ours": accuracy,
                    "baseline": "keyword baseline",
                    "baseline_value": 0.1,
                }
            ],
            "import_init_s": 1.2,
            "peak_rss_mb": 400,
        }
    }


def rows_with(text: str, needle: str) -> list[str]:
    return [row for row in text.splitlines() if row.startswith("|") and needle in row]


def test_compose_flags_a_missed_goal():
    text = report.compose(figures(p50_ms=300, accuracy=0.9), [COPILOT], {}, None, cost_model.Workload())
    (route,) = rows_with(text, "`POST /copilot/ask`")
    assert "300.0" in route and "p50 ≤ 150 ms (issue 7)" in route and "**missed**" in route
    (quality,) = rows_with(text, "exact answers")
    assert "0.900" in quality and "0.100" in quality and "**missed**" in quality
    (function,) = rows_with(text, "| retail-copilot | 1,024 MB")
    assert "not built" in function and "1.20 s" in function and "| met |" in function
    missed = text.split("## Goals missed", 1)[1].split("##", 1)[0]
    assert "retail-copilot POST /copilot/ask p50" in missed
    assert "exact answers (UCI sample)" in missed
    assert "import + init" not in missed


def test_compose_says_met_when_goals_are_met():
    text = report.compose(
        figures(p50_ms=100, accuracy=0.99), [COPILOT], {"retail-copilot": 530.0}, None, cost_model.Workload()
    )
    assert "**missed**" not in text
    assert "None." in text.split("## Goals missed", 1)[1]
    (function,) = rows_with(text, "| retail-copilot | 1,024 MB")
    assert "530 MB" in function
    assert "**total**" in text and "USD / month" in text


def test_load_figures_reads_the_detector_benchmark_schema(tmp_path):
    (tmp_path / "data-quality-detectors.json").write_text(
        json.dumps({"rows": 1000, "overall": {"precision": 0.9, "recall": 1.0}, "load_average": [2.0, 1, 1]})
    )
    (tmp_path / "imports.json").write_text(json.dumps({"functions": {}}))
    figs = report.load_figures(tmp_path)
    assert set(figs) == {"data-quality-detectors"}
    quality = {q["id"]: q["ours"] for q in figs["data-quality-detectors"]["quality"]}
    assert quality == {"precision": 0.9, "recall": 1.0}
    assert "data_quality_detectors.py" in figs["data-quality-detectors"]["command"]
    assert report.quality_goal("data-quality-detectors", "precision").status(0.9) == "**missed**"


def test_parse_importtime_ranks_packages_by_self_time():
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       500 |        500 |   encodings",
            "import time:    200000 |     200000 |     pandas.core.frame",
            "import time:    300000 |     600000 |   pandas",
            "import time:    150000 |     150000 |   pyarrow",
            "import time:     10000 |      10000 |   boto3",
            "import time:      1000 |     961500 | handler",
        ]
    )
    profile = report.parse_importtime(stderr)
    assert profile["top"] == [["pandas", 0.5], ["pyarrow", 0.15], ["boto3", 0.01]]
    assert profile["total_s"] == pytest.approx(0.6615)


def test_templates_declare_every_function_with_its_memory():
    specs = {s.name: s for s in report.discover_functions()}
    assert {"raw-to-curated", "curated-to-prod", "retail-copilot"} <= set(specs)
    assert specs["raw-to-curated"].memory_mb == 3072
    assert specs["raw-to-curated"].image_tag == "rawtocuratedfunction:python3.11-v1"
    assert "POST /copilot/ask" in specs["retail-copilot"].routes
    assert report.states_per_execution() >= 2


def test_measure_imports_profiles_a_handler_in_a_fresh_interpreter(tmp_path):
    (tmp_path / "handler.py").write_text("import json\nimport email.parser\nVALUE = 1\n")
    spec = report.FunctionSpec("tiny", "TinyFunction", "Stack", 128, 512, "tinyfunction:v1", code_dir=tmp_path)
    result = report.measure_imports([spec])
    profile = result["functions"]["tiny"]
    assert profile["wall_s"] > 0 and profile["total_s"] > 0
    assert len(profile["top"]) == 3 and all(isinstance(name, str) for name, _ in profile["top"])
