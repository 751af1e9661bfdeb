"""HTML fragment for the local main job's report (a chart when matplotlib is installed)."""

from __future__ import annotations

import html
from typing import Any

from retail_platform.presentation import ReportFragment
from retail_platform.presentation.charts import Draw


def _draw_alerts(days: dict[str, dict[str, int]]) -> Draw:
    """Draws fraud alerts per day as bars, about eight date labels on the axis."""
    labels = sorted(days)
    step = max(1, len(labels) // 8)

    def draw(ax) -> None:
        ax.bar(range(len(labels)), [days[d]["alerts"] for d in labels], color="#c0392b")
        ax.set_title("fraud alerts per day")
        ax.set_xticks(range(0, len(labels), step))
        ax.set_xticklabels(labels[::step], fontsize=7)

    return draw


def holdout_verdict(metrics: dict[str, Any]) -> str | None:
    """Plain words on the holdout: which of the model and the rules baseline ranks frauds better (PR-AUC), how
    they compare at their alert thresholds, and which one serves the alerts (always the model: what serves is
    fixed before the holdout is looked at, so the holdout stays an unbiased check; it is not re-chosen on it)."""
    model, rules = metrics.get("model"), metrics.get("rules_baseline")
    if not model or not rules:
        return None
    frauds = f"{model['positives']} fraud{'s' if model['positives'] != 1 else ''}"
    if rules["pr_auc"] > model["pr_auc"]:
        ranking = (
            f"On the holdout ({frauds}) the <b>rules baseline ranks frauds better than the model</b>: "
            f"PR-AUC {rules['pr_auc']} against {model['pr_auc']}."
        )
    elif rules["pr_auc"] < model["pr_auc"]:
        ranking = (
            f"On the holdout ({frauds}) the model ranks frauds better than the rules baseline: "
            f"PR-AUC {model['pr_auc']} against {rules['pr_auc']}."
        )
    else:
        ranking = f"On the holdout ({frauds}) the model and the rules baseline rank frauds equally well."
    at = (
        f"At their alert thresholds the model has precision {model['precision_at_threshold']} and recall "
        f"{model['recall_at_threshold']} ({model['alerts']} alerts), the rules {rules['precision_at_threshold']} "
        f"and {rules['recall_at_threshold']} ({rules['alerts']} alerts)."
    )
    return f"<p>{ranking} {at} The alerts come from the model, not the rules baseline.</p>"


def _threshold_and_holdout(info: dict[str, Any]) -> list[str]:
    """Why the alert threshold is what it is, and the holdout's precision and recall at it."""
    parts = []
    choice = info.get("threshold")
    if choice:
        parts.append(
            f"<p>Alert threshold <b>{choice['value']}</b> from the objective <code>{html.escape(choice['objective'])}"
            f"</code>: {html.escape(choice['why'])}.</p>"
        )
    metrics = info.get("metrics_holdout")
    if metrics:
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{m['pr_auc']}</td><td>{m['recall_at_1pct_fpr']}</td>"
            f"<td>{m['precision_at_threshold']}</td><td>{m['recall_at_threshold']}</td>"
            f"<td>{m['alerts']} of {m['rows']} ({m['positives']} frauds)</td></tr>"
            for name, m in metrics.items()
        )
        parts.append(
            "<table><tr><th>holdout</th><th>PR-AUC</th><th>recall@1%FPR</th><th>precision@threshold</th>"
            f"<th>recall@threshold</th><th>alerts</th></tr>{rows}</table>"
        )
        verdict = holdout_verdict(metrics)
        if verdict:
            parts.append(verdict)
    return parts


def html_fragment(result: dict[str, Any]) -> str:
    """The system's section: card-data audits, fraud scoring (threshold, holdout, alerts per day) or why skipped."""
    fragment = ReportFragment("compliance-guardian")
    audit = result.get("audit")
    if audit:
        fragment.add(
            f"<p>Card-data audit of <b>{html.escape(str(audit['dataset']))}</b>: {audit['partitions']} partitions, "
            f"<b>{audit['findings']}</b> findings (never the digits; see prod <code>pci_findings/</code>).</p>"
        )
    curated = result.get("curated_audit")
    if curated:
        fragment.add(f"<p>Curated audit: {curated['findings']} findings in {curated['curated_datasets']} datasets.</p>")
    fraud = result.get("fraud")
    if fraud:
        if fraud.get("status") == "scored":
            days = fraud["days"]
            scored = sum(d["scored"] for d in days.values())
            alerts = sum(d["alerts"] for d in days.values())
            fragment.add(
                f"<p>Fraud: {scored} payments scored, <b>{alerts}</b> alerts, model "
                f"<code>{html.escape(fraud['model_version'])}</code>.</p>"
            )
            fragment.add(*_threshold_and_holdout(fraud.get("model") or {}))
            fragment.add_chart(_draw_alerts(days), alt="fraud alerts per day", figsize=(7, 2.4), dpi=90)
        else:
            fragment.add(f"<p>Fraud scoring skipped: {html.escape(str(fraud.get('reason')))}</p>")
    return fragment.html()
