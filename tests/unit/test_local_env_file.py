"""The main job's `sam local invoke --env-vars` file and its --reporting-currency option.

`--env-vars` only overrides variables that a function declares in the template (a SAM rule), so every
variable the file sets must be declared for the functions that need it, else the file silently does nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest
from samtranslator.yaml_helper import yaml_parse

from retail_platform.local import endpoint
from retail_platform.local.__main__ import report_currency, reporting_currency_option, stage_source
from tests.support import DATA

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = {
    "PipelineStack": ROOT / "pipeline" / "template.yaml",
    "AiSystemsStack": ROOT / "ai-systems" / "template.yaml",
}


def declared_variables() -> dict[str, set[str]]:
    """`<Stack>/<Function>` -> the variables its template declares (Globals and its own)."""
    declared = {}
    for stack, path in TEMPLATES.items():
        template = yaml_parse(path.read_text(encoding="utf-8"))
        globals_env = template["Globals"]["Function"].get("Environment", {}).get("Variables", {})
        for name, resource in template["Resources"].items():
            if resource["Type"] == "AWS::Serverless::Function":
                own = resource["Properties"].get("Environment", {}).get("Variables", {})
                declared[f"{stack}/{name}"] = set(globals_env) | set(own)
    return declared


def test_every_variable_of_the_file_is_declared_where_it_is_needed(tmp_path: Path) -> None:
    path = endpoint.env_vars_file(
        tmp_path / "env.json", 5055, "AUTO", {"DOCKER_HOST": "unix:///run/podman/podman.sock"}
    )
    variables = json.loads(path.read_text())["Parameters"]
    declared = declared_variables()
    assert len(declared) == 7
    for function, names in declared.items():
        needed = set(variables) - {"COPILOT_SESSIONS_TABLE"}  # the copilot's own variable
        assert needed <= names, (function, needed - names)
    assert "COPILOT_SESSIONS_TABLE" in declared["AiSystemsStack/RetailCopilotFunction"]


def test_file_points_containers_at_the_endpoint_with_the_local_buckets(tmp_path: Path) -> None:
    path = endpoint.env_vars_file(tmp_path / "sub" / "env.json", 5099, "USD", {"DOCKER_HOST": "tcp://10.0.0.5:2375"})
    variables = json.loads(path.read_text())["Parameters"]
    assert variables == {
        "RAW_BUCKET": "local-raw",
        "CURATED_BUCKET": "local-curated",
        "PROD_BUCKET": "local-prod",
        "ARTIFACTS_BUCKET": "local-artifacts",
        "ENVIRONMENT": "local",
        "EVENT_BUS_NAME": "default",
        "REPORTING_CURRENCY": "USD",
        "LOCAL_ENDPOINT_URL": "http://host.docker.internal:5099",
        "COPILOT_SESSIONS_TABLE": "local-copilot-sessions",
    }


@pytest.mark.parametrize(
    ("docker_host", "alias"),
    [
        ("unix:///run/podman/podman.sock", "host.containers.internal"),
        ("unix:///run/user/1000/podman/podman.sock", "host.containers.internal"),
        ("unix:///var/run/docker.sock", "host.docker.internal"),
        ("tcp://127.0.0.1:2375", "host.docker.internal"),
    ],
)
def test_container_host_alias_follows_the_engine(docker_host: str, alias: str) -> None:
    assert endpoint.container_host_alias({"DOCKER_HOST": docker_host}) == alias


def test_container_endpoints_are_declared_once_beside_existing_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", "http://minio.internal:9000")
    endpoint.declare_container_endpoints(5055)
    endpoint.declare_container_endpoints(5055)
    assert endpoint.os.environ["MOTO_S3_CUSTOM_ENDPOINTS"].split(",") == [
        "http://minio.internal:9000",
        "http://host.containers.internal:5055",
        "http://host.docker.internal:5055",
    ]


@pytest.mark.parametrize(
    ("given", "parsed"), [("usd", "USD"), (" GBP ", "GBP"), ("auto", "AUTO"), ("AUTO", "AUTO"), ("", "AUTO")]
)
def test_reporting_currency_option_accepts_iso_codes_and_auto(given: str, parsed: str) -> None:
    assert reporting_currency_option(given) == parsed


@pytest.mark.parametrize("given", ["US", "EURO", "12$", "€UR"])
def test_reporting_currency_option_refuses_anything_else(given: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="ISO 4217"):
        reporting_currency_option(given)


def test_report_labels_amounts_with_the_asked_currency_else_the_prod_column() -> None:
    usd = pd.DataFrame({"revenue_reporting": [1.0, 2.0], "reporting_currency": ["USD", "USD"]})
    no_column = pd.DataFrame({"units": [3]})
    assert report_currency("GBP", {"copilot_mart": usd}) == "GBP"
    assert report_currency("AUTO", {"copilot_mart": usd, "daily_sales": no_column}) == "USD"
    mixed = pd.DataFrame({"reporting_currency": ["USD", "EUR"]})
    assert report_currency("AUTO", {"copilot_mart": mixed}) == "EUR"
    assert report_currency("AUTO", {}) == "EUR"


def test_a_source_folder_stages_its_exports_not_the_notes_beside_them(tmp_path):
    from retail_platform.contracts import load_sources

    folder = tmp_path / "exports"
    folder.mkdir()
    export = (DATA / "online-retail" / "online_retail_sample.csv").read_bytes()
    (folder / "orders-2011.csv").write_bytes(export)
    for note in ("SOURCE.txt", "README.md", "LICENSE", ".DS_Store"):
        (folder / note).write_text("not data")
    staged = stage_source(folder, "uci-online-retail", load_sources(), tmp_path / "raw")
    assert sorted(p.name for p in staged.rglob("*") if p.is_file()) == ["orders-2011.csv"]
