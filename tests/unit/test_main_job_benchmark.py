"""The main job's section of docs/BENCHMARKS.md: seconds per stage before and now, judged against issue 17's goals."""

from __future__ import annotations

from tools.benchmarks import report


def section(fig: dict | None) -> tuple[list[str], list[str]]:
    missed: list[str] = []

    def judged(goal, value, what, baseline=None):
        status = goal.status(value, baseline)
        if status == "**missed**":
            missed.append(what)
        return status

    return report.main_job_section(fig, judged), missed


FIG = {
    "before": {
        "small": {"seconds": 87.3, "stages": {"raw-to-curated": 8.1, "report": 7.8}, "load_average": [0.2, 3.7]}
    },
    "now": {
        "small": {"seconds": 55.0, "stages": {"raw-to-curated": 5.0}, "load_average": [1.0, 2.0]},
        "default": {"seconds": 300.0, "stages": {"curated-to-prod": 4.0, "market-intelligence-hub": 61.0}},
    },
}


def test_each_stage_has_its_before_now_goal_and_status():
    lines, missed = section(FIG)
    text = "\n".join(lines)
    assert "| raw-to-curated | 8.1 s | 5.0 s | — | — |" in text
    assert "| report | 7.8 s | not measured | — | — |" in text  # a stage only the old run had stays visible
    assert "| **total** (wall, after set-up) | 87.3 s | 55.0 s | ≤ 60 s (issue 17) | met |" in text
    assert "| curated-to-prod | not measured | 4.0 s | ≤ 5 s for 10,000 order lines (issue 17) | met |" in text
    assert "| **total** (wall, after set-up) | not measured | 300.0 s | ≤ 4 min (issue 17) | **missed** |" in text
    assert missed == ["main job default: market-intelligence-hub", "main job default: total"]
    assert "load [0.2, 3.7]" in text and "load [1.0, 2.0]" in text


def test_without_figures_the_section_says_how_to_measure():
    lines, missed = section(None)
    assert "Not measured (`python dev.py bench --only main-job`)." in lines and not missed


def test_stages_are_listed_in_the_order_the_main_job_runs_them():
    stages = {"report": 1.0, "compliance-guardian": 2.0, "raw-to-curated": 3.0, "stage inputs": 0.5, "extra": 1.0}
    lines, _ = section({"now": {"small": {"seconds": 10.0, "stages": stages}}})
    names = [line.split(" | ")[0].lstrip("| ") for line in lines if line.startswith("| ") and " s |" in line]
    assert names == [
        "stage inputs",
        "raw-to-curated",
        "compliance-guardian",
        "report",
        "extra",
        "**total** (wall, after set-up)",
    ]
