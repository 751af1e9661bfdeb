"""The README's `sam local invoke` recipe, run as written: every command of its code block, in order, in one shell.

The commands are read out of README.md (so the document and this test cannot drift) and run by one bash
process, as a user pastes them: the main job in the background with --keep-running, the wait for its
env.json, then every `sam local invoke` line with that one `--env-vars` file. The only liberty taken: the
README's plain `sam build` is the build the session's `sam_app` fixture already made (the same root template
into the same .aws-sam/build), so it is not run twice.

Each command must exit 0; each `sam local invoke` must answer, with no error document (`errorMessage`) and,
for an HTTP event, a status below 400.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness

README = harness.REPO_ROOT / "README.md"
SECTION = "### Invoking one function locally with `sam local invoke`"
ENV_FILE = harness.REPO_ROOT / "local-run" / "env.json"
TRANSCRIPT_DIR = ENV_FILE.parent  # the recipe's whole output lands beside its report (git-ignored)
ENDPOINT_PORT = 5055  # the main job's --keep-running default, which the recipe relies on
MARK = "@@readme-recipe"
MARK_STATUS = "readme_recipe_status"  # the one shell variable the wrapper adds
TIMEOUT_S = 5400


def recipe_commands() -> list[str]:
    """The command lines of the section's bash block (comment-only and blank lines left out)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    block = re.search(r"```bash\n(.*?)\n```", section, re.S)
    assert block, f"no ```bash block under {SECTION!r} in README.md"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def is_session_build(command: str) -> bool:
    """`sam build` of the root template into .aws-sam/build: what the sam_app fixture ran (it adds --parallel)."""
    words = shlex.split(command, comments=True)
    return words[:2] == ["sam", "build"] and set(words[2:]) <= {"--parallel"}


@dataclass
class Step:
    command: str
    status: int | None
    stdout: str
    stderr: str

    def responses(self) -> list[Any]:
        """The JSON documents on stdout: one per `sam local invoke` (its logs go to stderr)."""
        found, decoder = [], json.JSONDecoder()
        for line in self.stdout.splitlines():  # a loop of invokes prints `{...}{...}` (no newline after each)
            at = 0
            while at < len(line):
                if line[at] != "{":
                    at += 1
                    continue
                try:
                    document, at = decoder.raw_decode(line, at)
                except ValueError:
                    break
                found.append(document)
        return [r for r in found if isinstance(r, dict)]


def script(commands: list[str]) -> str:
    """The commands with a marker (and the command's exit status) around each, on stdout and on stderr.

    Each marker starts a line of its own: `sam local invoke` prints its response without a final newline.
    """
    lines = []
    for i, command in enumerate(commands):
        run = f"true  # {command} (the sam_app fixture built it)" if is_session_build(command) else command
        lines += [f'echo; echo "{MARK} {i} begin"; echo >&2; echo "{MARK} {i} begin" >&2', run]
        lines += [f'{MARK_STATUS}=$?; echo; echo "{MARK} {i} end ${MARK_STATUS}"; echo >&2; echo "{MARK} {i} end" >&2']
    return "\n".join(lines) + "\n"


def split_steps(commands: list[str], stdout: str, stderr: str) -> list[Step]:
    steps = []
    for i, command in enumerate(commands):
        out = re.search(rf"^{MARK} {i} begin\n(.*?)^{MARK} {i} end (\d+)$", stdout, re.S | re.M)
        err = re.search(rf"^{MARK} {i} begin\n(.*?)^{MARK} {i} end$", stderr, re.S | re.M)
        steps.append(
            Step(command, int(out.group(2)) if out else None, out.group(1) if out else "", err.group(1) if err else "")
        )
    return steps


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the recipe's process group (the background main job stops its endpoint cleanly), then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)


def test_every_event_file_is_invoked_by_the_recipe():
    block = "\n".join(recipe_commands())
    events = sorted(p.relative_to(harness.REPO_ROOT).as_posix() for p in (harness.REPO_ROOT / "events").rglob("*.json"))
    assert events and [e for e in events if e not in block] == []


def test_readme_recipe_runs_as_written(sam_app: harness.SamApp, tmp_path: Path) -> None:
    commands = recipe_commands()
    assert any(is_session_build(c) for c in commands), "the recipe's build is no longer the session's sam build"
    if not port_is_free(ENDPOINT_PORT):
        pytest.fail(f"port {ENDPOINT_PORT} is in use: the recipe's endpoint cannot start", pytrace=False)
    (tmp_path / "recipe.sh").write_text(script(commands))
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(  # bash running the README's own commands
            ["bash", str(tmp_path / "recipe.sh")],
            cwd=harness.REPO_ROOT,
            env=sam_app._env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # one process group: the background main job is stopped with it
        )
        try:
            proc.wait(timeout=TIMEOUT_S)
            env_file_while_up = ENV_FILE.exists()
        finally:
            stop_group(proc)
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    for name, text in (("stdout", stdout), ("stderr", stderr)):  # kept for a look after a failure
        (TRANSCRIPT_DIR / f"readme-recipe.{name}").write_text(text)
    steps = split_steps(commands, stdout, stderr)
    invokes = [s for s in steps if "sam local invoke" in s.command]
    harness.TRANSCRIPTS.extend((f"README recipe: {s.command[:120]}", s.stdout + "\n" + s.stderr) for s in invokes)
    env_file_after_stop = ENV_FILE.exists()

    failures = []
    for step in steps:
        if step.status != 0:
            failures.append(f"exit {step.status}: {step.command}\n{step.stderr[-3000:]}")
            continue
        if "sam local invoke" not in step.command:
            continue
        responses = step.responses()
        if not responses and ">" not in step.command:
            failures.append(f"no response: {step.command}\n{step.stderr[-3000:]}")
        for response in responses:
            if "errorMessage" in response or int(response.get("statusCode", 200)) >= 400:
                failures.append(f"{step.command}\n{json.dumps(response)[:1500]}\n{step.stderr[-3000:]}")
    assert not failures, "\n\n".join(failures)
    assert env_file_while_up and not env_file_after_stop  # env.json exists exactly while the endpoint is up
    invoked = sum(len(s.responses()) for s in invokes)
    assert invoked >= len(list((harness.REPO_ROOT / "events").rglob("*.json"))) - 1  # the plan's answer is in a file
