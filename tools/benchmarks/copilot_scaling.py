"""Ten copilot questions over a generated copilot_mart of 1M / 10M rows: the SQL path (DuckDB scanning monthly
parquet files in place) against the pandas path it replaced (the whole mart loaded into frames).

Issue #18 item 5. Each (path, size) runs in its own process so that peak RSS is its own. The pandas path is
the copilot as of the commit before the SQL path: give its checkout with --pandas-src.

    python tools/benchmarks/copilot_scaling.py --rows 1000000 10000000 --pandas-src OLD/ai-systems/retail-copilot/src
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = (
    "Total revenue last month",
    "Top 5 products by revenue last month",
    "Revenue by country in 2024",
    "Units by category last quarter",
    "How did revenue in the last 4 weeks compare with the 4 weeks before?",
    "Revenue trend by month in 2023",
    "Top 3 categories by units in Germany this year",
    "How many products were sold last month?",
    "Revenue in France in March 2024",
    "Orders by week in the last 8 weeks",
)
COUNTRIES = ("DE", "FR", "ES", "IT", "NL", "BE", "AT", "PL", "SE", "GB", "IE", "PT", "DK", "FI", "CZ", "US")
CATEGORIES = ("Electronics", "Home & Kitchen", "Garden", "Toys", "Books", "Sports", "Beauty", "Grocery")


def generate(rows: int, folder: Path) -> None:
    """A seeded copilot_mart of `rows` rows over three years, written as month partitions."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    skus = 5_000
    days = pd.date_range("2022-01-01", "2024-12-31", freq="D")
    sku = rng.integers(0, skus, rows)
    frame = pd.DataFrame(
        {
            "date": days[rng.integers(0, len(days), rows)],
            "country": np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), rows)],
            "category": np.array(CATEGORIES)[sku % len(CATEGORIES)],
            "sku": pd.Series(sku).map(lambda n: f"SKU-{n:05d}"),
            "description": pd.Series(sku).map(lambda n: f"Product {n:05d}"),
            "units": rng.poisson(3, rows) + 1,
            "orders": rng.poisson(2, rows) + 1,
        }
    )
    frame["revenue_reporting"] = (frame["units"] * rng.lognormal(3, 0.5, rows)).round(2)
    for month, part in frame.groupby(frame["date"].dt.strftime("%Y-%m")):
        target = folder / "copilot_mart" / f"month={month}"
        target.mkdir(parents=True, exist_ok=True)
        part.to_parquet(target / "part-0.parquet", index=False)
    kpis = frame.groupby(["date", "country"], as_index=False)[["units", "revenue_reporting", "orders"]].sum()
    kpis["customers"] = (kpis["orders"] * 0.9).astype("int64")
    target = folder / "country_kpis" / "all"
    target.mkdir(parents=True, exist_ok=True)
    kpis.to_parquet(target / "part-0.parquet", index=False)


def measure(path: str, folder: Path) -> dict:
    """In this process: build the copilot over `folder`, ask the ten questions."""
    from retail_copilot.copilot import Copilot
    from retail_copilot.store import Snapshot

    started = time.perf_counter()
    if path == "duckdb":
        from retail_copilot.sqlplan import KPIS, MART
        from retail_copilot.warehouse import DuckWarehouse, Raw

        from retail_platform.sql import SqlEngine

        engine = SqlEngine()
        raw = {}
        for source in (MART, KPIS):
            files = "'" + str(folder / source / "*" / "*.parquet").replace("'", "''") + "'"
            engine.execute(f"CREATE VIEW raw_{source} AS SELECT * FROM read_parquet({files})")  # noqa: S608
            raw[source] = Raw(f"raw_{source}", dict(engine.columns(f"raw_{source}")))
        snapshot = Snapshot(None, None, None, "bench", warehouse=DuckWarehouse(engine, raw))
    else:
        import pandas as pd

        mart = pd.read_parquet(folder / "copilot_mart")
        kpis = pd.read_parquet(folder / "country_kpis")
        snapshot = Snapshot(mart.drop(columns=["month"], errors="ignore"), kpis, None, "bench")
    copilot = Copilot(snapshot, currency="EUR")
    ready = time.perf_counter() - started
    answers, latencies = [], []
    for question in QUESTIONS:
        t = time.perf_counter()
        answers.append(copilot.ask(question))
        latencies.append(time.perf_counter() - t)
    return {
        "path": path,
        "ready_s": round(ready, 2),
        "ten_questions_s": round(sum(latencies), 2),
        "slowest_s": round(max(latencies), 3),
        "answered": sum(a["status"] == "answered" for a in answers),
        "values": [a["value"] for a in answers],
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> int:
    """This process's own high-water RSS (VmHWM; ru_maxrss would carry the parent's peak across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--pandas-src", type=Path, help="the pandas-path copilot's src folder (older checkout)")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "copilot-scaling")
    parser.add_argument("--measure", choices=("duckdb", "pandas"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.folder)))
        return
    for rows in args.rows:
        folder = args.folder / str(rows)
        if not (folder / "copilot_mart").exists():
            generate(rows, folder)
        results = {}
        for path, src in (("duckdb", ROOT / "ai-systems" / "retail-copilot" / "src"), ("pandas", args.pandas_src)):
            if src is None:
                continue
            env = os.environ | {"PYTHONPATH": os.pathsep.join([str(src), str(ROOT)])}
            command = [sys.executable, __file__, "--measure", path, "--folder", str(folder)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            results[path] = json.loads(done.stdout.strip().splitlines()[-1])
        same = len({json.dumps(r["values"]) for r in results.values()}) == 1
        for result in results.values():
            result.pop("values")
            print(json.dumps({"rows": rows, **result, "same_answers": same, "load_1m": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()
