"""Bounded load test through the built images: every AI HTTP route, concurrency 4, a few hundred requests.

tools/loadtest.py in container mode: one runtime-emulator container per worker and function, stores seeded with
small stored results, a moto server on loopback. Zero errors; no memory growth beyond a generous bound.
"""

from __future__ import annotations

import importlib.util
import sys

from tests.e2e import harness

REQUESTS_PER_ROUTE = 28  # x 11 routes = 308 requests
CONCURRENCY = 4
GROWTH_BOUND_MB = 150.0  # per function, summed over its 4 containers: caches fill once; a leak grows per request


def _loadtest():
    spec = importlib.util.spec_from_file_location("loadtest", harness.REPO_ROOT / "tools" / "loadtest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve string annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_every_ai_route_under_concurrent_load_has_no_errors_and_no_memory_growth(sam_app):
    loadtest = _loadtest()
    result = loadtest.run("container", REQUESTS_PER_ROUTE, CONCURRENCY)
    print(loadtest.markdown(result))
    assert result["mode"] == "container"
    assert {r["system"] for r in result["routes"]} == set(loadtest.SYSTEMS)
    assert result["requests"] == REQUESTS_PER_ROUTE * len(loadtest.routes())
    bad = [r for r in result["routes"] if r["errors"] or r["unavailable"]]  # every route serves, none 503s
    assert not bad, bad
    for route in result["routes"]:
        assert route["requests"] == REQUESTS_PER_ROUTE and route["p99_ms"] is not None
    for system, memory in result["memory"].items():
        assert memory["growth_mb"] < GROWTH_BOUND_MB, (system, memory)
