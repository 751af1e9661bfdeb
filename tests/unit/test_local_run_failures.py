"""The main job's AI-system loop: one system's failure is recorded and reported, the next events still run."""

from __future__ import annotations

from retail_platform.local import report, run
from retail_platform.local.functions import FunctionSpec

HANDLER = """
CALLS = []

def lambda_handler(event, context):
    dataset = event["detail"]["dataset"]
    CALLS.append(dataset)
    if dataset == "daily_sales":
        raise ValueError("cannot convert float NaN to integer (card 4111 1111 1111 1111)")
    if dataset == "country_kpis":
        return {"status": "ignored"}
    return {"status": "done", "skipped": ["no inventory data: stock-out advice skipped"],
            "fraud": {"status": "skipped", "reason": "no labelled payments"},
            "tasks": [{"task": "forecast", "status": "skipped", "reason": "19 days of history"}],
            "report_html": "<p>section</p>"}
"""


def spec_in(tmp_path, name: str, source: str) -> FunctionSpec:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "handler.py").write_text(source)
    return FunctionSpec(name, "TestFunction", "AiSystemsStack", folder / "handler.py")


PROD = {
    "prod_datasets": {"country_kpis": ["2024-01-01"], "daily_sales": ["2024-01-01"], "market_series": ["2024-01-01"]}
}


def test_a_failing_event_is_recorded_and_the_next_events_still_run(tmp_path, capsys):
    spec = spec_in(tmp_path, "failing-system-a", HANDLER)
    said = []
    result = run.run_system(spec, "local-prod", PROD, said.append)
    module = __import__("sys").modules["handler_failing_system_a"]
    assert module.CALLS == ["country_kpis", "daily_sales", "market_series"]  # market_series after the failure
    assert result["status"] == "failed" and result["report_html"] == "<p>section</p>"
    assert result["errors"] == [
        {
            "event": "daily_sales",
            "type": "ValueError",
            "error": "ValueError: cannot convert float NaN to integer (card 4111 11** **** 1111)",
        }
    ]
    assert result["skipped"] == [
        "no inventory data: stock-out advice skipped",
        "fraud: no labelled payments",
        "forecast: 19 days of history",
    ]
    logged = capsys.readouterr().err
    assert "Traceback" in logged and "lambda_handler" in logged and "4111 1111 1111 1111" not in logged
    assert run.failed_systems({"a": result, "b": {"status": "ran", "errors": []}}) == ["a"]


def test_the_report_shows_the_error_and_the_notes_without_a_trace(tmp_path):
    result = run.run_system(spec_in(tmp_path, "failing-system-b", HANDLER), "local-prod", PROD, lambda _m: None)
    page = report.ai_section({"failing-system-b": result, "quiet": {"status": "ran", "skipped": [], "errors": []}})
    assert "Failed</b>" in page and "on ProdDatasetUpdated daily_sales: ValueError: cannot convert" in page
    assert "skipped: no inventory data: stock-out advice skipped" in page and "<p>section</p>" in page
    assert "Traceback" not in page and 'File "' not in page


def test_a_system_that_cannot_load_fails_alone_and_one_that_ignores_everything_says_why(tmp_path):
    broken = run.run_system(spec_in(tmp_path, "broken-system", "import nowhere_to_be_found\n"), "b", PROD, print)
    assert broken["status"] == "failed" and broken["errors"][0]["event"] == "import"
    assert broken["errors"][0]["type"] == "ModuleNotFoundError" and broken["skipped"] == []
    source = "def lambda_handler(event, context):\n    return {'status': 'ignored'}\n"
    idle = run.run_system(spec_in(tmp_path, "idle-system", source), "b", PROD, print)
    assert idle["status"] == "ran" and idle["skipped"] == [
        "none of the prod datasets it reads was built (prod has: country_kpis, daily_sales, market_series): "
        "nothing to analyse"
    ]
