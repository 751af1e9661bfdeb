"""Session fixtures of the e2e tier (`pytest tests/e2e`): container runtime, one `sam build`, moto.

Fixtures for tests:
  invoke(function_path, event_file, env) -> response     `sam local invoke` of the repo's built app
  run_readonly_nonroot(image_tag, event, env) -> response  the image run read-only as uid 1000
  sam_app                                                  built SamApp: .image_tag(), .declared_environment()
  moto_server                                              S3 endpoint: .client(), .container_url, .reset()
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is marked `e2e`."""
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _with_endpoint(env: dict[str, str] | None, moto_server: harness.MotoServer) -> dict[str, str]:
    """An empty or missing LOCAL_ENDPOINT_URL (the templates declare it empty) becomes the moto server."""
    merged = dict(env or {})
    if not merged.get("LOCAL_ENDPOINT_URL"):
        merged["LOCAL_ENDPOINT_URL"] = moto_server.container_url
    return merged


@pytest.fixture(scope="session")
def container_runtime() -> harness.ContainerRuntime:
    try:
        return harness.ensure_container_runtime()
    except harness.RuntimeUnavailableError as e:
        if _on_ci():
            pytest.fail(f"e2e needs a container engine on CI: {e}", pytrace=False)
        pytest.skip(f"e2e skipped: {e}")
    except harness.HarnessError as e:
        pytest.fail(f"container runtime setup failed:\n{e}", pytrace=False)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[harness.MotoServer]:
    server = harness.MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sam_app(container_runtime: harness.ContainerRuntime) -> harness.SamApp:
    """The repo's root template built once per session into .aws-sam/build."""
    try:
        return harness.SamApp(harness.REPO_ROOT, container_runtime).build()
    except harness.HarnessError as e:
        pytest.fail(f"sam build failed:\n{e}", pytrace=False)


@pytest.fixture(scope="session")
def invoke(sam_app: harness.SamApp, moto_server: harness.MotoServer) -> Callable[..., Any]:
    """`invoke("PipelineStack/RawToCuratedFunction", events/..., {"RAW_BUCKET": ...})` -> parsed response.

    An empty or missing LOCAL_ENDPOINT_URL becomes the moto server as seen from a container.
    """

    def _invoke(function_path: str, event_file: Path, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return sam_app.invoke(function_path, event_file, _with_endpoint(env, moto_server), **kwargs)

    return _invoke


@pytest.fixture(scope="session")
def run_readonly_nonroot(
    container_runtime: harness.ContainerRuntime, moto_server: harness.MotoServer
) -> Callable[..., Any]:
    """`run_readonly_nonroot(image_tag, event, env)` -> parsed response.

    An empty or missing LOCAL_ENDPOINT_URL becomes the moto server as seen from a container.
    """

    def _run(image_tag: str, event: Any, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return harness.run_readonly_nonroot(
            container_runtime, image_tag, event, _with_endpoint(env, moto_server), **kwargs
        )

    return _run
