"""Every AI system on partial real data: a matrix of shapes through the real handlers, in process, against moto.

Each shape is cut from real data (the UCI Online Retail sample) or from the generator's small sample, goes
through raw-to-curated and curated-to-prod, then through the batch path of every AI system, exactly as the
main job runs them (`retail_platform.local.run`). For every shape:

* no system fails (one system's failure would be recorded, not raised: the test reads the record);
* every system either produced output or said why not (its `skipped` notes);
* no made-up figures: what the systems wrote names only markets, countries and SKUs the prod data has, a
  forecast only for a market with enough revenue history, and amounts labelled with the data's currency.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest

from retail_platform import s3io
from retail_platform.local import run
from retail_platform.local.endpoint import BUCKET_ENV
from tests.support import DATA

RAW, PROD = BUCKET_ENV["RAW_BUCKET"], BUCKET_ENV["PROD_BUCKET"]
UCI = DATA / "online-retail" / "online_retail_sample.csv"
FAST = {  # small model budgets: the shapes, not the models, are under test here
    "MARKET_MODELS": "seasonal_naive,drift,ets",
    "MARKET_FOLDS": "1",
    "DEMAND_MAX_TRAIN_ROWS": "5000",
    "DEMAND_NUM_ROUNDS": "20",
    "MARKET_PULSE_REPORT": "1",
}
MIN_FORECAST_WEEKS = 8  # market_intelligence.coverage.MIN_FORECAST_PERIODS


def _uci(cut: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        frame = pd.read_csv(UCI, dtype=str, keep_default_na=False)
        target = root / "uci-online-retail" / "export.csv"
        target.parent.mkdir(parents=True)
        cut(frame).to_csv(target, index=False)

    return write


def _ts(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["InvoiceDate"], format="%m/%d/%Y %H:%M")


def _snap(frame: pd.DataFrame, to: str) -> pd.DataFrame:
    """Every line dated at the start of its week or month: an export of weekly or monthly aggregates."""
    ts = _ts(frame)
    start = ts.dt.to_period(to).dt.start_time + pd.Timedelta(hours=10)
    return frame.assign(InvoiceDate=start.dt.strftime("%m/%d/%Y %H:%M"))


def _generated(keep: set[str]) -> Callable[[Path], None]:
    """The generator's small sample shrunk to five weeks and two countries, only the `keep` datasets."""

    def write(root: Path) -> None:
        from retail_platform.sampledata import generate

        generate(root, seed=7, start=pd.Timestamp("2023-10-01").date(), days=35, n_skus=8, n_customers=60,
                 countries=("GB", "DE"))  # fmt: skip
        shutil.rmtree(root / "_manifest")
        for folder in (root / "sample").iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder)

    return write


SHAPES = {
    # every UCI shape is an export of order lines only, in one currency (GBP); the whole sample (26 countries, a
    # year) runs in test_market_pulse_handler and the README's main job, so here only its cuts
    "one-country-one-currency": _uci(lambda f: f[f["Country"] == "United Kingdom"]),
    "one-sku": _uci(lambda f: f[f["StockCode"] == f["StockCode"].value_counts().index[0]]),
    "thirty-days": _uci(lambda f: f[_ts(f) > _ts(f).max() - pd.Timedelta(days=30)]),
    "weekly-grain": _uci(lambda f: _snap(f, "W-SUN")),
    "monthly-grain": _uci(lambda f: _snap(f, "M")),
    # a subset of the eight datasets, four currencies and no FX file
    "dataset-subset-no-fx": _generated({"order_lines", "products", "customers"}),
}


def _empty_buckets(s3) -> None:
    for bucket in BUCKET_ENV.values():
        keys = [k for k in s3io.list_keys(s3, bucket, "")]
        for start in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})


@pytest.fixture(scope="module")
def fast_models():
    mp = pytest.MonkeyPatch()
    for key, value in FAST.items():
        mp.setenv(key, value)
    yield
    mp.undo()


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shaped_run(request, endpoint, fast_models, tmp_path_factory) -> dict:
    """The pipeline and every AI system's batch path on one shape; prod read back for the checks."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    _empty_buckets(s3)
    root = tmp_path_factory.mktemp(request.param)
    SHAPES[request.param](root)
    log: list[str] = []
    uploaded = run.upload_tree(s3, RAW, root)
    pipeline = run.run_pipeline(s3, RAW, uploaded, log.append)
    results = run.run_ai_systems(PROD, pipeline["prod"], log.append)
    prod = {name: s3io.read_parquet_prefix(s3, PROD, f"{name}/") for name in pipeline["prod"].get("prod_datasets", {})}
    written = {}
    for key in s3io.list_keys(s3, PROD, ""):
        top = key.split("/")[0]
        if key.endswith(".parquet") and top not in prod and not top.startswith("_"):
            name = "/".join(key.split("/")[:2]) if top == "pulse" else top
            written.setdefault(name, []).append(s3io.read_parquet(s3, PROD, key))
    written = {k: pd.concat(v, ignore_index=True) for k, v in written.items()}
    print(f"\n[{request.param}]", *(line for line in log if " in " in line), sep="\n  ")
    return {"shape": request.param, "results": results, "prod": prod, "written": written, "log": log}


def test_no_system_fails(shaped_run):
    failures = {name: r["errors"] for name, r in shaped_run["results"].items() if r.get("errors")}
    assert not failures, f"{shaped_run['shape']}: {failures}"
    assert run.failed_systems(shaped_run["results"]) == []


def test_each_system_has_output_or_says_why_not(shaped_run):
    for name, result in shaped_run["results"].items():
        produced = [
            o
            for o in result["outputs"]
            if isinstance(o, dict) and ("audit" in o or o.get("status") not in (None, "ignored", "skipped"))
        ]
        assert produced or result["skipped"], f"{shaped_run['shape']}: {name} neither produced output nor said why"
        assert all(isinstance(n, str) and len(n) > 10 for n in result["skipped"]), result["skipped"]


def _known_revenue_weeks(market_series: pd.DataFrame) -> pd.Series:
    known = market_series.dropna(subset=["revenue_reporting"])
    first = pd.to_datetime(known.groupby(["category", "country"])["date"].min())
    last = pd.to_datetime(market_series["date"]).max()
    return (last - first).dt.days // 7 + 1


def test_market_forecasts_only_for_markets_with_revenue_history(shaped_run):
    prod, written = shaped_run["prod"], shaped_run["written"]
    forecasts = written.get("market_forecasts", pd.DataFrame(columns=["category", "country", "yhat"]))
    series = prod.get("market_series")
    if series is None or series.empty:
        assert forecasts.empty
        return
    weeks = _known_revenue_weeks(series)
    allowed = {f"{c}|{k}" for (c, k), n in weeks.items() if n >= MIN_FORECAST_WEEKS}
    forecast_markets = set(forecasts["category"].astype(str) + "|" + forecasts["country"].astype(str))
    assert forecast_markets <= allowed, f"{shaped_run['shape']}: forecasts for {forecast_markets - allowed}"
    assert np.isfinite(forecasts["yhat"].astype(float)).all()
    trends = written.get("market_trends", pd.DataFrame())
    with_revenue = {f"{c}|{k}" for c, k in weeks.index}
    assert set(trends.get("series_id", [])) <= with_revenue
    notes = " ".join(shaped_run["results"]["market-intelligence-hub"]["skipped"])
    if len(forecast_markets) < series.groupby(["category", "country"]).ngroups:
        assert "no forecast" in notes or "no trend or forecast" in notes, notes  # the markets left out are named


def test_outputs_name_only_what_prod_has(shaped_run):
    prod, written = shaped_run["prod"], shaped_run["written"]
    countries = set(prod["country_kpis"]["country"]) if "country_kpis" in prod else set()
    skus = set(prod["daily_sales"]["sku"]) if "daily_sales" in prod else set()
    categories = set(prod["market_series"]["category"]) if "market_series" in prod else set()
    for name, frame in written.items():
        if "country" in frame and name != "pci_findings":
            phantom = set(frame["country"].dropna().astype(str)) - countries - {"ALL"}
            assert not phantom, f"{shaped_run['shape']}: {name} has countries {phantom} that prod has not"
        if "sku" in frame:
            assert set(frame["sku"].dropna().astype(str)) <= skus, f"{shaped_run['shape']}: {name} invents SKUs"
        if "category" in frame and name.startswith("market_"):
            assert set(frame["category"].dropna().astype(str)) <= categories | {"ALL"}


def test_pulse_amounts_are_labelled_with_the_datas_currency(shaped_run):
    kpis = shaped_run["prod"].get("country_kpis")
    outputs = [o for o in shaped_run["results"]["global-market-pulse"]["outputs"] if o.get("status") == "ok"]
    if kpis is None or not outputs:
        assert shaped_run["results"]["global-market-pulse"]["skipped"]
        return
    label = outputs[-1]["reporting_currency"]
    converted = kpis["revenue_reporting"].notna()
    if converted.any() and "reporting_currency" in kpis:
        assert label == kpis.loc[converted, "reporting_currency"].mode().iloc[0]
    elif not converted.any() and kpis["currency"].nunique() == 1:
        assert label == kpis["currency"].iloc[0]  # local amounts of a one-currency shop carry its currency
    assert set(shaped_run["written"]["pulse/pulse"]["country"]) == set(kpis["country"])
    if shaped_run["shape"] == "one-country-one-currency":
        assert list(shaped_run["written"]["pulse/pulse"]["country"].unique()) == ["GB"]
        assert any("one country only" in n for n in shaped_run["results"]["global-market-pulse"]["skipped"])
    if shaped_run["shape"] == "thirty-days":
        assert any("mom growth needs 56" in n for n in shaped_run["results"]["global-market-pulse"]["skipped"])


def test_systems_say_what_a_missing_dataset_costs_them(shaped_run):
    """Without a payments export there is no fraud scoring, and compliance-guardian says so (its audit still ran)."""
    notes = " ".join(shaped_run["results"]["compliance-guardian"]["skipped"])
    if "payment_transactions" in shaped_run["prod"]:
        assert "fraud scoring skipped" not in notes
    else:
        assert "no payment_transactions in prod" in notes and "fraud scoring skipped" in notes
