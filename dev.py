#!/usr/bin/env python3
"""One entry point for a fresh machine (Linux, macOS, Windows): sets itself up, then runs a task.

    python dev.py demo            # the main job: local S3 endpoint, sample data, every function, a report
    python dev.py demo --source path/to/online_retail.csv --contract uci-online-retail
    python dev.py test            # lint + unit + integration + e2e (built images)
    python dev.py test --tier unit
    python dev.py bench --compose-only   # docs/BENCHMARKS.md from the benchmarks' JSON figures (seconds)
    python dev.py bench               # re-run every benchmark first (hours on 2 cores), then compose

Standard library only: it creates `.venv` beside this file, installs the pinned requirements and the
shared package into it (again only when a requirements file changed), and re-runs the task inside it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements.sha256"
REQUIREMENT_FILES = ("requirements-runtime.txt", "requirements-dev.txt", "pyproject.toml")


def venv_python() -> Path:
    if platform.system() == "Windows":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in REQUIREMENT_FILES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def run(cmd: list[str], **kwargs) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kwargs)


def ensure_venv() -> Path:
    """Create or refresh .venv; a no-op when the requirements have not changed."""
    if sys.version_info[:2] != (3, 11):
        print(f"warning: Python 3.11 is what Lambda runs; this is {platform.python_version()}", flush=True)
    python = venv_python()
    wanted = requirements_digest()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    if not python.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check"]
    if run([*pip, "-q", "-r", "requirements-dev.txt"]) != 0:
        sys.exit("error: installing requirements-dev.txt failed (see pip's message above)")
    if run([*pip, "-q", "--no-deps", "-e", "."]) != 0:
        sys.exit("error: installing the shared package failed")
    STAMP.write_text(wanted)
    return python


def task_demo(python: Path, extra: list[str]) -> int:
    return run([python, "-m", "retail_platform.local", *extra])


def task_lint(python: Path) -> int:
    failures = 0
    failures += run([python, "-m", "ruff", "check", "."]) != 0
    failures += run([python, "-m", "ruff", "format", "--check", "."]) != 0
    failures += run([python, "tools/lint.py"]) != 0
    return 1 if failures else 0


def task_bench(python: Path, extra: list[str]) -> int:
    return run([python, "tools/benchmarks/report.py", *extra])


def task_test(python: Path, tier: str, pytest_args: list[str]) -> int:
    status = 0
    if tier in ("all", "lint"):
        status |= task_lint(python)
    # unit and integration spread over the cores, a test file per worker (module fixtures stay in one process;
    # each worker starts its own moto server). e2e stays serial: its tests share one moto server and the images.
    parallel = ["-n", "auto", "--dist", "loadfile"]
    tiers = {"unit": ["tests/unit", *parallel], "integration": ["tests/integration", *parallel], "e2e": ["tests/e2e"]}
    selected = ["unit", "integration", "e2e"] if tier == "all" else [tier] if tier in tiers else []
    for name in selected:
        code = run([python, "-m", "pytest", *tiers[name], *pytest_args])
        if code == 5:  # no tests collected in this tier: not a failure of the tier
            code = 0
        status |= code
    print("RESULT:", "all checks passed" if status == 0 else "some checks FAILED", flush=True)
    return status


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="task", required=True)
    sub.add_parser("setup", help="create/refresh .venv only")
    # demo's options (and its --help) belong to the main job itself: dev.py only passes them on
    demo = sub.add_parser("demo", help="run the main job locally (`demo --help` lists its options)", add_help=False)
    demo.add_argument("args", nargs=argparse.REMAINDER)
    test = sub.add_parser(
        "test",
        help="lint + all test tiers",
        description="Lint, then the unit, integration and e2e tiers (what CI runs). Arguments that dev.py does not "
        "know go to pytest, e.g. `python3 dev.py test --tier unit -k contracts -x`.",
    )
    test.add_argument(
        "--tier",
        choices=["all", "lint", "unit", "integration", "e2e"],
        default="all",
        help="run one tier only (default: all; lint = ruff, cfn-lint, sam validate, hadolint, actionlint, checkov)",
    )
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest (e.g. -k NAME, -x, -q)")
    sub.add_parser("lint", help="ruff, cfn-lint, sam validate --lint, hadolint, actionlint")
    bench = sub.add_parser("bench", help="regenerate docs/BENCHMARKS.md (--compose-only: no benchmark runs)")
    bench.add_argument("args", nargs=argparse.REMAINDER)
    # argparse hands a REMAINDER positional nothing that starts with "-" (`demo --small`, `test -k x`,
    # `bench --compose-only`): collect those here and pass them on to the task.
    opts, unknown = parser.parse_known_args(argv)
    passthrough = {"demo": "args", "bench": "args", "test": "pytest_args"}.get(opts.task)
    if unknown and not passthrough:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if passthrough:
        setattr(opts, passthrough, [*unknown, *getattr(opts, passthrough)])

    python = ensure_venv()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if opts.task == "setup":
        return 0
    if opts.task == "demo":
        return task_demo(python, opts.args)
    if opts.task == "lint":
        return task_lint(python)
    if opts.task == "bench":
        return task_bench(python, opts.args)
    return task_test(python, opts.tier, opts.pytest_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
