"""Command line: `python -m market_pulse analyse --input sales.csv --out results/` (any multi-country long table).

Reads CSV or Parquet with one row per transaction or per day and country, writes every pulse table as CSV,
the serving documents as pulse.json, and prints the pulse per country.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

from market_pulse.exceptions import PulseInputError  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m market_pulse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    analyse = sub.add_parser("analyse", help="analyse a multi-country sales table")
    analyse.add_argument("--input", required=True, help="CSV or Parquet file")
    analyse.add_argument("--out", default="pulse-results", help="output directory (default: pulse-results)")
    analyse.add_argument("--date-col", default="date")
    analyse.add_argument("--country-col", default="country")
    analyse.add_argument("--revenue-col", default="revenue", help="revenue column (ignored with --quantity/price)")
    analyse.add_argument("--quantity-col", help="quantity column: revenue = quantity * price")
    analyse.add_argument("--price-col", help="unit price column")
    analyse.add_argument("--order-col", help="order id column (orders = distinct ids per day and country)")
    analyse.add_argument("--customer-col", help="customer id column")
    analyse.add_argument("--currency-col", help="currency column")
    analyse.add_argument("--date-format", help="strptime format of the date column, e.g. %%m/%%d/%%Y %%H:%%M")
    analyse.add_argument("--currency", default="EUR", help="label of the reporting currency (default EUR)")
    analyse.add_argument("--window-days", type=int, default=28)
    analyse.add_argument("--seed", type=int, default=7)
    return parser


def read_table(path: Path):
    import pandas as pd

    if not path.exists():
        raise PulseInputError(f"input file {path} does not exist")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path, low_memory=False, encoding_errors="replace")
    except pd.errors.EmptyDataError as e:
        raise PulseInputError(f"{path} is empty") from e


def analyse(args: argparse.Namespace) -> int:
    from market_pulse import analysis, panel

    table = read_table(Path(args.input))
    frame = panel.from_long_table(
        table,
        date_col=args.date_col,
        country_col=args.country_col,
        revenue_col=args.revenue_col,
        quantity_col=args.quantity_col,
        price_col=args.price_col,
        order_col=args.order_col,
        customer_col=args.customer_col,
        currency_col=args.currency_col,
        date_format=args.date_format,
    )
    config = replace(analysis.PulseConfig(), window_days=args.window_days, seed=args.seed)
    result = analysis.analyse(frame, config, reporting_currency=args.currency)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "daily_panel.csv", index=False)
    for name, table_out in result.tables.items():
        table_out.to_csv(out / f"{name}.csv", index=False)
    (out / "pulse.json").write_text(json.dumps(analysis.documents(result), indent=2, default=str))
    print(f"as of {result.as_of} ({result.start}..), {frame['country'].nunique()} countries, version {result.version}")
    for text in result.tables["pulse"].sort_values("pulse_index", ascending=False)["explanation"]:
        print(" ", text)
    print(f"tables written to {out}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return analyse(args)
    except PulseInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
