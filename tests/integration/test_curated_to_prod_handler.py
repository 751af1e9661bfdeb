"""curated-to-prod through its handler, with the event files users invoke, against the S3 endpoint.

Curated data comes from the real raw-to-curated handler (the UCI Online Retail sample and a small
ECB-shaped FX file), so the two functions are tested on the same files they exchange in the pipeline.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pandas as pd
import pytest

from retail_platform import s3io
from retail_platform.contracts import load_prod
from retail_platform.exceptions import BadEventError
from tests.support import DATA, EVENTS, event, handler

RAW, CURATED, PROD = "local-raw", "local-curated", "local-prod"
UCI_KEY = "uci-online-retail/online_retail_2011-11.csv"
# the sample's rows of 31 October and November 2011 (27 days in the two months the Step Functions event names)
UCI_NOVEMBER = b"".join(
    row
    for n, row in enumerate((DATA / "online-retail" / "online_retail_sample.csv").read_bytes().splitlines(True))
    if n == 0 or re.search(rb'"(10/31/2011|11/\d+/2011) ', row)
)
# EUR -> GBP on Friday 2011-10-28 and Monday 2011-11-14 only: Monday 2011-10-31 uses Friday's rate
FX_CSV = (
    b"KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE\n"
    b"EXR.D.GBP.EUR.SP00.A,D,GBP,EUR,SP00,A,2011-10-28,0.87500\n"
    b"EXR.D.GBP.EUR.SP00.A,D,GBP,EUR,SP00,A,2011-11-14,0.85500\n"
)
RATES = {"2011-10-31": 0.875, "2011-11-14": 0.855}
DAILY = ("daily_sales", "customer_transactions", "country_kpis", "copilot_mart")


def curate(s3, ctx) -> dict[str, list[str]]:
    """Raw files through raw-to-curated; the curated partitions it reports, merged."""
    partitions: dict[str, list[str]] = {}
    for key, body in ((UCI_KEY, UCI_NOVEMBER), ("sample/fx_rates/fx_rates-2011.csv", FX_CSV)):
        s3.put_object(Bucket=RAW, Key=key, Body=body)
        result = handler("raw-to-curated").lambda_handler({"bucket": RAW, "key": key}, ctx)
        for dataset, days in result["partitions"].items():
            partitions[dataset] = sorted(set(partitions.get(dataset, [])) | set(days))
    return partitions


def prod_frame(s3, dataset: str, day: str) -> pd.DataFrame:
    """One day's rows of a prod dataset, from the object of its month."""
    month = pd.read_parquet(io.BytesIO(s3io.read_bytes(s3, PROD, f"{dataset}/month={day[:7]}/part-0.parquet")))
    return month.loc[pd.to_datetime(month["date"]).dt.strftime("%Y-%m-%d") == day].reset_index(drop=True)


def prod_objects(s3) -> dict[str, bytes]:
    return {k: s3io.read_bytes(s3, PROD, k) for k in s3io.list_keys(s3, PROD, "")}


@pytest.fixture
def reporting(monkeypatch):
    """Set the handler's REPORTING_CURRENCY (read once at cold start) for one test."""
    module = handler("curated-to-prod")

    def use(value: str) -> None:
        monkeypatch.setattr(module, "SETTINGS", replace(module.SETTINGS, reporting_currency=value))

    return use


def test_step_functions_task_rebuilds_the_touched_days_in_the_reporting_currency(s3, lambda_context, reporting):
    reporting("EUR")
    curate(s3, lambda_context)
    result = handler("curated-to-prod").lambda_handler(event("curated-to-prod", "stepfunctions-task"), lambda_context)
    months = ["2011-10", "2011-11"]
    for dataset in (*DAILY, "market_series"):
        assert result["prod_datasets"][dataset] == months
    assert "payment_transactions" not in result["prod_datasets"]  # no payments curated
    assert result["events_emitted"] == len(DAILY) + 1
    objects = [k for k in s3io.list_keys(s3, PROD, "") if not k.startswith("_")]
    assert sorted(objects) == sorted(f"{d}/month={m}/part-0.parquet" for d in (*DAILY, "market_series") for m in months)

    lines = s3io.read_parquet_prefix(s3, CURATED, "order_lines/")
    lines["day"] = lines["order_ts"].dt.strftime("%Y-%m-%d")
    for day, rate in RATES.items():
        expected = lines.loc[lines["day"] == day]
        sales = prod_frame(s3, "daily_sales", day)
        assert list(sales.columns) == list(load_prod("daily_sales").columns)
        assert sales["units"].sum() == expected["quantity"].sum()
        assert sales["gross_units"].sum() == expected.loc[~expected["is_cancellation"], "quantity"].sum()
        revenue = float((expected["quantity"] * expected["unit_price"]).sum())
        assert sales["revenue"].sum() == pytest.approx(revenue)
        assert sales["revenue_reporting"].sum() == pytest.approx(revenue / rate)  # GBP -> EUR: divide
        kpis = prod_frame(s3, "country_kpis", day)
        assert kpis["orders"].sum() == expected.loc[~expected["is_cancellation"], "order_id"].nunique()
        assert (kpis["currency"] == "GBP").all()
        transactions = prod_frame(s3, "customer_transactions", day)
        assert transactions["n_lines"].sum() == len(expected)
        market = prod_frame(s3, "market_series", day)  # both days are Mondays: their weeks
        total = market.loc[(market["category"] == "ALL") & (market["country"] == "ALL")]
        assert len(total) == 1
        assert (market["category"].isin(["ALL", "uncategorised"])).all()  # no product catalogue curated
        assert (market["reporting_currency"] == "EUR").all() and (sales["reporting_currency"] == "EUR").all()


def test_a_one_currency_shop_reports_in_its_own_currency_with_no_fx_file(s3, lambda_context, reporting):
    reporting("AUTO")
    s3.put_object(Bucket=RAW, Key=UCI_KEY, Body=UCI_NOVEMBER)
    handler("raw-to-curated").lambda_handler({"bucket": RAW, "key": UCI_KEY}, lambda_context)
    handler("curated-to-prod").lambda_handler(event("curated-to-prod", "full-rebuild"), lambda_context)
    lines = s3io.read_parquet_prefix(s3, CURATED, "order_lines/")
    assert set(lines["currency"]) == {"GBP"}
    for dataset in (*DAILY, "market_series"):
        frame = s3io.read_parquet_prefix(s3, PROD, f"{dataset}/")
        assert set(frame["reporting_currency"]) == {"GBP"}, dataset
        assert frame["revenue_reporting"].notna().all(), dataset  # no "n/a: rows have no FX rate"
    sales = s3io.read_parquet_prefix(s3, PROD, "daily_sales/")
    assert sales["revenue_reporting"].sum() == pytest.approx((lines["quantity"] * lines["unit_price"]).sum())


def test_full_rebuild_and_schedule_rebuild_everything_identically(s3, lambda_context, reporting):
    reporting("EUR")
    partitions = curate(s3, lambda_context)
    assert partitions["order_lines"] == ["2011-10", "2011-11"]  # the months of 27 days of order lines
    c2p = handler("curated-to-prod")
    full = c2p.lambda_handler(event("curated-to-prod", "full-rebuild"), lambda_context)
    for dataset in (*DAILY, "market_series"):
        assert full["prod_datasets"][dataset] == partitions["order_lines"], dataset
    sales_days = s3io.read_parquet_prefix(s3, PROD, "daily_sales/")["date"].dt.strftime("%Y-%m-%d")
    assert sales_days.nunique() == 27  # every day of order lines, in two month objects
    assert (s3io.read_parquet_prefix(s3, PROD, "market_series/")["date"].dt.weekday == 0).all()
    assert full["events_emitted"] == len(full["prod_datasets"])
    before = prod_objects(s3)

    scheduled = c2p.lambda_handler(event("curated-to-prod", "schedule"), lambda_context)
    assert scheduled == full
    assert prod_objects(s3) == before  # idempotent: byte-identical files

    incremental = c2p.lambda_handler({"partitions": partitions}, lambda_context)
    assert incremental["prod_datasets"] == full["prod_datasets"]
    assert prod_objects(s3) == before


def test_the_rebuild_probe_measures_the_curated_datasets_and_writes_nothing(s3, lambda_context):
    curate(s3, lambda_context)
    s3.put_object(Bucket=CURATED, Key="_quarantine/order_lines/part-x-00000.parquet", Body=b"not a dataset")
    answer = handler("curated-to-prod").lambda_handler({"measure": "curated"}, lambda_context)
    listed = [
        item
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=CURATED)
        for item in page.get("Contents", [])
        if item["Key"].endswith(".parquet") and not item["Key"].startswith("_")
    ]
    assert answer == {"curated_bytes": sum(item["Size"] for item in listed), "curated_objects": len(listed)}
    assert answer["curated_objects"] >= 3 and answer["curated_bytes"] > 10_000  # two months of lines, FX rates
    assert not list(s3io.list_keys(s3, PROD, ""))


def test_nothing_curated_yet_writes_nothing(s3, lambda_context):
    result = handler("curated-to-prod").lambda_handler(event("curated-to-prod", "stepfunctions-task"), lambda_context)
    assert result == {"prod_datasets": {}, "events_emitted": 0, "partitions_deleted": {}}
    assert not list(s3io.list_keys(s3, PROD, ""))


@pytest.mark.parametrize("bad", [{"partitions": {"order_lines": ["31/10/2011"]}}, {"bucket": RAW, "key": "x"}, []])
def test_malformed_events_raise_a_clear_error(s3, lambda_context, bad):
    with pytest.raises(BadEventError):
        handler("curated-to-prod").lambda_handler(bad, lambda_context)


def test_every_event_file_is_accepted(s3, lambda_context):
    c2p = handler("curated-to-prod")
    for path in sorted((EVENTS / "curated-to-prod").glob("*.json")):
        result = c2p.lambda_handler(event("curated-to-prod", path.stem), lambda_context)
        assert set(result) == {"prod_datasets", "events_emitted", "partitions_deleted"}, path.name
