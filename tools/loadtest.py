"""Bounded load test of the AI HTTP routes on loopback: concurrent requests per route, reporting requests,
throughput, p50/p99 latency, errors and memory (RSS) at start vs end.

Two modes (`--mode auto` picks container when a built app and a container engine are there):

* container: one container per concurrent worker and function, started from the images `sam build` made
  (the Lambda runtime interface emulator in each, as tests/e2e/harness.py runs them: read-only root, uid 1000),
  each request posted to a worker's own emulator, as Lambda gives each concurrent request its own execution
  environment; RSS is the containers' cgroup memory.
* inprocess: the handlers in this process (threads), against a moto server on loopback; RSS is this process's.

Every route in events/<system>/{http,api}-*.json is driven with its own event. The stores are seeded with
small hand-made stored results first (pulse serving documents, market forecasts and trends, demand forecasts,
advice and customer insights), so that the routes answer 200 rather than "not computed yet".

An error is a request that raised, a Lambda function error, a non-JSON body, a body with a stack trace or a 5xx
other than a 503 with a message (503 = the service says a model is not available: counted as `unavailable`).

    python tools/loadtest.py --mode inprocess --requests 60 --concurrency 4 [--json out.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS = REPO_ROOT / "events"
SYSTEMS = {  # folder -> the function's path in the built root template
    "compliance-guardian": "AiSystemsStack/ComplianceGuardianFunction",
    "demand-insights-engine": "AiSystemsStack/DemandInsightsEngineFunction",
    "market-intelligence-hub": "AiSystemsStack/MarketIntelligenceHubFunction",
    "retail-copilot": "AiSystemsStack/RetailCopilotFunction",
    "global-market-pulse": "AiSystemsStack/GlobalMarketPulseFunction",
}
BUCKETS = {
    "RAW_BUCKET": "local-raw",
    "CURATED_BUCKET": "local-curated",
    "PROD_BUCKET": "local-prod",
    "ARTIFACTS_BUCKET": "local-artifacts",
}
PROD, ARTIFACTS = BUCKETS["PROD_BUCKET"], BUCKETS["ARTIFACTS_BUCKET"]


@dataclass(frozen=True)
class Route:
    system: str
    case: str
    route_key: str
    event: dict[str, Any]


def routes(systems: list[str] | None = None) -> list[Route]:
    """Every HTTP event file of the AI systems (one Route per file)."""
    found = []
    for system in systems or list(SYSTEMS):
        for path in sorted((EVENTS / system).glob("*.json")):
            if not path.stem.startswith(("http-", "api-")):
                continue
            event = json.loads(path.read_text())
            found.append(Route(system, path.stem, event.get("routeKey", path.stem), event))
    return found


# --- stored results the routes answer from ---------------------------------------------------------------------


def seed(s3: Any) -> None:
    """Small hand-made stored results in prod/artifacts, in the layouts the serving paths read."""
    import io

    import pandas as pd

    def parquet(bucket: str, key: str, frame: pd.DataFrame) -> None:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())

    def put_json(bucket: str, key: str, payload: Any) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(payload).encode())

    # global-market-pulse: versioned serving documents + pointer
    countries = {}
    for i, code in enumerate(("GB", "DE", "FR", "NL", "IE")):
        countries[code] = {"country": code, "pulse": round(1.0 - i / 10, 2), "revenue_change": 0.05 * i}
    docs = {
        "as_of": "2011-12-09",
        "reporting_currency": "EUR",
        "summary": list(countries.values()),
        "countries": countries,
    }
    put_json(ARTIFACTS, "models/global-market-pulse/load-1/serving.json", docs)
    put_json(ARTIFACTS, "models/global-market-pulse/current.json", {"version": "load-1", "previous": []})
    # market-intelligence-hub: the latest forecasts and trends partitions
    steps = list(range(1, 9))
    forecasts = pd.DataFrame(
        {
            "category": "ALL",
            "country": "ALL",
            "series_id": "ALL|ALL",
            "step": steps,
            "ds": pd.date_range("2011-12-12", periods=len(steps), freq="W-MON"),
            "yhat": [100.0 + s for s in steps],
            "yhat_lower": [90.0 + s for s in steps],
            "yhat_upper": [110.0 + s for s in steps],
            "model": "ets",
            "members": "ets",
            "cv_mase": 0.9,
            "cv_mape": 0.1,
            "interval": 0.8,
            "model_version": "load-1",
            "as_of": "2011-12-05",
        }
    )
    parquet(PROD, "market_forecasts/date=2011-12-05/part-0.parquet", forecasts)
    trends = pd.DataFrame(
        {
            "category": ["ALL"],
            "country": ["ALL"],
            "direction": ["up"],
            "slope": [1.5],
            "changepoints": ["[]"],
            "anomalies": ["[]"],
            "summary": ["revenue is rising slowly"],
            "model_version": ["load-1"],
        }
    )
    parquet(PROD, "market_trends/date=2011-12-05/part-0.parquet", trends)
    # demand-insights-engine: forecasts, inventory advice and customer insights partitions
    horizon = list(range(1, 29))
    demand = pd.DataFrame(
        {
            "series_id": "SKU-10001|GB",
            "sku": "SKU-10001",
            "country": "GB",
            "target_date": pd.date_range("2024-01-01", periods=len(horizon)),
            "horizon": horizon,
            "mean": 10.0,
            "p10": 6.0,
            "p50": 10.0,
            "p90": 14.0,
            "origin_date": pd.Timestamp("2023-12-31"),
            "model_version": "load-1",
        }
    )
    parquet(PROD, "demand_forecasts/date=2023-12-31/part-0.parquet", demand)
    advice = pd.DataFrame(
        {
            "series_id": ["SKU-10001|GB"],
            "sku": ["SKU-10001"],
            "country": ["GB"],
            "reorder_point": [120.0],
            "safety_stock": [30.0],
            "model_version": ["load-1"],
        }
    )
    parquet(PROD, "inventory_advice/date=2023-12-31/part-0.parquet", advice)
    customers = pd.DataFrame(
        {"customer_id": ["10149"], "segment": ["loyal"], "churn_probability": [0.12], "model_version": ["load-1"]}
    )
    parquet(PROD, "customer_insights/date=2023-12-31/part-0.parquet", customers)
    # compliance-guardian: a small fraud model, so POST /fraud/score runs the real scoring path under load
    seed_fraud_model(s3)


def seed_fraud_model(s3: Any) -> None:
    """An XGBoost booster on the platform's feature list, fitted to random data: the load test measures the
    serving path (features, booster, reasons), not the model's quality."""
    src = str(REPO_ROOT / "ai-systems" / "compliance-guardian" / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import numpy as np
    import xgboost as xgb

    from compliance_guardian.fraud.features import FEATURES
    from compliance_guardian.fraud.model import FraudModel
    from compliance_guardian.store import ModelStore

    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, len(FEATURES)))
    y = (x[:, 0] + rng.normal(size=400) > 1.5).astype(int)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3, "seed": 7, "nthread": 1},
        xgb.DMatrix(x, label=y, feature_names=list(FEATURES)),
        num_boost_round=20,
    )
    model = FraudModel(booster, (1.0, 0.0), 0.5, {"version": "load-1", "features": list(FEATURES)})
    ModelStore(s3, ARTIFACTS, "fraud").save("load-1", model.to_files(), model.metadata)


# --- measuring --------------------------------------------------------------------------------------------------


@dataclass
class RouteReport:
    system: str
    route: str
    case: str
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    unavailable: int = 0
    error_examples: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)

        return {
            "system": self.system,
            "route": self.route,
            "case": self.case,
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(self.requests / self.seconds, 1) if self.seconds else None,
            "p50_ms": pct(50),
            "p99_ms": pct(99),
            "mean_ms": round(statistics.fmean(ordered), 1) if ordered else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=lambda kv: str(kv[0]))},
            "errors": self.errors,
            "unavailable": self.unavailable,
            "error_examples": self.error_examples[:3],
        }


def classify(response: Any) -> tuple[str, int | str]:
    """('ok' | 'unavailable' | 'error', status) of one Lambda response to an HTTP API event."""
    if not isinstance(response, dict) or "statusCode" not in response:
        return "error", "function-error"
    status = int(response["statusCode"])
    body = response.get("body") or ""
    if "Traceback (most recent call last)" in body:
        return "error", status
    try:
        json.loads(body)
    except ValueError:
        return "error", status
    if status == 503:
        return "unavailable", status
    return ("error" if status >= 500 else "ok"), status


def drive(
    route: Route, invoke: Callable[[int, dict], Any], requests: int, concurrency: int, *, warmup: int = 1
) -> RouteReport:
    """`requests` invocations of one route by `concurrency` workers (worker index passed to invoke)."""
    report = RouteReport(route.system, route.route_key, route.case)
    lock = threading.Lock()
    for worker in range(concurrency):  # cold starts and first loads are not what this measures
        for _ in range(warmup):
            invoke(worker, copy.deepcopy(route.event))
    counter = iter(range(requests))

    def work(worker: int) -> None:
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            started = time.perf_counter()
            try:
                response = invoke(worker, copy.deepcopy(route.event))
                outcome, status = classify(response)
            except Exception as e:  # a failed request is a measurement, not a crash
                outcome, status, response = "error", type(e).__name__, str(e)[:200]
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                report.requests += 1
                report.latencies_ms.append(elapsed)
                report.statuses[status] += 1
                if outcome == "error":
                    report.errors += 1
                    report.error_examples.append(str(response)[:300])
                elif outcome == "unavailable":
                    report.unavailable += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(work, w) for w in range(concurrency)]:
            future.result()
    report.seconds = time.perf_counter() - started
    return report


# --- in-process target ------------------------------------------------------------------------------------------


def process_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class InProcessTarget:
    """The handlers in this process, against a moto server on loopback."""

    name = "inprocess"

    def __init__(self) -> None:
        self._stack: Any = None
        self._handlers: dict[str, Any] = {}

    @contextmanager
    def running(self, _systems: list[str], _concurrency: int) -> Iterator[InProcessTarget]:
        sys.path.insert(0, str(REPO_ROOT / "shared"))
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # EMF lines would bury the report
        from retail_platform.local.endpoint import s3_endpoint

        with s3_endpoint() as url:
            import boto3

            seed(boto3.client("s3", endpoint_url=url, region_name="us-east-1"))
            yield self

    def handler(self, system: str) -> Any:
        if system not in self._handlers:
            from retail_platform.local.functions import by_name, load_handler

            self._handlers[system] = load_handler(by_name(system))
        return self._handlers[system]

    def invoker(self, system: str) -> Callable[[int, dict], Any]:
        from retail_platform.local.run import LocalContext

        module = self.handler(system)
        return lambda _worker, event: module.lambda_handler(event, LocalContext(system))

    def rss_mb(self, _system: str) -> float:
        return process_rss_mb()


# --- container target -------------------------------------------------------------------------------------------


class ContainerTarget:
    """`concurrency` emulator containers per function from the built images; each worker posts to its own."""

    name = "container"

    def __init__(self) -> None:
        sys.path.insert(0, str(REPO_ROOT))
        from tests.e2e import harness

        self.harness = harness
        self.runtime = harness.ensure_container_runtime()
        self.app = harness.SamApp(harness.REPO_ROOT, self.runtime)
        if not self.app.built_template.exists():
            raise harness.RuntimeUnavailableError("no built app: run `sam build` (or `python dev.py build`) first")
        self.moto: Any = None
        self.containers: dict[str, list[tuple[str, int]]] = {}

    def _cli(self, *args: str, check: bool = True) -> str:
        env = {**os.environ, **self.runtime.env()}
        proc = subprocess.run([self.runtime.cli, *args], capture_output=True, text=True, env=env, timeout=300)
        if check and proc.returncode != 0:
            raise self.harness.HarnessError(f"{self.runtime.cli} {' '.join(args)}: {proc.stderr[-2000:]}")
        return proc.stdout

    def _start(self, system: str) -> tuple[str, int]:
        h = self.harness
        port = h.free_port()
        env = {
            **h.FAKE_AWS_ENV,
            **BUCKETS,
            "ENVIRONMENT": "local",
            "EVENT_BUS_NAME": "default",
            "LOCAL_ENDPOINT_URL": self.moto.container_url,
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": "120",
        }
        args = ["run", "--detach", "--read-only", "--user", "1000:1000", "--tmpfs", "/tmp"]  # noqa: S108 - the container's /tmp, as Lambda has
        args += ["--publish", f"127.0.0.1:{port}:8080", *self.runtime.add_host_args()]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        args.append(self.app.image_tag(SYSTEMS[system]))
        container = self._cli(*args).strip().splitlines()[-1]
        return container, port

    @contextmanager
    def running(self, systems: list[str], concurrency: int) -> Iterator[ContainerTarget]:
        self.moto = self.harness.MotoServer().start()
        try:
            s3 = self.moto.client("s3")
            for bucket in BUCKETS.values():
                s3.create_bucket(Bucket=bucket)
            seed(s3)
            for system in systems:
                self.containers[system] = [self._start(system) for _ in range(concurrency)]
            yield self
        finally:
            for started in self.containers.values():
                for container, _port in started:
                    self._cli("rm", "--force", container, check=False)
            self.moto.stop()

    def invoker(self, system: str) -> Callable[[int, dict], Any]:
        started = self.containers[system]

        def invoke(worker: int, event: dict) -> Any:
            _container, port = started[worker % len(started)]
            url = f"http://127.0.0.1:{port}{self.harness.RIE_INVOKE_PATH}"
            return json.loads(self.harness._post_when_ready(url, json.dumps(event).encode(), 120, lambda: ""))

        return invoke

    def rss_mb(self, system: str) -> float:
        """Sum over the function's containers of their cgroup memory (cgroup v2, else v1)."""
        total = 0.0
        for container, _port in self.containers[system]:
            raw = self._cli(
                "exec",
                container,
                "sh",
                "-c",
                "cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes",
                check=False,
            ).strip()
            total += int(raw) / 2**20 if raw.isdigit() else float("nan")
        return total


# --- the run ----------------------------------------------------------------------------------------------------


def make_target(mode: str) -> Any:
    if mode == "inprocess":
        return InProcessTarget()
    if mode == "container":
        return ContainerTarget()
    try:
        return ContainerTarget()
    except Exception as e:  # auto: fall back to in-process with the reason
        print(f"container mode unavailable ({str(e).splitlines()[0][:200]}); running in-process", file=sys.stderr)
        return InProcessTarget()


def run(mode: str, requests: int, concurrency: int, systems: list[str] | None = None) -> dict[str, Any]:
    """Drive every route; per system RSS before the first and after the last of its routes."""
    chosen = routes(systems)
    names = sorted({r.system for r in chosen}, key=list(SYSTEMS).index)
    target = make_target(mode)
    reports, memory = [], {}
    started = time.perf_counter()
    with target.running(names, concurrency):
        for system in names:
            invoke = target.invoker(system)
            mine = [r for r in chosen if r.system == system]
            for route in mine:  # warm every route once before the start reading: cold loads are not growth
                for worker in range(concurrency):
                    invoke(worker, copy.deepcopy(route.event))
            before = target.rss_mb(system)
            for route in mine:
                reports.append(drive(route, invoke, requests, concurrency, warmup=0).summary())
            after = target.rss_mb(system)
            memory[system] = {
                "rss_start_mb": round(before, 1),
                "rss_end_mb": round(after, 1),
                "growth_mb": round(after - before, 1),
            }
    return {
        "mode": target.name,
        "requests_per_route": requests,
        "concurrency": concurrency,
        "seconds": round(time.perf_counter() - started, 1),
        "routes": reports,
        "memory": memory,
        "errors": sum(r["errors"] for r in reports),
        "requests": sum(r["requests"] for r in reports),
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"mode `{result['mode']}`, {result['requests_per_route']} requests per route, concurrency "
        f"{result['concurrency']}, {result['requests']} requests in {result['seconds']} s, "
        f"**{result['errors']} errors**",
        "",
        "| system | route | requests | req/s | p50 ms | p99 ms | statuses | errors | RSS start → end MB |",
        "|---|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in result["routes"]:
        m = result["memory"][r["system"]]
        statuses = ", ".join(f"{k}×{v}" for k, v in r["statuses"].items())
        lines.append(
            f"| {r['system']} | `{r['route']}` ({r['case']}) | {r['requests']} | {r['throughput_rps']} | "
            f"{r['p50_ms']} | {r['p99_ms']} | {statuses} | {r['errors']} | {m['rss_start_mb']} → {m['rss_end_mb']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("auto", "container", "inprocess"), default="auto")
    parser.add_argument("--requests", type=int, default=60, help="requests per route (default 60)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--systems", nargs="*", choices=list(SYSTEMS), help="default: all five")
    parser.add_argument("--json", type=Path, help="also write the full result as JSON here")
    args = parser.parse_args(argv)
    result = run(args.mode, args.requests, args.concurrency, args.systems)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
