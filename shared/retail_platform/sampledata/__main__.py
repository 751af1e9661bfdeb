"""CLI: python -m retail_platform.sampledata --out DIR [--seed N] [--days N] [--start YYYY-MM-DD] [--small]"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from .generator import generate
from .params import SMALL_PROFILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retail_platform.sampledata", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="output directory (paths below it = raw object keys)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=None, help="days of history (default 730, --small 92)")
    parser.add_argument("--start", type=date.fromisoformat, default=None, help="first day (default 2023-01-01)")
    parser.add_argument(
        "--small",
        action="store_true",
        help="fast test profile: 92 days from 2023-10-01, 30 SKUs, 300 customers, GB/DE/US/SE",
    )
    args = parser.parse_args(argv)

    kwargs: dict[str, object] = dict(SMALL_PROFILE) if args.small else {}
    if args.days is not None:
        kwargs["days"] = args.days
    if args.start is not None:
        kwargs["start"] = args.start
    t0 = time.perf_counter()
    manifest = generate(args.out, seed=args.seed, **kwargs)  # type: ignore[arg-type]
    s = manifest.summary
    print(
        json.dumps(
            {
                "out": str(args.out),
                "seconds": round(time.perf_counter() - t0, 2),
                "files": len(manifest.files),
                "rows": {k: v["rows"] for k, v in s["datasets"].items()},  # type: ignore[union-attr]
                "defects": s["defects"],
                "leaked_pans": s["leaked_pans"],
                "fraud": s["fraud"],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
