"""The main job's HTML report: data quality per dataset, prod figures and charts, AI-system sections."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from itertools import pairwise
from typing import Any

import pandas as pd

from retail_platform.presentation import ReportFragment, chart_html, frame_table


def _table(frame: pd.DataFrame, max_rows: int = 20) -> str:
    return frame_table(frame, decimals=2, max_rows=max_rows)


def quality_section(summary: dict[str, Any], curation: list[dict[str, Any]], reports: list[dict[str, Any]]) -> str:
    totals = summary["totals"]
    rows = pd.DataFrame([{"dataset": name, **values} for name, values in sorted(summary["datasets"].items())])
    reasons: dict[tuple[str, str], int] = {}
    masked: dict[str, int] = {}
    for report in reports:
        for reason, entry in report.get("failed_checks", {}).items():
            reasons[(report["dataset"], reason)] = reasons.get((report["dataset"], reason), 0) + entry["rows"]
        for column, count in report.get("pans_masked", {}).items():
            key = f"{report['dataset']}.{column}"
            masked[key] = masked.get(key, 0) + count
    reason_frame = pd.DataFrame([{"dataset": d, "reason": r, "rows": n} for (d, r), n in reasons.items()])
    if not reason_frame.empty:
        reason_frame = reason_frame.sort_values("rows", ascending=False)
    failed_files = [c for c in curation if c.get("file_error")]
    objects = f"{totals['objects']} object{'' if totals['objects'] == 1 else 's'}"
    parts = [
        "<h2>Data quality</h2>",
        f"<p><b>{totals['rows_in']:,}</b> raw rows in {objects}: "
        f"<b>{totals['rows_curated']:,}</b> curated, <b>{totals['rows_quarantined']:,}</b> quarantined with a reason. "
        f"Conservation (in = curated + quarantined): <b>{'holds' if totals['conservation_ok'] else 'BROKEN'}</b>. "
        f"Files quarantined whole: {totals['files_quarantined_whole']}.</p>",
        _table(rows) if not rows.empty else "",
        "<h3>Why rows were quarantined</h3>",
        _table(reason_frame, 30) if not reason_frame.empty else "<p>No row was quarantined.</p>",
        "<h3>Card numbers masked before curated</h3>",
        "<p>" + (", ".join(f"{k}: {v}" for k, v in sorted(masked.items())) or "none found") + "</p>",
    ]
    if failed_files:
        parts.append(
            "<h3>Files quarantined whole</h3><ul>"
            + "".join(
                f"<li>{html.escape(f['source_key'])}: {html.escape(str(f['file_error']))}</li>" for f in failed_files
            )
            + "</ul>"
        )
    return "\n".join(parts)


def prod_section(
    prod_frames: dict[str, pd.DataFrame], reporting_currency: str, objects: dict[str, int] | None = None
) -> str:
    """Rows (and stored objects) per prod dataset, revenue by country, weekly revenue of all markets."""
    parts = ["<h2>Prod datasets</h2>"]
    counts = pd.DataFrame(
        [
            {"dataset": name, "rows": len(frame), **({"objects": objects.get(name, 0)} if objects else {})}
            for name, frame in sorted(prod_frames.items())
        ]
    )
    if not counts.empty:
        parts.append(_table(counts))
    kpis = prod_frames.get("country_kpis")
    if kpis is not None and not kpis.empty:
        by_country = (
            kpis.groupby("country", as_index=False)["revenue_reporting"]
            .sum()
            .sort_values("revenue_reporting", ascending=False)
        )
        parts.append(f"<h3>Revenue by country ({reporting_currency})</h3>")
        top = by_country.head(12)
        parts.append(
            chart_html(
                lambda ax: (
                    ax.bar(top["country"], top["revenue_reporting"]),
                    ax.set_ylabel(reporting_currency),
                )
            )
        )
        parts.append(_table(by_country, 30))
    market = prod_frames.get("market_series")
    if market is not None and not market.empty:
        total = market[(market["country"] == "ALL") & (market["category"] == "ALL")].sort_values("date")
        days = prod_frames.get("daily_sales")
        covered = (days["date"].min(), days["date"].max()) if days is not None and "date" in days else None
        weeks, note = full_weeks(total, covered)
        if not weeks.empty:
            parts.append(f"<h3>Weekly revenue, all markets ({reporting_currency})</h3>")
            parts.append(
                chart_html(
                    lambda ax: (
                        ax.plot(pd.to_datetime(weeks["date"]), weeks["revenue_reporting"], marker="o"),
                        ax.set_ylabel(reporting_currency),
                    ),
                    alt=f"weekly revenue, all markets ({reporting_currency})",
                )
            )
            parts.append(f"<p>{html.escape(note)}</p>")
    return "\n".join(parts)


def full_weeks(weekly: pd.DataFrame, covered: tuple[Any, Any] | None) -> tuple[pd.DataFrame, str]:
    """The weeks (Monday to Sunday, labelled by their Monday) that the data covers whole, and a caption.

    A first or last week the data only partly covers would show a dip that is not there: it is left out and named.
    """
    if covered is None or weekly.empty:
        return weekly, "Weeks from Monday to Sunday."
    first, last = (pd.Timestamp(d).normalize() for d in covered)
    start = pd.to_datetime(weekly["date"]).dt.tz_localize(None).dt.normalize()
    whole = (start >= first) & (start + pd.Timedelta(days=6) <= last)
    left_out = [d.date().isoformat() for d in start[~whole]]
    note = f"Weeks from Monday to Sunday; the data covers {first.date()} to {last.date()}."
    if left_out:
        note += f" Partial weeks left out (week of {', '.join(left_out)})."
    return weekly[whole.to_numpy()], note


def ai_section(ai_results: dict[str, Any]) -> str:
    """One section per AI system: its failure (type and message), what it could not do, then its own fragment."""
    return "<h2>AI systems</h2>" + "\n".join(
        _system_fragment(name, result).html() for name, result in ai_results.items()
    )


def _system_fragment(name: str, result: Any) -> ReportFragment:
    """A system's result in the main job (status, errors, skipped notes, its report_html) as its report section."""
    result = result if isinstance(result, dict) else {"status": str(result)}
    fragment = ReportFragment(
        name,
        errors=[f"on ProdDatasetUpdated {e.get('event')}: {e.get('error')}" for e in result.get("errors") or []],
        skipped=[str(note) for note in result.get("skipped") or []],
    )
    fragment.add(result.get("report_html"))
    if fragment.empty:
        fragment.add(f"<p>{html.escape(str(result.get('status', '')))}</p>")
    return fragment


VOID_ELEMENTS = frozenset(
    ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr")
)
HEADING = re.compile(r"^\s*<h([1-6])\b[^>]*>.*?</h\1>\s*$", re.S | re.I)


class _TopLevelBlocks(HTMLParser):
    """Offsets where each top-level element of an HTML fragment starts (a heading, a paragraph, a table...)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.starts: list[int] = []
        self._depth = 0
        self.feed(text)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self._depth == 0:
            self.starts.append(self._offset())
        if tag not in VOID_ELEMENTS:
            self._depth += 1

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if self._depth == 0:
            self.starts.append(self._offset())

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_ELEMENTS:
            self._depth = max(0, self._depth - 1)


def top_level_blocks(fragment: str) -> list[str]:
    """The fragment cut before each top-level element; blank pieces dropped."""
    starts = _TopLevelBlocks(fragment).starts
    bounds = [0, *starts, len(fragment)] if starts and starts[0] else [*starts, len(fragment)]
    return [b for b in (fragment[i:j].strip() for i, j in pairwise(bounds)) if b]


def _signature(block: str) -> str:
    """What a block says without its figures: code spans, tags and digits removed (a snapshot's header)."""
    text = re.sub(r"<code>.*?</code>", "", block, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(re.sub(r"\d+", "", text).lower().split())[:160]


def merge_fragments(fragments: list[str]) -> str:
    """One system's report fragments (one per event it handled) as one section body.

    Each fragment's own title (a leading h1-h3: the main job gives the system's heading) is dropped. A fragment that
    opens like an earlier one (same words, other figures: "Snapshot ... over ...", "Model version ...") is a newer
    snapshot of the same thing and replaces it in place; fragments about other things (an audit of another dataset)
    are kept in order, so the section says everything once.
    """
    merged: dict[str, str] = {}
    for fragment in fragments:
        blocks = top_level_blocks(fragment or "")
        while blocks and (heading := HEADING.match(blocks[0])) and int(heading.group(1)) <= 3:
            blocks = blocks[1:]
        if blocks:
            key = _signature(blocks[0])
            merged[key] = "\n".join(blocks)  # a known key keeps its place
    return "\n".join(merged.values())


def render(title: str, sections: list[str]) -> str:
    style = (
        "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}"
        "table.t{border-collapse:collapse;margin:.5rem 0}table.t td,table.t th{padding:.2rem .6rem;"
        "border-bottom:1px solid #ddd;text-align:right}table.t th{background:#f4f4f4}p.failed{color:#a00}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>" + "\n".join(sections) + "</body></html>"
    )
