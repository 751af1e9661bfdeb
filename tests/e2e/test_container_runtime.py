"""The container runtime itself, on a tiny nested app (tests/e2e/fixtures/hello-nested): `sam build`,
`sam local invoke Child/HelloNestedFunction` against moto, and the same image run read-only as uid 1000.
It runs on every CI run, so a broken runtime shows up here rather than in the real functions' tests."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from tests.e2e import harness

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "hello-nested"
FUNCTION = "Child/HelloNestedFunction"
BUCKET_PREFIX = "local-e2e"


@pytest.fixture(scope="module")
def hello_app(container_runtime: harness.ContainerRuntime, tmp_path_factory: pytest.TempPathFactory) -> harness.SamApp:
    root = tmp_path_factory.mktemp("hello-nested") / "app"
    shutil.copytree(FIXTURE, root)
    return harness.SamApp(root, container_runtime).build()


@pytest.fixture()
def bucket(moto_server: harness.MotoServer) -> str:
    """A fresh bucket per test (the moto server is shared by the whole e2e session: never reset it here)."""
    name = f"{BUCKET_PREFIX}-{uuid.uuid4().hex[:12]}"
    moto_server.client().create_bucket(Bucket=name)
    return name


def test_nested_image_tag_is_logical_id_and_docker_tag(hello_app: harness.SamApp) -> None:
    assert hello_app.image_tag(FUNCTION) == "hellonestedfunction:python3.11-v1"
    assert hello_app.declared_environment(FUNCTION)["AWS_DEFAULT_REGION"] == "us-east-1"


def test_sam_local_invoke_nested_function_writes_to_s3(
    hello_app: harness.SamApp, moto_server: harness.MotoServer, bucket: str
) -> None:
    response = hello_app.invoke(
        FUNCTION,
        FIXTURE / "events" / "hello.json",
        {"BUCKET_NAME": bucket, "LOCAL_ENDPOINT_URL": moto_server.container_url},
    )

    event = json.loads((FIXTURE / "events" / "hello.json").read_text())
    assert response["read_back"] == {"message": event["message"]}
    stored = moto_server.client().get_object(Bucket=bucket, Key=event["key"])["Body"].read()
    assert json.loads(stored) == {"message": event["message"]}


def test_function_error_is_raised_with_lambda_error_document(
    hello_app: harness.SamApp, moto_server: harness.MotoServer
) -> None:
    with pytest.raises(harness.FunctionError) as raised:
        hello_app.invoke(
            FUNCTION,
            FIXTURE / "events" / "hello.json",
            {
                "BUCKET_NAME": f"{BUCKET_PREFIX}-never-created",
                "LOCAL_ENDPOINT_URL": moto_server.container_url,
            },
        )
    assert raised.value.response["errorType"] == "NoSuchBucket"


def test_image_runs_read_only_as_non_root(
    hello_app: harness.SamApp, run_readonly_nonroot, moto_server: harness.MotoServer, bucket: str
) -> None:
    response = run_readonly_nonroot(
        hello_app.image_tag(FUNCTION),
        {"key": "readonly/probe.json", "message": "read-only"},
        {**hello_app.declared_environment(FUNCTION), "BUCKET_NAME": bucket},
    )

    assert response["uid"] == 1000
    assert response["task_root_writable"] is False
    assert response["read_back"] == {"message": "read-only"}
    assert moto_server.client().head_object(Bucket=bucket, Key="readonly/probe.json")["ContentLength"] > 0
