"""One system's section of the HTML report: heading, what failed, what it skipped, then its text, tables and charts.

Every AI system builds its section with `ReportFragment`, and the local main job wraps each system's result in one,
so that every section of the report has the same shape however many events the system handled.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from retail_platform.presentation.charts import Draw, chart_html


def bullet_list(items: Iterable[str], prefix: str = "") -> str:
    """An HTML list of plain-text items (escaped), each after `prefix`."""
    return "<ul>" + "".join(f"<li>{html.escape(prefix + str(item))}</li>" for item in items) + "</ul>"


def frame_table(frame: Any, *, decimals: int = 2, max_rows: int | None = None) -> str:
    """A pandas DataFrame as a report table (class `t`), floats with thousands separators and `decimals` places."""
    shown = frame if max_rows is None else frame.head(max_rows)
    return shown.to_html(index=False, border=0, classes="t", float_format=lambda v: f"{v:,.{decimals}f}")


@dataclass
class ReportFragment:
    """A report section: `title` as an `<h{level}>`, then `errors`, `skipped` notes and the HTML `parts` in order.

    Errors and skipped notes are plain text (escaped here); parts are HTML the system built (escaped by it).
    """

    title: str | None = None
    level: int = 3
    parts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, *parts: str | None) -> ReportFragment:
        """Append HTML parts; empty ones (a chart without matplotlib, a missing section) are left out."""
        self.parts.extend(part for part in parts if part)
        return self

    def add_chart(self, draw: Draw, **options: Any) -> ReportFragment:
        """Append a chart drawn by `draw` (see `charts.chart_html` for the options); nothing without matplotlib."""
        return self.add(chart_html(draw, **options))

    @property
    def empty(self) -> bool:
        """True when the fragment says nothing besides its title."""
        return not (self.parts or self.skipped or self.errors)

    def html(self) -> str:
        """The section's HTML, one block a line; "" when there is nothing at all."""
        blocks = [f"<h{self.level}>{html.escape(self.title)}</h{self.level}>"] if self.title else []
        if self.errors:
            blocks.append(
                "<p class='failed'><b>Failed</b> (the other systems still ran):</p>" + bullet_list(self.errors)
            )
        if self.skipped:
            blocks.append("<p>What it could not do with this data:</p>" + bullet_list(self.skipped, "skipped: "))
        return "\n".join(blocks + self.parts)
