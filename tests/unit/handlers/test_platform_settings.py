"""The platform-wide settings object: read once per cold start, rebuilt when a test changes the environment,
dropped by an explicit reset; the clients, metrics and card tokenisation read their configuration through it."""

from __future__ import annotations

import json

import pytest

from retail_platform import aws, settings
from retail_platform.exceptions import ConfigurationError
from retail_platform.pii import tokenise

BUCKETS = {"RAW_BUCKET": "r", "CURATED_BUCKET": "c", "PROD_BUCKET": "p", "ARTIFACTS_BUCKET": "a"}


@pytest.fixture
def env(monkeypatch):
    for name, value in BUCKETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LOCAL_ENDPOINT_URL", raising=False)
    yield monkeypatch
    settings.reset()


def test_settings_are_built_once_and_follow_a_changed_environment(env):
    first = settings.get_settings()
    assert settings.get_settings() is first and first.prod_bucket == "p"
    env.setenv("PROD_BUCKET", "p2")  # a test (or the local run) points the process elsewhere
    assert settings.get_settings().prod_bucket == "p2"
    env.delenv("RAW_BUCKET")
    with pytest.raises(ConfigurationError, match="missing required environment variables: RAW_BUCKET"):
        settings.get_settings()


def test_reset_rebuilds_every_section(env):
    built = []
    section = settings.Section(("PROD_BUCKET",), lambda e: built.append(e["PROD_BUCKET"]) or e["PROD_BUCKET"])
    assert section() == section() == "p" and built == ["p"]
    settings.reset()
    assert section() == "p" and built == ["p", "p"]


def test_clients_retry_in_standard_mode_and_follow_the_endpoint_setting(env):
    env.setenv("LOCAL_ENDPOINT_URL", "http://127.0.0.1:1")
    s3 = aws.client("s3")
    assert s3 is aws.client("s3")  # cached while the settings stay
    assert s3.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}  # 1 try + 5 retries
    assert s3.meta.endpoint_url == "http://127.0.0.1:1"
    env.setenv("LOCAL_ENDPOINT_URL", "http://127.0.0.1:2")
    moved = aws.client("s3")
    assert moved is not s3 and moved.meta.endpoint_url == "http://127.0.0.1:2"
    assert aws.new_client("s3") is not moved


def test_metric_dimensions_follow_the_observability_settings(env, capsys):
    from retail_platform import observability

    env.setenv("POWERTOOLS_SERVICE_NAME", "raw-to-curated")
    env.setenv("POWERTOOLS_METRICS_NAMESPACE", "UnitTests")
    observability.record("RowsCurated", 3, dataset="order_lines")
    document = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert document["service"] == "raw-to-curated" and document["dataset"] == "order_lines"
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "UnitTests"
    assert document["RowsCurated"] == [3.0]


def test_the_tokenisation_key_is_named_by_the_settings_and_fetched_once_per_name(env):
    fetched = []
    env.setattr(tokenise, "fetch_key", lambda name: fetched.append(name) or f"key-of-{name}-0123456789".encode())
    tokenise.forget_key()
    env.delenv("PAN_TOKEN_KEY_NAME", raising=False)
    with pytest.raises(ConfigurationError, match="PAN_TOKEN_KEY_NAME is not set"):
        tokenise.process_key()
    env.setenv("PAN_TOKEN_KEY_NAME", "ssm:/retail/pan-token-key")
    assert tokenise.process_key() == tokenise.process_key() == b"key-of-ssm:/retail/pan-token-key-0123456789"
    env.setenv("PAN_TOKEN_KEY_NAME", "secretsmanager:rotated")
    assert tokenise.process_key() == b"key-of-secretsmanager:rotated-0123456789"
    assert fetched == ["ssm:/retail/pan-token-key", "secretsmanager:rotated"]
    tokenise.forget_key()
