"""Benchmark the prod rebuild at scale: the SQL marts on DuckDB against today's pandas path (issue #18, item 5).

    .venv/bin/python tools/benchmarks/scaling.py [--lines 1000000,10000000] [--pandas-max 2000000]

Input: generated curated data (seeded, numpy; no sample repeated) laid out as raw-to-curated writes it,
`<dataset>/month=YYYY-MM/part-bench-<n>.parquet`, over two years: order lines (1-6 per order, 2% of them
cancellations), their orders and one card payment each, 2,000 products in 12 categories, daily EUR->GBP/USD/SEK
rates; 6 countries in 4 currencies. Prices and stock snapshots are left out (they scale with SKU-days, not
order lines). Files sit in a local folder (`DirectoryBlobStore`), so no network time is counted.

Each run is a fresh subprocess (peak memory = its maximum resident set size), full rebuild of the six prod
datasets:
* duckdb: `marts.sql.run.SqlMarts.from_store` (objects mirrored to a local cache, batches of months, memory
  capped at --memory-limit), each month of each dataset written as one `month=YYYY-MM/part-0.parquet`;
* pandas: today's path before the SQL marts: every curated object read into pandas and normalised, the pandas
  marts (`tests/reference/pandas_marts`) built at once, one object per day per dataset.
Sizes above --pandas-max are not run with pandas (the shared 2-core machine would swap); the JSON says so and
gives the linear fit of the measured sizes instead. Figures go to docs/benchmarks/scaling.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "benchmarks" / "scaling.json"
START = datetime(2023, 1, 1, tzinfo=UTC)
DAYS = 730
COUNTRIES = (("GB", "GBP"), ("DE", "EUR"), ("FR", "EUR"), ("US", "USD"), ("SE", "SEK"), ("NL", "EUR"))
N_SKUS = 2_000
CHUNK_LINES = 1_000_000


class DirectoryBlobStore:
    """A `BlobStore` over a local folder (keys are relative paths)."""

    def __init__(self, root: Path, bucket: str = "bench") -> None:
        self.root = Path(root)
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def get(self, key: str) -> bytes:
        from retail_platform.storage import ObjectNotFoundError

        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFoundError(f"{self.root / key} does not exist") from None

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix):
                yield key

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            (self.root / key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return (self.root / key).is_file()


# ---------------------------------------------------------------------- generated curated data


def generate(root: Path, lines: int, seed: int = 7) -> dict[str, int]:
    """Curated objects for `lines` order lines under root, generated CHUNK_LINES at a time (memory bounded by
    a chunk) with Arrow arrays (no pandas on the way) and cut into months by binary search on the sorted
    timestamps. Cached: a complete folder (`_complete.json`) is reused."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    done = root / "_complete.json"
    if done.exists():
        return json.loads(done.read_text())
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(seed)
    counts = {"order_lines": 0, "orders": 0, "payments": 0}
    part = 0
    month_starts = np.arange("2023-01", "2025-02", dtype="datetime64[M]")
    bounds_ns = month_starts.astype("datetime64[ns]").astype("int64")
    utc = pa.timestamp("ns", tz="UTC")
    codes, currencies = pa.array([c for c, _ in COUNTRIES]), pa.array([c for _, c in COUNTRIES])
    sku_names = pa.array([f"SKU{i}" for i in range(N_SKUS)])
    descriptions = pa.array([f"Product {i}" for i in range(N_SKUS)])

    def prefixed(prefix: str, numbers: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pa.array(numbers).cast(pa.string()), "")

    def write(dataset: str, table: pa.Table, ts_ns: np.ndarray) -> None:
        """The rows (sorted by ts_ns) of each month into that month's object of this chunk."""
        cuts = np.searchsorted(ts_ns, bounds_ns)
        for month, lo, hi in zip(month_starts, cuts, [*cuts[1:], len(ts_ns)], strict=True):
            if hi > lo:
                path = root / dataset / f"month={month}" / f"part-bench-{part}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table.slice(lo, hi - lo), path, compression="zstd")
        counts[dataset] = counts.get(dataset, 0) + table.num_rows

    start_ns = np.datetime64(START.replace(tzinfo=None), "ns").astype("int64")
    order_base = 0
    while counts["order_lines"] < lines:
        n_orders = min(CHUNK_LINES, lines - counts["order_lines"]) // 3 + 1
        per_order = rng.integers(1, 6, n_orders)
        ts = start_ns + (np.sort(rng.uniform(0, DAYS * 86400, n_orders)) * 1e9).astype("int64")
        order_ids = prefixed("O", order_base + np.arange(n_orders))
        country = rng.integers(0, len(COUNTRIES), n_orders)
        customer = prefixed("C", rng.integers(0, max(1000, lines // 20), n_orders))
        order_codes, order_currencies = codes.take(country), currencies.take(country)
        orders = pa.table(
            {
                "order_id": order_ids,
                "order_ts": pa.array(ts, utc),
                "customer_id": customer,
                "country": order_codes,
                "currency": order_currencies,
                "channel": pa.array(rng.choice(["web", "app", "marketplace"], n_orders)),
                "status": pa.array(np.full(n_orders, "placed")),
                "shipping_country": order_codes,
                "_source_key": pa.array(np.full(n_orders, f"bench/orders-{part}.csv")),
                "_source_row": pa.array(np.arange(n_orders)),
            }
        )
        idx = np.repeat(np.arange(n_orders), per_order)
        n_lines = len(idx)
        line_no = np.arange(n_lines) - np.repeat(np.cumsum(per_order) - per_order, per_order)
        cancel = rng.random(n_lines) < 0.02
        qty = rng.integers(1, 12, n_lines).astype("float64")
        sku = rng.integers(0, N_SKUS, n_lines)
        order_lines = pa.table(
            {
                "order_id": order_ids.take(idx),
                "line_no": pa.array(line_no.astype("int64")),
                "order_ts": pa.array(ts[idx], utc),
                "sku": sku_names.take(sku),
                "description": descriptions.take(sku),
                "quantity": pa.array(np.where(cancel, -qty, qty)),
                "unit_price": pa.array(np.round(1 + (sku % 97) * 0.75, 2)),
                "currency": order_currencies.take(idx),
                "customer_id": customer.take(idx),
                "country": order_codes.take(idx),
                "is_cancellation": pa.array(cancel),
                "promo_flag": pa.array(rng.random(n_lines) < 0.1),
                "_source_key": pa.array(np.full(n_lines, f"bench/order_lines-{part}.csv")),
                "_source_row": pa.array(np.arange(n_lines)),
            }
        )
        paid = ts + 30 * 10**9
        payments = pa.table(
            {
                "payment_id": prefixed("PO", order_base + np.arange(n_orders)),
                "order_id": order_ids,
                "customer_id": customer,
                "payment_ts": pa.array(paid, utc),
                "amount": pa.array(np.round(rng.uniform(5, 300, n_orders), 2)),
                "currency": order_currencies,
                "method": pa.array(np.full(n_orders, "card")),
                "card_bin": pa.array(np.full(n_orders, "411111")),
                "card_last4": pa.array(np.full(n_orders, "1111")),
                "status": pa.array(np.full(n_orders, "approved")),
                "is_fraud": pa.array(np.zeros(n_orders, dtype=bool)),
                "_source_key": pa.array(np.full(n_orders, f"bench/payments-{part}.csv")),
                "_source_row": pa.array(np.arange(n_orders)),
            }
        )
        write("order_lines", order_lines, ts[idx])
        write("orders", orders, ts)
        write("payments", payments, paid)
        order_base += n_orders
        part += 1

    skus = np.arange(N_SKUS)
    products = pd.DataFrame(
        {
            "sku": np.char.add("SKU", skus.astype(str)),
            "description": np.char.add("Product ", skus.astype(str)),
            "category": np.char.add("Category ", (skus % 12).astype(str)),
            "base_price": 1 + (skus % 97) * 0.75,
            "currency": "EUR",
            "_source_key": "bench/products.csv",
            "_source_row": skus,
        }
    )
    (root / "products").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(products, preserve_index=False), root / "products" / "part-bench-0.parquet")
    days = pd.date_range("2023-01-01", periods=DAYS, freq="D")
    fx = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": days,
                    "base_currency": "EUR",
                    "quote_currency": q,
                    "rate": base * (1 + 0.01 * np.sin(np.arange(DAYS) / 30)),
                }
            )
            for q, base in (("GBP", 0.86), ("USD", 1.08), ("SEK", 11.4))
        ],
        ignore_index=True,
    ).assign(_source_key="bench/fx.csv", _source_row=lambda f: np.arange(len(f)))
    fx = fx.sort_values("date", kind="stable", ignore_index=True)
    write("fx_rates", pa.Table.from_pandas(fx, preserve_index=False), fx["date"].to_numpy().astype("int64"))
    done.write_text(json.dumps(counts))
    return counts


# ---------------------------------------------------------------------- one run (in a subprocess)


def _objects(root: Path) -> int:
    return sum(1 for p in root.rglob("*.parquet"))


def run_duckdb(curated: Path, prod: Path, memory_limit: str, threads: int = 2) -> dict:
    sys.path[:0] = [str(ROOT / "pipeline" / "curated-to-prod")]
    from marts.sql.run import SqlMarts
    from marts.store import table_partitions
    from retail_platform.sql import SqlEngine
    from retail_platform.storage import PartitionedDataset

    store, out = DirectoryBlobStore(curated), DirectoryBlobStore(prod)
    cache = prod.parent / "sql-cache"
    progress = prod.parent / f"progress-{prod.name}.jsonl"  # one line per batch: a long run can be watched
    progress.unlink(missing_ok=True)
    started, cpu, rows = time.perf_counter(), time.process_time(), 0
    with SqlEngine(cache_dir=cache, memory_limit=memory_limit, threads=threads) as engine:
        marts = SqlMarts.from_store(store, engine)
        months = sorted({f"{y:04d}-{m:02d}" for (y, m) in marts.lines_per_month()})
        for batch, tables in enumerate(marts.tables(_targets(months), "EUR"), start=1):
            for name, table in tables.items():
                rows += table.num_rows
                PartitionedDataset(out, name, "month").write_many(table_partitions(table), replace=True)
            done = {"batch": batch, "seconds": round(time.perf_counter() - started, 1)}
            done.update(cpu_seconds=round(time.process_time() - cpu, 1), rss_mb=peak_rss_mb(), months=len(months))
            with progress.open("a") as log:
                log.write(json.dumps(done) + "\n")
    shutil.rmtree(cache, ignore_errors=True)
    return {"rows_written": rows}


def _targets(months: list[str]) -> dict:
    import pandas as pd

    from marts import PROD_DATASETS, WEEKLY_DATASETS

    first, last = months[0] + "-01", (pd.Timestamp(months[-1] + "-01") + pd.offsets.MonthEnd(0)).date().isoformat()
    days = [d.date() for d in pd.date_range(first, last, freq="D")]
    mondays = [d for d in days if d.weekday() == 0]
    return {name: mondays if name in WEEKLY_DATASETS else days for name in PROD_DATASETS}


def run_pandas(curated: Path, prod: Path) -> dict:
    sys.path[:0] = [str(ROOT / "pipeline" / "curated-to-prod"), str(ROOT)]
    import pyarrow as pa

    from marts.curated import CuratedInputs
    from marts.store import partition_bytes
    from retail_platform.storage import PartitionedDataset
    from tests.reference.pandas_marts.build import build_pandas_marts

    store, out = DirectoryBlobStore(curated), DirectoryBlobStore(prod)
    frames = {}
    for name in ("order_lines", "orders", "payments", "prices", "inventory", "fx_rates", "products", "customers"):
        dataset = PartitionedDataset(store, name)
        keys = sorted(k for keys in dataset.listing().values() for k in keys)
        tables = [t.replace_schema_metadata(None) for t in dataset.read_tables(keys) if t.num_rows]
        frames[name] = pa.concat_tables(tables, promote_options="permissive").to_pandas() if tables else None
    inputs = CuratedInputs.from_frames(frames)
    available = {n: set(getattr(inputs, n)["_date"].dropna().dt.date) for n in ("order_lines", "payments")}
    months = sorted({d.strftime("%Y-%m") for d in available["order_lines"]})
    marts = build_pandas_marts(inputs, _targets(months), "EUR")
    rows = 0
    for name, frame in marts.items():
        rows += len(frame)
        for period, body in partition_bytes(frame, name).items():  # day objects before the monthly switch
            label = period if isinstance(period, str) else period.isoformat()
            out.put(f"{name}/{'month' if len(label) == 7 else 'date'}={label}/part-0.parquet", body)
    return {"rows_written": rows}


def child(engine: str, curated: Path, prod: Path, memory_limit: str) -> None:
    shutil.rmtree(prod, ignore_errors=True)
    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    result = run_duckdb(curated, prod, memory_limit) if engine == "duckdb" else run_pandas(curated, prod)
    result.update(
        seconds=round(time.perf_counter() - started, 1),
        cpu_seconds=round(time.process_time() - cpu, 1),
        peak_rss_mb=peak_rss_mb(),
        objects_written=_objects(prod),
        load_1m=[round(load, 1), round(os.getloadavg()[0], 1)],  # at the start and at the end
    )
    print(json.dumps(result))


def peak_rss_mb() -> int:
    """This process's own high-water RSS (VmHWM; ru_maxrss would carry the parent's peak across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


# ---------------------------------------------------------------------- driver


def measure(engine: str, curated: Path, work: Path, memory_limit: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        engine,
        "--curated",
        str(curated),
        "--prod",
        str(work / f"prod-{engine}"),
    ]
    command += ["--memory-limit", memory_limit]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def ask_copilot(prod: Path) -> dict:
    """The ten questions of tools/benchmarks/copilot_scaling.py over the prod datasets a rebuild wrote (the
    copilot's SQL path, DuckDB scanning the monthly objects in place), in a process of its own."""
    src = ROOT / "ai-systems" / "retail-copilot" / "src"
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(src), str(ROOT)])}
    command = [sys.executable, str(ROOT / "tools" / "benchmarks" / "copilot_scaling.py"), "--measure", "duckdb"]
    done = subprocess.run([*command, "--folder", str(prod)], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    answer.pop("path", None)
    answer.pop("values", None)
    return {**answer, "load_1m": round(os.getloadavg()[0], 1)}


def linear_fit(points: list[tuple[int, float]]) -> dict | None:
    """Least squares seconds = a + b * lines over the measured sizes (None with fewer than two)."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var
    return {"intercept_s": round(mean_y - slope * mean_x, 2), "s_per_million_lines": round(slope * 1e6, 2)}


def _fits(runs: list[dict]) -> dict:
    """Per engine, linear fits of wall and CPU seconds over the measured sizes."""
    return {
        engine: {
            kind: linear_fit([(r["lines"], r[kind]) for r in runs if r["engine"] == engine and kind in r])
            for kind in ("seconds", "cpu_seconds")
        }
        for engine in ("duckdb", "pandas")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", default="1000000,10000000")
    parser.add_argument("--pandas-max", type=int, default=2_000_000)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "scaling-bench")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--child")
    parser.add_argument("--curated", type=Path)
    parser.add_argument("--prod", type=Path)
    args = parser.parse_args()
    if args.child:
        sys.path[:0] = [str(ROOT)]
        child(args.child, args.curated, args.prod, args.memory_limit)
        return

    results = []
    for lines in [int(x) for x in args.lines.split(",")]:
        curated = args.work / f"curated-{lines}"
        started = time.perf_counter()
        counts = generate(curated, lines)
        print(f"{lines:,} lines: curated data ready in {time.perf_counter() - started:.0f} s {counts}", flush=True)
        for engine in ("duckdb", "pandas"):
            if engine == "pandas" and lines > args.pandas_max:
                results.append({"engine": engine, "lines": lines, "skipped": f"above --pandas-max {args.pandas_max:,}"})
                continue
            figures = measure(engine, curated, args.work / f"run-{lines}", args.memory_limit)
            figures = {"engine": engine, "lines": lines, **figures}
            if engine == "duckdb" and "error" not in figures:
                figures["copilot_ten_questions"] = ask_copilot(args.work / f"run-{lines}" / "prod-duckdb")
            print(json.dumps(figures), flush=True)
            results.append(figures)
    fits = _fits(results)
    report = {
        "machine": f"{os.cpu_count()} cores (shared), Python {sys.version.split()[0]}",
        "memory_limit_duckdb": args.memory_limit,
        "runs": results,
        "linear_fit_seconds": fits,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists():  # keep the figures of sizes not re-measured in this run
        measured = {(r["engine"], r["lines"]) for r in results if "skipped" not in r}
        earlier = [
            r for r in json.loads(args.out.read_text()).get("runs", []) if (r["engine"], r["lines"]) not in measured
        ]
        fresh = [
            r
            for r in results
            if "skipped" not in r or (r["engine"], r["lines"]) not in {(e["engine"], e["lines"]) for e in earlier}
        ]
        report["runs"] = sorted(earlier + fresh, key=lambda r: (r["lines"], r["engine"]))
        report["linear_fit_seconds"] = _fits(report["runs"])
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(fits))


if __name__ == "__main__":
    main()
