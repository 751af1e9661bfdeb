"""Real public exports through the whole main job, as a user runs it, checked against golden aggregates.

Each export in tests/data (its SOURCE.txt says where it comes from) is ingested with
`python -m retail_platform.local --source FILE --contract NAME [--contracts-dir DIR]`, and the prod datasets
that the run writes are compared with aggregates computed here with pandas straight from the raw file:
rows in = curated + quarantined (and how many are quarantined, by the contract's own rules restated here),
revenue per country, per custom attribute (region, state, segment, city...) and per product category,
custom measures (profit, margin), distinct orders and customers, the first and last day, and the
reporting currency (a one-currency shop reports in its own currency without an FX file).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from tests.support import DATA, ROOT

SOURCES = ROOT / "shared" / "retail_platform" / "contracts" / "sources"
WAITING = "waiting for contract language"  # the contract syntax these exports need is not in the loader yet


@dataclass
class Golden:
    """What a person computes from the raw export with pandas, independently of the platform."""

    rows_in: int
    quarantined: int
    currency: str
    revenue_by_country: dict[str, float]
    orders: int
    customers: int
    first_day: str
    last_day: str
    by_attribute: dict[str, dict[str, float]] = field(default_factory=dict)  # attribute -> value -> revenue
    measures: dict[str, float] = field(default_factory=dict)  # numeric attribute -> total
    revenue_by_category: dict[str, float] = field(default_factory=dict)


@dataclass
class Export:
    """A real export and how a user runs it."""

    name: str
    source: Path
    contract: str
    golden: Golden
    own_contract: bool = False  # run with --contracts-dir holding a renamed copy (the README's path)


# ------------------------------------------------------------------ golden answers, from the raw files


def _days(stamps: pd.Series) -> tuple[str, str]:
    return str(stamps.min().date()), str(stamps.max().date())


def _sums(values: pd.Series, by: pd.Series) -> dict[str, float]:
    """Totals per value of a grouping column, its text as a `string` column is curated (trimmed, inner spaces
    collapsed: 'REMY COINTREAU USA         .' is 'REMY COINTREAU USA .')."""
    keys = by.astype(str).str.split().str.join(" ").to_numpy()
    return {str(k): float(v) for k, v in values.groupby(keys).sum().items()}


# The UCI sample's country names as ISO 3166 codes (Channel Islands: Jersey's code, as the platform maps it).
UCI_COUNTRIES = {
    "United Kingdom": "GB",
    "France": "FR",
    "EIRE": "IE",
    "Germany": "DE",
    "Spain": "ES",
    "Netherlands": "NL",
    "Belgium": "BE",
    "Switzerland": "CH",
    "Portugal": "PT",
    "Italy": "IT",
    "Finland": "FI",
    "Australia": "AU",
    "Cyprus": "CY",
    "Norway": "NO",
    "Channel Islands": "JE",
    "Iceland": "IS",
    "Austria": "AT",
    "Sweden": "SE",
    "Denmark": "DK",
    "Poland": "PL",
    "Japan": "JP",
    "Hong Kong": "HK",
    "USA": "US",
    "Canada": "CA",
    "United Arab Emirates": "AE",
    "Singapore": "SG",
}


def uci_golden() -> Golden:
    raw = pd.read_csv(DATA / "online-retail" / "online_retail_sample.csv", dtype=str, keep_default_na=False)
    qty, price = pd.to_numeric(raw["Quantity"]), pd.to_numeric(raw["UnitPrice"])
    cancel = raw["InvoiceNo"].str.startswith("C")
    fees = raw["StockCode"].isin(["AMAZONFEE", "BANK CHARGES", "CRUK"])  # the shop's costs, not sales
    bad = ((qty < 0) & ~cancel) | (cancel & (qty >= 0)) | fees  # the canonical rules on cancellations
    ok = raw[~bad]
    revenue = (qty * price)[~bad]
    customers = ok["CustomerID"].str.removesuffix(".0")
    return Golden(
        rows_in=len(raw),
        quarantined=int(bad.sum()),
        currency="GBP",
        revenue_by_country=_sums(revenue, ok["Country"].map(UCI_COUNTRIES)),
        orders=ok["InvoiceNo"].nunique(),
        customers=customers[~customers.isin(["", "NA"])].nunique(),  # the contract's na_values
        first_day=_days(pd.to_datetime(ok["InvoiceDate"], format="%m/%d/%Y %H:%M"))[0],
        last_day=_days(pd.to_datetime(ok["InvoiceDate"], format="%m/%d/%Y %H:%M"))[1],
    )


def _money(text: pd.Series) -> pd.Series:
    """'$1,706' / '-$383' as numbers."""
    return pd.to_numeric(text.str.replace(r"[$,]", "", regex=True))


def superstore_golden() -> Golden:
    raw = pd.read_csv(
        DATA / "superstore-tableau" / "superstore_orders_sample.csv",
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
    )
    sales, profit, qty = _money(raw["Sales"]), _money(raw["Profit"]), pd.to_numeric(raw["Quantity"])
    bad = (qty <= 0) | (sales < 0)  # a sale line needs a positive quantity and a price >= 0
    ok, sales = raw[~bad], sales[~bad]
    first, last = _days(pd.to_datetime(ok["Order Date"], format="%m/%d/%Y"))
    return Golden(
        rows_in=len(raw),
        quarantined=int(bad.sum()),
        currency="USD",
        revenue_by_country={"US": float(sales.sum())},
        orders=ok["Order ID"].nunique(),
        customers=ok["Customer Name"].nunique(),
        first_day=first,
        last_day=last,
        by_attribute={
            "region": _sums(sales, ok["Region"]),
            "state": _sums(sales, ok["State"]),
            "segment": _sums(sales, ok["Segment"]),
            "sub_category": _sums(sales, ok["Sub-Category"]),
        },
        measures={"profit": float(profit[~bad].sum())},
        revenue_by_category=_sums(sales, ok["Category"]),
    )


def iowa_golden() -> Golden:
    raw = pd.read_csv(DATA / "iowa-liquor-sales" / "iowa_liquor_sales_2012-01-31.csv", dtype=str, keep_default_na=False)
    # no shelf price: the line has no unit price. A line repeated cell for cell is an exact duplicate: the query
    # that made this file dropped the invoice number, so one line sent twice cannot be told from two invoices.
    bad = (raw["state_bottle_retail"] == "") | raw.duplicated(keep="first")
    ok = raw[~bad]
    retail, cost = pd.to_numeric(ok["state_bottle_retail"]), pd.to_numeric(ok["state_bottle_cost"])
    bottles = pd.to_numeric(ok["bottles_sold"])
    revenue = retail * bottles
    named = ok["category_name"] != ""  # lines of items without a category cannot be put in one
    first, last = _days(pd.to_datetime(ok["date"], format="%Y-%m-%d"))
    return Golden(
        rows_in=len(raw),
        quarantined=int(bad.sum()),
        currency="USD",
        revenue_by_country={"US": float(revenue.sum())},
        orders=(ok["store_number"] + "-" + ok["date"]).nunique(),
        customers=ok["store_number"].nunique(),
        first_day=first,
        last_day=last,
        by_attribute={"city": _sums(revenue, ok["city"]), "vendor": _sums(revenue, ok["vendor_name"])},
        measures={"margin": float(((retail - cost) * bottles).sum()), "sale_dollars": float(revenue.sum())},
        revenue_by_category=_sums(revenue[named], ok.loc[named, "category_name"]),
    )


def cdnow_golden() -> Golden:
    raw = pd.read_csv(DATA / "cdnow-sample" / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype=str)
    cds, dollars = pd.to_numeric(raw[3]), pd.to_numeric(raw[4])
    # no order id: a line repeated cell for cell cannot be told from one line sent twice (as for Iowa), so the
    # repeat is quarantined; a line without CDs has no unit price (dollars / CDs)
    bad = (cds <= 0) | raw.duplicated(keep="first")
    first, last = _days(pd.to_datetime(raw[2], format="%Y%m%d"))
    return Golden(
        rows_in=len(raw),
        quarantined=int(bad.sum()),
        currency="USD",
        revenue_by_country={"US": float(dollars[~bad].sum())},
        orders=int((~bad).sum()),  # every line kept is one purchase
        customers=raw.loc[~bad, 0].nunique(),
        first_day=first,
        last_day=last,
        measures={"amount": float(dollars[~bad].sum())},
    )


EXPORTS = {
    "uci-online-retail": lambda: Export(
        "uci-online-retail", DATA / "online-retail" / "online_retail_sample.csv", "uci-online-retail", uci_golden()
    ),
    "superstore-tableau": lambda: Export(
        "superstore-tableau",
        DATA / "superstore-tableau" / "superstore_orders_sample.csv",
        "superstore-tableau",
        superstore_golden(),
        own_contract=True,
    ),
    "iowa-liquor-sales": lambda: Export(
        "iowa-liquor-sales",
        DATA / "iowa-liquor-sales" / "iowa_liquor_sales_2012-01-31.csv",
        "iowa-liquor-sales",
        iowa_golden(),
    ),
    "cdnow-sample": lambda: Export(
        "cdnow-sample", DATA / "cdnow-sample" / "CDNOW_sample.txt", "cdnow-sample", cdnow_golden()
    ),
}


def _needs_contract(name: str, reason: str = WAITING):
    """An export whose contract is not in the sources folder yet runs as an expected failure."""
    if (SOURCES / f"{name}.yaml").exists():
        return pytest.param(name, id=name)
    return pytest.param(name, id=name, marks=pytest.mark.xfail(reason=reason, strict=False))


# ------------------------------------------------------------------ the main job, as a user runs it


@dataclass
class Run:
    export: Export
    out: Path
    buckets: Path
    seconds: float
    summary: dict
    logs: str

    def prod(self, dataset: str) -> pd.DataFrame:
        parts = sorted((self.buckets / "local-prod" / dataset).rglob("*.parquet"))
        assert parts, f"prod dataset {dataset} was not written"
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)

    def counts(self, dataset: str = "order_lines") -> dict:
        return self.summary["summary"]["datasets"][dataset]

    def quarantine_reasons(self) -> Counter:
        """Failed checks of every curation report of the run, by reason (for the figures in docs)."""
        reasons: Counter = Counter()
        for path in (self.buckets / "local-curated" / "_reports").rglob("*.json"):
            report = json.loads(path.read_text())
            for reason, detail in (report.get("failed_checks") or {}).items():
                reasons[f"{report.get('dataset')}: {reason}"] += int(detail.get("rows", 0))
        return reasons


def _own_contracts_dir(export: Export, folder: Path) -> str:
    """A renamed copy of the export's contract in a folder of the user's own, as the README walks through."""
    text = (SOURCES / f"{export.contract}.yaml").read_text()
    name = f"my-{export.contract}"
    text = re.sub(r"(?m)^name: .*$", f"name: {name}", text)
    text = re.sub(r"(?m)^prefix: .*$", f"prefix: {name}/", text)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(text)
    return name


def run_main_job(export: Export, tmp: Path) -> Run:
    out, buckets = tmp / "out", tmp / "buckets"
    contract, extra = export.contract, []
    if export.own_contract:
        contract = _own_contracts_dir(export, tmp / "my-contracts")
        extra = ["--contracts-dir", str(tmp / "my-contracts")]
    command = [sys.executable, "-m", "retail_platform.local", "--source", str(export.source), "--contract", contract]
    command += [*extra, "--out", str(out), "--export", str(buckets)]
    env = {k: v for k, v in os.environ.items() if k != "REPORTING_CURRENCY"}  # the default: AUTO
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800, env=env)
    seconds = time.perf_counter() - started
    logs = proc.stdout + proc.stderr
    assert proc.returncode == 0, logs[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    return Run(export, out, buckets, seconds, summary, logs)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("uci-online-retail", id="uci-online-retail"),
        _needs_contract("superstore-tableau"),
        _needs_contract("iowa-liquor-sales"),
        pytest.param("cdnow-sample", id="cdnow-sample"),
    ],
)
def run(request, tmp_path_factory) -> Run:
    export = EXPORTS[request.param]()
    result = run_main_job(export, tmp_path_factory.mktemp(export.name))
    counts = result.counts()
    print(
        f"\n{export.name}: {counts['rows_in']} rows in, {counts['rows_curated']} curated, "
        f"{counts['rows_quarantined']} quarantined, main job {result.seconds:.1f} s; "
        f"reasons {dict(result.quarantine_reasons().most_common(5))}"
    )
    return result


# ------------------------------------------------------------------ the checks


def test_every_row_is_curated_or_quarantined_as_the_contract_says(run):
    golden, counts = run.export.golden, run.counts()
    assert counts["rows_in"] == golden.rows_in
    assert counts["rows_in"] == counts["rows_curated"] + counts["rows_quarantined"]
    assert counts["rows_quarantined"] == golden.quarantined
    assert run.summary["summary"]["totals"]["conservation_ok"]


def test_revenue_per_country_matches(run):
    daily = run.prod("daily_sales")
    got = {k: float(v) for k, v in daily.groupby("country")["revenue"].sum().items()}
    want = run.export.golden.revenue_by_country
    assert set(got) == set(want)
    for country, revenue in want.items():
        assert got[country] == pytest.approx(revenue, abs=0.01), country


def test_distinct_orders_customers_and_date_range(run):
    golden = run.export.golden
    transactions = run.prod("customer_transactions")
    assert transactions["order_id"].nunique() == golden.orders
    assert transactions["customer_id"].dropna().nunique() == golden.customers
    days = run.prod("daily_sales")["date"]
    assert (str(days.min().date()), str(days.max().date())) == (golden.first_day, golden.last_day)


def test_one_currency_shop_reports_in_its_own_currency(run):
    """No FX file: revenue_reporting equals revenue and every prod dataset says which currency it is in."""
    golden = run.export.golden
    daily = run.prod("daily_sales")
    assert set(daily["currency"]) == {golden.currency}
    assert daily["revenue_reporting"].notna().all()
    assert daily["revenue_reporting"].sum() == pytest.approx(daily["revenue"].sum(), abs=0.01)
    for dataset in ("daily_sales", "copilot_mart", "customer_transactions", "country_kpis"):
        frame = run.prod(dataset)
        assert "reporting_currency" in frame.columns, dataset
        assert set(frame["reporting_currency"].dropna()) == {golden.currency}, dataset


def test_custom_attributes_reach_prod_with_their_revenue(run):
    golden = run.export.golden
    if not golden.by_attribute and not golden.measures:
        pytest.skip("this export's contract names no custom attributes")
    mart = run.prod("copilot_mart")
    for attribute, want in golden.by_attribute.items():
        assert attribute in mart.columns, f"attribute {attribute} missing from copilot_mart"
        got = {k: float(v) for k, v in mart.groupby(attribute)["revenue_reporting"].sum().items()}
        assert set(got) == set(want), attribute
        for value, revenue in want.items():
            assert got[value] == pytest.approx(revenue, abs=0.01), (attribute, value)
    for measure, total in golden.measures.items():
        assert measure in mart.columns, f"measure {measure} missing from copilot_mart"
        assert float(mart[measure].sum()) == pytest.approx(total, abs=0.01), measure


def test_revenue_per_product_category_matches(run):
    want = run.export.golden.revenue_by_category
    if not want:
        pytest.skip("this export has no product category")
    mart = run.prod("copilot_mart")
    got = {k: float(v) for k, v in mart.groupby("category")["revenue_reporting"].sum().items()}
    for category, revenue in want.items():
        assert got.get(category) == pytest.approx(revenue, abs=0.01), category
