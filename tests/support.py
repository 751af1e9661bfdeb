"""Helpers shared by the test tiers."""

from __future__ import annotations

from pathlib import Path

from retail_platform.local.functions import REPO_ROOT, by_name, load_handler

ROOT = REPO_ROOT
EVENTS = ROOT / "events"
DATA = ROOT / "tests" / "data"
LOCAL_BUCKETS = {
    "RAW_BUCKET": "local-raw",
    "CURATED_BUCKET": "local-curated",
    "PROD_BUCKET": "local-prod",
    "ARTIFACTS_BUCKET": "local-artifacts",
}


def handler(function_name: str):
    """The handler module of a function folder, e.g. handler("raw-to-curated")."""
    return load_handler(by_name(function_name))


def event(function_name: str, case: str) -> dict:
    import json

    return json.loads((EVENTS / function_name / f"{case}.json").read_text())


__all__ = ["DATA", "EVENTS", "LOCAL_BUCKETS", "ROOT", "Path", "event", "handler"]
