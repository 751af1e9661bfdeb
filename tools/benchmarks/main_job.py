"""Benchmark of the main job: `python3 dev.py demo` and `--small`, seconds per stage, into main-job.json.

    python tools/benchmarks/main_job.py                 # both runs (default first), then write the figures
    python tools/benchmarks/main_job.py --runs small    # only --small
    python tools/benchmarks/main_job.py --as-before     # record the runs as the "before" column

Each run is the main job as a user starts it (a fresh process, its own --out folder); the stage times are those
the main job itself records in summary.json ("stages"; each AI system's own wall time, and "AI systems (all)" for
them together), the total is the process's wall time after set-up, and the CPU seconds are those of the main job and
its worker processes. The load average before, during (mean and max of samples every 5 s) and after each run is
kept: on a shared machine it says how far the wall times are inflated; CPU seconds are the steadier figure.
The previous "before" figures stay in the JSON unless --as-before replaces them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "benchmarks" / "main-job.json"
RUNS = {"default": [], "small": ["--small"]}
LOAD_SAMPLE_SECONDS = 5


def load() -> float:
    return round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else -1.0


def children_cpu() -> float:
    """CPU seconds used so far by finished child processes (less sensitive to the machine's load than wall time)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ended(proc: subprocess.Popen, seconds: float) -> bool:
    """Wait up to `seconds` for the process; whether it has ended."""
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def run_main_job(name: str) -> dict:
    """One main-job run in a fresh interpreter; its wall time, the stages' seconds, prod rows, the load around it."""
    with tempfile.TemporaryDirectory(prefix=f"main-job-{name}-") as out:
        command = [sys.executable, "-m", "retail_platform.local", *RUNS[name], "--out", out]
        load_before = load()
        cpu_before = children_cpu()
        started = time.perf_counter()
        console = Path(out, "console.txt")  # a file, not a pipe: nobody reads a pipe while the job runs
        with console.open("w") as terminal:
            proc = subprocess.Popen(command, cwd=ROOT, stdout=terminal, stderr=terminal)
            samples = [load()]  # the load while it runs: how far the machine's other work inflates the wall time
            while not _ended(proc, LOAD_SAMPLE_SECONDS):
                samples.append(load())
        seconds = time.perf_counter() - started
        cpu = children_cpu() - cpu_before
        if proc.returncode != 0:
            log = Path(out, "run.log").read_text(errors="replace")[-3000:] if Path(out, "run.log").exists() else ""
            raise SystemExit(f"main job {name} failed ({proc.returncode}):\n{console.read_text()[-3000:]}{log}")
        summary = json.loads(Path(out, "summary.json").read_text())
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "command": " ".join(["python3 dev.py demo", *RUNS[name]]),
        "note": f"HEAD {head.stdout.strip() or '?'}; {cpu:.0f} s of CPU (user + system, the main job and its workers)",
        "cpu_seconds": round(cpu, 1),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(seconds, 1),
        "load_average": [load_before, load()],
        "load_average_during": {"mean": round(sum(samples) / len(samples), 1), "max": max(samples)},
        "workers": os.cpu_count(),
        "stages": summary.get("stages", {}),
        "prod_rows": summary.get("prod_rows", {}),
        "rows_in": summary["summary"]["totals"]["rows_in"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=["default", "small"])
    parser.add_argument("--as-before", action="store_true", help="store the runs as the 'before' figures")
    parser.add_argument("--json", type=Path, default=OUT)
    args = parser.parse_args(argv)
    figures = json.loads(args.json.read_text()) if args.json.is_file() else {}
    figures.update({"system": "main-job", "cpus": os.cpu_count(), "command": "python tools/benchmarks/main_job.py"})
    column = "before" if args.as_before else "now"
    for name in args.runs:
        print(f"main job {name} ...", flush=True)
        result = run_main_job(name)
        figures.setdefault(column, {})[name] = result
        print(f"  {result['seconds']} s, load {result['load_average']}: {result['stages']}", flush=True)
    figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    figures["load_average"] = max(
        max(r["load_average"]) for r in figures.get("now", {}).values() or [{"load_average": [0]}]
    )
    args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
