"""RebuildStateMachine (pipeline/statemachine/rebuild.asl.json) executed by moto's States Language interpreter.

curated-to-prod is moto's Docker-free Lambda: it answers the queued size measurement, then echoes the rebuild
request, so the execution's output shows which engine the rebuild was sent with.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal.models import moto_api_backend

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "pipeline" / "statemachine" / "rebuild.asl.json"
THRESHOLD = 2 * 2**30
REGION, ACCOUNT = "us-east-1", "123456789012"


def run(execution_input: dict, measured: object | None) -> tuple[dict, list[str]]:
    """(output, names of the states entered) of one execution; `measured`: what the size probe returns."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        role = boto3.client("iam", region_name=REGION).create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")
        function = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName="curated-to-prod",
            Runtime="python3.11",
            Role=role["Role"]["Arn"],
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": b"unused"},
        )
        definition = (
            DEFINITION.read_text(encoding="utf-8")
            .replace("${Partition}", "aws")
            .replace("${CuratedToProdFunctionArn}", function["FunctionArn"])
            .replace("${AthenaRebuildThresholdBytes}", str(THRESHOLD))
        )
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(name="rebuild", definition=definition, roleArn=role["Role"]["Arn"])
        if measured is not None:
            moto_api_backend.set_lambda_simple_result(json.dumps(measured), account_id=ACCOUNT, region=REGION)
        execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps(execution_input))
        deadline = time.monotonic() + 30
        while (described := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "execution did not finish"
            time.sleep(0.05)
        assert described["status"] == "SUCCEEDED", described
        events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
        return json.loads(described["output"]), entered


@pytest.mark.parametrize(
    ("measured", "engine"),
    [
        ({"curated_bytes": THRESHOLD + 1, "curated_objects": 900}, "athena"),
        ({"curated_bytes": THRESHOLD, "curated_objects": 900}, "duckdb"),  # at the threshold: still one Lambda
        ({"curated_bytes": 1_000, "curated_objects": 3}, "duckdb"),
        ({"curated_bytes": "3 GB"}, "duckdb"),  # not a number: not trusted
        (None, "duckdb"),  # an image without the probe answers something else (here: the request echoed)
    ],
)
def test_the_engine_follows_the_measured_curated_bytes(measured: object, engine: str) -> None:
    output, entered = run({"full_rebuild": True}, measured)
    assert output["publication"]["summary"] == {"full_rebuild": True, "engine": engine}
    assert "MeasureCurated" in entered and entered[-2:] == ["Rebuild", "Rebuilt"]


@pytest.mark.parametrize("engine", ["athena", "duckdb"])
def test_an_engine_named_in_the_input_is_used_without_measuring(engine: str) -> None:
    output, entered = run({"engine": engine}, None)
    assert output["publication"]["summary"] == {"full_rebuild": True, "engine": engine}
    assert "MeasureCurated" not in entered


def test_an_unknown_engine_in_the_input_is_measured_instead() -> None:
    output, entered = run({"engine": "spark"}, {"curated_bytes": THRESHOLD * 10})
    assert output["publication"]["summary"]["engine"] == "athena"
    assert "MeasureCurated" in entered
