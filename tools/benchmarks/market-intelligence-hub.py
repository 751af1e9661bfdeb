"""Benchmark of market-intelligence-hub: forecast quality vs baselines (generated markets and the US retail
sales series, last 12 months held out), trend/changepoint detection precision and recall on generated series
with injected truth, the whole batch path on the default demo's market series (wall and CPU seconds, CV metric),
time to fit N series, warm route latency, import + init time, image size.

    .venv/bin/python tools/benchmarks/market-intelligence-hub.py [--quick] [--scale 200] [--no-write]
        [--parts real,generated,trends,demo,latency,import] [--trend-seeds 31,32,33] [--out PATH]

Prints every figure and writes them to docs/benchmarks/market-intelligence-hub.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "ai-systems" / "market-intelligence-hub" / "src"
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(ROOT))

from bench_figures import Figures  # noqa: E402  (tools/benchmarks, this script's folder)
from market_intelligence import metrics, models, synthetic, trends  # noqa: E402
from market_intelligence.batch import market_long  # noqa: E402
from market_intelligence.forecast import GLOBAL_NN, Forecaster, Options  # noqa: E402
from market_intelligence.series import prepare  # noqa: E402

US_RETAIL = ROOT / "tests" / "data" / "forecast-us-retail-sales" / "example_retail_sales.csv"
OUT = ROOT / "docs" / "benchmarks" / "market-intelligence-hub.md"
lines: list[str] = []
FIG = Figures("market-intelligence-hub")


def emit(text: str = "") -> None:
    print(text, flush=True)
    lines.append(text)


def split(frame: pd.DataFrame, h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = frame.groupby("series_id")["ds"].transform(lambda d: d.sort_values().iloc[-h])
    return frame[frame["ds"] < cut], frame[frame["ds"] >= cut]


def holdout_scores(train: pd.DataFrame, test: pd.DataFrame, h: int, options: Options) -> tuple[pd.DataFrame, dict]:
    """Holdout MASE/MAPE of every model, of the ensemble and of the CV-selected model per series."""
    forecaster = Forecaster(Options(**{**options.__dict__, "horizon": h}))
    t0 = time.perf_counter()
    fc, _scores, results = forecaster.run(train)
    fit_seconds = time.perf_counter() - t0
    prepared = {p.series_id: p for p in forecaster.prepare_all(train)}
    per_model: dict[tuple[str, str], np.ndarray] = {}
    jobs = [(sid, m) for sid in prepared for m in options.models if m in models.ALL_LOCAL]

    def run(job):
        sid, name = job
        p = prepared[sid]
        ctx = models.Context(p.freq, None, p.level_shift)
        try:
            return job, np.asarray(models.ALL_LOCAL[name](p.y, h, ctx), float)
        except Exception:
            return job, None

    with ThreadPoolExecutor(max_workers=options.threads) as pool:
        for job, out in pool.map(run, jobs):
            if out is not None:
                per_model[job] = out
    if GLOBAL_NN in options.models:
        from market_intelligence.global_nn import GlobalWindowModel

        ys = list(prepared.values())
        nn = GlobalWindowModel(2 * h, h, epochs=options.epochs).fit([p.y for p in ys], ys[0].freq.period_days)
        for p, out in zip(ys, nn.predict_many([p.y for p in ys], ys[0].freq.period_days), strict=True):
            per_model[(p.series_id, GLOBAL_NN)] = out
    rows = []
    for sid, p in prepared.items():
        actual = test[test["series_id"] == sid].sort_values("ds")["y"].to_numpy(float)[:h]
        scale = metrics.mase_scale(p.raw.dropna().to_numpy(float), p.freq.season)
        mine = fc[fc["series_id"] == sid].sort_values("step")
        candidates = {m: per_model[(sid, m)] for m in options.models if (sid, m) in per_model}
        r = next(r for r in results if r.series_id == sid)
        members = [m for m in r.members if m in candidates]
        if len(members) >= 1:
            candidates["ensemble"] = np.mean([candidates[m] for m in members], axis=0)
        candidates["selected"] = mine["yhat"].to_numpy(float)
        for name, forecast in candidates.items():
            rows.append(
                {
                    "series_id": sid,
                    "model": name,
                    "mase": metrics.mase(actual, forecast, scale),
                    "mape": metrics.mape(actual, forecast),
                    "chosen": r.selected,
                }
            )
    return pd.DataFrame(rows), {"fit_seconds": fit_seconds, **forecaster.timings}


def quality_table(title: str, table: pd.DataFrame, key: str = "") -> None:
    emit(f"### {title}")
    emit("")
    emit("| model | mean MASE | median MASE | mean MAPE % |")
    emit("|---|---|---|---|")
    summary = table.groupby("model").agg(mase=("mase", "mean"), med=("mase", "median"), mape=("mape", "mean"))
    for name, row in summary.sort_values("mase").iterrows():
        emit(f"| {name} | {row['mase']:.3f} | {row['med']:.3f} | {row['mape']:.2f} |")
    pivot = table.pivot(index="series_id", columns="model", values="mase")
    if "seasonal_naive" in pivot:
        wins = (pivot["selected"] < pivot["seasonal_naive"]).mean()
        emit("")
        emit(
            f"selected model beats seasonal naive on {wins:.0%} of {len(pivot)} series; "
            f"chosen models: {table.drop_duplicates('series_id')['chosen'].value_counts().to_dict()}"
        )
        if key:
            mase = summary["mase"]
            data = title.split(";")[0]
            FIG.quality(
                f"mase_{key}",
                data,
                "mean MASE, selected model",
                mase["selected"],
                "seasonal naive",
                mase["seasonal_naive"],
            )
            FIG.quality(f"wins_vs_naive_{key}", data, "share of series where selected beats seasonal naive", wins)
    emit("")


def score_trends(seed: int, n_weeks: int) -> dict[str, int]:
    """Counts of trend-direction and level-shift detection against the injected truth of one seed.

    Trend direction: every series whose trend truth is known (none/up/down, and the placeholder series, flat
    once their zeros are cleaned); a detection with the wrong sign counts as a false positive and a miss.
    Shift series are scored for direction separately (a step is not a trend; `shift_trend_calls`).
    Level shifts: a changepoint within 21 days of a series' injected shift is a true positive, matched at most
    once; every other changepoint, including any on trend, flat or placeholder series (an outlier month is
    not a shift), is a false positive; a shift with no changepoint near it is a miss.
    """
    series, truth = synthetic.markets(n_weeks=n_weeks, seed=seed)
    long = market_long(series)
    c = dict.fromkeys(("tp", "fp", "fn", "cp_tp", "cp_fp", "cp_fn", "ph_found", "ph_total", "shifts"), 0)
    c["shift_trend_calls"] = 0
    for row in truth.itertuples():
        p = prepare(row.series_id, long[long["series_id"] == row.series_id])
        report = trends.analyse(p)
        if row.kind == "shift":
            c["shifts"] += 1
            c["shift_trend_calls"] += report.direction != "flat"
        else:
            detected = report.direction != "flat"
            actual = row.trend != "flat"
            right = detected and report.direction == row.trend
            c["tp"] += right
            c["fp"] += detected and not right
            c["fn"] += actual and not right
        dates = pd.to_datetime(report.changepoints)
        if row.kind == "shift":
            hit = [d for d in dates if abs((d - row.shift_at).days) <= 21]
            c["cp_tp"] += bool(hit)
            c["cp_fn"] += not hit
            c["cp_fp"] += len(dates) - len(hit[:1])
        else:
            c["cp_fp"] += len(dates)
        if row.kind == "placeholder":
            c["ph_total"] += len(row.placeholders)
            c["ph_found"] += len(set(pd.to_datetime(report.anomalies)) & set(row.placeholders))
    return c


def _ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def trend_detection(seeds: list[int], n_weeks: int) -> None:
    counts = {seed: score_trends(seed, n_weeks) for seed in seeds}
    pooled = {k: sum(c[k] for c in counts.values()) for k in counts[seeds[0]]}
    n_series = len(synthetic.CATEGORIES) * len(synthetic.COUNTRIES)
    emit(
        f"### Trend and changepoint detection ({n_series} generated weekly series per seed, {n_weeks} weeks, "
        f"seeds {', '.join(map(str, seeds))}; load average {os.getloadavg()[0]:.1f})"
    )
    emit("")
    emit("| seed | trend precision | trend recall | shift precision | shift recall | shift series called trending |")
    emit("|---|---|---|---|---|---|")
    for label, c in [*((str(s), counts[s]) for s in seeds), *([("all", pooled)] if len(seeds) > 1 else [])]:
        emit(
            f"| {label} | {_ratio(c['tp'], c['tp'] + c['fp']):.2f} ({c['tp']}/{c['tp'] + c['fp']}) "
            f"| {_ratio(c['tp'], c['tp'] + c['fn']):.2f} ({c['tp']}/{c['tp'] + c['fn']}) "
            f"| {_ratio(c['cp_tp'], c['cp_tp'] + c['cp_fp']):.2f} ({c['cp_tp']}/{c['cp_tp'] + c['cp_fp']}) "
            f"| {_ratio(c['cp_tp'], c['cp_tp'] + c['cp_fn']):.2f} ({c['cp_tp']}/{c['cp_tp'] + c['cp_fn']}) "
            f"| {c['shift_trend_calls']}/{c['shifts']} |"
        )
    emit("")
    emit(
        "Trend direction: Mann-Kendall (Hamed-Rao) and OLS-HAC both p < 0.05 and a change of at least one noise sd "
        "over the window, with detected level shifts as nuisance levels. Trend truth: none/up/down and placeholder "
        "series (a wrong sign counts as a false positive and a miss). Level shifts: penalised step selection on "
        "log revenue (cubic trend + Fourier seasonality + steps); a changepoint within ±3 weeks of the injected "
        "shift is a hit, matched once; any other changepoint (also on trend, flat or placeholder series) is a "
        f"false positive. Placeholder weeks flagged as anomalies: "
        f"{_ratio(pooled['ph_found'], pooled['ph_total']):.2f} ({pooled['ph_found']}/{pooled['ph_total']})."
    )
    first = counts[seeds[0]]
    data = f"generated weekly series (seed {seeds[0]})"
    FIG.quality("trend_precision", data, "trend direction precision", _ratio(first["tp"], first["tp"] + first["fp"]))
    FIG.quality("trend_recall", data, "trend direction recall", _ratio(first["tp"], first["tp"] + first["fn"]))
    cp_p = _ratio(first["cp_tp"], first["cp_tp"] + first["cp_fp"])
    FIG.quality("changepoint_precision", data, "level-shift changepoint precision", cp_p)
    cp_r = _ratio(first["cp_tp"], first["cp_tp"] + first["cp_fn"])
    FIG.quality("changepoint_recall", data, "level-shift changepoint recall", cp_r)
    if len(seeds) > 1:
        data = f"generated weekly series (seeds {', '.join(map(str, seeds))})"
        for key, metric, a, b in (
            ("trend_precision_seeds", "trend direction precision", "tp", "fp"),
            ("trend_recall_seeds", "trend direction recall", "tp", "fn"),
            ("changepoint_precision_seeds", "level-shift changepoint precision", "cp_tp", "cp_fp"),
            ("changepoint_recall_seeds", "level-shift changepoint recall", "cp_tp", "cp_fn"),
        ):
            FIG.quality(key, data, metric, _ratio(pooled[a], pooled[a] + pooled[b]))
    emit("")


DEMO_CACHE = Path(tempfile.gettempdir()) / "market-intelligence-bench" / "demo-prod"
DEMO_DATASETS = ("market_series", "daily_sales", "copilot_mart")


def demo_prod(cache: Path = DEMO_CACHE) -> dict[str, pd.DataFrame]:
    """The default demo's prod inputs of this system: the seeded sample exports (`python3 dev.py demo`'s) through
    the real raw-to-curated and curated-to-prod handlers on the embedded S3 endpoint, cached as parquet files
    (minutes to build on 2 cores, so built once per machine; delete the folder to rebuild)."""
    if not all((cache / f"{name}.parquet").exists() for name in DEMO_DATASETS):
        import boto3

        from retail_platform.local import run as local_run
        from retail_platform.local.endpoint import BUCKET_ENV, s3_endpoint
        from retail_platform.sampledata.generator import generate
        from retail_platform.storage import PartitionedDataset, S3BlobStore

        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp, s3_endpoint() as url:
            generate(Path(tmp) / "raw")
            s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
            uploaded = local_run.upload_tree(s3, BUCKET_ENV["RAW_BUCKET"], Path(tmp) / "raw")
            local_run.run_pipeline(s3, BUCKET_ENV["RAW_BUCKET"], uploaded, lambda message: None)
            prod = S3BlobStore(s3, BUCKET_ENV["PROD_BUCKET"])
            for name in DEMO_DATASETS:
                PartitionedDataset(prod, name).read().to_parquet(cache / f"{name}.parquet", index=False)
    return {name: pd.read_parquet(cache / f"{name}.parquet") for name in DEMO_DATASETS}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (Prophet's cmdstan runs as a subprocess)."""
    import resource

    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


class CountingStore:
    """A MemoryBlobStore that counts the objects read from it (prod reads of one event)."""

    def __init__(self, inner) -> None:
        self.inner, self.reads = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def get(self, key: str) -> bytes:
        self.reads += 1
        return self.inner.get(key)


def demo_batch(options: Options) -> None:
    """The batch path as the main job runs it on the demo's prod (monthly partitions, in-memory stores): its
    daily_sales event, then its market_series event (plan, every shard, merge), then market_series again on
    unchanged inputs; wall and CPU seconds and prod objects read per event, per-stage timings, the CV metric."""
    from market_intelligence import batch
    from market_intelligence.store import Buckets

    from retail_platform.storage import MemoryBlobStore, codec

    frames = demo_prod()
    prod = CountingStore(MemoryBlobStore("demo-prod"))
    for name, frame in frames.items():
        months = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m").to_numpy()
        for month, part in frame.groupby(months):
            codec.write_parquet(prod.inner, f"{name}/month={month}/part-0.parquet", part)
    buckets = Buckets(prod, MemoryBlobStore("demo-artifacts"))
    load = os.getloadavg()[0]
    emit(
        f"### The demo's market series ({frames['market_series']['date'].nunique()} weeks; "
        f"all models, {options.folds} folds, {options.threads} threads; load average {load:.1f} at the start)"
    )
    emit("")
    emit("| event | wall s | CPU s | prod objects read | up to date |")
    emit("|---|---|---|---|---|")
    total_cpu = 0.0
    for label, dataset in (
        ("daily_sales", "daily_sales"),
        ("market_series", "market_series"),
        ("market_series again", "market_series"),
    ):
        prod.reads = 0
        cpu0, t0 = _cpu_seconds(), time.perf_counter()
        out = batch.run(buckets, dataset, options)
        wall, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
        emit(f"| {label} | {wall:.1f} | {cpu:.1f} | {prod.reads} | {out.up_to_date} |")
        if label != "market_series again":
            total_cpu += cpu
        if dataset == "market_series" and not out.up_to_date:
            result, forecast_wall, forecast_cpu = out, wall, cpu
    emit("")
    metrics = batch._metric_summary(result.scores)
    stages = ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
    emit(f"- the main job's two events: {total_cpu:.1f} s CPU ({result.n_series} markets)")
    emit(f"- market_series stages (s): {stages}")
    emit(
        f"- rolling-origin CV: mean MASE of the selected models {metrics['mean_cv_mase_selected']:.4f}; selected "
        f"beats seasonal naive on {metrics['share_selected_beats_seasonal_naive']:.0%} of markets; "
        f"selected {metrics['selected_counts']}"
    )
    emit("")
    FIG.set(
        demo_markets=result.n_series,
        demo_wall_s=forecast_wall,
        demo_cpu_s=forecast_cpu,
        demo_load=load,
        demo_events_cpu_s=total_cpu,
    )
    FIG.quality(
        "mase_demo_cv",
        "the demo's market series (rolling-origin CV)",
        "mean CV MASE, selected model",
        metrics["mean_cv_mase_selected"],
        "seasonal naive",
        metrics["mean_cv_mase_by_model"].get("seasonal_naive"),
    )


def latency(n: int) -> None:
    """Warm latency of each route in-process against a moto server, after one batch run."""
    from retail_platform import s3io
    from retail_platform.local.endpoint import BUCKET_ENV, s3_endpoint
    from retail_platform.local.run import LocalContext
    from tests.support import event, handler

    os.environ.update({"MARKET_MODELS": "seasonal_naive,drift,ets", "MARKET_FOLDS": "1"})
    with s3_endpoint() as url:
        import boto3

        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        series, _ = synthetic.markets(n_weeks=60, categories=("apparel", "home"), countries=("DE", "FR"))
        for day, part in series.groupby("date"):
            s3io.write_parquet(s3, BUCKET_ENV["PROD_BUCKET"], f"market_series/date={day}/part-0.parquet", part)
        fn = handler("market-intelligence-hub")
        ctx = LocalContext("bench")
        fn.lambda_handler(event("market-intelligence-hub", "schedule-weekly-refit"), ctx)
        emit("### Warm latency per route (in-process handler, moto S3 on loopback, single request)")
        emit("")
        emit("| route | p50 ms | p99 ms | n |")
        emit("|---|---|---|---|")
        for case in ("http-get-market-forecast", "http-get-market-trends"):
            request = event("market-intelligence-hub", case)
            fn.lambda_handler(request, ctx)
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                response = fn.lambda_handler(request, ctx)
                times.append((time.perf_counter() - t0) * 1000)
                assert response["statusCode"] == 200, response
            emit(f"| {request['routeKey']} | {np.percentile(times, 50):.1f} | {np.percentile(times, 99):.1f} | {n} |")
            FIG.route(request["routeKey"], np.percentile(times, 50), np.percentile(times, 99), n)
        emit("")


def import_times() -> None:
    code = (
        f"import time,sys; t=time.perf_counter(); sys.path.insert(0,'{SRC}'); import handler; "
        "a=time.perf_counter()-t; t=time.perf_counter(); import os; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'; "
        "import tensorflow; b=time.perf_counter()-t; t=time.perf_counter(); import prophet; c=time.perf_counter()-t; "
        "print(a,b,c)"
    )
    env = {**os.environ, "RAW_BUCKET": "r", "CURATED_BUCKET": "c", "PROD_BUCKET": "p", "ARTIFACTS_BUCKET": "a"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    a, b, c = (float(x) for x in out.stdout.split())
    emit("### Import + init")
    emit("")
    emit(f"- handler module (Powertools, pandas, routes; no TensorFlow/Prophet): {a:.2f} s")
    emit(f"- TensorFlow import (training path only): {b:.2f} s; Prophet import (batch path only): {c:.2f} s")
    FIG.set(import_init_s=a, tensorflow_import_s=b, prophet_import_s=c)
    emit("")


def image_size() -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///run/podman/podman.sock"}
    try:
        out = subprocess.run(
            ["podman", "image", "inspect", "marketintelligencehubfunction:python3.11-v1", "--format", "{{.Size}}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return
    if out.returncode == 0 and out.stdout.strip():
        FIG.set(image_tag="marketintelligencehubfunction:python3.11-v1", image_mb=int(out.stdout.strip()) / 1e6)
        emit(
            f"### Image size\n\n- marketintelligencehubfunction:python3.11-v1: {int(out.stdout.strip()) / 1e6:.0f} MB\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer generated series and folds")
    parser.add_argument("--scale", type=int, default=0, help="also time fitting N generated weekly series")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--parts",
        default="real,generated,trends,demo,latency,import",
        help="comma list of sections to run: real, generated, trends, demo, latency, import",
    )
    parser.add_argument("--out", type=Path, default=OUT, help="markdown file the figures are written to")
    parser.add_argument(
        "--trend-seeds", default="31,32,33", help="comma list of seeds of the trends part (the first is the headline)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    emit("# market-intelligence-hub benchmark")
    emit("")
    emit(
        f"Command: `.venv/bin/python tools/benchmarks/market-intelligence-hub.py {' '.join(sys.argv[1:])}`; "
        f"{os.cpu_count()} CPUs; measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
    )
    emit("")
    options = Options(folds=2 if args.quick else 3, epochs=30 if args.quick else 60)

    parts = set(args.parts.split(","))
    if "real" in parts:
        real = pd.read_csv(US_RETAIL).assign(series_id="us_retail_sales")
        train, test = split(real, 12)
        table, timing = holdout_scores(train, test, 12, options)
        quality_table("US retail sales (monthly, 1992-2016; last 12 months held out)", table, "us_retail")
        emit(f"fit + select on 1 series: {timing['fit_seconds']:.1f} s")
        emit("")

    if "generated" in parts:
        cats = ("apparel", "electronics", "home") if args.quick else synthetic.CATEGORIES
        series, _truth = synthetic.markets(n_weeks=156, seed=21, categories=cats)
        long = market_long(series)
        train, test = split(long, 13)
        table, timing = holdout_scores(train, test, 13, options)
        quality_table(
            f"Generated weekly markets ({long['series_id'].nunique()} series, 156 weeks; last 13 held out)",
            table,
            "generated",
        )
        detail = ", ".join(f"{k} {v:.1f}" for k, v in timing.items() if k != "fit_seconds")
        emit(f"fit + select: {timing['fit_seconds']:.1f} s ({detail})")
        emit("")

    if "trends" in parts:
        trend_detection([int(x) for x in args.trend_seeds.split(",")], n_weeks=156)

    if args.scale:
        cats = tuple(f"cat{i:02d}" for i in range(int(np.ceil(args.scale / 4))))
        big, _ = synthetic.markets(n_weeks=104, seed=41, categories=cats)
        big_long = market_long(big)
        ids = sorted(big_long["series_id"].unique())[: args.scale]
        big_long = big_long[big_long["series_id"].isin(ids)]
        t0 = time.perf_counter()
        Forecaster(options).run(big_long)
        FIG.set(scale_series=len(ids), scale_s=time.perf_counter() - t0)
        seconds = time.perf_counter() - t0
        shards = int(np.ceil(200 / len(ids)))
        emit(
            f"### Scale\n\n- fit + select + forecast {len(ids)} weekly series in one process (104 weeks, all models, "
            f"{options.folds} folds, {options.threads} threads): {seconds:.0f} s"
            f" ({'within' if seconds < 900 else 'beyond'} one invocation's 900 s)\n"
            f"- 200 series = {shards} shards of {len(ids)} (`MARKET_SHARD_SIZE`); MarketForecastStateMachine runs them "
            f"side by side (Map, at most 10 at a time), so a 200-series run takes about one shard's time plus the "
            f"plan and merge steps (not measured in the cloud; estimated by this shard's time)\n"
        )

    if "demo" in parts:
        demo_batch(Options())  # the main job's settings (the template's defaults), whatever --quick says
    if "latency" in parts:
        latency(30 if args.quick else 100)
    if "import" in parts:
        import_times()
        image_size()
    emit(f"Total benchmark time: {time.perf_counter() - started:.0f} s")
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
        print(f"wrote {args.out}")
        FIG.write(args.out)


if __name__ == "__main__":
    main()
