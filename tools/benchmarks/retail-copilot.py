"""Benchmark of retail-copilot: accuracy on the question bank vs a keyword baseline, latency, init, memory, image.

    .venv/bin/python tools/benchmarks/retail-copilot.py            # everything (~10 min: runs the pipeline twice)
    .venv/bin/python tools/benchmarks/retail-copilot.py --quick    # generated frames only, no pipeline runs
    .venv/bin/python tools/benchmarks/retail-copilot.py --parts latency,import   # only those parts (one pipeline run)

Data: (1) seeded generated prod frames (tests/unit/retail_copilot/synthetic.py); (2) the platform's sample
generator (SMALL profile, seed 7) through raw-to-curated and curated-to-prod; (3) the UCI Online Retail sample
(tests/data/online-retail) through the same handlers with an ECB-shaped FX file at a fixed test rate.
Ground truth: plain pandas (tests/unit/retail_copilot/copilot_bank.py). Latency: warm, in-process, through the
handler's HTTP routes against the embedded moto endpoint (S3 + DynamoDB), wall time and CPU time (the machine is
shared: CPU time is the figure load does not inflate; "handler CPU" is the calling thread's, without the in-process
moto server's threads). Init and peak memory: a fresh Python process importing the handler and answering the bank.
Writes the printed figures to docs/benchmarks/retail-copilot.md (with --parts, only the parts run are written).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "ai-systems" / "retail-copilot" / "src")]

import boto3  # noqa: E402
import pandas as pd  # noqa: E402
from bench_figures import Figures  # noqa: E402  (tools/benchmarks, this script's folder)
from retail_copilot.copilot import Copilot  # noqa: E402
from retail_copilot.store import Snapshot  # noqa: E402

from tests.unit.retail_copilot.copilot_bank import build_bank, score  # noqa: E402
from tests.unit.retail_copilot.synthetic import make_frames  # noqa: E402

RAW, PROD, ARTIFACTS, CURATED = "local-raw", "local-prod", "local-artifacts", "local-curated"
LINES: list[str] = []
FIG = Figures("retail-copilot")


def say(line: str = "") -> None:
    print(line, flush=True)
    LINES.append(line)


# ---------------------------------------------------------------------- baseline


class KeywordBaseline:
    """What a copilot without a planner does: finds the metric word and sums it over all the data."""

    def __init__(self, mart: pd.DataFrame, kpis: pd.DataFrame) -> None:
        self.mart, self.kpis = mart, kpis

    def ask(self, question: str, session: str | None = None) -> dict:
        text = question.lower()
        if "unit" in text:
            value = float(self.mart["units"].sum())
        elif "order" in text:
            value = float(self.kpis["orders"].sum())
        else:
            value = float(self.mart["revenue_reporting"].sum())
        return {"status": "answered", "value": round(value, 2), "answer": "", "details": {}, "table": None}


def quality(name: str, mart: pd.DataFrame, kpis: pd.DataFrame, ask=None, catalog=None) -> None:
    copilot = Copilot(Snapshot(mart, kpis, None, "benchmark"))
    cases = build_bank(mart, kpis, catalog or copilot.catalog)
    result = score(ask or copilot.ask, cases)
    baseline = score(KeywordBaseline(mart, kpis).ask, cases)
    say(f"### {name}")
    say("")
    say(
        f"{len(mart):,} copilot_mart rows, {mart['date'].min().date()} to {mart['date'].max().date()}, "
        f"{len(cases)} questions."
    )
    say("")
    say("| intent | questions | copilot exact | keyword baseline exact |")
    say("|---|---|---|---|")
    for intent, (ok, total) in sorted(result.by_intent.items()):
        base_ok = baseline.by_intent.get(intent, [0, total])[0]
        say(f"| {intent} | {total} | {ok} ({100 * ok / total:.0f}%) | {base_ok} ({100 * base_ok / total:.0f}%) |")
    say(
        f"| **all** | {result.total} | **{result.correct} ({100 * result.accuracy:.1f}%)** | "
        f"{baseline.correct} ({100 * baseline.accuracy:.1f}%) |"
    )
    say("")
    say(f"Honest refusals: {result.refusals_correct}/{result.refusals_total} ({100 * result.refusal_rate:.0f}%).")
    key = name.split()[0].lower()  # generated | sample | uci
    FIG.quality(f"accuracy_{key}", name, "exact answers", result.accuracy, "keyword baseline", baseline.accuracy)
    FIG.quality(f"refusals_{key}", name, "honest refusals", result.refusal_rate)
    for question, expected, got in result.failures[:5]:
        say(f"- miss: {question!r}: expected {str(expected)[:80]}, got {str(got)[:120]!r}")
    say("")


# ---------------------------------------------------------------------- pipeline data


def fx_csv(first: str, last: str, rate: float = 0.85) -> bytes:
    rows = ["KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE"]
    rows += [
        f"EXR.D.GBP.EUR.SP00.A,D,GBP,EUR,SP00,A,{d.date().isoformat()},{rate:.5f}" for d in pd.bdate_range(first, last)
    ]
    return ("\n".join(rows) + "\n").encode()


def clear(s3) -> None:
    from retail_platform import s3io

    for bucket in (RAW, CURATED, PROD, ARTIFACTS):
        s3io.delete_keys(s3, bucket, list(s3io.list_keys(s3, bucket, "")))


def run_pipeline(s3, uploads: list[tuple[str, int]]) -> None:
    from retail_platform.local import run

    run.run_pipeline(s3, RAW, uploads, lambda _: None)


def read_prod(s3) -> tuple[pd.DataFrame, pd.DataFrame]:
    from retail_platform import s3io

    return s3io.read_parquet_prefix(s3, PROD, "copilot_mart/"), s3io.read_parquet_prefix(s3, PROD, "country_kpis/")


def upload_sample(s3) -> list[tuple[str, int]]:
    from retail_platform.local import run
    from retail_platform.sampledata import SMALL_PROFILE, generate

    folder = Path(tempfile.mkdtemp(prefix="copilot-bench-"))
    generate(folder, seed=7, **SMALL_PROFILE)
    return run.upload_tree(s3, RAW, folder)


def upload_uci(s3) -> list[tuple[str, int]]:
    csv = ROOT / "tests" / "data" / "online-retail" / "online_retail_sample.csv"
    s3.upload_file(str(csv), RAW, "uci-online-retail/online_retail_sample.csv")
    fx = fx_csv("2010-11-22", "2011-12-09")
    s3.put_object(Bucket=RAW, Key="sample/fx_rates/fx_rates-2011.csv", Body=fx)
    return [
        ("sample/fx_rates/fx_rates-2011.csv", len(fx)),
        ("uci-online-retail/online_retail_sample.csv", csv.stat().st_size),
    ]


# ---------------------------------------------------------------------- latency through the handler


def http_event(method: str, path: str, route: str, body: dict | None = None) -> dict:
    event = json.loads((ROOT / "events" / "retail-copilot" / "http-post-copilot-ask.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
    event["body"] = json.dumps(body) if body is not None else None
    event["pathParameters"] = {"session_id": path.rsplit("/", 1)[-1]} if "{" in route else None
    return event


def snapshot(_s3) -> None:
    """The batch path once, so that a fresh process finds a current snapshot version."""
    from retail_platform.local.functions import by_name, load_handler
    from retail_platform.local.run import LocalContext

    module = load_handler(by_name("retail-copilot"))
    module.lambda_handler({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, LocalContext("b"))


def latency(questions: list[str]) -> None:
    from retail_platform.local.functions import by_name, load_handler
    from retail_platform.local.run import LocalContext

    module = load_handler(by_name("retail-copilot"))
    ctx = LocalContext("retail-copilot")
    module.lambda_handler({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, ctx)
    routes = {
        "POST /copilot/ask": [
            http_event("POST", "/copilot/ask", "/copilot/ask", {"question": q, "session_id": "bench"})
            for q in questions
        ],
        "GET /copilot/sessions/{session_id}": [
            http_event("GET", "/copilot/sessions/bench", "/copilot/sessions/{session_id}")
        ]
        * 100,
    }
    module.lambda_handler(routes["POST /copilot/ask"][0], ctx)  # warm: snapshot loaded
    say("| route | requests | p50 ms | p99 ms | CPU ms per request (process) | handler CPU ms (calling thread) |")
    say("|---|---|---|---|---|---|")
    for route, events in routes.items():
        timings, cpu, thread_cpu = [], [], []
        for event in events:
            started, started_cpu, started_thread = time.perf_counter(), time.process_time(), time.thread_time()
            response = module.lambda_handler(event, ctx)
            timings.append(1000 * (time.perf_counter() - started))
            cpu.append(1000 * (time.process_time() - started_cpu))
            thread_cpu.append(1000 * (time.thread_time() - started_thread))
            assert response["statusCode"] == 200, response
        timings.sort()
        p99 = timings[min(len(timings) - 1, int(0.99 * len(timings)))]
        say(
            f"| {route} | {len(timings)} | {statistics.median(timings):.1f} | {p99:.1f} | "
            f"p50 {statistics.median(cpu):.1f}, mean {statistics.mean(cpu):.1f} | "
            f"p50 {statistics.median(thread_cpu):.1f}, mean {statistics.mean(thread_cpu):.1f} |"
        )
        FIG.route(route, statistics.median(timings), p99, len(timings))
        FIG.data["routes"][route].update(
            cpu_p50_ms=round(statistics.median(cpu), 2), handler_cpu_p50_ms=round(statistics.median(thread_cpu), 2)
        )
    say("")


def engine_latency(mart: pd.DataFrame, kpis: pd.DataFrame, questions: list[str]) -> None:
    copilot = Copilot(Snapshot(mart, kpis, None, "benchmark"))
    copilot.ask(questions[0])
    timings, cpu = [], []
    for question in questions:
        started, started_cpu = time.perf_counter(), time.thread_time()
        copilot.ask(question)
        timings.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.thread_time() - started_cpu))
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(0.99 * len(timings)))]
    say(
        "Domain core alone (parse + plan + SQL on DuckDB, sessions in memory): "
        f"p50 {statistics.median(timings):.1f} ms, p99 {p99:.1f} ms, CPU p50 {statistics.median(cpu):.1f} ms "
        f"over {len(timings)} questions."
    )
    FIG.set(core_p50_ms=statistics.median(timings), core_p99_ms=p99, core_cpu_p50_ms=statistics.median(cpu))
    say("")


# Prepended to INIT_SCRIPT for the "as in the image" runs: the venv holds packages the image does not install (moto's
# and the tests' dependencies); some of them change what the image's libraries import (botocore imports pyOpenSSL and
# cryptography, and signs with awscrt, when they are installed). Those packages are hidden from that process.
IMAGE_PRELUDE = r"""
import importlib.abc, importlib.metadata as md, re, sys
def _closure(requirements):
    seen, todo = set(), list(requirements)
    while todo:
        name = re.split(r"[\[<>=!~; ]", todo.pop().strip(), maxsplit=1)[0].lower().replace("_", "-")
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        todo += [r for r in dist.requires or [] if "extra ==" not in r or "tracer" in r]
    return seen
_keep = _closure([l for l in open(sys.argv[4]) if l.strip() and not l.startswith("#")])
_hidden = {m for m, dists in md.packages_distributions().items()
           if m != "retail_platform" and not any(d.lower().replace("_", "-") in _keep for d in dists)}
class _NotInImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _hidden:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the image)", name=name)
sys.meta_path.insert(0, _NotInImage())
"""

INIT_SCRIPT = r"""
import json, resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
sys.path[:0] = [sys.argv[1]]
import handler
t1, c1 = time.perf_counter(), time.process_time()
from retail_platform.local.run import LocalContext
event = json.loads(open(sys.argv[2]).read())
r = handler.lambda_handler(event, LocalContext("retail-copilot"))
t2, c2 = time.perf_counter(), time.process_time()
questions = json.loads(open(sys.argv[3]).read())
for q in questions:
    event["body"] = json.dumps({"question": q})
    handler.lambda_handler(event, LocalContext("retail-copilot"))
print(json.dumps({"import_s": t1 - t0, "first_request_s": t2 - t1, "status": r["statusCode"],
                  "import_cpu_s": c1 - c0, "first_request_cpu_s": c2 - c1,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def init_runs(questions: list[str], image_like: bool, n: int = 3) -> list[dict]:
    """n fresh processes: import the handler, answer one question (cold), then the bank (warm)."""
    with tempfile.TemporaryDirectory() as tmp:
        script, qfile = Path(tmp) / "init.py", Path(tmp) / "q.json"
        script.write_text((IMAGE_PRELUDE if image_like else "") + INIT_SCRIPT)
        qfile.write_text(json.dumps(questions))
        event = ROOT / "events" / "retail-copilot" / "http-post-copilot-ask.json"
        src = ROOT / "ai-systems" / "retail-copilot" / "src"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "shared")}
        if image_like:  # what the Lambda runtime sets: Powertools' Tracer and the X-Ray SDK run as on Lambda
            trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            env.update(LAMBDA_TASK_ROOT=str(src), AWS_LAMBDA_FUNCTION_NAME="retail-copilot", _X_AMZN_TRACE_ID=trace)
        runs = []
        for _ in range(n):
            out = subprocess.run(
                [sys.executable, str(script), str(src), str(event), str(qfile), str(src.parent / "requirements.txt")],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def init_and_memory(questions: list[str]) -> None:
    runs = init_runs(questions, image_like=False)
    image = init_runs(questions, image_like=True)
    best = min(runs, key=lambda r: r["import_s"])
    reference = subprocess.run(
        [sys.executable, "-c", "import time; t = time.perf_counter(); import pandas; print(time.perf_counter() - t)"],
        capture_output=True,
        text=True,
        check=True,
    )
    pandas_ms = 1000 * float(reference.stdout)
    say(f"Reference on this machine at the same time: `import pandas` alone took {pandas_ms:.0f} ms.")
    say(
        f"Import of the handler (fresh process, best of 3): {1000 * best['import_s']:.0f} ms; first request "
        "(loads the current snapshot from S3, builds the catalogue, answers): "
        f"{1000 * best['first_request_s']:.0f} ms; "
        f"import + init: {1000 * (best['import_s'] + best['first_request_s']):.0f} ms."
    )
    cpu = min(runs, key=lambda r: r["import_cpu_s"] + r["first_request_cpu_s"])
    say(
        f"CPU time of that process (best of 3; the moto endpoint runs in the benchmark's process, not in it): "
        f"import {1000 * cpu['import_cpu_s']:.0f} ms, first request {1000 * cpu['first_request_cpu_s']:.0f} ms, "
        f"import + init {1000 * (cpu['import_cpu_s'] + cpu['first_request_cpu_s']):.0f} ms."
    )
    img = min(image, key=lambda r: r["import_cpu_s"] + r["first_request_cpu_s"])
    img_wall = min(image, key=lambda r: r["import_s"] + r["first_request_s"])
    say(
        "As in the image (Lambda runtime variables set, so the X-Ray SDK and Powertools' Tracer run as on Lambda; "
        "packages the image does not install hidden): CPU import "
        f"{1000 * img['import_cpu_s']:.0f} ms + first request {1000 * img['first_request_cpu_s']:.0f} ms = "
        f"{1000 * (img['import_cpu_s'] + img['first_request_cpu_s']):.0f} ms; wall "
        f"{1000 * (img_wall['import_s'] + img_wall['first_request_s']):.0f} ms (best of 3)."
    )
    say(f"Peak memory (RSS) after answering {len(questions)} questions: {max(r['peak_mb'] for r in runs):.0f} MB.")
    FIG.set(
        import_s=best["import_s"],
        import_init_s=best["import_s"] + best["first_request_s"],
        import_cpu_s=cpu["import_cpu_s"],
        import_init_cpu_s=cpu["import_cpu_s"] + cpu["first_request_cpu_s"],
        image_like_import_init_cpu_s=img["import_cpu_s"] + img["first_request_cpu_s"],
        image_like_import_init_s=img_wall["import_s"] + img_wall["first_request_s"],
        peak_rss_mb=max(r["peak_mb"] for r in runs),
    )
    say("")


def image_size() -> None:
    env = {**os.environ, "CONTAINER_HOST": "unix:///run/podman/podman.sock"}
    sizes = {}
    for tag in ("retailcopilotfunction:python3.11-v1", "public.ecr.aws/lambda/python:3.11"):
        proc = subprocess.run(
            ["podman", "--remote", "image", "inspect", tag, "--format", "{{.Size}}"],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode == 0 and proc.stdout.strip().isdigit():
            sizes[tag] = int(proc.stdout.strip()) / 1e6
    if "retailcopilotfunction:python3.11-v1" in sizes:
        line = f"Image retailcopilotfunction:python3.11-v1: {sizes['retailcopilotfunction:python3.11-v1']:.0f} MB"
        if "public.ecr.aws/lambda/python:3.11" in sizes:
            line += f" (base image here: {sizes['public.ecr.aws/lambda/python:3.11']:.0f} MB, the local stand-in)"
        say(line + ".")
        FIG.set(image_tag="retailcopilotfunction:python3.11-v1", image_mb=sizes["retailcopilotfunction:python3.11-v1"])
    else:
        say("Image size: not measured (image not built here; run sam build first).")
    say("")


PARTS = ("accuracy", "realdata", "latency", "import", "image")


def real_exports() -> None:
    """The real-export bank (tests/unit/retail_copilot/real_bank.py): golden answers from the raw files."""
    from tests.unit.retail_copilot.real_bank import (
        superstore_cases,
        superstore_frames,
        superstore_raw,
        uci_cases,
        uci_frames,
        uci_raw,
    )

    say("| export | questions | copilot exact | keyword baseline exact | honest refusals | median / p99 ms |")
    say("|---|---|---|---|---|---|")
    intents: dict[str, list[int]] = {}
    for name, raw, frames, bank in (
        ("Tableau Superstore (3,383 lines, custom attributes)", superstore_raw(), superstore_frames, superstore_cases),
        ("UCI Online Retail sample (2,702 curated lines)", uci_raw(), uci_frames, uci_cases),
    ):
        mart, kpis, orders = frames(raw)
        copilot = Copilot(Snapshot(mart, kpis, None, "benchmark", orders=orders))
        cases = bank(raw)
        timings: list[float] = []

        def timed(question: str, session: str | None, copilot=copilot, timings=timings) -> dict:
            started = time.perf_counter()
            answer = copilot.ask(question, session)
            timings.append(1000 * (time.perf_counter() - started))
            return answer

        result = score(timed, cases)
        baseline = score(KeywordBaseline(mart, kpis).ask, cases)
        for intent, (ok, total) in result.by_intent.items():
            tally = intents.setdefault(intent, [0, 0])
            tally[0], tally[1] = tally[0] + ok, tally[1] + total
        p99 = sorted(timings)[min(len(timings) - 1, int(0.99 * len(timings)))]
        say(
            f"| {name} | {result.total} | **{result.correct} ({100 * result.accuracy:.1f}%)** | "
            f"{baseline.correct} ({100 * baseline.accuracy:.1f}%) | {result.refusals_correct}/{result.refusals_total} "
            f"| {statistics.median(timings):.1f} / {p99:.1f} |"
        )
        key = "superstore" if "Superstore" in name else "uci_real"
        FIG.quality(f"accuracy_{key}", name, "exact answers", result.accuracy, "keyword baseline", baseline.accuracy)
        for question, expected, got in result.failures[:5]:
            say(f"- miss: {question!r}: expected {str(expected)[:80]}, got {str(got)[:120]!r}")
    say("")
    say("Per kind of question (both exports): " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(intents.items())))
    say("")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="generated frames only: no pipeline runs")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (default: all); latency and import on Online Retail "
        "need one pipeline run unless --quick",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "retail-copilot.md")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts or parts - set(PARTS):
        parser.error(f"--parts: choose from {', '.join(PARTS)}")
    command = "tools/benchmarks/retail-copilot.py" + (" --quick" if args.quick else "")
    if parts != set(PARTS):
        command += f" --parts {','.join(p for p in PARTS if p in parts)}"
    FIG.data["command"] = f"python {command}"
    say("# retail-copilot benchmark")
    say("")
    say(
        f"Measured by `{command}` on "
        f"{time.strftime('%Y-%m-%d %H:%M')}; 1-minute load average of this shared machine at the start: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other sessions build and test at the same time)."
    )
    say("")
    mart, kpis = make_frames(seed=7)
    if "accuracy" in parts:
        say("## Accuracy on the question bank (ground truth: plain pandas)")
        say("")
        quality("Generated frames (seed 7, 200 days, 4 countries, 17 SKUs)", mart, kpis)
    if "realdata" in parts:
        say("## Accuracy on real exports (distinct counts, group-bys, attributes, profit; pandas on the raw file)")
        say("")
        real_exports()
    questions = [c.question for c in build_bank(mart, kpis, Copilot(Snapshot(mart, kpis, None, "b")).catalog)]

    from retail_platform.local.endpoint import s3_endpoint

    with s3_endpoint() as url:
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        if not args.quick:
            if "accuracy" in parts:
                clear(s3)
                run_pipeline(s3, upload_sample(s3))
                quality("Sample generator (SMALL, seed 7) through the pipeline", *read_prod(s3))
            if parts & {"accuracy", "latency", "import"}:
                clear(s3)
                run_pipeline(s3, upload_uci(s3))
                uci_mart, uci_kpis = read_prod(s3)
                if "accuracy" in parts:
                    quality("UCI Online Retail sample through the pipeline", uci_mart, uci_kpis)
                questions = [
                    c.question
                    for c in build_bank(uci_mart, uci_kpis, Copilot(Snapshot(uci_mart, uci_kpis, None, "b")).catalog)
                ]
        else:
            from retail_platform import s3io

            for dataset, frame in (("copilot_mart", mart), ("country_kpis", kpis)):
                for day, part in frame.groupby("date"):
                    s3io.write_parquet(s3, PROD, f"{dataset}/date={day.date().isoformat()}/part-0.parquet", part)
        if "latency" in parts:
            say(
                "## Latency (warm, one request at a time, through the handler; "
                "S3 + DynamoDB on the local moto endpoint)"
            )
            say("")
            latency(questions)
            engine_latency(*read_prod(s3), questions)
        if "import" in parts:
            if "latency" not in parts:
                snapshot(s3)
            say("## Import, init and memory")
            say("")
            init_and_memory(questions)
    if "image" in parts:
        say("## Image")
        say("")
        image_size()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = [re.sub(r"\s+$", "", line) for line in LINES]
    partial = parts != set(PARTS) and args.out.exists()
    args.out.write_text("\n".join(merge_sections(args.out.read_text(), lines) if partial else lines) + "\n")
    print(f"wrote {args.out}")
    previous = args.out.with_suffix(".json")
    old = json.loads(previous.read_text()) if partial and previous.exists() else None
    FIG.write(args.out)
    if old is not None:  # the parts not run keep their figures
        merged = {**old, **{k: v for k, v in FIG.data.items() if k not in ("routes", "quality")}}
        merged["routes"] = {**old.get("routes", {}), **FIG.data["routes"]}
        new_ids = {q["id"] for q in FIG.data["quality"]}
        merged["quality"] = [q for q in old.get("quality", []) if q["id"] not in new_ids] + FIG.data["quality"]
        merged["parts"] = sorted(parts)
        merged["other_parts_measured_at"] = old.get("other_parts_measured_at", old.get("measured_at"))
        merged.pop("source", None)
        previous.write_text(json.dumps(merged, indent=2) + "\n")
    return 0


# "## Performance notes" is written by hand (profiles, before/after of a change): partial runs keep it.
SECTION_OF = {
    "## Accuracy on real exports": "realdata",
    "## Accuracy": "accuracy",
    "## Latency": "latency",
    "## Import": "import",
    "## Performance notes": "notes",
    "## Image": "image",
}


def merge_sections(existing: str, new: list[str]) -> list[str]:
    """The existing report with the sections of the parts just run replaced (the others keep their figures)."""

    def split(lines: list[str]) -> tuple[list[str], dict[str, list[str]]]:
        head: list[str] = []
        sections: dict[str, list[str]] = {}
        current = None
        for line in lines:
            key = next((v for k, v in SECTION_OF.items() if line.startswith(k)), None)
            if key is not None:
                current = key
                sections[current] = []
            if current is None:
                head.append(line)
            else:
                sections[current].append(line)
        return head, sections

    old_head, old_sections = split(existing.rstrip("\n").split("\n"))
    new_head, new_sections = split(new)
    stamp = next((line for line in new_head if line.startswith("Measured by")), "")
    for key, lines in new_sections.items():
        heading, *body = lines
        body = [*body, ""] if not body or body[-1] else body
        old_sections[key] = [heading, "", f"_{stamp}_", *body]
    ordered = [old_sections[k] for k in SECTION_OF.values() if k in old_sections]
    return old_head + [line for section in ordered for line in section]


if __name__ == "__main__":
    raise SystemExit(main())
