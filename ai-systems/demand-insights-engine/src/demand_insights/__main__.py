"""Command line: any long sales table in, forecasts and a backtest out.

    python -m demand_insights forecast --input sales.csv [--id-col item] --date-col ds --qty-col y \
        [--price-col price] [--promo-col promo] [--group-col category] [--country-col country] \
        [--grain daily|weekly|monthly] [--horizon N] [--folds 1] [--out forecast-out/]

The grain is detected from the dates unless given (a finer table given a coarser grain is summed into
weeks or months); the horizon defaults to 28 days, 13 weeks or 12 months and may reach one yearly cycle
(365 days, 52 weeks, 12 months). Histories shorter than the model needs get the seasonal-naive baseline.

Writes <out>/forecasts.csv (series_id, target_date, horizon, mean, p10, p50, p90, model_version),
<out>/backtest.json (WAPE / MASE / P10-P90 coverage of the model and the two baselines, the share of rows
whose mean lay outside P10-P90 before the interval was widened to hold it) and
<out>/model/ (model.txt, model_p50.txt, metadata.json); prints the backtest summary as JSON. Exit 2 on unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from demand_insights.exceptions import InputDataError


def _read(path: Path):
    import pandas as pd

    if not path.exists():
        raise InputDataError(f"{path} does not exist")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputDataError(f"{path} is not a readable CSV: {e}") from e


def forecast_command(args: argparse.Namespace) -> dict:
    from demand_insights import fallback, forecast, grain
    from demand_insights.panel import from_long

    table = _read(args.input)
    if args.id_col is None:  # a single series (e.g. a shop's total sales)
        args.id_col = "series"
        table = table.assign(series="all")
    panel = from_long(
        table,
        args.id_col,
        args.date_col,
        args.qty_col,
        price_col=args.price_col,
        promo_col=args.promo_col,
        group_col=args.group_col,
        country_col=args.country_col,
        grain=args.grain,
    )
    horizon = grain.check_horizon(args.horizon or panel.grain.default_horizon, panel.grain)
    budget = {"max_rows": args.max_rows, "rounds": args.rounds}
    summary: dict = {
        "series": panel.n_series,
        "steps": panel.n_steps,
        "grain": panel.grain.name,
        "seasonal_period": panel.grain.period,
        "horizon": horizon,
        "daily_calendar": panel.daily,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    if panel.n_steps < forecast.MIN_STEPS:
        forecasts, summary["note"] = fallback.baseline_forecast(panel, horizon)
        model = None
    else:
        if args.folds > 0 and panel.n_steps >= forecast.MIN_STEPS + horizon * args.folds:
            result = forecast.backtest(panel, horizon, folds=args.folds, **budget)
            summary["backtest"] = {"pooled": result["pooled"], "folds": result["folds"]}
        elif args.folds > 0:
            summary["note"] = f"{panel.n_steps} steps are too few for {args.folds} backtest fold(s) of {horizon}"
        model = forecast.fit(panel, horizon, version="cli", **budget)
        forecasts = model.forecast(panel, horizon)
    summary["mean_outside_p10_p90"] = forecast.mean_outside_share(forecasts)
    summary["mean_outside_before_widening"] = forecasts.attrs.get("mean_outside_before_widening", 0.0)
    forecasts.to_csv(args.out / "forecasts.csv", index=False)
    (args.out / "backtest.json").write_text(json.dumps(summary, indent=2, default=str))
    if model is not None:
        (args.out / "model").mkdir(exist_ok=True)
        for name, body in model.to_files().items():
            (args.out / "model" / name).write_bytes(body)
    summary["outputs"] = str(args.out)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demand_insights", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fc = sub.add_parser("forecast", help="forecast every series of a long table and backtest the model")
    fc.add_argument("--input", type=Path, required=True, help="CSV or Parquet, one row per series and day")
    fc.add_argument("--id-col", help="series id column (default: the whole table is one series)")
    fc.add_argument("--date-col", required=True)
    fc.add_argument("--qty-col", required=True)
    fc.add_argument("--price-col")
    fc.add_argument("--promo-col")
    fc.add_argument("--group-col", help="category or level used for short histories")
    fc.add_argument("--country-col", help="ISO country per series, for holiday features")
    fc.add_argument("--grain", choices=["daily", "weekly", "monthly"], help="default: detected from the dates")
    fc.add_argument(
        "--horizon",
        type=int,
        help="steps ahead, up to one yearly cycle: 365 daily, 52 weekly, 12 monthly (default 28 / 13 / 12)",
    )
    fc.add_argument("--folds", type=int, default=1, help="rolling-origin backtest folds (0: none)")
    fc.add_argument("--out", type=Path, default=Path("forecast-out"))
    fc.add_argument("--rounds", type=int, default=150)
    fc.add_argument("--max-rows", type=int, default=400_000)
    args = parser.parse_args(argv)
    try:
        summary = forecast_command(args)
    except InputDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
