"""Benchmark raw-to-curated on 1,000,000 generated order lines against a plain-pyarrow floor, pandera and GX.

    .venv/bin/python tools/benchmarks/raw_to_curated.py [--rows 1000000] [--repeat 3] [--others pandera,gx]

The input is the seeded sample generator at scale (`retail_platform.sampledata`, several seeds of a large shop,
order lines with their injected defects: no sample repeated), its monthly exports joined into one CSV and
curated by the `sample-order-lines` contract; the file is cached under the system temp folder by its
parameters. In one run, alternated --repeat times, medians reported:

* floor: the mandatory work in pyarrow kernels only, derived from the contract: cells read as strings, trimmed,
  the contract's casts (failures become nulls, no reasons), the required/range/allowed-value checks as
  masks, an exact-duplicate hash of every row, and one zstd Parquet object per month;
* curation: `curate_stream` into the handler's S3 sink exactly as the handler runs it (batches, detectors,
  reasons per cell, masking, quarantine, partitioned Parquet written on the sink's threads), whose client
  writes to a local folder instead of S3 (no network time is counted);
* pandera and Great Expectations (GX) doing the contract's type, range, allowed-value, required and
  business-key checks on the same file (tools/benchmarks/raw_to_curated_others.py, run by the Python of a
  separate venv holding tools/benchmarks/requirements.txt: --others-python, default .venv-bench/bin/python;
  create it with `python3 -m venv .venv-bench && .venv-bench/bin/pip install -r tools/benchmarks/requirements.txt`).

Peak memory is each run's maximum resident set size (a fresh subprocess per run). CPU time (user + system of
the run's process) is reported beside wall time: the machine is shared, and CPU time is what load does not
inflate. Figures go to docs/benchmarks/raw-to-curated.json (BENCHMARKS.md is composed from it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
JSON_OUT = ROOT / "docs" / "benchmarks" / "raw-to-curated.json"
CONTRACT = "sample-order-lines"
KEY = "sample/order_lines/bench.csv"
SHOP = {"n_skus": 120, "n_customers": 3000, "days": 730}  # the default demo shop: ~186,000 order lines per seed
OTHERS = ("pandera", "gx")


def make_input(rows: int, path: Path, first_seed: int = 11) -> dict:
    """`rows` order lines of the generator: one shop per seed (first_seed, first_seed + 1, ...) until enough lines,
    each shop's monthly exports appended under one header. Order numbers restart in every shop, so each shop's
    are prefixed with its seed (`11-1003701`): one file of several shops, not one shop repeated."""
    from retail_platform.sampledata import generate

    written, seeds = 0, []
    with path.open("wb") as out:
        seed = first_seed
        while written < rows:
            with tempfile.TemporaryDirectory() as tmp:
                generate(Path(tmp), seed=seed, **SHOP)
                for export in sorted((Path(tmp) / "sample" / "order_lines").glob("*.csv.gz")):
                    lines = gzip.decompress(export.read_bytes()).splitlines(keepends=True)
                    if written == 0:
                        out.write(lines[0])
                    tag = f"{seed}-".encode()
                    take = lines[1 : 1 + rows - written]
                    out.writelines(line if line.startswith(b",") else tag + line for line in take)
                    written += len(take)
                    if written >= rows:
                        break
            seeds.append(seed)
            seed += 1
    return {"rows": written, "seeds": seeds, "shop": SHOP}


def cached_input(rows: int) -> tuple[Path, dict]:
    """The generated input, made once per parameter set and kept in the temp folder."""
    folder = Path(tempfile.gettempdir()) / "raw-to-curated-bench"
    folder.mkdir(exist_ok=True)
    tag = f"{rows}-{SHOP['n_skus']}-{SHOP['n_customers']}-{SHOP['days']}"
    path, info = folder / f"order_lines-{tag}.csv", folder / f"order_lines-{tag}.json"
    if not (path.exists() and info.exists()):
        made = make_input(rows, path)
        info.write_text(json.dumps(made))
    return path, json.loads(info.read_text())


@cache
def contract():
    from retail_platform.contracts import load_sources, route

    return route(KEY, load_sources())


@cache
def check_spec() -> dict:
    """The contract's checks per source column (for the floor, pandera and GX): type, format, required, min,
    allowed values (booleans by their words, currencies and countries by the platform's code lists)."""
    import pycountry

    from retail_platform import normalise

    c = contract()
    countries = {x.alpha_2 for x in pycountry.countries} | {x.alpha_3 for x in pycountry.countries}
    countries |= {x.name for x in pycountry.countries} | set(normalise.COUNTRY_ALIASES)
    allowed = {
        "bool": sorted(normalise.TRUE_WORDS | normalise.FALSE_WORDS | {w.upper() for w in normalise.TRUE_WORDS}),
        "currency": sorted(x.alpha_3 for x in pycountry.currencies),
        "country": sorted(countries),
    }
    allowed["bool"] = sorted(set(allowed["bool"]) | {w.upper() for w in normalise.FALSE_WORDS} | {"Y", "N"})
    columns = {}
    for target, mapping in c.columns.items():
        if not mapping.source:
            continue
        column = c.schema[target]
        kind = column.type if column.type in ("int", "float", "timestamp") else "text"
        columns[mapping.source] = {
            "type": kind,
            "format": mapping.format,
            "required": bool(column.required),
            "min": getattr(column, "min", None),
            "allowed": allowed.get(column.type)
            or (sorted(column.allowed) if getattr(column, "allowed", None) else None),
        }
    key = [c.columns[k].source for k in c.canonical.business_key]
    return {"columns": columns, "business_key": key}


def run_curation(path: Path, out: Path) -> dict:
    sys.path.insert(0, str(ROOT / "pipeline" / "raw-to-curated"))
    from curation.engine import curate_stream
    from curation.outputs import S3Sink

    source = contract()
    sink = S3Sink(_folder_client(out), "curated", source.dataset, "bench")
    with path.open("rb") as stream:
        report = curate_stream(stream, KEY, source, sink, size=path.stat().st_size)
    sink.flush()
    sink.close()
    return {
        "rows_in": report["rows_in"],
        "rows_curated": report["rows_curated"],
        "rows_quarantined": report["rows_quarantined"],
        "conservation_ok": report["conservation_ok"],
        "objects": sum(1 for _ in out.rglob("*.parquet")),
    }


def run_floor(path: Path, out: Path, mark=lambda label: None) -> dict:
    """The mandatory part of curation in Arrow kernels only (see the module docstring), from the contract.
    `mark(label)` is called after each step (floor_steps times them)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT / "pipeline" / "raw-to-curated"))
    from curation.arrowcols import column_hashes

    spec = check_spec()
    header = path.open(encoding="utf-8").readline().strip().replace('"', "").split(",")
    strings = pa_csv.ConvertOptions(column_types={name: pa.string() for name in header})
    table = pa_csv.read_csv(path, convert_options=strings)
    mark("read (pyarrow CSV, cells as strings)")
    columns, bad = {}, pa.array(np.zeros(table.num_rows, dtype=bool))
    for name in header:
        rule = spec["columns"].get(name, {"type": "text", "required": False})
        cells = pc.utf8_trim_whitespace(table[name])
        if rule["type"] == "int":
            value = pc.cast(pc.if_else(pc.match_substring_regex(cells, r"^-?\d+$"), cells, None), pa.int64())
        elif rule["type"] == "float":
            value = pc.cast(pc.if_else(pc.match_substring_regex(cells, r"^-?\d+(\.\d+)?$"), cells, None), pa.float64())
        elif rule["type"] == "timestamp":
            value = pc.strptime(cells, format=rule["format"], unit="s", error_is_null=True)
        else:
            value = cells
        failed = pc.and_(pc.is_null(value), pc.not_equal(cells, ""))
        if rule["required"]:
            failed = pc.or_(failed, pc.or_(pc.is_null(value), pc.equal(cells, "")))
        if rule.get("min") is not None:
            failed = pc.or_(failed, pc.fill_null(pc.less(value, rule["min"]), False))
        if rule.get("allowed"):
            outside = pc.invert(pc.is_in(cells, value_set=pa.array(rule["allowed"])))
            failed = pc.or_(failed, pc.and_(outside, pc.not_equal(cells, "")))
        bad = pc.or_(bad, pc.fill_null(failed, True))
        columns[name] = value
    mark("casts, formats and checks as masks")
    row_hash = np.zeros(table.num_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for name in header:  # each distinct value hashed once, as the curation does
            cells = pd.Series(pd.arrays.ArrowStringArray(table[name]))
            row_hash = row_hash * np.uint64(0x9E3779B97F4A7C15) + column_hashes(cells)
    _, first = np.unique(row_hash, return_index=True)
    repeated = np.ones(table.num_rows, dtype=bool)
    repeated[first] = False
    mark("exact-duplicate row hashes")
    keep = pc.invert(pc.or_(bad, pa.array(repeated)))
    curated = pa.table(columns).filter(keep)
    stamp = next(n for n in header if spec["columns"].get(n, {}).get("type") == "timestamp")
    months = curated[stamp].to_numpy().astype("datetime64[M]")  # not pc.strftime: it costs ~1 s CPU per 1M
    order = np.argsort(months, kind="stable")
    curated = curated.take(pa.array(order))
    values, starts = np.unique(months[order], return_index=True)
    mark("rows ordered into monthly partitions")
    with ThreadPoolExecutor(max_workers=8) as pool:  # as the curation's S3 sink encodes its parts
        for month, start, end in zip(values, starts, [*starts[1:], len(order)], strict=True):
            pool.submit(pq.write_table, curated.slice(start, end - start), out / f"{month}.parquet", compression="zstd")
    mark("Parquet encoding and writes")
    return {"rows": curated.num_rows, "rows_failed": int(table.num_rows - curated.num_rows), "objects": len(values)}


def run_baseline(path: Path, out: Path) -> dict:
    """pyarrow's CSV reader (types inferred) -> one zstd Parquet file: no checks at all."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    table = pa_csv.read_csv(path)
    pq.write_table(table, out / "baseline.parquet", compression="zstd")
    return {"rows": table.num_rows}


def warm(kind: str) -> None:
    """Imports and contract loading, done before the timed part (as a warm function has them: scikit-learn, which
    the isolation-forest detector imports on first use, costs ~3.5 s of CPU once per execution environment)."""
    from importlib import import_module

    sys.path.insert(0, str(ROOT / "pipeline" / "raw-to-curated"))
    curation = ("curation.engine", "curation.outputs", "sklearn.ensemble") if kind != "baseline" else ()
    for module in ("pyarrow.csv", "pyarrow.parquet", *curation):
        import_module(module)
    if kind != "baseline":
        check_spec()


# where the curation's CPU goes: (label, floor work or extra, module, function) of the steps timed by run_profile
PROFILE_STEPS = (
    ("contract's casts, formats and checks; card numbers masked", "floor + extra", "engine", "coerce"),
    ("contract rules (expressions)", "extra", "engine", "apply_rules"),
    ("exact-duplicate row hashes", "floor", "engine", "Curation._exact_duplicates"),
    ("data-quality detectors", "extra", "detectors", "run"),
    ("business keys (latest version wins)", "extra", "engine", "Curation._supersession"),
    ("hold kept rows as Arrow until the file is seen", "extra", "engine", "Curation._hold"),
    ("superseded rows to quarantine, lineage columns", "extra", "engine", "Curation._curated"),
    ("rows ordered into monthly partitions", "floor", "engine", "Curation.finish"),  # less the two steps above
)
PHASE_2 = ("business keys (latest version wins)", "superseded rows to quarantine, lineage columns")


def run_profile(path: Path, out: Path) -> dict:
    """CPU seconds of each step of the curation (PROFILE_STEPS) and of the floor's steps, on the whole input.

    The file is read first (every thread's CPU: the reader's and pyarrow's), then curated on the calling thread:
    each step is timed by that thread's CPU clock, and the sink's threads (Parquet encoding, writes) by the
    process' CPU less the calling thread's. Exact where a CPU-clocked cProfile is not (other threads' CPU lands
    on whatever the profiled thread runs meanwhile).
    """
    from collections import Counter
    from functools import wraps

    sys.path.insert(0, str(ROOT / "pipeline" / "raw-to-curated"))
    from curation import detectors, engine, reading
    from curation.outputs import S3Sink

    spent: Counter[str] = Counter()

    def timed(owner: object, name: str, label: str) -> None:
        function = getattr(owner, name)

        @wraps(function)
        def wrapper(*args, **kwargs):
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.thread_time() - started

        setattr(owner, name, wrapper)

    for label, _, module, function in PROFILE_STEPS:
        owner: object = {"engine": engine, "detectors": detectors}[module]
        *classes, name = function.split(".")
        for cls in classes:
            owner = getattr(owner, cls)
        timed(owner, name, label)
    source = contract()
    cpu = time.process_time()
    with path.open("rb") as stream:
        batches = list(reading.iter_batches(stream, KEY, source, size=path.stat().st_size))
    read = time.process_time() - cpu
    sink = S3Sink(_folder_client(out), "curated", source.dataset, "bench")
    curation = engine.Curation(KEY, source, sink)
    cpu, main = time.process_time(), time.thread_time()
    for batch in batches:
        curation.add(batch)
    curation.finish()
    main = time.thread_time() - main
    sink.flush()
    sink.close()
    threads = time.process_time() - cpu - main
    spent["rows ordered into monthly partitions"] -= sum(spent[label] for label in PHASE_2)  # inside finish
    steps = {"read (pyarrow CSV, cells as strings, blanks as missing)": read, **spent}
    steps["other per-batch work (reasons, notes, pandas -> Arrow)"] = main - sum(spent.values())
    steps["Parquet encoding and writes (sink threads)"] = threads
    kinds = {label: kind for label, kind, _, _ in PROFILE_STEPS}
    kinds.update({k: "floor" for k in steps if k.startswith(("read", "Parquet"))})
    return {
        "profile_total_cpu": sum(steps.values()),
        "profile": steps,
        "profile_kinds": {k: kinds.get(k, "extra") for k in steps},
        "floor_profile": floor_steps(path, out / "floor"),
    }


def floor_steps(path: Path, out: Path) -> dict:
    """The floor's CPU seconds by step (run_floor with the process' CPU clock read between its steps)."""
    out.mkdir(parents=True, exist_ok=True)
    marks: list[tuple[str, float]] = [("start", time.process_time())]
    run_floor(path, out, lambda label: marks.append((label, time.process_time())))
    return {label: t - marks[i][1] for i, (label, t) in enumerate(marks[1:])}


def _folder_client(out: Path):
    class FolderClient:
        """put_object into a local folder: the handler's own sink (threads and all), without the network."""

        def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
            target = out / Key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(Body)

    return FolderClient()


def report_profile(fig, profile: dict, rows: int) -> None:
    """Print and record the profile: each curation step beside the floor's, floor work or extra."""
    total, floor = profile["profile_total_cpu"], profile["floor_profile"]
    print(f"profile on {rows:,} lines (CPU s): curation {total:.2f}, floor {sum(floor.values()):.2f}")
    for label, seconds in profile["profile"].items():
        print(f"  {seconds:6.2f} ({seconds / total:4.0%})  {profile['profile_kinds'][label]:13}  {label}")
    print("  floor:", ", ".join(f"{label} {seconds:.2f}" for label, seconds in floor.items()))
    extra = sum(v for k, v in profile["profile"].items() if profile["profile_kinds"][k] == "extra")
    fig.set(
        profile_rows=rows,
        profile_cpu_seconds=total,
        profile_method=(
            "each step timed by the curating thread's CPU clock (the file read first; the sink's threads by the"
            " process' CPU less that thread's)"
        ),
        profile_stages_cpu_seconds=profile["profile"],
        profile_stage_kinds=profile["profile_kinds"],
        profile_extra_cpu_seconds=extra,
        floor_stages_cpu_seconds=floor,
    )


def child(kind: str, path: str, out: str) -> None:
    runs = {"curation": run_curation, "baseline": run_baseline, "floor": run_floor, "profile": run_profile}
    warm(kind)
    started, cpu = time.perf_counter(), time.process_time()
    result = runs[kind](Path(path), Path(out))
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = time.process_time() - cpu  # every thread of the process
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, path: Path, others_python: str | None = None, spec: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as out:
        if kind in OTHERS:
            command = [others_python, str(HERE / "raw_to_curated_others.py"), kind, str(path), str(spec)]
        else:
            command = [sys.executable, __file__, "--child", kind, str(path), out]
        started = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_seconds"] = wall
    return result


def _median_run(runs: list[dict]) -> dict:
    """The run with the median time (its own peak memory with it), with the median of the runs' CPU times: on a
    shared machine a run's wall time and its CPU time are inflated by different neighbours."""
    median = dict(sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2])
    if all("cpu_seconds" in r for r in runs):
        median["cpu_seconds"] = sorted(r["cpu_seconds"] for r in runs)[len(runs) // 2]
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, alternated; medians are reported")
    parser.add_argument("--others", default=",".join(OTHERS), help="comparisons to run: pandera,gx (or none)")
    parser.add_argument("--others-repeat", type=int, default=1, help="runs of each comparison (slow: default 1)")
    parser.add_argument("--others-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    parser.add_argument(
        "--profile-rows", type=int, default=-1, help="lines of the input profiled (-1: all, the default; 0: none)"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=JSON_OUT, help="figures for tools/benchmarks/report.py")
    opts = parser.parse_args()
    if opts.child:
        child(*opts.child)
        return
    path, made = cached_input(opts.rows)
    size_mb = path.stat().st_size / 1e6
    others = [o for o in opts.others.split(",") if o in OTHERS]
    if others and not Path(opts.others_python).exists():
        print(
            f"pandera/GX not measured: {opts.others_python} not found (python3 -m venv .venv-bench && "
            ".venv-bench/bin/pip install -r tools/benchmarks/requirements.txt)"
        )
        others = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps(check_spec()))
        runs: dict[str, list[dict]] = {"baseline": [], "floor": [], "curation": []}
        for _ in range(opts.repeat):  # alternated, so that a noisy moment hits every side alike
            for kind in runs:
                runs[kind].append(measure(kind, path))
        for tool in others:
            runs[tool] = [measure(tool, path, opts.others_python, spec) for _ in range(opts.others_repeat)]
        profile = None
        if opts.profile_rows < 0:
            profile = measure("profile", path)
        elif opts.profile_rows:
            head = Path(tmp) / "head.csv"
            with path.open("rb") as source, head.open("wb") as target:
                target.writelines(line for _, line in zip(range(opts.profile_rows + 1), source, strict=False))
            profile = measure("profile", head)
    median = {kind: _median_run(r) for kind, r in runs.items()}
    for kind, r in runs.items():
        if len(r) > 1:
            times = ", ".join(f"{x['seconds']:.2f}" for x in r)
            cpu = ", ".join(f"{x.get('cpu_seconds', float('nan')):.2f}" for x in r)
            print(f"runs, {kind}: {times} s wall, {cpu} s CPU (medians below)")
    floor, curation, baseline = median["floor"], median["curation"], median["baseline"]
    print(
        f"input: {made['rows']:,} generated order lines (seeds {made['seeds']}, shop {made['shop']}), {size_mb:.0f} MB"
    )
    labels = {
        "baseline": "pyarrow CSV -> Parquet, no checks",
        "floor": "plain-pyarrow floor of the checks",
        "curation": "raw-to-curated (curate_stream)",
        "pandera": "pandera (read + checks)",
        "gx": "Great Expectations (read + checks)",
    }
    print(f"{'':38} {'wall s':>8} {'CPU s':>8} {'x floor':>8} {'CPU x floor':>11} {'peak MB':>8}")
    for kind, r in median.items():
        print(
            f"{labels[kind]:38} {r['seconds']:8.2f} {r.get('cpu_seconds', float('nan')):8.2f} "
            f"{r['seconds'] / floor['seconds']:8.2f} {r.get('cpu_seconds', float('nan')) / floor['cpu_seconds']:11.2f} "
            f"{r['peak_rss_mb']:8.0f}"
        )
    print(
        f"rows in {curation['rows_in']:,} = curated {curation['rows_curated']:,} + quarantined "
        f"{curation['rows_quarantined']:,}: {'holds' if curation['conservation_ok'] else 'BROKEN'}; floor drops "
        f"{floor['rows_failed']:,}; " + "; ".join(f"{t} fails {median[t]['failed_rows']:,} rows" for t in others)
    )
    sys.path.insert(0, str(HERE))
    from bench_figures import Figures  # tools/benchmarks, this script's folder

    fig = Figures("raw-to-curated")
    fig.set(
        rows=opts.rows,
        input="generated order lines (retail_platform.sampledata at scale, no sample repeated)",
        input_seeds=made["seeds"],
        input_mb=size_mb,
        seconds=curation["seconds"],
        cpu_seconds=curation["cpu_seconds"],
        rows_per_s=opts.rows / curation["seconds"],
        peak_rss_mb=curation["peak_rss_mb"],
        memory_limit_mb=3072,
        baseline_seconds=baseline["seconds"],
        repeats=opts.repeat,
        floor_seconds=floor["seconds"],
        floor_cpu_seconds=floor["cpu_seconds"],
        cpu_seconds_runs={kind: [round(x["cpu_seconds"], 2) for x in runs[kind]] for kind in ("floor", "curation")},
        floor_ratio=floor["seconds"] / baseline["seconds"],
        ratio=curation["seconds"] / baseline["seconds"],
        floor_goal=1.5,
        curation_vs_floor=curation["seconds"] / floor["seconds"],
        curation_vs_floor_cpu=curation["cpu_seconds"] / floor["cpu_seconds"],
        rows_in=curation["rows_in"],
        rows_curated=curation["rows_curated"],
        rows_quarantined=curation["rows_quarantined"],
        conservation_ok=curation["conservation_ok"],
        load_average_end=round(os.getloadavg()[0], 1),
    )
    for tool in others:
        r = median[tool]
        fig.set(
            **{
                f"{tool}_seconds": r["seconds"],
                f"{tool}_cpu_seconds": r.get("cpu_seconds"),
                f"{tool}_peak_rss_mb": r["peak_rss_mb"],
                f"{tool}_failed_rows": r["failed_rows"],
                f"{tool}_vs_floor": r["seconds"] / floor["seconds"],
                f"curation_vs_{tool}": curation["seconds"] / r["seconds"],
            }
        )
    if profile is not None:
        report_profile(fig, profile, made["rows"] if opts.profile_rows < 0 else opts.profile_rows)
    fig.write(opts.json)


if __name__ == "__main__":
    main()
