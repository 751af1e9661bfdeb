"""Benchmark of compliance-guardian: prints measured figures and writes docs/benchmarks/compliance-guardian.md.

    .venv/bin/python tools/benchmarks/compliance-guardian.py [--profile small|full] [--latency-n 50]
        [--text-texts 3000 --text-epochs 4] [--skip-text] [--fill-wheelhouse]

Sections (every figure below is measured by this command when it runs):
  1. PAN detection: precision/recall on tests/data/pci (published test cards, Presidio sentences, hard
     negatives) and on generated text with hard negatives, against a plain regex + Luhn baseline.
  2. Fraud: PR-AUC, recall at 1% FPR, precision at the chosen threshold on the time-based holdout of
     the seeded sample generator's payments, against the rules baseline.
  3. Text classifier: per-class precision/recall of the small BERT against the keyword baseline.
  4. Warm latency p50/p99 of POST /compliance/scan and POST /fraud/score through the handler in-process
     (moto S3), and import + init time of the handler in a fresh interpreter (torch imported or not).
  5. Image size of the locally built image, when one exists.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "ai-systems" / "compliance-guardian" / "src"
sys.path[:0] = [str(SRC), str(ROOT)]

from bench_figures import Figures  # noqa: E402  (tools/benchmarks, this script's folder)

PCI = ROOT / "tests" / "data" / "pci"
OUT = ROOT / "docs" / "benchmarks" / "compliance-guardian.md"
TORCH_WHEEL = os.environ.get("TORCH_CPU_WHEEL", "/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")
LINES: list[str] = []
FIG = Figures("compliance-guardian")
PAN_KEYS = {"published test cards": "cards", "Presidio sentences": "presidio", "generated text": "generated"}


def say(line: str = "") -> None:
    print(line, flush=True)
    LINES.append(line)


def fill_wheelhouse() -> None:
    target = ROOT / "ai-systems" / "compliance-guardian" / "wheelhouse"
    wheel = Path(TORCH_WHEEL)
    if wheel.exists() and not (target / wheel.name).exists():
        shutil.copy2(wheel, target / wheel.name)
    print(f"wheelhouse: {sorted(p.name for p in target.glob('*.whl'))}")


# ---------------------------------------------------------------- 1. PAN detection
_BASELINE = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def baseline_spans(text: str) -> list[tuple[int, int]]:
    from retail_platform.pii import pan

    return [m.span() for m in _BASELINE.finditer(text) if pan.luhn_valid(re.sub(r"\D", "", m.group()))]


def ours_spans(text: str) -> list[tuple[int, int]]:
    from retail_platform.pii import pan

    return [(m.start, m.end) for m in pan.find_pans(text)]


def pr(cases: list[tuple[str, list[tuple[int, int]]]], detector) -> tuple[float, float, int, int]:
    tp = fp = fn = 0
    for text, truth in cases:
        found = set(detector(text))
        truth_set = {tuple(s) for s in truth}
        tp += len(found & truth_set)
        fp += len(found - truth_set)
        fn += len(truth_set - found)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp + fn, len(cases)


def generated_pan_cases(n: int = 2000, seed: int = 7) -> list[tuple[str, list[tuple[int, int]]]]:
    """Sentences with real-format PANs (all brands, separators) and hard negatives, spans known."""
    from retail_platform.pii import pan

    rng = random.Random(seed)
    prefixes = ["4", "51", "55", "2221", "2720", "34", "37", "6011", "65", "3528", "36", "62", "6759", "5018"]
    lengths = {"34": 15, "37": 15, "36": 14, "62": 19, "6759": 19, "5018": 12}

    def make_pan() -> str:
        prefix = rng.choice(prefixes)
        length = lengths.get(prefix, 16)
        body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
        for check in "0123456789":
            if pan.luhn_valid(body + check):
                return body + check
        raise AssertionError

    def group(digits: str) -> str:
        sep = rng.choice(["", " ", "-", "."])
        if not sep:
            return digits
        return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))

    negatives = [
        lambda: f"order {rng.randint(10**11, 10**12 - 1)} shipped",
        lambda: f"IBAN DE{rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} "
        f"{rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}",
        lambda: f"call +44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
        lambda: f"tracking 9400{rng.randint(10**17, 10**18 - 1)}",
        lambda: f"placed 2023-{rng.randint(1, 12):02d}-{rng.randint(10, 28)} {rng.randint(10, 23)}:22:31",
        lambda: f"SKU ABC{rng.randint(10**15, 10**16 - 1)}",
        lambda: f"ref {rng.randint(10**15, 10**16 - 1)}",  # random 16 digits: Luhn-valid 1 in 10
    ]
    cases = []
    for _ in range(n):
        if rng.random() < 0.5:
            text_pan = group(make_pan())
            head = rng.choice(["card ", "pay with ", "my visa is ", "", "number: ", "use "])
            text = f"{head}{text_pan} {rng.choice(['thanks', 'exp 04/27', '', 'asap'])}".strip()
            cases.append((text, [(len(head), len(head) + len(text_pan))]))
        else:
            text = rng.choice(negatives)()
            digits = re.sub(r"\D", "", text)
            truth = [] if not (text.startswith("ref ") and pan.is_pan(digits)) else [(4, len(text))]
            cases.append((text, truth))
    return cases


def bench_pan() -> None:
    say("## PAN detection (precision / recall)")
    cards = list(csv.DictReader((PCI / "test_cards.csv").open(encoding="utf-8")))
    card_cases = [(c["number"], [(0, len(c["number"]))] if c["expected_pan"] == "True" else []) for c in cards]
    span_cases = []
    for name in ("presidio_unit_cases", "hard_negatives"):
        for line in (PCI / f"{name}.jsonl").read_text().splitlines():
            case = json.loads(line)
            span_cases.append((case["text"], [tuple(s) for s in case["credit_card_spans"]]))
    sets = {
        "published test cards (tests/data/pci/test_cards.csv)": card_cases,
        "Presidio sentences + hard negatives (tests/data/pci/*.jsonl)": span_cases,
        "generated text with hard negatives (2000 sentences, seed 7)": generated_pan_cases(),
    }
    say("| data | cases | PANs | ours P | ours R | regex+Luhn P | regex+Luhn R |")
    say("|---|---|---|---|---|---|---|")
    for name, cases in sets.items():
        p, r, positives, n = pr(cases, ours_spans)
        bp, br, _, _ = pr(cases, baseline_spans)
        say(f"| {name} | {n} | {positives} | {p:.4f} | {r:.4f} | {bp:.4f} | {br:.4f} |")
        key = next(v for k, v in PAN_KEYS.items() if name.startswith(k))
        FIG.quality(f"pan_precision_{key}", name, "PAN precision", p, "regex + Luhn", bp)
        FIG.quality(f"pan_recall_{key}", name, "PAN recall", r, "regex + Luhn", br)
    say()


# ---------------------------------------------------------------- 2. fraud
def sample_payments(profile: str):
    import pandas as pd

    from retail_platform.sampledata import SMALL_PROFILE, generate

    root = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    generate(root, seed=7, **(SMALL_PROFILE if profile == "small" else {}))
    raw = pd.concat(pd.read_parquet(p) for p in sorted((root / "sample" / "payments").glob("*.parquet")))
    prod = raw.rename(
        columns={
            "id": "payment_id",
            "created": "payment_ts",
            "customer_ref": "customer_id",
            "order_ref": "order_id",
            "payment_method": "method",
            "bin_country": "card_country",
            "account_created": "account_created_ts",
        }
    )
    prod["card_bin"], prod["card_last4"] = prod["card_number"].str[:6], prod["card_number"].str[-4:]
    shutil.rmtree(root, ignore_errors=True)
    return prod.drop(columns=["card_number"]).reset_index(drop=True)


def bench_fraud(profile: str):
    from compliance_guardian.fraud.model import train

    payments = sample_payments(profile)
    started = time.perf_counter()
    model, report = train(payments)
    seconds = time.perf_counter() - started
    say(
        f"## Fraud (sample generator, profile {profile}: {len(payments)} payments, "
        f"{int(payments.is_fraud.sum())} fraud)"
    )
    say(
        f"Time-based split 60/20/20; trained in {seconds:.1f} s; "
        f"threshold {model.threshold:.4f} (target alert rate 2%)."
    )
    say("| holdout | rows | fraud | PR-AUC | recall@1%FPR | precision@threshold | recall@threshold | alerts |")
    say("|---|---|---|---|---|---|---|---|")
    for name, m in report.items():
        say(
            f"| {name} | {m['rows']} | {m['positives']} | {m['pr_auc']} | {m['recall_at_1pct_fpr']} | "
            f"{m['precision_at_threshold']} | {m['recall_at_threshold']} | {m['alerts']} |"
        )
    say(f"Model Brier score on the holdout: {report['model']['brier']}.")
    data = f"fraud holdout (sample generator, profile {profile})"
    for metric in ("pr_auc", "recall_at_1pct_fpr", "precision_at_threshold", "recall_at_threshold"):
        FIG.quality(
            f"fraud_{metric}",
            data,
            metric.replace("_", " "),
            report["model"][metric],
            "rules baseline",
            report["rules_baseline"][metric],
        )
    say()
    return model


# ---------------------------------------------------------------- 3. text classifier
def bench_text(n_texts: int, epochs: int):
    from compliance_guardian.textclf.model import train

    started = time.perf_counter()
    classifier, report = train(n_texts=n_texts, epochs=epochs)
    seconds = time.perf_counter() - started
    say(f"## Text classifier (2-layer BERT, {n_texts} generated texts, {epochs} epochs, trained in {seconds:.1f} s)")
    say(f"Holdout accuracy: model {report['accuracy']}, keyword baseline {report['baseline_accuracy']}.")
    FIG.quality(
        "text_accuracy",
        f"{n_texts} generated texts",
        "accuracy",
        report["accuracy"],
        "keyword baseline",
        report["baseline_accuracy"],
    )
    say("| class | support | model P | model R | keywords P | keywords R |")
    say("|---|---|---|---|---|---|")
    for label, m in report["model"].items():
        b = report["keyword_baseline"][label]
        say(f"| {label} | {m['support']} | {m['precision']} | {m['recall']} | {b['precision']} | {b['recall']} |")
    say()
    return classifier


# ---------------------------------------------------------------- 4. latency, import + init
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_latency(model, classifier, n: int) -> None:
    from retail_platform.local.endpoint import s3_endpoint

    with s3_endpoint():
        import boto3

        from compliance_guardian.store import ModelStore
        from compliance_guardian.textclf import serving
        from retail_platform.local.run import LocalContext

        s3 = boto3.client("s3", endpoint_url=os.environ["LOCAL_ENDPOINT_URL"], region_name="us-east-1")
        ModelStore(s3, "local-artifacts", "fraud").save(model.version, model.to_files(), model.metadata)
        if classifier is not None:
            serving.save(s3, "local-artifacts", classifier)
        from tests.support import handler

        fn = handler("compliance-guardian")
        ctx = LocalContext("bench")
        events_dir = ROOT / "events" / "compliance-guardian"
        one = json.loads((events_dir / "api-fraud-score.json").read_text())
        body = json.loads(one["body"])
        single = dict(one, body=json.dumps({"transaction": body["transactions"][-1]}))
        routes = {
            "POST /compliance/scan (text)": json.loads((events_dir / "api-compliance-scan.json").read_text()),
            "POST /fraud/score (1 transaction)": single,
            "POST /fraud/score (3 transactions)": one,
        }
        if classifier is not None:
            scan = json.loads((events_dir / "api-compliance-scan.json").read_text())
            scan["body"] = json.dumps({**json.loads(scan["body"]), "classify": True})
            routes["POST /compliance/scan (classify: true)"] = scan
        say(f"## Warm latency in-process (handler, moto S3; {n} requests after one warm-up)")
        say("| route | p50 ms | p99 ms |")
        say("|---|---|---|")
        for name, event in routes.items():
            response = fn.lambda_handler(event, ctx)
            assert response["statusCode"] == 200, response
            times = []
            for _ in range(n):
                started = time.perf_counter()
                fn.lambda_handler(event, ctx)
                times.append((time.perf_counter() - started) * 1000)
            say(f"| {name} | {statistics.median(times):.1f} | {percentile(times, 0.99):.1f} |")
            FIG.route(name, statistics.median(times), percentile(times, 0.99), n)
        say()


def bench_import() -> None:
    code = (
        "import time, sys; t=time.perf_counter(); import handler; "
        "print(round(time.perf_counter()-t, 3), 'torch' in sys.modules, 'xgboost' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{ROOT / 'shared'}", "POWERTOOLS_METRICS_DISABLED": "true"}
    env.update({"RAW_BUCKET": "r", "CURATED_BUCKET": "c", "PROD_BUCKET": "p", "ARTIFACTS_BUCKET": "a"})
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], cwd=SRC, env=env, capture_output=True, text=True, check=True)
        runs.append(out.stdout.split())
    seconds = sorted(float(r[0]) for r in runs)
    say("## Import + init (fresh interpreter, `import handler`, 3 runs)")
    say(
        f"median {seconds[1]:.2f} s (min {seconds[0]:.2f}, max {seconds[2]:.2f}); torch imported: {runs[0][1]}; "
        f"xgboost imported: {runs[0][2]}"
    )
    code_torch = (
        "import time; t=time.perf_counter(); import compliance_guardian.textclf.model; "
        "print(round(time.perf_counter()-t,3))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code_torch], cwd=SRC, env=env, capture_output=True, text=True, check=True
    )
    say(f"text-model path extra import (torch + transformers): {float(out.stdout.strip()):.2f} s")
    FIG.set(import_init_s=seconds[1], text_model_extra_import_s=float(out.stdout.strip()))
    say()


def bench_image() -> None:
    for cli in ("podman", "docker"):
        if shutil.which(cli):
            out = subprocess.run(
                [cli, "image", "inspect", "complianceguardianfunction:python3.11-v1", "--format", "{{.Size}}"],
                capture_output=True,
                text=True,
                env={**os.environ, "DOCKER_HOST": os.environ.get("DOCKER_HOST", "unix:///run/podman/podman.sock")},
            )
            if out.returncode == 0 and out.stdout.strip():
                FIG.set(image_tag="complianceguardianfunction:python3.11-v1", image_mb=int(out.stdout.strip()) / 1e6)
                say(
                    f"## Image\ncomplianceguardianfunction:python3.11-v1: "
                    f"{int(out.stdout.strip()) / 1e9:.2f} GB ({cli})"
                )
                say()
                return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=["small", "full"], default="small")
    parser.add_argument("--latency-n", type=int, default=50)
    parser.add_argument("--text-texts", type=int, default=3000)
    parser.add_argument("--text-epochs", type=int, default=4)
    parser.add_argument("--skip-text", action="store_true")
    parser.add_argument("--fill-wheelhouse", action="store_true", help="only copy the local torch CPU wheel")
    args = parser.parse_args()
    if args.fill_wheelhouse:
        fill_wheelhouse()
        return 0
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    say("# compliance-guardian benchmark")
    say(
        f"`python tools/benchmarks/compliance-guardian.py {' '.join(sys.argv[1:])}` "
        f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at start)"
    )
    say()
    bench_pan()
    model = bench_fraud(args.profile)
    classifier = None if args.skip_text else bench_text(args.text_texts, args.text_epochs)
    bench_latency(model, classifier, args.latency_n)
    bench_import()
    bench_image()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(LINES) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    FIG.write(OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
