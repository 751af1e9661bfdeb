"""The batch path: run the tasks an event asks for, announce the partitions written, build the report section."""

from __future__ import annotations

from typing import Any

from demand_insights import service
from demand_insights.exceptions import InputDataError
from retail_platform.events import announce
from retail_platform.observability import logger, metrics, record_model_scores

TASKS_OF_DATASET = {"daily_sales": ("forecast",), "customer_transactions": ("customers",)}
ALL_TASKS = ("forecast", "customers")


def run_task(stores: service.Stores, task: str) -> dict[str, Any]:
    """One task's output; a table too small to use is a `skipped` output with the reason, not a failure."""
    try:
        out = service.run_forecasts(stores) if task == "forecast" else service.run_customers(stores)
    except InputDataError as e:  # not enough data yet: say so, do not fail the async invocation forever
        logger.warning("batch task skipped", extra={"task": task, "reason": str(e)})
        return {"task": task, "status": "skipped", "reason": str(e)}
    metrics.add_metric(name=f"DemandInsights{task.title()}Runs", unit="Count", value=1)
    record_model_scores(f"demand-{task}", out.get("model_version"), out.get("metrics"))
    return out


def run_batch(stores: service.Stores, events_client: Any, bus: str, tasks: tuple[str, ...]) -> dict[str, Any]:
    """Run `tasks`, announce every prod partition they wrote (best effort), and add the report section."""
    from demand_insights.report import section

    outputs = [run_task(stores, task) for task in tasks]
    written = {k: v for out in outputs for k, v in out.get("partitions", {}).items()}
    bucket = stores.prod.bucket
    emitted = sum(announce(events_client, bus, dataset, bucket, days) for dataset, days in written.items())
    result: dict[str, Any] = {
        "status": "ok",
        "tasks": [{k: v for k, v in out.items() if not k.startswith("_")} for out in outputs],
        "prod_datasets": written,
        "events_emitted": emitted,
    }
    report = section(outputs)
    if report:
        result["report_html"] = report
    return result
