"""Command line: `python -m compliance_guardian ...`

fraud-train TABLE [--label is_fraud] [--time payment_ts] [--features a,b,c] [--objective precision:0.5] [--out DIR]
    Any labelled transaction table (CSV, CSV.gz or Parquet). With --features, those columns are the model's
    features as they are (a retailer's own); without, the platform's features are built from
    payment_transactions-shaped columns. The alert threshold meets --objective on the validation period
    (precision:P, alerts_per_day:N or alert_rate:R; default FRAUD_THRESHOLD_OBJECTIVE, else precision:0.5).
    Prints why that threshold, and the holdout's precision and recall at it (PR-AUC, recall at 1% FPR, and
    the rules baseline when it applies). --out DIR saves model.json + metadata.json (features included).
fraud-score TABLE --model DIR [--label is_fraud]
    Scores a table with a model saved by fraud-train --out: alerts, and precision/recall when labelled.
scan TEXT_OR_FILE [--policy bin_last4|last4]
    Card-data findings and the masked text (a file is scanned line by line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _read_table(path: Path):
    import pandas as pd

    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)


def _timestamps(values):
    """A time column as UTC timestamps; plain numbers are seconds (e.g. seconds since the first transaction)."""
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return pd.to_datetime(numbers, unit="s", utc=True)
    return pd.to_datetime(values, utc=True, errors="coerce")


def _own_columns(table, args: argparse.Namespace):
    """(time-sorted table, its feature columns) for --features."""
    from compliance_guardian.exceptions import BadRequestError
    from compliance_guardian.fraud.features import own_features

    columns = [c.strip() for c in args.features.split(",") if c.strip()]
    missing = [c for c in [args.label, args.time] if c not in table.columns]
    if missing:
        raise BadRequestError(f"table is missing columns: {', '.join(missing)}")
    table = table.assign(**{args.time: _timestamps(table[args.time])})
    table = table.dropna(subset=[args.time]).sort_values(args.time, kind="stable").reset_index(drop=True)
    return table, own_features(table, columns)


def _summary(model, report: dict) -> str:
    choice = model.metadata["threshold_choice"]
    m = report["model"]
    caught = round(m["recall_at_threshold"] * m["positives"])
    return (
        f"threshold {choice['value']} for objective {choice['objective']}: {choice['why']}. "
        f"Holdout: recall {m['recall_at_threshold']} ({caught} of {m['positives']} frauds), "
        f"precision {m['precision_at_threshold']}, {m['alerts']} alerts ({m['alerts_per_day']} per day)."
    )


def fraud_train(args: argparse.Namespace) -> int:
    from compliance_guardian.config import objective_from_env
    from compliance_guardian.exceptions import BadRequestError, TrainingDataError
    from compliance_guardian.fraud.model import train
    from retail_platform.exceptions import ConfigurationError

    try:
        objective = args.objective or objective_from_env(os.environ)
        table = _read_table(Path(args.table))
        if args.features:
            table, features = _own_columns(table, args)
            model, report = train(table, args.label, objective, features=features, time_column=args.time)
        else:
            model, report = train(table, args.label, objective, time_column="payment_ts")
    except (BadRequestError, TrainingDataError, ConfigurationError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(_summary(model, report))
    out = {"version": model.version, "threshold": model.metadata["threshold_choice"], "holdout": report}
    print(json.dumps(out, indent=2))
    if args.out:
        target = Path(args.out)
        target.mkdir(parents=True, exist_ok=True)
        for name, body in model.to_files().items():
            (target / name).write_bytes(body)
    return 0


def fraud_score(args: argparse.Namespace) -> int:
    from compliance_guardian.exceptions import BadRequestError
    from compliance_guardian.fraud import metrics
    from compliance_guardian.fraud.features import build_features, labels, own_features, prepare
    from compliance_guardian.fraud.model import FraudModel

    try:
        model = FraudModel.from_files({p.name: p.read_bytes() for p in Path(args.model).glob("*.json")})
        table = _read_table(Path(args.table))
        if model.platform_features:
            table = prepare(table)
            features = build_features(table, prepared=True)
        else:
            features = own_features(table, model.feature_names)
        probabilities = model.probabilities(features)
    except (BadRequestError, ValueError, KeyError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = {"version": model.version, "threshold": model.threshold, "rows": len(probabilities)}
    out["alerts"] = int((probabilities >= model.threshold).sum())
    if args.label in table.columns:
        out["metrics"] = metrics.summary(labels(table, args.label), probabilities, model.threshold)
    print(json.dumps(out, indent=2))
    return 0


def scan(args: argparse.Namespace) -> int:
    from compliance_guardian.scan import scan_text

    source = Path(args.text)
    lines = source.read_text(encoding="utf-8").splitlines() if source.is_file() else [args.text]
    for n, line in enumerate(lines):
        result = scan_text(line, args.policy)
        if result["findings"]:
            print(json.dumps({"line": n, **result}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compliance_guardian", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fraud-train", help="train and evaluate the fraud model on a labelled table")
    p.add_argument("table")
    p.add_argument("--label", default="is_fraud")
    p.add_argument("--time", default="payment_ts")
    p.add_argument("--features", default="")
    p.add_argument("--objective", default="", help="precision:P | alerts_per_day:N | alert_rate:R")
    p.add_argument("--out", default="")
    p.set_defaults(func=fraud_train)
    f = sub.add_parser("fraud-score", help="score a table with a model saved by fraud-train --out")
    f.add_argument("table")
    f.add_argument("--model", required=True)
    f.add_argument("--label", default="is_fraud")
    f.set_defaults(func=fraud_score)
    s = sub.add_parser("scan", help="find and mask card data in a text or a file")
    s.add_argument("text")
    s.add_argument("--policy", default="bin_last4", choices=["bin_last4", "last4"])
    s.set_defaults(func=scan)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
