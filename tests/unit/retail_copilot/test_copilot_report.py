"""The copilot's report section: snapshot facts, then each sample question with the copilot's own answer."""

from __future__ import annotations

from retail_copilot.report import QUESTIONS, section


def test_the_section_lists_every_question_with_its_answer_escaped():
    asked = []

    def ask(question: str) -> dict:
        asked.append(question)
        return {"answer": "revenue < 5 & rising", "status": "ok", "elapsed_ms": 3}

    outcome = {
        "version": "v<2>",
        "window": {"first": "2024-01-01", "last": "2024-03-31"},
        "self_check": {"checked": 12, "mismatches": 0},
        "digest_key": "digests/x.parquet",
        "digest_rows": 40,
    }
    page = section(outcome, ask)
    assert asked == list(QUESTIONS)
    assert page.startswith(
        "<p>Snapshot <code>v&lt;2&gt;</code> over 2024-01-01 to 2024-03-31; engine self-check: 12 totals, "
        "0 mismatches. Digest: <code>digests/x.parquet</code> (40 rows).</p><ul>"
    )
    assert page.count("<li>") == 5 and page.count("revenue &lt; 5 &amp; rising <small>(ok, 3 ms)</small>") == 5
    assert "<li><b>Total revenue last month</b><br>" in page and page.endswith("</li></ul>")
