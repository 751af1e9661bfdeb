"""Handler unit tier: every function's handler on its events/ files, with in-memory fakes (no moto, no network).

AWS clients are replaced by recording fakes and each handler's domain entry points by recorders, so these tests
pin the routing (which event reaches which code, with which typed arguments) and the answer shapes; the
integration tier runs the same handlers against an S3 endpoint.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from retail_platform.local.run import LocalContext
from tests.support import LOCAL_BUCKETS, handler

for _name, _bucket in LOCAL_BUCKETS.items():
    os.environ.setdefault(_name, _bucket)  # the settings are read at cold start, when a handler is first loaded


class FakeClient:
    """Stands in for a boto3 client: it must never be called by the routing under test (the domain is faked)."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{self.service}.{name} called: the handler reached AWS past its faked domain code")


class Recorder:
    """A fake domain entry point: records its arguments and returns a canned answer."""

    def __init__(self, answer: Any = None) -> None:
        self.calls: list[tuple[tuple, dict]] = []
        self.answer = {"status": "done"} if answer is None else answer

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.answer


@pytest.fixture
def clients(monkeypatch) -> dict[str, FakeClient]:
    made: dict[str, FakeClient] = {}
    from retail_platform import aws

    monkeypatch.setattr(aws, "client", lambda service, *a, **k: made.setdefault(service, FakeClient(service)))
    return made


@pytest.fixture(scope="session")
def context() -> LocalContext:
    return LocalContext("unit-handler")


def load(function: str):
    return handler(function)


def body(response: dict) -> tuple[int, dict]:
    return response["statusCode"], json.loads(response["body"])
