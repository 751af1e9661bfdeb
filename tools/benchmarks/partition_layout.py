"""Objects written per dataset by the pipeline on the sample data, and curated-to-prod's time (#17 item 2).

Generates the main job's sample (the default, or `--small`), runs every raw object through raw-to-curated and
the union of curated partitions through curated-to-prod (the real handlers, as `dev.py demo` does), against
moto in-process, and writes a JSON document (to --out; the handlers' logs go to stdout): order lines, objects
per curated and prod dataset, and seconds per stage. Run it on two checkouts to compare layouts:

    PYTHONPATH=shared .venv/bin/python tools/benchmarks/partition_layout.py [--small] --out layout.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from retail_platform.local.endpoint import BUCKET_ENV


def count_objects(s3, bucket: str) -> dict[str, int]:
    """Data objects (Parquet) per top-level prefix, lineage and bookkeeping prefixes (`_...`) left out."""
    counts: Counter[str] = Counter()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith(".parquet") and not key.startswith("_"):
                counts[key.split("/", 1)[0]] += 1
    return dict(sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the main job's --small sample")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, help="days of history (the sample's own default otherwise)")
    parser.add_argument("--customers", type=int, help="customers (fewer customers, fewer order lines)")
    parser.add_argument("--out", type=Path, required=True, help="where the JSON figures go")
    opts = parser.parse_args(argv)
    os.environ.update(BUCKET_ENV)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.pop("LOCAL_ENDPOINT_URL", None)

    import boto3
    from moto import mock_aws

    from retail_platform.local import run
    from retail_platform.sampledata import SMALL_PROFILE, generate

    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        root = Path(tmp)
        params = dict(SMALL_PROFILE) if opts.small else {}
        params.update({k: v for k, v in (("days", opts.days), ("n_customers", opts.customers)) if v})
        generate(root, seed=opts.seed, **params)
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in BUCKET_ENV.values():
            s3.create_bucket(Bucket=bucket)
        uploaded = run.upload_tree(s3, BUCKET_ENV["RAW_BUCKET"], root)
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        partitions: dict[str, set[str]] = {}
        rows = 0
        for key, size in uploaded:
            result = run.invoke("raw-to-curated", run.object_created_event(BUCKET_ENV["RAW_BUCKET"], key, size))
            for dataset, labels in result["partitions"].items():
                partitions.setdefault(dataset, set()).update(labels)
            rows += sum(o.get("rows_curated") or 0 for o in result["objects"] if o.get("dataset") == "order_lines")
        seconds["raw-to-curated"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        prod = run.invoke("curated-to-prod", {"partitions": {k: sorted(v) for k, v in partitions.items()}})
        seconds["curated-to-prod"] = round(time.perf_counter() - started, 2)
        curated = count_objects(s3, BUCKET_ENV["CURATED_BUCKET"])
        produced = count_objects(s3, BUCKET_ENV["PROD_BUCKET"])
        report = {
            "sample": ("small" if opts.small else "default") + (f" {params}" if opts.days or opts.customers else ""),
            "order_lines_curated": rows,
            "curated_objects": {"total": sum(curated.values()), **curated},
            "prod_objects": {"total": sum(produced.values()), **produced},
            "prod_datasets_announced": {k: len(v) for k, v in prod.get("prod_datasets", {}).items()},
            "seconds": seconds,
        }
    opts.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
