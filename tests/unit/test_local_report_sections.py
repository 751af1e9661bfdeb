"""The main job's report: one section per AI system however many events it handled; the console's stage figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from retail_platform.local import report
from retail_platform.local.console import Stages, summary_table
from retail_platform.local.report import merge_fragments, top_level_blocks


def headings(page: str) -> list[str]:
    return re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", page, re.S)


def test_top_level_blocks_keep_nested_elements_and_void_tags_whole():
    fragment = "<h3>t</h3>\n<p>a <b>b</b></p><table><tr><td>1</td></tr></table><img src='x'/><img src='y'>tail"
    assert top_level_blocks(fragment) == [
        "<h3>t</h3>",
        "<p>a <b>b</b></p>",
        "<table><tr><td>1</td></tr></table>",
        "<img src='x'/>",
        "<img src='y'>tail",
    ]
    assert top_level_blocks("loose text <p>x</p>") == ["loose text", "<p>x</p>"]


def test_per_dataset_fragments_are_combined_under_one_heading():
    fragments = [
        f"<h3>compliance-guardian</h3>\n<p>Card-data audit of <b>{name}</b>: {n} partitions, <b>0</b> findings.</p>"
        for name, n in (("daily_sales", 92), ("market_series", 14))
    ]
    fragments[-1] += "\n<p>Fraud: 2489 payments scored.</p>"
    body = merge_fragments(fragments)
    assert "compliance-guardian" not in body  # the main job gives the system's one heading
    assert body.count("Card-data audit of") == 2 and body.index("daily_sales") < body.index("market_series")
    assert body.endswith("<p>Fraud: 2489 payments scored.</p>")


def test_a_newer_snapshot_replaces_the_older_one_in_place():
    old = "<h2>Market intelligence</h2>\n<p>Model version <code>None</code>.</p><h3>Top movers (10 of 50)</h3>"
    new = "<h2>Market intelligence</h2>\n<p>Model version <code>20231225-65a3</code>.</p><h3>Top movers (10 of 50)</h3>"
    other = "<p>Selected models: sarimax 14</p>"
    body = merge_fragments([old, other, new])
    assert body.index("20231225-65a3") < body.index("Selected models")  # in the first snapshot's place
    assert "None" not in body and headings(body) == ["Top movers (10 of 50)"]
    assert merge_fragments(["<h3>only a title</h3>", ""]) == ""


def test_the_ai_section_has_one_heading_per_system():
    pulse = "<p>Global market pulse as of 2023-12-{d} (model version v{d}), 4 countries.</p><ul><li>GB</li></ul>"
    results = {
        "global-market-pulse": {
            "status": "ran",
            "report_html": merge_fragments([pulse.format(d=30), pulse.format(d=31)]),
        },
        "retail-copilot": {"status": "ran", "report_html": None},
    }
    page = report.ai_section(results)
    assert headings(page) == ["AI systems", "global-market-pulse", "retail-copilot"]
    assert page.count("Global market pulse as of") == 1 and "2023-12-31" in page


def test_stages_record_time_steps_and_rows_without_a_terminal():
    stages = Stages()
    stages.start("raw-to-curated", 2, "objects")
    stages.advance("raw-to-curated", rows=10)
    stages.advance("raw-to-curated", rows=5)
    stages.finish("raw-to-curated")
    stages.start("report", None)
    stages.finish("report", status="failed")
    result = stages.results["raw-to-curated"]
    assert (result.done, result.total, result.rows, result.status) == (2, 2, 15, "ran")
    assert set(stages.timings()) == {"raw-to-curated", "report"} and stages.results["report"].status == "failed"
    rows = [cell for column in summary_table(stages).columns if column.header == "stage" for cell in column._cells]
    assert rows == ["raw-to-curated", "report", "total"]


SCRIPT = """
import os, sys, warnings
from pathlib import Path
from retail_platform.local.console import output_to_log
with output_to_log(Path(sys.argv[1])) as terminal:
    print('{"_aws": {"Timestamp": 1}}')
    warnings.warn("a library's warning", FutureWarning, stacklevel=1)
    os.write(2, b"native stderr\\n")
    terminal.write("bar\\n")
print("after the run")
"""


def test_output_goes_to_the_log_and_the_terminal_stream_stays_separate(tmp_path: Path):
    log = tmp_path / "run.log"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(log)], capture_output=True, text=True, check=True)
    text = log.read_text()
    assert '{"_aws"' in text and "FutureWarning: a library's warning" in text and "native stderr" in text
    assert proc.stdout == "bar\nafter the run\n" and proc.stderr == ""


def test_partial_first_and_last_weeks_are_left_out_and_named():
    import pandas as pd

    mondays = pd.date_range("2023-09-25", "2023-12-25", freq="W-MON")  # 14 weeks, 2023-10-01 is a Sunday
    weekly = pd.DataFrame({"date": mondays, "revenue_reporting": range(len(mondays))})
    kept, note = report.full_weeks(weekly, ("2023-10-01", "2023-12-31"))
    assert list(kept["date"].dt.date.astype(str))[:1] == ["2023-10-02"] and len(kept) == 13  # 12-25..31 is whole
    assert note.endswith("Partial weeks left out (week of 2023-09-25).")
    kept, note = report.full_weeks(weekly, ("2023-10-02", "2023-12-30"))
    assert len(kept) == 12 and "week of 2023-09-25, 2023-12-25" in note
    assert report.full_weeks(weekly, None)[0] is weekly
