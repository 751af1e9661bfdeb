"""The README's main job, run as a user runs it, then audited: conservation, every output, no card number."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from retail_platform.local.run import run_pipeline, upload_tree
from retail_platform.pii import pan
from retail_platform.sampledata import SMALL_PROFILE, generate
from tests.support import ROOT

DIGIT_RUNS = re.compile(r"\d(?:[ .\-]?\d)+")


@pytest.fixture(scope="module")
def main_job(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("local-run")
    export = tmp_path_factory.mktemp("buckets")
    options = ["--small", "--workers", "2", "--out", str(out), "--export", str(export)]  # two workers, as on 2 cores
    proc = subprocess.run(
        [sys.executable, "-m", "retail_platform.local", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=2400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"out": out, "export": export, "logs": proc.stdout + proc.stderr}


def digit_strings(text: str) -> set[str]:
    """Every run of digits in a text with separators (space, dash, dot) removed."""
    return {re.sub(r"\D", "", run) for run in DIGIT_RUNS.findall(text)}


def known_pans(out: Path, export: Path) -> set[str]:
    """The card numbers the sample put into raw data: payments' card_number and PANs leaked into notes."""
    pans = set()
    for path in (export / "local-raw" / "sample" / "payments").glob("*.parquet"):
        pans |= {re.sub(r"\D", "", v) for v in pd.read_parquet(path)["card_number"].dropna()}
    for line in (out / "sample-manifest" / "defects.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "leaked_pan":
            pans.add(record["pan"])
    return {p for p in pans if pan.is_pan(p)}


def texts_of(path: Path) -> str:
    """The text a person or a program could read from a file: string cells of Parquet, else the bytes."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        text_columns = [
            c for c in frame.columns if frame[c].dtype == object or str(frame[c].dtype).startswith("string")
        ]
        return "\n".join(frame[c].dropna().astype(str).str.cat(sep="\n") for c in text_columns)
    return path.read_bytes().decode("utf-8", errors="replace")


def leaks(text: str, pans: set[str]) -> set[str]:
    """The known card numbers that stand whole inside some digit run of the text (any 12-19 digit window)."""
    found = set()
    for digits in digit_strings(text):
        for length in range(12, min(len(digits), 19) + 1):
            found |= {digits[i : i + length] for i in range(len(digits) - length + 1)} & pans
    return found


def test_main_job_conserves_rows_and_writes_a_report(main_job):
    summary = json.loads((main_job["out"] / "summary.json").read_text())
    totals = summary["summary"]["totals"]
    assert totals["conservation_ok"] and totals["rows_in"] > 30_000
    assert totals["rows_in"] == totals["rows_curated"] + totals["rows_quarantined"]
    report = (main_job["out"] / "report.html").read_text()
    assert "Data quality" in report and "<img" in report
    assert (main_job["export"] / "local-prod" / "_reports" / "local-run" / "report.html").exists()
    for dataset in ("daily_sales", "customer_transactions", "payment_transactions", "market_series", "country_kpis"):
        assert any((main_job["export"] / "local-prod" / dataset).rglob("*.parquet")), dataset


def test_no_full_card_number_anywhere_but_raw(main_job):
    export, out = main_job["export"], main_job["out"]
    pans = known_pans(out, export)
    assert len(pans) > 100  # the sample really holds card numbers to find
    places = [p for p in export.rglob("*") if p.is_file() and "local-raw" not in p.parts]
    places += [p for p in out.rglob("*") if p.is_file() and "sample-manifest" not in p.parts]  # not the answer key
    assert len(places) > 200  # monthly curated/prod objects, quarantine, reports, manifests and the run's outputs
    assert {"local-curated", "local-prod"} <= {p.relative_to(export).parts[0] for p in places if export in p.parents}
    found = {str(p.relative_to(p.parents[1])): len(hits) for p in places if (hits := leaks(texts_of(p), pans))}
    assert not found, f"full card numbers in: {found}"
    assert not leaks(main_job["logs"], pans), "a card number reached the logs"
    # and the masked forms really are there: every leaked card number survives only masked, in curated or quarantine
    leaked = [
        r
        for r in map(json.loads, (out / "sample-manifest" / "defects.jsonl").read_text().splitlines())
        if r["kind"] == "leaked_pan"
    ]
    masked = {pan.mask_digits(r["pan_as_written"]) for r in leaked}
    readable = "\n".join(texts_of(p) for p in places if "local-curated" in p.parts)
    assert len(masked) >= 5
    assert not [m for m in masked if m not in readable], "a leaked card number's masked form is missing"


def objects_of(s3, bucket: str) -> dict[str, bytes]:
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in page["Contents"]]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_two_workers_curate_and_build_prod_exactly_as_one_process_does(main_job, s3, tmp_path):
    """The main job ran on two workers; the same sample curated here object after object gives the same objects."""
    root = tmp_path / "raw"
    generate(root, seed=7, **SMALL_PROFILE)
    run_pipeline(s3, "local-raw", upload_tree(s3, "local-raw", root), progress=lambda _: None)
    for bucket in ("local-curated", "local-prod"):  # prod: the marts (the AI systems' outputs are theirs)
        here = objects_of(s3, bucket)
        data = {k for k in here if k.endswith(".parquet") and not k.startswith("_")}
        exported = main_job["export"] / bucket
        there = {p.relative_to(exported).as_posix(): p for p in exported.rglob("*.parquet")}
        datasets = {k.split("/", 1)[0] for k in data}
        assert len(data) > 10 and data == {k for k in there if k.split("/", 1)[0] in datasets}, bucket
        for key in sorted(data):
            pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(here[key])), pd.read_parquet(there[key]), obj=key)
