"""Benchmark of demand-insights-engine: prints every figure it measures, writes docs/benchmarks/<name>.md.

    .venv/bin/python tools/benchmarks/demand-insights-engine.py            # everything (scale run: minutes)
    .venv/bin/python tools/benchmarks/demand-insights-engine.py --quick    # skip the 2,000-series scale run
    .venv/bin/python tools/benchmarks/demand-insights-engine.py --grains   # only the per-grain real backtests

Figures:
* forecast quality (rolling-origin backtest, last 28 steps held out): WAPE / MASE / P10-P90 coverage of the
  LightGBM P50 vs seasonal naive and the mean of the previous 28 steps, on generated data and on the real
  UCI Online Retail top-30 items (tests/data/forecast-online-retail-top30-items, last 28 trading days);
* per grain on real series (`--grains`, printed only): daily top-30 items (28 days), the same items summed
  into weeks (13 weeks), US monthly retail sales (2 folds of 12 months): WAPE of P50 and mean vs seasonal
  naive with the grain's period (7 / 52 / 12), P10-P90 coverage, share of rows whose mean lay outside
  P10-P90 before the interval was widened to hold it, and after (always 0);
* churn ROC-AUC on a time-based holdout vs recency only (generated transactions);
* training time and peak memory (max RSS of a child process) for 2,000 series x 2 years;
* import + init time of the handler, warm latency p50/p99 of both routes (in-process, moto S3);
* image size when the image is built (podman/docker).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "ai-systems" / "demand-insights-engine" / "src"
sys.path[:0] = [str(SRC), str(ROOT)]
from bench_figures import Figures  # noqa: E402  (tools/benchmarks, this script's folder)

FIG = Figures("demand-insights-engine")
OUT = ROOT / "docs" / "benchmarks" / "demand-insights-engine.md"
REAL = ROOT / "tests" / "data" / "forecast-online-retail-top30-items" / "example_online_retail_multivariate.csv"
REAL_MONTHLY = ROOT / "tests" / "data" / "forecast-us-retail-sales" / "example_retail_sales.csv"

SCALE_CHILD = """
import resource, sys, time, json
sys.path.insert(0, {src!r})
from demand_insights import synthetic, forecast
from demand_insights.panel import from_long
t0 = time.perf_counter()
frame = synthetic.generate({n}, {days}, seed=1)
panel = from_long(frame, "series_id", "date", "units", price_col="price", promo_col="promo",
                  group_col="group", country_col="country")
t1 = time.perf_counter()
model = forecast.fit(panel, 28, version="bench")
t2 = time.perf_counter()
fc = model.forecast(panel)
t3 = time.perf_counter()
print(json.dumps({{"rows_in": len(frame), "series": panel.n_series, "days": panel.n_steps,
    "prepare_s": t1 - t0, "fit_s": t2 - t1, "forecast_s": t3 - t2, "training_rows": model.metadata["n_training_rows"],
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


class Lines(list):
    """Collected report lines, also printed as they come (a long run shows progress)."""

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)


def fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def quality(name: str, panel, lines: list[str], planned: bool = False) -> dict:
    from demand_insights import forecast

    started = time.perf_counter()
    result = forecast.backtest(panel, 28, folds=1, planned=planned)
    pooled = result["pooled"]
    seconds = time.perf_counter() - started
    lines.append(f"\n### Forecast backtest: {name}\n")
    told = (
        "the model is told the held-out window's planned prices and promotions (never its sales)"
        if planned
        else "history only: the model assumes the last price and no promotion in the held-out window"
    )
    lines.append(
        f"{pooled['series']} series, last 28 steps held out (origin {result['folds'][0]['origin']}), "
        f"{pooled['n']} forecasts; {told}; {seconds:.0f} s for the fold (fit + calibration + refit)\n"
    )
    lines.append("| forecast | WAPE | MASE |\n|---|---|---|")
    for label, key in (
        ("LightGBM P50", "p50"),
        ("LightGBM mean", "mean"),
        ("seasonal naive (same weekday, period 7)", "seasonal_naive"),
        ("mean of previous 28 steps", "mean_28"),
    ):
        lines.append(f"| {label} | {pooled[f'wape_{key}']:.3f} | {pooled[f'mase_{key}']:.3f} |")
    blend = result.get("blend") or {}
    mix = (
        f" P50 = {blend['weight']:.1f} x model + {1 - blend['weight']:.1f} x {blend['baseline']} (weight chosen on "
        "the calibration week before the origin)."
        if blend
        else ""
    )
    lines.append(
        f"\nMean outside P10-P90: {pooled['mean_outside_before_widening']:.1%} of rows before the interval was "
        f"widened to hold it, {pooled['mean_outside_p10_p90']:.1%} after."
    )
    lines.append(
        f"\nP10-P90 coverage: {pooled['coverage_p10_p90']:.1%} (goal 80% +/- 5). WAPE change vs the better "
        f"baseline: {-pooled['wape_gain_vs_best_baseline']:+.1%} (goal <= -15%).{mix}"
    )
    return pooled


def forecast_quality(args, lines: list[str]) -> tuple[dict, dict, dict]:
    """The three forecast backtests: generated (history only), generated with planned covariates, real."""
    import pandas as pd

    from demand_insights import synthetic
    from demand_insights.panel import from_long

    generated = from_long(
        synthetic.generate(args.series, args.days, seed=1),
        "series_id",
        "date",
        "units",
        price_col="price",
        promo_col="promo",
        group_col="group",
        country_col="country",
    )
    name = f"generated ({args.series} series x {args.days} days)"
    pooled_generated = quality(name, generated, lines)
    pooled_planned = quality(f"{name}, planned prices and promotions", generated, lines, planned=True)
    real = pd.read_csv(REAL)
    pooled_real = quality("UCI Online Retail top-30 items (real)", from_long(real, "item", "ds", "y"), lines)
    return pooled_generated, pooled_planned, pooled_real


def grains(lines: list[str]) -> list[dict]:
    """Rolling-origin backtests of the real series at each grain (the weekly one is the daily one summed)."""
    import pandas as pd

    from demand_insights import forecast
    from demand_insights.panel import from_long

    daily = pd.read_csv(REAL, parse_dates=["ds"])
    weekly = daily.assign(ds=daily["ds"].dt.to_period("W-SUN").dt.start_time)
    weekly = weekly.groupby(["item", "ds"], as_index=False)["y"].sum()
    monthly = pd.read_csv(REAL_MONTHLY).assign(item="us")
    cases = [
        ("daily", "UCI top-30 items, daily", daily, 28, 1),
        ("weekly", "UCI top-30 items, summed into weeks", weekly, 13, 1),
        ("monthly", "US retail sales, monthly", monthly, 12, 2),
    ]
    lines.append("\n### Forecasts at each grain (real series)\n")
    lines.append(
        "| data | steps | horizon x folds | WAPE P50 | WAPE mean | WAPE seasonal naive (period) | "
        "P10-P90 coverage | mean outside P10-P90 before / after widening |\n|---|---|---|---|---|---|---|---|"
    )
    out = []
    for grain, name, frame, horizon, folds in cases:
        panel = from_long(frame, "item", "ds", "y")
        assert panel.grain.name == grain, (name, panel.grain.name)
        p = forecast.backtest(panel, horizon, folds=folds)["pooled"]
        lines.append(
            f"| {name} | {panel.n_steps} | {horizon} x {folds} | {p['wape_p50']:.3f} | {p['wape_mean']:.3f} | "
            f"{p['wape_seasonal_naive']:.3f} ({panel.grain.period}) | {p['coverage_p10_p90']:.1%} | "
            f"{p['mean_outside_before_widening']:.1%} / {p['mean_outside_p10_p90']:.1%} |"
        )
        out.append({"grain": grain, **p})
    return out


def record_quality(generated: dict, real: dict, planned: dict | None = None) -> None:
    rows = [("generated", "generated series", generated), ("real", "UCI top-30 items", real)]
    if planned:
        rows.append(("generated_planned", "generated series, planned prices/promotions", planned))
    for key, name, pooled in rows:
        best = min(pooled["wape_seasonal_naive"], pooled["wape_mean_28"])
        FIG.quality(f"wape_{key}", name, "WAPE (P50)", pooled["wape_p50"], "better baseline", best)
        FIG.quality(f"wape_gain_{key}", name, "WAPE gain vs better baseline", pooled["wape_gain_vs_best_baseline"])
        FIG.quality(f"coverage_{key}", name, "P10-P90 coverage", pooled["coverage_p10_p90"])
        FIG.quality(
            f"mase_{key}",
            name,
            "MASE (P50)",
            pooled["mase_p50"],
            "better baseline",
            min(pooled["mase_seasonal_naive"], pooled["mase_mean_28"]),
        )


def churn(lines: list[str]) -> dict:
    from demand_insights import customers, synthetic

    tx = customers.prepare(synthetic.prod_customer_transactions(n_customers=1500))
    started = time.perf_counter()
    model = customers.fit_churn(tx)
    m = model.metadata["metrics"]
    lines.append("\n### Churn (generated transactions, time-based holdout)\n")
    lines.append(
        f"{m['n_train']} customers at the training cutoff {m['train_cutoff']}, {m['n_holdout']} at the holdout "
        f"cutoff {m['holdout_cutoff']} ({m['window_days']}-day window, churn rate {m['churn_rate_holdout']:.1%}); "
        f"fit {time.perf_counter() - started:.1f} s\n"
    )
    lines.append("| model | ROC-AUC | Brier |\n|---|---|---|")
    lines.append(f"| LightGBM classifier | {m['roc_auc']:.3f} | {m['brier']:.3f} |")
    lines.append(f"| recency only | {m['roc_auc_recency_only']:.3f} | - |")
    lines.append(f"| base rate | 0.500 | {m['brier_base_rate']:.3f} |")
    return m


def scale(n: int, days: int, lines: list[str]) -> dict:
    code = SCALE_CHILD.format(src=str(SRC), n=n, days=days)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    lines.append(f"\n### Training at scale ({n} series x {days} days, generated)\n")
    lines.append("| step | value |\n|---|---|")
    for k in ("rows_in", "training_rows", "prepare_s", "fit_s", "forecast_s", "max_rss_mb"):
        lines.append(f"| {k} | {fmt(r[k])} |")
    lines.append(f"\nPeak memory {r['max_rss_mb']:.0f} MB of the 3,072 MB function (max RSS of the whole process).")
    return r


def latency(lines: list[str], repeats: int) -> dict:
    from retail_platform.local.endpoint import s3_endpoint

    figures = {}
    with s3_endpoint():
        env = {**os.environ}
        code = (
            f"import sys,time; sys.path[:0]=[{str(SRC)!r},{str(ROOT)!r}]; t=time.perf_counter(); import handler; "
            "print(time.perf_counter()-t)"
        )
        inits = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
                ).stdout.strip()
            )
            for _ in range(3)
        ]
        figures["import_init_s"] = statistics.median(inits)
        import boto3

        from demand_insights import synthetic
        from retail_platform import s3io
        from retail_platform.local.run import LocalContext
        from tests.support import event, handler

        s3 = boto3.client("s3", endpoint_url=os.environ["LOCAL_ENDPOINT_URL"], region_name="us-east-1")
        for dataset, frame in (
            ("daily_sales", synthetic.prod_daily_sales(n_series=60)),
            ("customer_transactions", synthetic.prod_customer_transactions()),
        ):
            for day, part in frame.groupby(frame["date"].dt.strftime("%Y-%m-%d")):
                s3io.write_parquet(s3, "local-prod", f"{dataset}/date={day}/part-0.parquet", part)
        module = handler("demand-insights-engine")
        ctx = LocalContext("bench")
        started = time.perf_counter()
        module.lambda_handler(event("demand-insights-engine", "schedule"), ctx)
        figures["batch_60_series_s"] = time.perf_counter() - started
        for case in ("api-get-forecast", "api-get-customer"):
            request = event("demand-insights-engine", case)
            module.lambda_handler(request, ctx)  # first request loads the stored results
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                response = module.lambda_handler(request, ctx)
                times.append((time.perf_counter() - t) * 1000)
                assert response["statusCode"] == 200, response
            times.sort()
            figures[f"{case}_p50_ms"] = times[len(times) // 2]
            figures[f"{case}_p99_ms"] = times[min(len(times) - 1, int(0.99 * len(times)))]
    lines.append("\n### Latency (in-process handler, moto S3 on loopback)\n")
    lines.append("| figure | value |\n|---|---|")
    for k, v in figures.items():
        lines.append(f"| {k} | {fmt(v)} |")
    return figures


def image_size(lines: list[str]) -> None:
    cli = shutil.which("podman") or shutil.which("docker")
    if not cli:
        return
    proc = subprocess.run(
        [cli, "image", "inspect", "demandinsightsenginefunction:python3.11-v1", "--format", "{{.Size}}"],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_HOST": os.environ.get("DOCKER_HOST", "unix:///run/podman/podman.sock")},
    )
    if proc.returncode == 0 and proc.stdout.strip().isdigit():
        lines.append(f"\nImage demandinsightsenginefunction:python3.11-v1: {int(proc.stdout) / 1e6:.0f} MB.")
        FIG.set(image_tag="demandinsightsenginefunction:python3.11-v1", image_mb=int(proc.stdout) / 1e6)


def record(
    generated: dict, real: dict, churned: dict, lat: dict, scaled: dict | None, planned: dict | None = None
) -> None:
    """The figures the performance report composes from (docs/benchmarks/demand-insights-engine.json)."""
    record_quality(generated, real, planned)
    FIG.quality(
        "churn_auc",
        "generated customers",
        "churn ROC-AUC",
        churned["roc_auc"],
        "recency only",
        churned["roc_auc_recency_only"],
    )
    FIG.set(import_init_s=lat.get("import_init_s"), batch_s=lat.get("batch_60_series_s"), batch_what="60 series")
    routes = {"api-get-forecast": "GET /demand/forecast", "api-get-customer": "GET /demand/customers/{id}"}
    for case, route in routes.items():
        if f"{case}_p50_ms" in lat:
            FIG.route(route, lat[f"{case}_p50_ms"], lat[f"{case}_p99_ms"])
    if scaled:
        FIG.set(scale_fit_s=scaled["fit_s"], peak_rss_mb=scaled["max_rss_mb"], memory_limit_mb=3072)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 2,000-series scale run")
    parser.add_argument("--scale-only", action="store_true", help="only the scale run, appended to the doc")
    parser.add_argument("--scale-series", type=int, default=2000)
    parser.add_argument("--scale-days", type=int, default=730)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--series", type=int, default=40, help="series of the generated quality data set")
    parser.add_argument("--days", type=int, default=300, help="days of the generated quality data set")
    parser.add_argument(
        "--forecast-only",
        action="store_true",
        help="only the forecast backtests: their sections of the doc and their figures in the .json are replaced",
    )
    parser.add_argument("--grains", action="store_true", help="only the per-grain backtests on real series")
    args = parser.parse_args()
    if args.grains:
        grains(Lines())
        return 0
    if args.forecast_only:
        return forecast_only(args)
    if args.scale_only:
        lines = Lines()
        scaled = scale(args.scale_series, args.scale_days, lines)
        with OUT.open("a") as doc:
            doc.write("\n".join(lines) + "\n")
        previous = OUT.with_suffix(".json")
        if previous.exists():
            FIG.data = json.loads(previous.read_text())
        FIG.set(scale_fit_s=scaled["fit_s"], peak_rss_mb=scaled["max_rss_mb"], memory_limit_mb=3072)
        FIG.write(OUT)
        return 0
    lines = Lines()
    for line in [
        "# demand-insights-engine benchmark",
        "",
        "Measured by `tools/benchmarks/demand-insights-engine.py` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f} at the start), LightGBM threads "
        f"{os.environ.get('DEMAND_NUM_THREADS', '1')}.",
    ]:
        lines.append(line)
    pooled_generated, pooled_planned, pooled_real = forecast_quality(args, lines)
    churned = churn(lines)
    lat = latency(lines, args.repeats)
    scaled = None if args.quick else scale(args.scale_series, args.scale_days, lines)
    image_size(lines)
    record(pooled_generated, pooled_real, churned, lat, scaled, pooled_planned)
    text = "\n".join(lines) + "\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    FIG.write(OUT)
    return 0


def forecast_only(args) -> int:
    """Re-measure the forecast backtests; the other sections of the doc and figures of the .json are kept."""
    lines = Lines()
    generated, planned, real = forecast_quality(args, lines)
    stamp = (
        f"Forecast backtests re-measured on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"(`--forecast-only`, load average {os.getloadavg()[0]:.1f}); the other sections are from the run above."
    )
    text = OUT.read_text() if OUT.exists() else "# demand-insights-engine benchmark\n"
    start = text.find("\n### Forecast backtest")
    end = text.find("\n### ", text.rfind("\n### Forecast backtest") + 1) if start >= 0 else -1
    block = "\n".join(lines) + f"\n\n{stamp}\n"
    head, tail = (text.rstrip("\n") + "\n", "") if start < 0 else (text[:start], text[end:] if end >= 0 else "")
    text = head + block + tail
    OUT.write_text(text)
    previous = OUT.with_suffix(".json")
    if previous.exists():
        kept = json.loads(previous.read_text())
        FIG.data = {**kept, "routes": kept.get("routes", {}), "quality": kept.get("quality", [])}
        FIG.data.pop("source", None)
    FIG.set(forecast_measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    record_quality(generated, real, planned)
    FIG.write(OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
