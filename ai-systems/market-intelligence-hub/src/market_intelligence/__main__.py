"""Command line: any long table in, forecasts / trend analyses out.

    python -m market_intelligence forecast --input series.csv --output forecasts.csv [--scores scores.csv]
        [--id-col series_id --date-col ds --value-col y] [--horizon 12] [--models ets,prophet,...] [--folds 3]
    python -m market_intelligence trends --input series.csv --output trends.csv
    python -m market_intelligence trends --input copilot_mart.parquet --output trends.csv \
        --dimensions region,segment --date-col date --value-col revenue_reporting

A table without an id column is one series. With --dimensions (the setting MARKET_DIMENSIONS of the batch
path), the rows (e.g. prod copilot_mart, whose custom attributes are columns) are summed into weekly markets:
every combination of the named columns' values, with ALL totals. CSV or Parquet (by extension).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from market_intelligence.exceptions import InputError


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"no such file: {path}")
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False) if path.suffix == ".parquet" else frame.to_csv(path, index=False)


def _long(args) -> pd.DataFrame:
    frame = _read(args.input)
    for col in (args.date_col, args.value_col):
        if col not in frame.columns:
            raise InputError(f"column {col!r} not in {args.input} (columns: {', '.join(map(str, frame.columns))})")
    if args.dimensions:
        from market_intelligence import dimensions
        from market_intelligence.batch import market_long

        dims = dimensions.parse(args.dimensions)
        rows = frame.rename(columns={args.date_col: "date", args.value_col: "revenue_reporting"})
        return market_long(dimensions.weekly_markets(rows, dims), dims)
    ids = frame[args.id_col].astype(str) if args.id_col in frame.columns else args.input.stem
    return pd.DataFrame({"series_id": ids, "ds": frame[args.date_col], "y": frame[args.value_col]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m market_intelligence", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("forecast", "trends"):
        p = sub.add_parser(name)
        p.add_argument("--input", type=Path, required=True)
        p.add_argument("--output", type=Path, required=True)
        p.add_argument("--id-col", default="series_id")
        p.add_argument("--date-col", default="ds")
        p.add_argument("--value-col", default="y")
        p.add_argument(
            "--dimensions",
            help="comma list of columns that define a market (e.g. region,segment): weekly markets with ALL totals",
        )
        if name == "forecast":
            p.add_argument("--scores", type=Path, help="also write the validation scores of every model")
            p.add_argument("--horizon", type=int)
            p.add_argument("--models", help="comma list (default: all)")
            p.add_argument("--folds", type=int, default=3)
            p.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args(argv)
    try:
        long = _long(args)
        if args.command == "forecast":
            from market_intelligence.config import options_from_env

            options = options_from_env(
                {"MARKET_MODELS": args.models or "", "MARKET_FOLDS": str(args.folds), "MARKET_EPOCHS": str(args.epochs)}
            )
            options.horizon = args.horizon
            from market_intelligence.forecast import Forecaster

            forecaster = Forecaster(options)
            forecasts, scores, _ = forecaster.run(long)
            _write(forecasts, args.output)
            if args.scores:
                _write(scores, args.scores)
            chosen = forecasts.drop_duplicates("series_id")[["series_id", "model", "cv_mase", "cv_mape"]]
            print(chosen.to_string(index=False))
        else:
            from market_intelligence.batch import analyse_trends
            from market_intelligence.dimensions import parse

            result = analyse_trends(long, None, parse(args.dimensions or ""))
            _write(result, args.output)
            for summary in result["summary"]:
                print(summary)
    except InputError as e:
        print(json.dumps({"error": str(e)}), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
