"""Worker processes of the main job: the functions run concurrently, as AWS runs them.

In AWS a Distributed Map invokes raw-to-curated on several raw objects at once, and EventBridge delivers each
ProdDatasetUpdated event to every AI system's function at the same time. Here:

* raw-to-curated runs on a pool of spawned worker processes, each a warm container: it imports the handler once
  (while the parent still stages the inputs) and then serves many objects;
* each AI system runs its events, in order, in a process of its own (its own container), at most `workers` systems
  at once, the longest first, and a system starts only once the systems whose outputs it reads have finished.

Workers are spawned, never forked (the handlers import PyTorch, TensorFlow and native thread pools), and they get the
parent's local settings (endpoint, buckets, credentials) as environment variables: the settings path the functions
use in Lambda. Their stdout and stderr are the parent's, so their logs land in run.log; their stage and progress
calls come back to the parent, which owns the bars and the run log's own lines.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, as_completed, wait
from contextlib import contextmanager
from typing import Any

from retail_platform.local import run
from retail_platform.local.console import Stages
from retail_platform.local.endpoint import CUSTOM_ENDPOINTS_VAR, local_environment
from retail_platform.local.functions import FunctionSpec, by_name, depends_on, load_handler

SPAWN = multiprocessing.get_context("spawn")
CURATION = "raw-to-curated"
# Longest first (seconds of the default demo, docs/benchmarks/main-job.json), so that no core idles at the end.
LONGEST_FIRST = (
    "market-intelligence-hub",
    "demand-insights-engine",
    "compliance-guardian",
    "retail-copilot",
    "global-market-pulse",
)
POLL_SECONDS = 0.2
Curate = Callable[[str, Sequence[tuple[str, int]]], Iterator[tuple[int, dict[str, Any], float]]]

_relay: Relay | None = None
_init_error: BaseException | None = None


def default_workers() -> int:
    """One worker per core: the main job's default."""
    return os.cpu_count() or 1


def worker_environment() -> dict[str, str]:
    """The parent's local settings that every worker must see (what the functions read through their settings)."""
    names = (*local_environment("").keys(), CUSTOM_ENDPOINTS_VAR)
    return {name: os.environ[name] for name in names if name in os.environ}


def scheduled(specs: Sequence[FunctionSpec]) -> list[FunctionSpec]:
    """The systems in start order: longest first; unknown names after the known ones, in their given order."""
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    return sorted(specs, key=lambda spec: rank.get(spec.name, len(rank)))


class Relay:
    """A worker's progress lines and stage calls, sent to the parent in order (a pipe written synchronously)."""

    METHODS = frozenset({"say", "start", "advance", "finish"})

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def __call__(self, message: str) -> None:
        self.queue.put(("say", (message,), {}))

    def start(self, *args: Any, **kwargs: Any) -> None:
        self.queue.put(("start", args, kwargs))

    def advance(self, *args: Any, **kwargs: Any) -> None:
        self.queue.put(("advance", args, kwargs))

    def finish(self, *args: Any, **kwargs: Any) -> None:
        self.queue.put(("finish", args, kwargs))


def replay(queue: Any, stages: Stages, progress: Callable[[str], None]) -> None:
    """Apply every relayed call waiting in the queue: progress lines (the run log), then the stages' bars."""
    while not queue.empty():
        method, args, kwargs = queue.get()
        if method == "say":
            progress(*args)
        elif method in Relay.METHODS:
            getattr(stages, method)(*args, **kwargs)


def _init_worker(environment: Mapping[str, str], queue: Any, warm: str | None) -> None:
    """A container's init: the local settings, then (for a pool) the handler's import, once per process."""
    global _relay, _init_error
    os.environ.update(environment)
    _relay = Relay(queue) if queue is not None else None
    if warm:
        try:
            load_handler(by_name(warm))
        except Exception as error:  # raised again by the first invocation, as Lambda reports an init error
            _init_error = error


def _pool(size: int, environment: Mapping[str, str], queue: Any, warm: str | None) -> ProcessPoolExecutor:
    """`size` spawned workers, each started by `_init_worker`."""
    return ProcessPoolExecutor(size, mp_context=SPAWN, initializer=_init_worker, initargs=(environment, queue, warm))


def _curate(raw_bucket: str, key: str, size: int) -> tuple[dict[str, Any], float]:
    if _init_error is not None:
        raise _init_error
    started = time.perf_counter()
    result = run.invoke(CURATION, run.object_created_event(raw_bucket, key, size))
    return result, time.perf_counter() - started


@contextmanager
def curation_pool(workers: int) -> Iterator[Curate]:
    """What curates the raw objects: in this process for 1 worker, else a pool warming up from now on.

    The callable yields (index in `uploaded`, the handler's result, seconds) as objects finish, the biggest
    started first; a handler's exception is raised again here and the objects not yet started are cancelled.
    """
    if workers <= 1:
        yield run.curate_here
        return
    environment = worker_environment()
    pool = _pool(workers, environment, None, CURATION)
    try:
        for _ in range(workers):  # start every worker now: their imports overlap the staging of the inputs
            pool.submit(time.sleep, 0)

        def curate(raw_bucket: str, uploaded: Sequence[tuple[str, int]]) -> Iterator[tuple[int, dict, float]]:
            biggest_first = sorted(range(len(uploaded)), key=lambda n: -uploaded[n][1])  # no big one left for last
            futures = {pool.submit(_curate, raw_bucket, *uploaded[n]): n for n in biggest_first}
            try:
                for future in as_completed(futures):
                    result, seconds = future.result()
                    yield futures[future], result, seconds
            finally:
                for future in futures:
                    future.cancel()

        yield curate
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_system(spec: FunctionSpec, prod_bucket: str, prod: dict[str, Any]) -> dict[str, Any]:
    assert _relay is not None, "a system's worker starts with a relay"
    return run.run_system(spec, prod_bucket, prod, _relay, _relay)  # type: ignore[arg-type]


def run_systems_concurrently(
    specs: Sequence[FunctionSpec],
    prod_bucket: str,
    prod: dict[str, Any],
    progress: Callable[[str], None],
    stages: Stages,
    workers: int,
    finished: Callable[[str, dict[str, Any]], None],
) -> None:
    """Every system in a process of its own, at most `workers` at once, each after the systems it reads.

    A system that raised is recorded by run_system (in its worker); a worker that died or whose result could not
    come back is recorded here as that system's failure. The others carry on in both cases. `finished` gets each
    system's name and result as it ends.
    """
    queue = SPAWN.SimpleQueue()
    environment = worker_environment()
    waiting = scheduled(specs)
    names = {spec.name for spec in specs}
    ended: set[str] = set()
    running: dict[Future, tuple[FunctionSpec, ProcessPoolExecutor, float]] = {}
    try:
        while waiting or running:
            for spec in list(waiting):
                if len(running) >= max(workers, 1):
                    break
                if depends_on(spec.name) & names - ended:
                    continue
                waiting.remove(spec)
                pool = _pool(1, environment, queue, None)
                running[pool.submit(_run_system, spec, prod_bucket, prod)] = (spec, pool, time.perf_counter())
            if not running:
                raise RuntimeError(f"systems wait for each other: {', '.join(s.name for s in waiting)}")
            done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            replay(queue, stages, progress)  # a finished worker wrote its last calls before its result was sent
            for future in done:
                spec, pool, started = running.pop(future)
                pool.shutdown(wait=True)
                ended.add(spec.name)
                finished(spec.name, _outcome(future, spec, stages, time.perf_counter() - started))
    finally:  # interrupted (Ctrl-C): nothing more starts, and no worker is left behind when they end
        for _, pool, _ in running.values():
            pool.shutdown(wait=False, cancel_futures=True)
    replay(queue, stages, progress)


def _outcome(future: Future, spec: FunctionSpec, stages: Stages, seconds: float) -> dict[str, Any]:
    """The system's result; a worker that died is that system's failure alone."""
    error = future.exception()
    if error is None:
        result = future.result()
        if spec.name in stages.results:
            stages.results[spec.name].seconds = result["seconds"]  # its own wall time, measured in its worker
        return result
    failure = run._failure(spec.name, "worker", error)
    if spec.name not in stages.results:
        stages.start(spec.name, None, "events")
    stages.finish(spec.name, "failed", note="worker died")
    return {
        "status": "failed",
        "seconds": round(seconds, 2),
        "outputs": [],
        "errors": [failure],
        "skipped": [],
        "report_html": None,
    }
