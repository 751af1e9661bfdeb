"""Benchmark of global-market-pulse: exactness on the Online Retail sample, detection precision/recall of
injected shocks, level shifts and lead/lag relations on generated data (with a naive baseline), false-positive
rate of the significance tests on no-difference data, time and peak memory for 50 countries x 3 years,
warm latency of each route, import + init time, image size.

    .venv/bin/python tools/benchmarks/global-market-pulse.py [--quick] [--no-write]

Prints every figure and writes them to docs/benchmarks/global-market-pulse.md.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "ai-systems" / "global-market-pulse" / "src"
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(ROOT))

from bench_figures import Figures  # noqa: E402  (tools/benchmarks, this script's folder)
from market_pulse import anomalies, comovement, evaluation, growth, panel, significance, synthetic  # noqa: E402

ONLINE_RETAIL = ROOT / "tests" / "data" / "online-retail" / "online_retail_sample.csv"
GOLDEN_TOP5 = {
    "United Kingdom": 28579.06,
    "Netherlands": 2156.96,
    "EIRE": 1741.84,
    "France": 1377.5,
    "Australia": 747.17,
}
LINES: list[str] = []
FIG = Figures("global-market-pulse")


def out(line: str = "") -> None:
    print(line, flush=True)
    LINES.append(line)


def exactness() -> None:
    raw = pd.read_csv(ONLINE_RETAIL)
    frame = panel.from_long_table(
        raw,
        date_col="InvoiceDate",
        country_col="Country",
        quantity_col="Quantity",
        price_col="UnitPrice",
        order_col="InvoiceNo",
        date_format="%m/%d/%Y %H:%M",
    )
    ours = frame.groupby("country")[["revenue", "orders"]].sum()
    raw["revenue"] = raw["Quantity"] * raw["UnitPrice"]
    raw["day"] = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.date
    independent = pd.DataFrame(
        {
            "revenue": raw.groupby("Country")["revenue"].sum(),
            "orders": raw.groupby(["Country", "day"])["InvoiceNo"].nunique().groupby(level=0).sum(),
        }
    )
    joined = ours.join(independent, rsuffix="_pandas", how="outer")
    revenue_diff = (joined["revenue"] - joined["revenue_pandas"]).abs().max()
    orders_equal = int((joined["orders"] == joined["orders_pandas"]).sum())
    golden_ok = sum(round(ours.loc[c, "revenue"], 2) == v for c, v in GOLDEN_TOP5.items())
    out("## Exactness: Online Retail sample (tests/data/online-retail, 2,709 rows, 26 countries)")
    out("")
    out("| figure | value |")
    out("|---|---|")
    out(f"| countries (ours / independent pandas) | {len(ours)} / {len(independent)} |")
    out(f"| max abs revenue difference by country (GBP) | {revenue_diff:.2e} |")
    out(f"| countries with equal order counts | {orders_equal} / {len(joined)} |")
    out(f"| total revenue (golden 37503.25) | {ours['revenue'].sum():.2f} |")
    out(f"| top-5 countries equal to the golden revenue | {golden_ok} / 5 |")
    out("")


def naive_shocks(wide: pd.DataFrame, z: float = 4.0) -> list[tuple[str, str]]:
    found = []
    for country in wide.columns:
        values = np.log1p(wide[country].to_numpy())
        scores = (values - values.mean()) / values.std()
        found += [(country, wide.index[d].date().isoformat()) for d in np.flatnonzero(np.abs(scores) >= z)]
    return found


def naive_lead_lag(adjusted: pd.DataFrame, top: int) -> list[tuple[str, str]]:
    """Baseline: uncorrected lagged correlation of daily changes (|r| > 0.1 at lag 1..7, best lag)."""
    changes = np.log1p(adjusted.iloc[:, :top].clip(lower=0)).diff().iloc[1:]
    found = []
    for a in changes.columns:
        for b in changes.columns:
            if a != b and max(abs(changes[b].corr(changes[a].shift(k))) for k in range(1, 8)) > 0.1:
                found.append((a, b))
    return found


def detection(seeds: list[int], countries: int, days: int) -> None:
    totals: dict[str, list[dict]] = {
        k: [] for k in ("shocks", "naive shocks", "level shifts", "lead/lag", "naive lead/lag")
    }
    for seed in seeds:
        long, truth = synthetic.generate(
            n_countries=countries,
            days=days,
            seed=seed,
            shocks_per_country=3,
            level_shifts_per_country=1,
            lead_lag_pairs=3,
        )
        wide = panel.from_long_table(long).pivot(index="date", columns="country", values="revenue")
        found = anomalies.detect(wide)
        shocks = found[found["kind"].isin(["spike", "drop"])]
        shifts = found[found["kind"] == "level_shift"]
        truth_shocks = [(c, d) for c, d, _ in truth.shocks]
        totals["shocks"].append(
            evaluation.match(list(zip(shocks["country"], shocks["date"], strict=True)), truth_shocks, 1)
        )
        totals["naive shocks"].append(evaluation.match(naive_shocks(wide), truth_shocks, 1))
        totals["level shifts"].append(
            evaluation.match(
                list(zip(shifts["country"], shifts["date"], strict=True)), [(c, d) for c, d, _ in truth.level_shifts], 7
            )
        )
        adjusted = growth.seasonally_adjusted(wide)
        g = comovement.granger(adjusted, max_countries=countries)
        sig = g[g["significant"]]
        truth_pairs = [(a, b) for a, b, _ in truth.lead_lag]
        totals["lead/lag"].append(
            evaluation.match_pairs(list(zip(sig["leader"], sig["follower"], strict=True)), truth_pairs)
        )
        totals["naive lead/lag"].append(evaluation.match_pairs(naive_lead_lag(adjusted, countries), truth_pairs))
    out(f"## Detection on generated data ({countries} countries x {days} days, seeds {seeds})")
    out("")
    out(
        "Per country 3 one-day shocks (|log size| 0.6-1.0), 1 level shift (|log size| 0.3-0.6); "
        "3 lead/lag pairs (lag 3 days)."
    )
    out("Shocks match within 1 day, level shifts within 7 days; lead/lag relations are directed pairs.")
    out(
        "Baselines: a global z-score of log revenue (|z| >= 4) for shocks; uncorrected lagged correlation for lead/lag."
    )
    out("")
    out("| detector | truth | detected | precision | recall |")
    out("|---|---|---|---|---|")
    for name, scores in totals.items():
        truth_n = sum(s["truth"] for s in scores)
        detected = sum(s["detected"] for s in scores)
        precision = np.mean([s["precision"] for s in scores])
        recall = np.mean([s["recall"] for s in scores])
        out(f"| {name} | {truth_n} | {detected} | {precision:.3f} | {recall:.3f} |")
        key = name.replace("naive ", "").replace("/", "_").replace(" ", "_")
        if not name.startswith("naive"):
            naive = totals.get(f"naive {name}")
            for metric, ours in (("precision", precision), ("recall", recall)):
                base = None if naive is None else float(np.mean([s[metric] for s in naive]))
                label = None if naive is None else "naive baseline"
                FIG.quality(
                    f"{key}_{metric}", f"generated ({countries} countries)", f"{name} {metric}", ours, label, base
                )
    out("")


def null_panel(seed: int, length: int, countries: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=length, freq="D")
    weekday = np.array([1.0, 1.1, 1.0, 0.9, 1.2, 1.3, 0.7])[days.dayofweek]
    values = 1000 * weekday[:, None] * np.exp(rng.normal(0, 0.1, (length, countries)))
    return pd.DataFrame(values, index=days, columns=[f"C{i}" for i in range(countries)])


def false_positives(families: int) -> None:
    rows = []
    for kind, length in (("country", 56), ("pair", 56), ("country", 140), ("pair", 140)):
        raw_welch = raw_mwu = tests = fam_holm = fam_bh = 0
        for seed in range(families):
            adjusted = significance.adjust_for_tests(null_panel(seed, length))
            result = significance.country_tests(adjusted) if kind == "country" else significance.pair_tests(adjusted)
            raw_welch += int((result["p_welch"] < 0.05).sum())
            raw_mwu += int((result["p_mannwhitney"] < 0.05).sum())
            tests += len(result)
            holm = significance.holm(result["p_welch"].to_numpy())
            fam_holm += int((holm < 0.05).any())
            fam_bh += int((result["q_bh"] < 0.05).any())
        rows.append(
            (
                f"{kind}, {length} days",
                tests,
                raw_welch / tests,
                raw_mwu / tests,
                fam_holm / families,
                fam_bh / families,
            )
        )
    out(f"## False-positive rate on no-difference data ({families} families of 8 countries, 28 vs 28 days, alpha 0.05)")
    out("")
    out(
        "56 days: no earlier history, raw values tested; 140 days: weekday factors from the 84 days before the windows."
    )
    out("")
    out("| tests | n tests | Welch per test | Mann-Whitney per test | any rejection after Holm | any after BH |")
    out("|---|---|---|---|---|---|")
    for kind, n, welch, mwu, holm, bh in rows:
        out(f"| {kind} | {n} | {welch:.3f} | {mwu:.3f} | {holm:.3f} | {bh:.3f} |")
        key = kind.replace(", ", "_").replace(" days", "d")
        FIG.quality(
            f"fpr_welch_{key}", f"no-difference data, {kind}", "false-positive rate per test (alpha 0.05)", welch
        )
        FIG.quality(f"fpr_bh_{key}", f"no-difference data, {kind}", "family-wise rejections after BH (q 0.05)", bh)
    out("")


SCALE_SCRIPT = """
import os, sys, time, resource, json
sys.path.insert(0, {src!r})
from market_pulse import analysis, panel, synthetic
long, _ = synthetic.generate(n_countries=50, days=1095, seed=7, shocks_per_country=3,
                             level_shifts_per_country=1, lead_lag_pairs=5)
t0, c0 = time.perf_counter(), time.process_time()
frame = panel.from_long_table(long)
result = analysis.analyse(frame)
docs = analysis.documents(result)
print(json.dumps({{"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": len(long),
  "anomalies": len(result.tables["anomalies"]), "pairs": len(result.tables["pair_tests"]),
  "serving_json_kb": len(json.dumps(docs)) / 1024}}))
"""


def scale() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCALE_SCRIPT.format(src=str(SRC))], capture_output=True, text=True, check=True
    )
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    out("## Scale: 50 countries x 3 years of daily data (one process, 1 BLAS thread)")
    out("")
    out("| figure | value |")
    out("|---|---|")
    out(f"| input rows | {figures['rows']:,} |")
    out(f"| analysis wall time (s) | {figures['seconds']:.1f} |")
    out(f"| analysis CPU time (s) | {figures['cpu_seconds']:.1f} |")
    out(f"| peak RSS of the process (MB; the function has 2048) | {figures['peak_rss_mb']:.0f} |")
    out(f"| pair tests / anomalies found | {figures['pairs']} / {figures['anomalies']} |")
    out(f"| serving document (KB) | {figures['serving_json_kb']:.0f} |")
    FIG.set(scale_s=figures["seconds"], peak_rss_mb=figures["peak_rss_mb"], memory_limit_mb=2048)
    out("")


INIT_SCRIPT = """
import os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {src!r}); sys.path.insert(0, {shared!r})
import handler
print(time.perf_counter() - t0)
"""


def latency_and_init(requests: int) -> None:
    from retail_platform import s3io
    from retail_platform.local.endpoint import s3_endpoint
    from retail_platform.local.functions import by_name, load_handler
    from retail_platform.local.run import LocalContext, prod_dataset_updated_event

    with s3_endpoint() as url:
        env = dict(os.environ)
        proc = subprocess.run(
            [sys.executable, "-c", INIT_SCRIPT.format(src=str(SRC), shared=str(ROOT / "shared"))],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        import_seconds = float(proc.stdout.strip().splitlines()[-1])
        import boto3

        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        long, _ = synthetic.generate(n_countries=20, days=730, seed=7, shocks_per_country=2)
        long["revenue_local"] = long["revenue"]
        long["revenue_reporting"] = long["revenue"]
        long["cancellation_rate"] = 0.02
        for day, part in long.groupby(long["date"].dt.date):
            frame = part.drop(columns="date").assign(date=day)
            s3io.write_parquet(s3, "local-prod", f"country_kpis/date={day}/part-0.parquet", frame)
        module = load_handler(by_name("global-market-pulse"))
        ctx = LocalContext("global-market-pulse")
        os.environ["MARKET_PULSE_REPORT"] = "0"
        t0 = time.perf_counter()
        batch = module.lambda_handler(prod_dataset_updated_event("country_kpis", "local-prod", ["2023-12-31"]), ctx)
        batch_seconds = time.perf_counter() - t0
        events = {}
        for name in ("http-get-pulse", "http-get-pulse-country"):
            events[name] = json.loads((ROOT / "events" / "global-market-pulse" / f"{name}.json").read_text())
        events["http-get-pulse-country"]["pathParameters"] = {"country": "DE"}
        events["http-get-pulse-country"]["rawPath"] = "/pulse/DE"
        module._reader = None
        t0 = time.perf_counter()
        first = module.lambda_handler(events["http-get-pulse"], ctx)
        first_seconds = time.perf_counter() - t0
        assert first["statusCode"] == 200, first
        timings = {}
        for name, request in events.items():
            samples = []
            for _ in range(requests):
                t0 = time.perf_counter()
                response = module.lambda_handler(request, ctx)
                samples.append((time.perf_counter() - t0) * 1000)
                assert response["statusCode"] == 200, response
            timings[name] = (np.percentile(samples, 50), np.percentile(samples, 99))
    out("## Latency and init (in process, against the local S3 endpoint; 20 countries x 2 years stored)")
    out("")
    out("| figure | value |")
    out("|---|---|")
    out(f"| import + init of handler.py (cold process, s) | {import_seconds:.2f} |")
    out(f"| batch run (read prod, analyse, write, s) | {batch_seconds:.1f} |")
    out(f"| first request, loads the stored results (ms) | {first_seconds * 1000:.0f} |")
    for name, (p50, p99) in timings.items():
        route = "GET /pulse" if name == "http-get-pulse" else "GET /pulse/{country}"
        out(f"| warm {route} p50 / p99 (ms, {requests} requests) | {p50:.1f} / {p99:.1f} |")
    out(f"| model version served | {batch['model_version']} |")
    FIG.set(import_init_s=import_seconds, batch_s=batch_seconds, batch_what="20 countries x 2 years")
    for name, (p50, p99) in timings.items():
        FIG.route("GET /pulse" if name == "http-get-pulse" else "GET /pulse/{country}", p50, p99, requests)
    out("")


def image_size() -> None:
    try:
        proc = subprocess.run(
            ["podman", "image", "inspect", "globalmarketpulsefunction:python3.11-v1", "--format", "{{.Size}}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        size = f"{int(proc.stdout.strip()) / 1e6:.0f} MB" if proc.returncode == 0 else "not built here"
        if proc.returncode == 0:
            FIG.set(image_tag="globalmarketpulsefunction:python3.11-v1", image_mb=int(proc.stdout.strip()) / 1e6)
    except (FileNotFoundError, ValueError, subprocess.TimeoutExpired):
        size = "not measured (no podman)"
    out("## Image")
    out("")
    out(f"globalmarketpulsefunction:python3.11-v1: {size}")
    out("")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer seeds, families and requests")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    load = os.getloadavg()[0]
    out("# global-market-pulse benchmark")
    out("")
    out(
        f"`.venv/bin/python tools/benchmarks/global-market-pulse.py{' --quick' if args.quick else ''}`; "
        f"{os.cpu_count()} CPUs, load average at start {load:.1f}."
    )
    out("")
    exactness()
    detection([7] if args.quick else [7, 8, 9], 12, 730)
    false_positives(100 if args.quick else 300)
    scale()
    latency_and_init(30 if args.quick else 200)
    image_size()
    out(f"Benchmark wall time: {time.perf_counter() - started:.0f} s.")
    if not args.no_write:
        target = ROOT / "docs" / "benchmarks" / "global-market-pulse.md"
        target.write_text("\n".join(LINES) + "\n")
        print(f"written to {target}")
        FIG.write(target)


if __name__ == "__main__":
    main()
