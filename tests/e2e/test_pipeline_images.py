"""The pipeline's built images, invoked with every event file in events/ as `sam local invoke` runs them.

Data: the UCI Online Retail export and the small seeded sample, uploaded to the moto server the
containers reach. Assertions are on what lands in the buckets, as a user would check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retail_platform import s3io
from retail_platform.local.endpoint import BUCKET_ENV
from tests.support import DATA, EVENTS

RAW, CURATED, PROD = BUCKET_ENV["RAW_BUCKET"], BUCKET_ENV["CURATED_BUCKET"], BUCKET_ENV["PROD_BUCKET"]
UCI_KEY = "uci-online-retail/online_retail_sample.csv"


@pytest.fixture(scope="module")
def s3(moto_server, tmp_path_factory):
    """The local buckets with the UCI export and the small sample's raw files in raw."""
    from retail_platform.sampledata import SMALL_PROFILE, generate

    client = moto_server.client("s3")
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for bucket in BUCKET_ENV.values():
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
    client.upload_file(str(DATA / "online-retail" / "online_retail_sample.csv"), RAW, UCI_KEY)
    sample = tmp_path_factory.mktemp("sample")
    generate(sample, seed=7, **SMALL_PROFILE)
    for path in (sample / "sample").rglob("*"):
        if path.is_file():
            client.upload_file(str(path), RAW, path.relative_to(sample).as_posix())
    return client


def event_files(function: str) -> list[Path]:
    return sorted((EVENTS / function).glob("*.json"))


@pytest.mark.parametrize("event_file", event_files("raw-to-curated"), ids=lambda p: p.stem)
def test_raw_to_curated_image(invoke, s3, event_file):
    response = invoke("PipelineStack/RawToCuratedFunction", event_file, dict(BUCKET_ENV))
    assert response["rows_in"] > 0
    assert response["rows_in"] == response["rows_curated"] + response["rows_quarantined"]
    for obj in response["objects"]:
        report = s3io.read_json(s3, CURATED, obj["report_key"])
        assert report["conservation_ok"] and report["source_key"] == obj["source_key"]
        dataset = obj["dataset"]
        curated_keys = [k for k in s3io.list_keys(s3, CURATED, f"{dataset}/") if report["object_id"] in k]
        assert sum(len(s3io.read_parquet(s3, CURATED, k)) for k in curated_keys) == obj["rows_curated"]


def test_curated_to_prod_image_builds_prod_datasets(invoke, s3):
    # curated data from the raw-to-curated image (the UCI export) must exist first
    invoke(
        "PipelineStack/RawToCuratedFunction",
        EVENTS / "raw-to-curated" / "stepfunctions-task.json",
        dict(BUCKET_ENV),
    )
    task = json.loads((EVENTS / "curated-to-prod" / "stepfunctions-task.json").read_text())
    response = invoke(
        "PipelineStack/CuratedToProdFunction",
        EVENTS / "curated-to-prod" / "stepfunctions-task.json",
        dict(BUCKET_ENV),
    )
    months = task["partitions"]["order_lines"]
    written = response["prod_datasets"]
    assert set(months) <= set(written["daily_sales"])
    for month in months:
        sales = s3io.read_parquet(s3, PROD, f"daily_sales/month={month}/part-0.parquet")
        curated = s3io.read_parquet_prefix(s3, CURATED, f"order_lines/month={month}/")
        assert int(sales["units"].sum()) == int(curated["quantity"].sum())
    assert response["events_emitted"] >= len(written)


@pytest.mark.parametrize("case", ["full-rebuild", "schedule"])
def test_curated_to_prod_full_rebuild_events(invoke, s3, case):
    response = invoke(
        "PipelineStack/CuratedToProdFunction", EVENTS / "curated-to-prod" / f"{case}.json", dict(BUCKET_ENV)
    )
    assert response["prod_datasets"]["daily_sales"]
    assert any(True for _ in s3io.list_keys(s3, PROD, "country_kpis/"))


@pytest.mark.parametrize(
    ("function_path", "event"),
    [
        ("PipelineStack/RawToCuratedFunction", {"bucket": RAW, "key": UCI_KEY}),
        ("PipelineStack/CuratedToProdFunction", {"full_rebuild": True}),
    ],
    ids=["raw-to-curated", "curated-to-prod"],
)
def test_images_run_read_only_as_non_root(sam_app, run_readonly_nonroot, s3, function_path, event):
    response = run_readonly_nonroot(sam_app.image_tag(function_path), event, dict(BUCKET_ENV))
    assert "errorMessage" not in response, response


def test_malformed_event_is_a_clear_error(invoke, s3, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": "world"}))
    response = invoke("PipelineStack/RawToCuratedFunction", bad, dict(BUCKET_ENV), raise_on_function_error=False)
    assert response["errorType"] == "BadEventError"
    assert "unsupported event" in response["errorMessage"]
