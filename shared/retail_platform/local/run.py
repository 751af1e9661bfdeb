"""The main job: raw files → raw bucket → raw-to-curated → curated-to-prod → AI systems → report.

Every function runs through its real handler with the real event shapes (an EventBridge "Object
Created" event per raw object, the state machine's task input for curated-to-prod, a
`ProdDatasetUpdated` event for the AI systems), against the embedded S3 endpoint.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retail_platform.local.console import Stages
from retail_platform.local.functions import AI_SYSTEMS, PIPELINE, FunctionSpec, in_dependency_order, load_handler
from retail_platform.local.report import merge_fragments
from retail_platform.storage.blobstore import S3Client

ACCOUNT = "123456789012"
ALL_SYSTEMS = "AI systems (all)"  # the stage of them all (wall time), beside each system's own


@dataclass
class LocalContext:
    """The parts of the Lambda context object that the handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 3072
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def object_created_event(bucket: str, key: str, size: int) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size},
            "reason": "PutObject",
        },
    }


def prod_dataset_updated_event(dataset: str, bucket: str, partitions: list[str]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "ProdDatasetUpdated",
        "source": "retail.platform",
        "account": ACCOUNT,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [],
        "detail": {"dataset": dataset, "bucket": bucket, "prefix": f"{dataset}/", "partitions": partitions},
    }


def upload_tree(s3: S3Client, bucket: str, root: Path) -> list[tuple[str, int]]:
    """Upload every file under root (except the generator's `_manifest/`) with its relative path as key."""
    uploaded = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        if key.startswith("_manifest/"):
            continue
        s3.upload_file(str(path), bucket, key)
        uploaded.append((key, path.stat().st_size))
    return uploaded


def invoke(function_name: str, event: dict[str, Any]) -> dict[str, Any]:
    spec = next(s for s in PIPELINE + AI_SYSTEMS if s.name == function_name)
    module = load_handler(spec)
    return module.lambda_handler(event, LocalContext(function_name))


def curate_here(raw_bucket: str, uploaded: Sequence[tuple[str, int]]) -> Iterator[tuple[int, dict[str, Any], float]]:
    """raw-to-curated on each object in turn, in this process: (index in `uploaded`, result, seconds)."""
    for n, (key, size) in enumerate(uploaded):
        started = time.perf_counter()
        result = invoke("raw-to-curated", object_created_event(raw_bucket, key, size))
        yield n, result, time.perf_counter() - started


def run_pipeline(
    s3: S3Client,
    raw_bucket: str,
    uploaded: list[tuple[str, int]],
    progress,
    stages: Stages | None = None,
    curate: Callable[..., Iterator[tuple[int, dict[str, Any], float]]] = curate_here,
) -> dict[str, Any]:
    """Curate every uploaded object, then build prod from the union of touched partitions.

    `curate` invokes raw-to-curated on the objects (here, or on worker processes: `workers.curation_pool`) and
    yields the results as they finish; `curation` keeps the upload order whatever the finishing order.
    `progress` gets a line per object (the run log); `stages` (the console's bars) a count per object.
    """
    stages = stages or Stages()
    curated: dict[int, list[dict[str, Any]]] = {}
    partitions: dict[str, set[str]] = {}
    stages.start("raw-to-curated", len(uploaded), "objects")
    for done, (n, result, seconds) in enumerate(curate(raw_bucket, uploaded), start=1):
        for obj in result["objects"]:
            obj["seconds"] = round(seconds, 2)
        curated[n] = result["objects"]
        for dataset, days in result["partitions"].items():
            partitions.setdefault(dataset, set()).update(days)
        progress(
            f"raw-to-curated {done}/{len(uploaded)} {uploaded[n][0]}: {result['rows_curated']} curated, "
            f"{result['rows_quarantined']} quarantined"
        )
        stages.advance("raw-to-curated", rows=sum(o.get("rows_in") or 0 for o in result["objects"]))
    stages.finish("raw-to-curated")
    curation = [obj for n in sorted(curated) for obj in curated[n]]
    started = time.perf_counter()
    stages.start("curated-to-prod", None, "datasets")
    prod = invoke("curated-to-prod", {"partitions": {k: sorted(v) for k, v in partitions.items()}})
    built = prod.get("prod_datasets", {})
    stages.advance("curated-to-prod", steps=len(built))
    stages.finish("curated-to-prod", note=f"{len(built)} prod datasets")
    progress(f"curated-to-prod: {len(built)} prod datasets in {time.perf_counter() - started:.1f}s")
    return {"curation": curation, "prod": prod}


def run_ai_systems(
    prod_bucket: str, prod: dict[str, Any], progress, stages: Stages | None = None, workers: int = 1
) -> dict[str, Any]:
    """Run the batch path of every AI system that exists in this checkout.

    workers 1: one system after the other in this process; more: each system in a worker process of its own, as
    concurrently as EventBridge delivers the events (`workers.run_systems_concurrently`). One system's failure
    never stops the others: its error (type and message) goes into its result, the full trace to stderr, and
    `failed_systems` names it so that the main job can exit non-zero at the end. The stage "AI systems" is the
    wall time of them all; each system's own stage is its own wall time.
    """
    stages = stages or Stages()
    present = [spec for spec in AI_SYSTEMS if spec.exists]
    stages.start(ALL_SYSTEMS, len(present), "systems")
    results: dict[str, Any] = {}

    def finished(name: str, result: dict[str, Any]) -> None:
        results[name] = result
        progress(f"{name}: {result['status']} in {result['seconds']}s")
        stages.advance(ALL_SYSTEMS, note=name)

    if workers > 1 and len(present) > 1:
        from retail_platform.local.workers import run_systems_concurrently

        run_systems_concurrently(present, prod_bucket, prod, progress, stages, workers, finished)
    else:
        for spec in in_dependency_order(present):
            finished(spec.name, run_system(spec, prod_bucket, prod, progress, stages))
    stages.finish(ALL_SYSTEMS, "failed" if failed_systems(results) else "ran")
    missing = {spec.name: {"status": "not built yet", "errors": [], "skipped": []} for spec in AI_SYSTEMS}
    return {spec.name: results.get(spec.name, missing[spec.name]) for spec in AI_SYSTEMS}


def run_system(
    spec: FunctionSpec, prod_bucket: str, prod: dict[str, Any], progress, stages: Stages | None = None
) -> dict[str, Any]:
    """One AI system's batch path: one ProdDatasetUpdated event per prod dataset, each failure recorded."""
    stages = stages or Stages()
    stages.start(spec.name, len(prod.get("prod_datasets", {})), "events")
    started = time.perf_counter()
    outputs: list[Any] = []
    errors: list[dict[str, str]] = []
    datasets = sorted(prod.get("prod_datasets", {}).items())
    try:
        module = load_handler(spec)
    except Exception as error:  # a system that cannot even load must not stop the others
        errors.append(_failure(spec.name, "import", error))
        datasets = []
    for dataset, days in datasets:
        step = time.perf_counter()
        try:
            event = prod_dataset_updated_event(dataset, prod_bucket, days)
            outputs.append(module.lambda_handler(event, LocalContext(spec.name)))
        except Exception as error:  # one event's failure must not stop the next ones
            errors.append(_failure(spec.name, dataset, error))
            progress(f"{spec.name}: ProdDatasetUpdated {dataset} FAILED: {errors[-1]['error']}")
            stages.advance(spec.name, note=f"{dataset} FAILED")
            continue
        progress(f"{spec.name}: ProdDatasetUpdated {dataset} handled in {time.perf_counter() - step:.1f}s")
        stages.advance(spec.name, note=dataset)
    stages.finish(spec.name, "failed" if errors else "ran")
    sections = [o["report_html"] for o in outputs if isinstance(o, dict) and o.get("report_html")]
    return {
        "status": "failed" if errors else "ran",
        "seconds": round(time.perf_counter() - started, 2),
        "outputs": [{k: v for k, v in o.items() if k != "report_html"} if isinstance(o, dict) else o for o in outputs],
        "errors": errors,
        "skipped": skipped_notes(outputs, sorted(prod.get("prod_datasets", {})), bool(errors)),
        "report_html": merge_fragments(sections) or None,
    }


def _failure(system: str, dataset: str, error: BaseException) -> dict[str, str]:
    """The error as the report shows it (type and message, card numbers masked); the full trace to stderr."""
    from retail_platform.pii.pan import mask_text

    message = mask_text(str(error).split("\nStack trace:")[0])[0][:500]  # native libraries append their own
    trace = mask_text("".join(traceback.format_exception(error)))[0]
    print(f"[{system}] ProdDatasetUpdated {dataset} failed:\n{trace}", file=sys.stderr, flush=True)
    return {"event": dataset, "type": type(error).__name__, "error": f"{type(error).__name__}: {message}"}


def skipped_notes(outputs: list[Any], datasets: list[str], failed: bool) -> list[str]:
    """What a system could not do, in its own words ("no inventory data: stock-out advice skipped"), once each.

    A system's result may carry `skipped` (a list of notes) or be `{"status": "skipped", "reason": ...}`, and so
    may the parts it names (`"fraud": {...}`, `"tasks": [{"task": "forecast", ...}]`); a system that ignored
    every event says which prod datasets there were.
    """
    notes: list[str] = []

    def add(part: Any, name: str | None) -> None:
        if not isinstance(part, dict):
            return
        listed = part.get("skipped")
        found = [str(n) for n in listed] if isinstance(listed, list) else []
        if part.get("status") == "skipped" and part.get("reason"):
            label = part.get("task") or name
            found.insert(0, f"{label}: {part['reason']}" if label else str(part["reason"]))
        notes.extend(n for n in found if n not in notes)

    for output in outputs:
        add(output, None)
        for key, value in output.items() if isinstance(output, dict) else ():
            for part in value if isinstance(value, list) else [value]:
                add(part, key)
    handled = [o for o in outputs if not (isinstance(o, dict) and o.get("status") == "ignored")]
    if not handled and not failed:
        notes.append(
            "none of the prod datasets it reads was built"
            + (f" (prod has: {', '.join(datasets)})" if datasets else " (prod is empty)")
            + ": nothing to analyse"
        )
    return notes


def failed_systems(ai_results: dict[str, Any]) -> list[str]:
    """Names of the AI systems whose batch path raised: the main job exits non-zero when there is one."""
    return [name for name, result in ai_results.items() if isinstance(result, dict) and result.get("errors")]


def summarise(pipeline: dict[str, Any]) -> dict[str, Any]:
    totals = {
        "objects": 0,
        "rows_in": 0,
        "rows_curated": 0,
        "rows_quarantined": 0,
        "files_quarantined_whole": 0,
    }
    by_dataset: dict[str, dict[str, int]] = {}
    for obj in pipeline["curation"]:
        totals["objects"] += 1
        if obj.get("file_error"):
            totals["files_quarantined_whole"] += 1
            continue
        entry = by_dataset.setdefault(
            obj["dataset"], {"objects": 0, "rows_in": 0, "rows_curated": 0, "rows_quarantined": 0}
        )
        entry["objects"] += 1
        for k in ("rows_in", "rows_curated", "rows_quarantined"):
            entry[k] += obj[k] or 0
            totals[k] += obj[k] or 0
    totals["conservation_ok"] = totals["rows_in"] == totals["rows_curated"] + totals["rows_quarantined"]
    return {"totals": totals, "datasets": by_dataset}


def write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))
