"""Command line: `python -m compliance_guardian ...`

fraud-train TABLE [--label is_fraud] [--time payment_ts] [--features a,b,c] [--alert-rate 0.02] [--out DIR]
    Any labelled transaction table (CSV or Parquet). With --features, those columns are the model's
    features as they are (a retailer's own); without, the platform's features are built from
    payment_transactions-shaped columns. Prints holdout metrics (PR-AUC, recall at 1% FPR,
    precision at the threshold) against the rules baseline when it applies.
scan TEXT_OR_FILE [--policy bin_last4|last4]
    Card-data findings and the masked text (a file is scanned line by line).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _read_table(path: Path):
    import pandas as pd

    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)


def fraud_train(args: argparse.Namespace) -> int:
    import pandas as pd

    from compliance_guardian.exceptions import BadRequestError
    from compliance_guardian.fraud.model import train

    table = _read_table(Path(args.table))
    try:
        if args.features:
            columns = [c.strip() for c in args.features.split(",") if c.strip()]
            missing = [c for c in [*columns, args.label, args.time] if c not in table.columns]
            if missing:
                raise BadRequestError(f"table is missing columns: {', '.join(missing)}")
            table = table.assign(**{args.time: pd.to_datetime(table[args.time], utc=True, errors="coerce")})
            table = table.dropna(subset=[args.time]).sort_values(args.time, kind="stable").reset_index(drop=True)
            features = table[columns].apply(pd.to_numeric, errors="coerce").astype("float32")
            model, report = train(table, args.label, args.alert_rate, features=features, time_column=args.time)
        else:
            model, report = train(table, args.label, args.alert_rate, time_column="payment_ts")
    except BadRequestError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"version": model.version, "threshold": model.threshold, "holdout": report}, indent=2))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, body in model.to_files().items():
            (out / name).write_bytes(body)
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
    p.add_argument("--alert-rate", type=float, default=0.02)
    p.add_argument("--out", default="")
    p.set_defaults(func=fraud_train)
    s = sub.add_parser("scan", help="find and mask card data in a text or a file")
    s.add_argument("text")
    s.add_argument("--policy", default="bin_last4", choices=["bin_last4", "last4"])
    s.set_defaults(func=scan)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
