"""Command line: `python -m market_pulse analyse --input sales.csv --out results/` (any multi-country long table).

Reads CSV or Parquet with one row per transaction or per day and country, writes every pulse table as CSV,
the serving documents as pulse.json, and prints the pulse per market. Markets are countries unless
`--dimensions region` (or `country,segment`) names other columns whose values are the markets; their public
holidays are those of the market's country (the --country-col value when a market has only one).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from market_pulse.exceptions import PulseInputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m market_pulse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    analyse = sub.add_parser("analyse", help="analyse a multi-country sales table")
    analyse.add_argument("--input", required=True, help="CSV or Parquet file")
    analyse.add_argument("--out", default="pulse-results", help="output directory (default: pulse-results)")
    analyse.add_argument("--date-col", default="date")
    analyse.add_argument("--country-col", default="country")
    analyse.add_argument(
        "--dimensions",
        help="what a market is: comma-separated columns, e.g. Region or Country,Segment (default: the country)",
    )
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
    from market_pulse import analysis, markets, panel

    table = read_table(Path(args.input))
    dimensions = tuple(c.strip() for c in (args.dimensions or "").split(",") if c.strip()) or ("country",)
    market_col, holidays = args.country_col, None
    if args.dimensions:
        market_col = "_market"
        table[market_col] = markets.market_column(table, dimensions, "input table")
        if args.country_col in table:
            holidays = markets.holiday_countries(table.assign(country=table[args.country_col]), dimensions)
        else:
            holidays = {}
    frame = panel.from_long_table(
        table,
        date_col=args.date_col,
        country_col=market_col,
        revenue_col=args.revenue_col,
        quantity_col=args.quantity_col,
        price_col=args.price_col,
        order_col=args.order_col,
        customer_col=args.customer_col,
        currency_col=args.currency_col,
        date_format=args.date_format,
    )
    config = replace(analysis.PulseConfig(), window_days=args.window_days, seed=args.seed)
    result = analysis.analyse(
        frame,
        config,
        reporting_currency=args.currency,
        dimension=markets.label(dimensions),
        holiday_countries=holidays,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "daily_panel.csv", index=False)
    for name, table_out in result.tables.items():
        table_out.to_csv(out / f"{name}.csv", index=False)
    (out / "pulse.json").write_text(json.dumps(analysis.documents(result), indent=2, default=str))
    n = frame["country"].nunique()
    markets_said = f"{n} countries" if result.dimension == "country" else f"{n} markets by {result.dimension}"
    print(f"as of {result.as_of} ({result.start}..), {markets_said}, version {result.version}")
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
