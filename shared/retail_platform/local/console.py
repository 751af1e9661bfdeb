"""What the main job shows on the terminal: one pinned progress bar per stage, then a one-screen summary.

Everything else the functions print (Powertools' JSON logs and EMF metric documents, library warnings, native
libraries' chatter, tracebacks) goes to `<out>/run.log`: the process's stdout and stderr are redirected there at
the file-descriptor level for the length of the run, and the console writes to a duplicate of the terminal.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table


@contextmanager
def output_to_log(log_path: Path) -> Iterator[IO[str]]:
    """Send fd 1 and 2 (and so every print, log line, warning and native write) to log_path; yield the terminal.

    On exit the descriptors are restored, so an exception raised out of the block reaches the terminal.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8", errors="replace")
    with open(log_path, "a", buffering=1, encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


@dataclass
class StageResult:
    """One stage's outcome for the summary and summary.json."""

    name: str
    seconds: float = 0.0
    done: int = 0
    total: int | None = None
    unit: str = ""
    rows: int | None = None
    status: str = "ran"


@dataclass
class Stages:
    """Tracks the main job's stages: live bars on a terminal; without one (CI, pipes) it only keeps the figures.

    `say` writes a timestamped line to the log (stdout, redirected by `output_to_log` in the main job).
    """

    console: Console | None = None
    results: dict[str, StageResult] = field(default_factory=dict)
    _progress: Progress | None = None
    _tasks: dict[str, TaskID] = field(default_factory=dict)
    _started: dict[str, float] = field(default_factory=dict)
    _clock: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        if self.console is not None and self.console.is_terminal:  # piped or captured: the summary only
            self._progress = Progress(
                TextColumn("[bold]{task.description:<24}"),
                BarColumn(bar_width=28),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]:<8}"),
                TextColumn("{task.fields[rows]:>14}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=self.console,
                refresh_per_second=4,
                redirect_stdout=False,  # rich would print the functions' output above the bars: it goes to run.log
                redirect_stderr=False,
            )

    def __enter__(self) -> Stages:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()

    def say(self, message: str) -> None:
        """A line for run.log (what the old console showed), with the seconds since the start."""
        print(f"[{time.perf_counter() - self._clock:7.1f}s] {message}", flush=True)

    def start(self, name: str, total: int | None, unit: str = "") -> None:
        """A stage begins: its bar appears (total None: no ETA until something is known)."""
        self._started[name] = time.perf_counter()
        self.results[name] = StageResult(name, total=total, unit=unit)
        if self._progress is not None:
            self._tasks[name] = self._progress.add_task(name, total=total, unit=unit, rows="", note="")

    def advance(self, name: str, steps: int = 1, rows: int | None = None, note: str = "") -> None:
        """Count `steps` done (events, objects) and `rows` more rows."""
        result = self.results[name]
        result.done += steps
        if rows is not None:
            result.rows = (result.rows or 0) + rows
        result.seconds = round(time.perf_counter() - self._started[name], 2)
        if self._progress is not None:
            rows_text = f"{result.rows:,} rows" if result.rows is not None else ""
            self._progress.update(self._tasks[name], advance=steps, rows=rows_text, note=note)

    def finish(self, name: str, status: str = "ran", rows: int | None = None, note: str = "") -> None:
        """A stage ends: the bar fills and stays on screen with its time."""
        result = self.results[name]
        result.seconds = round(time.perf_counter() - self._started[name], 2)
        result.status = status
        if rows is not None:
            result.rows = rows
        if self._progress is not None:
            task = self._tasks[name]
            total = result.total if result.total is not None else max(result.done, 1)  # unknown until now
            result.total = total
            rows_text = f"{result.rows:,} rows" if result.rows is not None else ""
            self._progress.update(task, total=total, completed=total, rows=rows_text, note=note or status)
            self._progress.stop_task(task)

    def print(self, *renderables: Any) -> None:
        """Something the user must read now (above the bars), also in run.log."""
        if self.console is not None:
            self.console.print(*renderables)
        for item in renderables:
            if isinstance(item, str):
                self.say(item)

    def timings(self) -> dict[str, float]:
        return {name: r.seconds for name, r in self.results.items()}


def summary_table(stages: Stages) -> Table:
    """The stages with time, work done and status, and the total wall time."""
    table = Table(title="Main job", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("done", justify="right")
    table.add_column("rows", justify="right")
    table.add_column("status")
    for result in stages.results.values():
        done = f"{result.done}/{result.total} {result.unit}" if result.total else ""
        style = "red" if result.status == "failed" else None
        rows = f"{result.rows:,}" if result.rows is not None else ""
        table.add_row(result.name, f"{result.seconds:.1f}", done, rows, result.status, style=style)
    table.add_row("total", f"{time.perf_counter() - stages._clock:.1f}", "", "", "", style="bold")
    return table
