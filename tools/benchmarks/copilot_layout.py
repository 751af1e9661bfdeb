"""retail-copilot's batch + report time on the Superstore export's prod datasets, by partition layout.

Writes prod copilot_mart / country_kpis / customer_transactions of the Tableau Superstore export (as the
copilot's real-export bank builds them) to a local S3 endpoint (moto server) in day partitions (~1,200 per
dataset) or month partitions (48), then does what the main job does for the copilot: for each of its two
ProdDatasetUpdated events, rebuild the snapshot and answer the report's questions from the new version.
Prints one JSON line per layout: seconds per event, objects, peak RSS.

    python tools/benchmarks/copilot_layout.py --layout day month
    PYTHONPATH=<old checkout>/ai-systems/retail-copilot/src python tools/benchmarks/copilot_layout.py --layout day
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "ai-systems" / "retail-copilot" / "src"))  # after PYTHONPATH: an old checkout wins

import boto3  # noqa: E402
import pandas as pd  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from retail_platform.storage import PartitionedDataset, S3BlobStore  # noqa: E402

BUCKETS = ("bench-prod", "bench-curated", "bench-artifacts")


def frames() -> dict[str, pd.DataFrame]:
    from tests.unit.retail_copilot.real_bank import superstore_frames, superstore_raw

    mart, kpis, orders = superstore_frames(superstore_raw())
    return {"copilot_mart": mart, "country_kpis": kpis, "customer_transactions": orders}


def write(s3, layout: str, datasets: dict[str, pd.DataFrame]) -> int:
    objects = 0
    for name, frame in datasets.items():
        days = pd.to_datetime(frame["date"])
        labels = days.dt.strftime("%Y-%m" if layout == "month" else "%Y-%m-%d")
        parts = {label: part.reset_index(drop=True) for label, part in frame.groupby(labels.to_numpy())}
        PartitionedDataset(S3BlobStore(s3, BUCKETS[0]), name, "month" if layout == "month" else "day").write_many(parts)
        objects += len(parts)
    return objects


def run(s3) -> list[float]:
    """Two events as the main job sends them: rebuild, then the report's questions from the new version."""
    from retail_copilot import batch, store
    from retail_copilot.copilot import Copilot
    from retail_copilot.report import QUESTIONS

    # the code before the SQL path named its store S3Data
    data = store.CopilotData.on_s3(s3, *BUCKETS) if hasattr(store, "CopilotData") else store.S3Data(s3, *BUCKETS)
    seconds = []
    for _ in range(2):
        started = time.perf_counter()
        outcome = batch.rebuild(data, "USD")
        assert outcome["status"] == "rebuilt", outcome
        copilot = Copilot(data.load_current(), data, currency="USD")
        answers = [copilot.ask(q) for q in QUESTIONS]
        assert answers[0]["status"] == "answered", answers[0]
        seconds.append(round(time.perf_counter() - started, 2))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layout", nargs="+", choices=("day", "month"), default=["day", "month"])
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    try:
        s3 = boto3.client(
            "s3", endpoint_url=f"http://127.0.0.1:{args.port}", region_name="us-east-1",
            aws_access_key_id="bench", aws_secret_access_key="bench",  # noqa: S106 - moto's
        )  # fmt: skip
        datasets = frames()
        for layout in args.layout:
            for bucket in BUCKETS:
                s3.create_bucket(Bucket=bucket)
            objects = write(s3, layout, datasets)
            seconds = run(s3)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(json.dumps({"layout": layout, "prod_objects": objects, "seconds_per_event": seconds,
                              "total_s": round(sum(seconds), 2), "peak_rss_mb": round(peak),
                              "load_1m": round(os.getloadavg()[0], 1)}))  # fmt: skip
            for bucket in BUCKETS:
                keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                        for o in p.get("Contents", [])]  # fmt: skip
                for i in range(0, len(keys), 1000):
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]]})
                s3.delete_bucket(Bucket=bucket)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
