"""The copilot's section of the local run's HTML report: the snapshot it serves and a few questions answered."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from retail_platform.presentation import ReportFragment

QUESTIONS = (
    "Total revenue last month",
    "Top 3 products by revenue last month",
    "How did revenue in the last 4 weeks compare with the 4 weeks before?",
    "Which SKUs will run out next week?",
    "What is the data quality status?",
)


def section(outcome: dict[str, Any], ask: Callable[[str], dict[str, Any]]) -> str:
    """The rebuilt snapshot (version, window, self-check, digest), then `ask`'s answer to each sample question."""
    items = []
    for question in QUESTIONS:
        answer = ask(question)
        items.append(
            f"<li><b>{html.escape(question)}</b><br>{html.escape(answer['answer'])} "
            f"<small>({answer['status']}, {answer['elapsed_ms']} ms)</small></li>"
        )
    window = outcome.get("window", {})
    fragment = ReportFragment()
    fragment.add(
        f"<p>Snapshot <code>{html.escape(outcome['version'])}</code> over {window.get('first')} to "
        f"{window.get('last')}; engine self-check: {outcome['self_check']['checked']} totals, "
        f"{outcome['self_check']['mismatches']} mismatches. "
        f"Digest: <code>{html.escape(outcome['digest_key'])}</code> "
        f"({outcome['digest_rows']} rows).</p><ul>{''.join(items)}</ul>"
    )
    return fragment.html()
