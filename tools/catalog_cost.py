"""Athena cost model of the catalogued datasets: bytes per row measured on real Parquet, priced per TB scanned.

    .venv/bin/python tools/catalog_cost.py --curated <folder> --prod <folder> [--lines-per-month 100000000]

The folders hold what the pipeline wrote (``<dataset>/<date=|month=>.../*.parquet``, e.g. the local run's
``local-curated`` and ``local-prod``). Each dataset's rows are regrouped by month and rewritten the way the
monthly layout writes them (one zstd Parquet object per month), so a day-partitioned run measures what the
monthly files would hold. Athena bills the compressed bytes of the columns a query reads, so the figures are
per column (column-chunk sizes from the Parquet metadata), without the footers.

Cost: USD 5 per TB scanned (Athena SQL, us-east-1, on-demand), at least 10 MB per query
(https://aws.amazon.com/athena/pricing/; not re-checked online: aws.amazon.com is unreachable here).
"""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from retail_platform.contracts import load_canonical, load_prod

USD_PER_TB = 5.0
TB = 1e12
MIN_BYTES_PER_QUERY = 10 * 1024**2


@dataclass(frozen=True)
class Measured:
    """Rows and compressed bytes per column of one dataset, as monthly zstd Parquet."""

    rows: int
    column_bytes: dict[str, int]

    def bytes_per_row(self, columns: list[str] | None = None) -> float:
        chosen = self.column_bytes if columns is None else {c: self.column_bytes[c] for c in columns}
        return sum(chosen.values()) / self.rows if self.rows else 0.0


def _month(path: Path, root: Path) -> str:
    for part in path.relative_to(root).parts:
        if part.startswith(("date=", "month=")):
            return part.split("=", 1)[1][:7]
    return "-"


def measure(folder: Path, dataset: str, columns: list[str]) -> Measured | None:
    """The catalogued `columns` of `dataset` under `folder`, rewritten as one zstd Parquet object per month
    (custom attributes and lineage are not in the catalog, so Athena never reads them); None without rows."""
    files = sorted((folder / dataset).rglob("*.parquet"))
    by_month: dict[str, list[pa.Table]] = {}
    for path in files:
        by_month.setdefault(_month(path, folder / dataset), []).append(pq.ParquetFile(path).read())
    rows, sizes = 0, {}
    for tables in by_month.values():
        table = pa.concat_tables(tables, promote_options="permissive")
        table = table.select([c for c in columns if c in table.column_names])
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        metadata = pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata
        rows += metadata.num_rows
        for group in range(metadata.num_row_groups):
            for col in range(metadata.num_columns):
                chunk = metadata.row_group(group).column(col)
                sizes[chunk.path_in_schema] = sizes.get(chunk.path_in_schema, 0) + chunk.total_compressed_size
    return Measured(rows, sizes) if rows else None


def query_cost(scanned_bytes: float) -> float:
    return max(scanned_bytes, MIN_BYTES_PER_QUERY) / TB * USD_PER_TB


@dataclass(frozen=True)
class Scenario:
    """One Athena workload: which table's columns it reads, for how many rows, how often a month."""

    name: str
    dataset: str
    columns: list[str] | None  # None: every catalogued column
    rows: float
    runs_per_month: float


def price(scenarios: list[Scenario], measured: dict[str, Measured]) -> list[dict]:
    lines = []
    for s in scenarios:
        per_row = measured[s.dataset].bytes_per_row(s.columns)
        scanned = per_row * s.rows
        lines.append(
            {
                "workload": s.name,
                "bytes_per_row": per_row,
                "scanned_gb": scanned / 1e9,
                "usd_per_query": query_cost(scanned),
                "runs_per_month": s.runs_per_month,
                "usd_per_month": query_cost(scanned) * s.runs_per_month,
            }
        )
    return lines


def scenarios(lines_per_month: float, months: int, daily_sales_rows_per_month: float) -> list[Scenario]:
    """The platform's Athena workloads at `lines_per_month` order lines and `months` of history."""
    question = ["date", "sku", "country", "units", "revenue_reporting"]
    return [
        Scenario(
            "nightly full rebuild: curated order_lines, all columns, whole history",
            "order_lines",
            None,
            lines_per_month * months,
            30,
        ),
        Scenario("rebuild of one month (a backfill or replay of that month)", "order_lines", None, lines_per_month, 1),
        Scenario(
            "copilot question on Athena: daily_sales, 5 columns, whole history",
            "daily_sales",
            question,
            daily_sales_rows_per_month * months,
            1000,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curated", type=Path, required=True, help="folder of curated datasets")
    parser.add_argument("--prod", type=Path, required=True, help="folder of prod datasets")
    parser.add_argument("--lines-per-month", type=float, default=100e6)
    parser.add_argument("--months", type=int, default=36, help="history that a full rebuild reads")
    parser.add_argument("--skus", type=int, default=20_000, help="SKUs sold in a month (daily_sales rows)")
    parser.add_argument("--countries", type=int, default=10, help="countries sold to (daily_sales rows)")
    args = parser.parse_args(argv)
    curated = measure(args.curated, "order_lines", list(load_canonical("order_lines").columns))
    daily = measure(args.prod, "daily_sales", list(load_prod("daily_sales").columns))
    if curated is None or daily is None:
        parser.error("both folders need rows: curated order_lines and prod daily_sales")
    measured = {"order_lines": curated, "daily_sales": daily}
    # daily_sales has one row per day x SKU x country sold: bounded by the catalogue, not by the order lines
    daily_rows = min(args.lines_per_month, 30.4 * args.skus * args.countries)
    report = {
        "measured": {
            name: {
                "rows": m.rows,
                "bytes_per_row": round(m.bytes_per_row(), 1),
                "column_bytes_per_row": {c: round(b / m.rows, 2) for c, b in m.column_bytes.items()},
            }
            for name, m in measured.items()
        },
        "assumed": {
            "lines_per_month": args.lines_per_month,
            "months": args.months,
            "daily_sales_rows_per_month": daily_rows,
        },
        "cost": [
            {k: round(v, 4) if isinstance(v, float) else v for k, v in line.items()}
            for line in price(scenarios(args.lines_per_month, args.months, daily_rows), measured)
        ],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
