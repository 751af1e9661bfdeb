"""Properties of the SAM/CloudFormation templates: alarms, dashboards, encryption, IAM, image repositories.

These read the templates as data (no AWS, no SAM transform): what cfn-lint and checkov cannot know, e.g. that
every function has an error alarm wired to the alerts topic or that an alarm's custom metric is one that a
handler actually emits.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "pipeline" / "template.yaml"
AI_SYSTEMS = ROOT / "ai-systems" / "template.yaml"
REGISTRY = ROOT / "registry" / "template.yaml"
APP_TEMPLATES = {"PipelineStack": PIPELINE, "AiSystemsStack": AI_SYSTEMS}
TOPIC = {PIPELINE: {"Ref": "AlertsTopic"}, AI_SYSTEMS: {"Ref": "AlertsTopicArn"}}
HANDLERS = [*ROOT.glob("pipeline/*/lambda_function.py"), *ROOT.glob("ai-systems/*/src/handler.py")]
# Actions that AWS authorises only on Resource "*" (no resource-level permissions).
STAR_RESOURCE_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudwatch:PutMetricData",
}


def load(path: Path) -> dict:
    return yaml_parse(path.read_text(encoding="utf-8"))


def resources(path: Path, kind: str | None = None) -> dict[str, dict]:
    found = load(path)["Resources"]
    return {k: v for k, v in found.items() if kind is None or v["Type"] == kind}


def alarms(path: Path) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in resources(path, "AWS::CloudWatch::Alarm").items()}


def dims(props: dict) -> dict:
    return {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}


def emitted_metrics() -> set[str]:
    """Metric names the functions' code emits (handlers and the modules beside them, e.g. a batch result)."""
    code = [*HANDLERS, *ROOT.glob("pipeline/*/*/**/*.py"), *ROOT.glob("ai-systems/*/src/*/**/*.py")]
    names: set[str] = set()
    for path in code:
        names |= set(re.findall(r'add_metric\(name="([A-Za-z0-9]+)"', path.read_text(encoding="utf-8")))
    return names


@pytest.mark.parametrize("path", [PIPELINE, AI_SYSTEMS], ids=["pipeline", "ai-systems"])
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_alarm_to_the_topic(path: Path, metric: str) -> None:
    functions = resources(path, "AWS::Serverless::Function")
    assert functions
    covered = {
        dims(a)["FunctionName"]["Ref"]
        for a in alarms(path).values()
        if a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == metric and a["AlarmActions"] == [TOPIC[path]]
    }
    assert covered == set(functions)


@pytest.mark.parametrize("path", [PIPELINE, AI_SYSTEMS], ids=["pipeline", "ai-systems"])
def test_every_queue_has_a_depth_alarm_to_the_topic(path: Path) -> None:
    queues = resources(path, "AWS::SQS::Queue")
    assert queues
    covered = {
        dims(a)["QueueName"]["Fn::GetAtt"][0]
        for a in alarms(path).values()
        if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and a["Threshold"] == 0
        and a["AlarmActions"] == [TOPIC[path]]
    }
    assert covered == set(queues)


def test_failed_executions_of_every_state_machine_reach_the_topic() -> None:
    machines = set(resources(PIPELINE, "AWS::Serverless::StateMachine"))
    rule = resources(PIPELINE, "AWS::Events::Rule")["PipelineExecutionFailedRule"]["Properties"]
    detail = rule["EventPattern"]["detail"]
    expected = {"PipelineStateMachine", "BackfillStateMachine", "RebuildStateMachine"}
    assert {m["Ref"] for m in detail["stateMachineArn"]} == machines == expected
    assert set(detail["status"]) >= {"FAILED", "TIMED_OUT", "ABORTED"}
    assert [t["Arn"] for t in rule["Targets"]] == [{"Ref": "AlertsTopic"}]


def service_of(path: Path) -> set[str]:
    return {
        f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for f in resources(path, "AWS::Serverless::Function").values()
    }


@pytest.mark.parametrize(
    ("path", "alarm", "numerator", "denominator"),
    [
        (PIPELINE, "QuarantineRateAlarm", "RowsQuarantined", "RowsIn"),
        (AI_SYSTEMS, "FraudAlertRateAlarm", "FraudAlerts", "TransactionsScored"),
    ],
)
def test_rate_alarms_use_metrics_the_handlers_emit(path: Path, alarm: str, numerator: str, denominator: str) -> None:
    props = alarms(path)[alarm]
    stats = [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
    assert {s["MetricName"] for s in stats} == {numerator, denominator}
    assert {numerator, denominator} <= emitted_metrics()
    globals_env = load(path)["Globals"]["Function"]["Environment"]["Variables"]
    for stat in stats:
        assert stat["Namespace"] == globals_env["POWERTOOLS_METRICS_NAMESPACE"]
        assert dims(stat)["service"] in service_of(path)  # Powertools' one default dimension
    assert next(m for m in props["Metrics"] if m.get("ReturnData"))["Expression"]
    assert props["AlarmActions"] == [TOPIC[path]]


def test_api_alarms_cover_5xx_and_p99_latency() -> None:
    api_alarms = [a for a in alarms(AI_SYSTEMS).values() if a.get("Namespace") == "AWS/ApiGateway"]
    assert {a["MetricName"] for a in api_alarms} == {"5xx", "Latency"}
    for a in api_alarms:
        assert dims(a) == {"ApiId": {"Ref": "HttpApi"}}
        assert a["AlarmActions"] == [{"Ref": "AlertsTopicArn"}]
    assert [a["ExtendedStatistic"] for a in api_alarms if a["MetricName"] == "Latency"] == ["p99"]


def dashboard_body(path: Path) -> dict:
    (dashboard,) = resources(path, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(re.sub(r"\$\{[A-Za-z0-9_.:]+\}", "1", body))


@pytest.mark.parametrize("path", [PIPELINE, AI_SYSTEMS], ids=["pipeline", "ai-systems"])
def test_dashboard_is_valid_and_lists_every_alarm(path: Path) -> None:
    body = dashboard_body(path)
    assert {w["type"] for w in body["widgets"]} >= {"alarm", "metric", "log"}
    (dashboard,) = resources(path, "AWS::CloudWatch::Dashboard").values()
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    listed = set(re.findall(r"\$\{([A-Za-z0-9]+)\.Arn\}", text))
    assert listed == set(alarms(path))


def test_dashboards_custom_metrics_are_emitted() -> None:
    emitted = emitted_metrics()
    seen = set()
    for path in (PIPELINE, AI_SYSTEMS):
        for widget in dashboard_body(path)["widgets"]:
            namespace = name = None
            for row in widget["properties"].get("metrics", []):
                if not isinstance(row[0], str) or row[0] == "...":
                    continue  # a math expression, or the previous metric with other options
                namespace = namespace if row[0] == "." else row[0]
                name = name if row[1] == "." else row[1]
                if namespace == "RetailPlatform":
                    seen.add(name)
    assert seen and seen <= emitted, seen - emitted


def iam_statements() -> list[tuple[str, dict]]:
    """(where, statement) of every identity policy: SAM function/state machine Policies and IAM roles."""
    found = []
    for path in (PIPELINE, AI_SYSTEMS):
        for name, res in resources(path).items():
            props = res.get("Properties", {})
            if res["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
                for policy in props.get("Policies", []):
                    if isinstance(policy, dict) and "Statement" in policy:
                        found += [(f"{path.parent.name}:{name}", s) for s in policy["Statement"]]
            if res["Type"] == "AWS::IAM::Role":
                for policy in props.get("Policies", []):
                    found += [(f"{path.parent.name}:{name}", s) for s in policy["PolicyDocument"]["Statement"]]
    return found


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_and_star_resources_only_where_aws_requires_them() -> None:
    statements = iam_statements()
    assert len(statements) > 20
    for where, statement in statements:
        actions = as_list(statement["Action"])
        assert all(a != "*" and not a.endswith(":*") for a in actions), (where, actions)
        if "*" in as_list(statement["Resource"]):
            kms_via_service = set(actions) <= {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} and (
                "kms:ViaService" in statement.get("Condition", {}).get("StringEquals", {})
            )
            assert kms_via_service or set(actions) <= STAR_RESOURCE_ACTIONS, (where, actions)


def test_encryption_at_rest_and_in_transit() -> None:
    (topic,) = resources(PIPELINE, "AWS::SNS::Topic").values()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    assert resources(PIPELINE, "AWS::KMS::Key")["AlertsKey"]["Properties"]["EnableKeyRotation"] is True
    for path in (PIPELINE, AI_SYSTEMS):
        for queue in resources(path, "AWS::SQS::Queue").values():
            assert queue["Properties"]["SqsManagedSseEnabled"] is True
        for bucket in resources(path, "AWS::S3::Bucket").values():
            rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        for table in resources(path, "AWS::DynamoDB::Table").values():
            assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True
        # every bucket, queue and topic policy denies plain HTTP
        for kind in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
            for policy in resources(path, kind).values():
                denies = [
                    s
                    for s in policy["Properties"]["PolicyDocument"]["Statement"]
                    if s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                ]
                assert denies


def test_api_has_iam_auth_and_throttling() -> None:
    api = resources(AI_SYSTEMS, "AWS::Serverless::HttpApi")["HttpApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0


def test_every_checkov_skip_has_a_reason() -> None:
    for path in (*APP_TEMPLATES.values(), REGISTRY):
        for name, res in resources(path).items():
            for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (path, name)
                assert len(skip.get("comment", "")) > 30, (path, name, skip["id"])


def test_registry_has_a_scanned_repository_with_lifecycle_for_every_image_function() -> None:
    image_functions = {
        f"{stack}/{name}"
        for stack, path in APP_TEMPLATES.items()
        for name, res in resources(path, "AWS::Serverless::Function").items()
        if res["Properties"].get("PackageType") == "Image"
    }
    assert len(image_functions) == 7
    repos = resources(REGISTRY, "AWS::ECR::Repository")
    for repo in repos.values():
        props = repo["Properties"]
        assert props["ImageScanningConfiguration"]["ScanOnPush"] is True
        policy = json.loads(
            re.sub(r"\$\{ImagesToKeep\}", "10", props["LifecyclePolicy"]["LifecyclePolicyText"]["Fn::Sub"])
        )
        assert policy["rules"][0]["selection"]["countType"] == "imageCountMoreThan"
    args = load(REGISTRY)["Outputs"]["SamDeployArguments"]["Value"]["Fn::Sub"]
    pairs = dict(re.findall(r"--image-repositories (\S+)=\$\{(\w+)\.RepositoryUri\}", args))
    assert set(pairs) == image_functions
    assert set(pairs.values()) == set(repos)
