"""Command line: ask questions over local copies of the prod datasets.

    python -m retail_copilot --prod-dir DIR "top 5 products by revenue last month" "and in Germany?"
    python -m retail_copilot --mart copilot_mart.parquet --kpis country_kpis.parquet --json "revenue by country"

DIR holds <dataset>/month=YYYY-MM/part-0.parquet (or older date=YYYY-MM-DD/ partitions) as in the prod bucket.
Questions in one call share a session, so follow-ups work. Without questions, they are read from stdin, one a line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from retail_copilot.copilot import Copilot
from retail_copilot.store import DatasetInfo, Snapshot
from retail_platform.storage import period_of


def read_table(path: Path) -> pd.DataFrame:
    if path.is_dir():
        files = sorted(path.rglob("*.parquet"))
        frames = [pd.read_parquet(f) for f in files]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if path.suffix == ".csv":
        return pd.read_csv(path, parse_dates=["date"])
    return pd.read_parquet(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retail_copilot", description=__doc__.split("\n")[0])
    parser.add_argument("questions", nargs="*", help="questions (default: one per line on stdin)")
    parser.add_argument("--prod-dir", type=Path, help="folder with copilot_mart/ and country_kpis/ partitions")
    parser.add_argument("--mart", type=Path, help="copilot_mart as a parquet/csv file or folder")
    parser.add_argument("--kpis", type=Path, help="country_kpis as a parquet/csv file or folder")
    parser.add_argument("--currency", default="EUR")
    parser.add_argument("--json", action="store_true", help="print the full JSON answers")
    args = parser.parse_args(argv)
    mart_path = args.mart or (args.prod_dir / "copilot_mart" if args.prod_dir else None)
    kpis_path = args.kpis or (args.prod_dir / "country_kpis" if args.prod_dir else None)
    if mart_path is None or not mart_path.exists():
        parser.error("give --prod-dir or --mart (copilot_mart) that exists")
    mart = read_table(mart_path)
    kpis = read_table(kpis_path) if kpis_path is not None and kpis_path.exists() else pd.DataFrame()
    datasets = {}
    for name, path in (("copilot_mart", mart_path), ("country_kpis", kpis_path)):
        if path is not None and path.is_dir():
            labels = sorted({label for p in path.rglob("*.parquet") if (label := period_of(p.as_posix()))})
            datasets[name] = DatasetInfo(name, len(labels), labels[-1] if labels else None)
    copilot = Copilot(Snapshot(mart, kpis, None, "cli", datasets), currency=args.currency)
    questions = args.questions or [line.strip() for line in sys.stdin if line.strip()]
    for question in questions:
        answer = copilot.ask(question, "cli")
        if args.json:
            print(json.dumps(answer, default=str))
        else:
            print(f"Q: {answer['question']}\nA: {answer['answer']}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
