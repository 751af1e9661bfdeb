"""The main job's HTML report: data quality per dataset, prod figures and charts, AI-system sections."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import pandas as pd


def _chart(draw) -> str:
    """Render a matplotlib drawing function to an inline PNG <img>."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    draw(ax)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"/>'


def _table(frame: pd.DataFrame, max_rows: int = 20) -> str:
    return frame.head(max_rows).to_html(index=False, border=0, classes="t", float_format=lambda v: f"{v:,.2f}")


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
    parts = [
        "<h2>Data quality</h2>",
        f"<p><b>{totals['rows_in']:,}</b> raw rows in {totals['objects']} objects: "
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


def prod_section(prod_frames: dict[str, pd.DataFrame], reporting_currency: str) -> str:
    parts = ["<h2>Prod datasets</h2>"]
    counts = pd.DataFrame(
        [
            {
                "dataset": name,
                "rows": len(frame),
                "partitions": frame["date"].nunique() if "date" in frame else 0,
            }
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
            _chart(
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
        if not total.empty:
            parts.append(f"<h3>Weekly revenue, all markets ({reporting_currency})</h3>")
            parts.append(
                _chart(
                    lambda ax: (
                        ax.plot(pd.to_datetime(total["date"]), total["revenue_reporting"]),
                        ax.set_ylabel(reporting_currency),
                    )
                )
            )
    return "\n".join(parts)


def ai_section(ai_results: dict[str, Any]) -> str:
    """One section per AI system: its failure (type and message), what it could not do, then its own fragment."""
    items = []
    for name, result in ai_results.items():
        result = result if isinstance(result, dict) else {"status": str(result)}
        parts = [f"<h3>{html.escape(name)}</h3>"]
        errors = result.get("errors") or []
        if errors:
            parts.append(
                "<p class='failed'><b>Failed</b> (the other systems still ran):</p><ul>"
                + "".join(
                    f"<li>on ProdDatasetUpdated {html.escape(str(e.get('event')))}: {html.escape(str(e.get('error')))}"
                    "</li>"
                    for e in errors
                )
                + "</ul>"
            )
        notes = result.get("skipped") or []
        if notes:
            parts.append(
                "<p>What it could not do with this data:</p><ul>"
                + "".join(f"<li>skipped: {html.escape(str(n))}</li>" for n in notes)
                + "</ul>"
            )
        section = result.get("report_html")
        if section:
            parts.append(section)
        elif not errors and not notes:
            parts.append(f"<p>{html.escape(str(result.get('status', '')))}</p>")
        items.append("\n".join(parts))
    return "<h2>AI systems</h2>" + "\n".join(items)


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
