"""`python dev.py demo [options]` — run the whole platform locally and write a report.

Without --source it generates the seeded sample exports; with --source it ingests real exports
(a file or a folder) through a source contract, picked by --contract or recognised from the header.
With --keep-running the endpoint stays up afterwards and <out>/env.json is the `sam local invoke --env-vars`
file for every function and every file in events/ (it exists exactly while the endpoint is up).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console, Group
from rich.markup import escape

from retail_platform.local.console import Stages, output_to_log, summary_table
from retail_platform.local.endpoint import BUCKET_ENV, env_vars_file, s3_endpoint
from retail_platform.local.workers import curation_pool, default_workers

ENV_VARS_FILE = "env.json"
RUN_LOG = "run.log"
REPORT_KEY = "_reports/local-run/report.html"


def _guess_contract(path: Path, contracts) -> str | None:
    """The one contract whose mapped source columns all appear in the file's header line."""
    from retail_platform.contracts import SourceContract

    head = path.read_bytes()[:65536]
    matches = []
    for contract in contracts:
        assert isinstance(contract, SourceContract)
        if contract.format != "csv" or path.suffix == ".gz":
            continue
        first_line = head.decode(contract.csv.get("encoding", "utf-8"), errors="replace").splitlines()[:1]
        if not first_line:
            continue
        header = {h.strip().strip('"') for h in first_line[0].split(contract.csv.get("delimiter", ","))}
        needed = {m.source for m in contract.columns.values() if m.source}
        if needed and needed <= header:
            matches.append(contract.name)
    return matches[0] if len(matches) == 1 else None


NOTE_SUFFIXES = {".md", ".rst", ".yaml", ".yml", ".pdf", ".html"}
NOTE_STEMS = {"readme", "source", "license", "licence", "notice", "changelog"}


def _is_note(path: Path) -> bool:
    """Hidden files, documentation and licences beside the exports in a --source folder."""
    return path.name.startswith(".") or path.suffix.lower() in NOTE_SUFFIXES or path.stem.lower() in NOTE_STEMS


def stage_source(source: Path, contract_name: str | None, contracts, staging: Path, notify=print) -> Path:
    """Lay out real export files under the contract's prefix, as they would land in the raw bucket."""
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    if source.is_dir():  # a folder of exports often carries its notes: they are not rows to curate
        notes = [p for p in files if _is_note(p)]
        files = [p for p in files if p not in notes]
        if notes:
            notify(f"not ingested (notes, not exports): {', '.join(p.name for p in notes)}")
    if not files:
        sys.exit(f"error: no files found at {source}")
    by_name = {c.name: c for c in contracts}
    for path in files:
        name = contract_name or _guess_contract(path, contracts)
        if name is None:
            sys.exit(
                f"error: cannot tell which contract {path.name} follows; pass --contract "
                f"(one of: {', '.join(sorted(by_name))}) or write one (see README: onboarding)"
            )
        if name not in by_name:
            sys.exit(f"error: unknown contract {name!r}; known: {', '.join(sorted(by_name))}")
        target = staging / by_name[name].prefix / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return staging


def export_buckets(s3, folder: Path) -> int:
    """Copy every object of the local buckets to folder/<bucket>/<key> (to inspect outputs offline)."""
    from retail_platform import s3io

    count = 0
    for bucket in BUCKET_ENV.values():
        for key in s3io.list_keys(s3, bucket, ""):
            target = folder / bucket / key
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
            count += 1
    return count


def reporting_currency_option(value: str) -> str:
    """--reporting-currency: an ISO 4217 code or AUTO, checked as the functions check REPORTING_CURRENCY."""
    from retail_platform.exceptions import ConfigurationError
    from retail_platform.settings import reporting_currency_setting

    try:
        return reporting_currency_setting(value)
    except ConfigurationError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def report_currency(requested: str, prod_frames: dict) -> str:
    """The currency the report labels amounts with: the one asked for, else the prod data's own column."""
    if requested != "AUTO":
        return requested
    found = {
        str(code)
        for frame in prod_frames.values()
        if "reporting_currency" in getattr(frame, "columns", ())
        for code in frame["reporting_currency"].dropna().unique()
    }
    return found.pop() if len(found) == 1 else "EUR"


def workers_option(value: str) -> int:
    """--workers: a whole number of at least 1."""
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return count


def build_parser() -> argparse.ArgumentParser:
    """The main job's options (`python3 dev.py demo --help` prints them)."""
    parser = argparse.ArgumentParser(prog="python dev.py demo", description=__doc__)
    parser.add_argument("--source", type=Path, help="a real export file or folder to ingest instead of sample data")
    parser.add_argument("--contract", help="source contract name for --source (default: recognised from the header)")
    parser.add_argument("--contracts-dir", type=Path, help="folder of your own source contracts (*.yaml)")
    parser.add_argument(
        "--sample",
        action="store_true",
        help="with --source: ingest the seeded sample exports too (the data the files in events/ name)",
    )
    parser.add_argument("--small", action="store_true", help="a small sample (a quarter, few SKUs): seconds")
    parser.add_argument("--seed", type=int, default=7, help="sample data seed (default 7)")
    parser.add_argument(
        "--out", type=Path, default=Path("local-run"), help="report, summary and run.log folder (default local-run/)"
    )
    parser.add_argument("--export", type=Path, help="also copy every object of the four buckets into this folder")
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="keep the S3 endpoint up on 0.0.0.0 afterwards and write <out>/env.json for "
        "`sam local invoke --env-vars` (Ctrl-C stops)",
    )
    parser.add_argument(
        "--reporting-currency",
        type=reporting_currency_option,
        default="AUTO",
        help="currency of every reported amount: an ISO code (USD, EUR, ...) or AUTO (default): the shop's only "
        "currency when its data has one, else EUR converted with the FX rates",
    )
    parser.add_argument(
        "--workers",
        type=workers_option,
        default=default_workers(),
        help="worker processes (default: one per core, here %(default)s): raw objects are curated and the AI systems "
        "run concurrently, as in AWS; 1 runs every step in turn in this process",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="endpoint port (default: free port; 5055 with --keep-running)"
    )
    return parser


def stage_inputs(opts: argparse.Namespace, s3, raw_root: Path, out: Path, stages: Stages) -> None:
    """Contracts, real exports and/or the generated sample, laid out under raw_root as the raw bucket's keys."""
    from retail_platform.contracts import load_sources

    extra = (opts.contracts_dir,) if opts.contracts_dir else ()
    contracts = load_sources(extra)
    if opts.contracts_dir:
        for path in sorted(opts.contracts_dir.glob("*.yaml")):
            s3.upload_file(str(path), BUCKET_ENV["ARTIFACTS_BUCKET"], f"contracts/{path.name}")
        stages.say(f"uploaded {len(list(opts.contracts_dir.glob('*.yaml')))} contract(s) to the artifacts bucket")
    if opts.source:
        stage_source(opts.source, opts.contract, contracts, raw_root, notify=stages.print)
        stages.say(f"staged {opts.source} for ingestion")
    if opts.sample or not opts.source:
        from retail_platform.sampledata import SMALL_PROFILE, generate

        params = dict(SMALL_PROFILE) if opts.small else {}
        manifest = generate(raw_root, seed=opts.seed, **params)
        shutil.copytree(raw_root / "_manifest", out / "sample-manifest", dirs_exist_ok=True)
        stages.say(f"generated sample exports (seed {opts.seed}): {manifest}")


def write_report(s3, pipeline: dict, ai_results: dict, summary: dict, opts, out: Path) -> dict:
    """report.html (also under the prod bucket's _reports/); returns the prod frames it read."""
    from retail_platform import s3io
    from retail_platform.local import report

    reports = [
        s3io.read_json(s3, BUCKET_ENV["CURATED_BUCKET"], o["report_key"])
        for o in pipeline["curation"]
        if o.get("report_key")
    ]
    from retail_platform.storage import PartitionedDataset, S3BlobStore

    prod = S3BlobStore(s3, BUCKET_ENV["PROD_BUCKET"])
    datasets = {name: PartitionedDataset(prod, name) for name in pipeline["prod"].get("prod_datasets", {})}
    objects = {name: len(dataset.keys()) for name, dataset in datasets.items()}
    prod_frames = {name: dataset.read() for name, dataset in datasets.items()}  # each object once, concurrently
    currency = report_currency(opts.reporting_currency, prod_frames)
    page = report.render(
        "Retail AI platform — local run",
        [
            report.quality_section(summary, pipeline["curation"], reports),
            report.prod_section(prod_frames, currency, objects),
            report.ai_section(ai_results),
        ],
    )
    (out / "report.html").write_text(page, encoding="utf-8")
    s3io.write_bytes(s3, BUCKET_ENV["PROD_BUCKET"], REPORT_KEY, page.encode(), "text/html")
    return prod_frames


def run_job(opts: argparse.Namespace, url: str, raw_root: Path, out: Path, stages: Stages) -> dict:
    """Raw files → raw bucket → pipeline → AI systems → report; what the summary shows."""
    import boto3

    from retail_platform.local import run

    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    stages.say(f"S3 endpoint up at {url}")
    with curation_pool(opts.workers) as curate:  # the pool's workers import the handler while the inputs are staged
        stages.start("stage inputs", None, "objects")
        stage_inputs(opts, s3, raw_root, out, stages)
        uploaded = run.upload_tree(s3, BUCKET_ENV["RAW_BUCKET"], raw_root)
        stages.advance("stage inputs", steps=len(uploaded))
        stages.finish("stage inputs")
        stages.say(f"uploaded {len(uploaded)} raw objects to s3://{BUCKET_ENV['RAW_BUCKET']}")
        pipeline = run.run_pipeline(s3, BUCKET_ENV["RAW_BUCKET"], uploaded, stages.say, stages, curate)
    ai_results = run.run_ai_systems(BUCKET_ENV["PROD_BUCKET"], pipeline["prod"], stages.say, stages, opts.workers)
    summary = run.summarise(pipeline)
    stages.start("report", None, "pages")
    prod_frames = write_report(s3, pipeline, ai_results, summary, opts, out)
    stages.advance("report")
    stages.finish("report")
    prod_rows = {name: len(frame) for name, frame in sorted(prod_frames.items())}
    run.write_json(
        out / "summary.json",
        {
            "summary": summary,
            "pipeline": pipeline,
            "ai_systems": ai_results,
            "stages": stages.timings(),
            "prod_rows": prod_rows,
        },
    )
    for name, rows in prod_rows.items():
        stages.say(f"  prod {name}: {rows:,} rows")
    if opts.export:
        count = export_buckets(s3, opts.export)
        stages.say(f"exported {count} objects to {opts.export}/<bucket>/<key>")
    return {"summary": summary, "prod_rows": prod_rows, "failed": run.failed_systems(ai_results), "ai": ai_results}


def summary_view(outcome: dict, stages: Stages, out: Path, opts: argparse.Namespace) -> Group:
    """One screen: the stage table, rows in/curated/quarantined, prod sizes, failures, where the outputs are."""
    totals = outcome["summary"]["totals"]
    lines = [
        summary_table(stages),
        f"{totals['rows_in']:,} rows in, {totals['rows_curated']:,} curated, {totals['rows_quarantined']:,} "
        f"quarantined; conservation {'holds' if totals['conservation_ok'] else '[red]BROKEN[/red]'}",
        "prod: " + ", ".join(f"{name} {rows:,}" for name, rows in outcome["prod_rows"].items()),
    ]
    for name in outcome["failed"]:
        for error in outcome["ai"][name]["errors"][:3]:
            lines.append(f"[red]{name} failed[/red] on {error['event']}: {escape(error['error'][:160])}")
    lines.append(f"report: {out / 'report.html'}  (also s3://{BUCKET_ENV['PROD_BUCKET']}/{REPORT_KEY})")
    lines.append(f"log:    {out / RUN_LOG}  (functions' logs and metrics, warnings, tracebacks)")
    if opts.export:
        lines.append(f"export: {opts.export}/<bucket>/<key>")
    return Group(*lines)


def main(argv: list[str] | None = None) -> int:
    opts = build_parser().parse_args(argv)
    out = opts.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    host = "0.0.0.0" if opts.keep_running else "127.0.0.1"  # noqa: S104 - containers reach it only when asked
    port = opts.port or (5055 if opts.keep_running else None)
    env_file = out / ENV_VARS_FILE
    env_file.unlink(missing_ok=True)  # an old run's file would point `sam local invoke` at a stopped endpoint
    log_path = out / RUN_LOG
    log_path.write_text("", encoding="utf-8")  # this run's log only
    with (
        output_to_log(log_path) as terminal,
        tempfile.TemporaryDirectory(prefix="retail-raw-") as tmp,
        s3_endpoint(host, port, opts.reporting_currency) as url,
    ):
        console = Console(file=terminal, highlight=False, width=None if terminal.isatty() else 120)
        with Stages(console) as stages:
            outcome = run_job(opts, url, Path(tmp), out, stages)
        console.print(summary_view(outcome, stages, out, opts))
        if opts.keep_running:
            console.print(f"endpoint stays up at {url}; sam local invoke ... --env-vars {opts.out / ENV_VARS_FILE}")
            console.print("Ctrl-C stops")
            env_vars_file(env_file, int(url.rsplit(":", 1)[1]), opts.reporting_currency)  # last: the run is over
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops it as cleanly as Ctrl-C
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
            finally:
                env_file.unlink(missing_ok=True)
    return 0 if outcome["summary"]["totals"]["conservation_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
