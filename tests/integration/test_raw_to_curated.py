"""raw-to-curated through its handler, with the event files users invoke, against the S3 endpoint."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from retail_platform import s3io
from retail_platform.exceptions import BadEventError, ContractError, ObjectNotFoundError
from tests.support import DATA, event, handler

RAW, CURATED = "local-raw", "local-curated"
UCI_KEY = "uci-online-retail/online_retail_sample.csv"
UCI_BYTES = (DATA / "online-retail" / "online_retail_sample.csv").read_bytes()
HEADER = b'"","InvoiceNo","StockCode","Description","Quantity","InvoiceDate","UnitPrice","CustomerID","Country"\n'
GOOD = b'"1","536365","85123A","WHITE HANGING HEART T-LIGHT HOLDER",6,"12/1/2010 8:26",2.55,17850,"United Kingdom"\n'


def invoke(ctx, key: str, body: bytes, s3) -> dict:
    s3.put_object(Bucket=RAW, Key=key, Body=body)
    return handler("raw-to-curated").lambda_handler({"bucket": RAW, "key": key}, ctx)


def curated_rows(s3, dataset: str = "order_lines") -> pd.DataFrame:
    return s3io.read_parquet_prefix(s3, CURATED, f"{dataset}/")


def quarantined_rows(s3, dataset: str = "order_lines") -> pd.DataFrame:
    return s3io.read_parquet_prefix(s3, CURATED, f"_quarantine/{dataset}/")


def test_online_retail_export_is_curated_with_conservation(s3, lambda_context):
    s3.put_object(Bucket=RAW, Key=UCI_KEY, Body=UCI_BYTES)
    result = handler("raw-to-curated").lambda_handler(
        event("raw-to-curated", "eventbridge-object-created"), lambda_context
    )
    assert result["rows_in"] == 2709
    assert result["rows_curated"] + result["rows_quarantined"] == 2709
    curated = curated_rows(s3)
    quarantine = quarantined_rows(s3)
    assert len(curated) == result["rows_curated"] and len(quarantine) == result["rows_quarantined"]
    # golden figures from the data set's SOURCE.txt (revenue 37,503.25 GBP over every line, 50 cancellation
    # lines) less the two Amazon-fee credit lines (C537600: -1 x 1.00, C574902: -1 x 8,286.22), which are the
    # shop's costs, not sales
    assert round(float((curated["quantity"] * curated["unit_price"]).sum()), 2) == round(37503.25 + 1.00 + 8286.22, 2)
    assert curated["country"].nunique() == 26
    assert int(curated["is_cancellation"].sum()) == 50 - 2
    assert int(curated["customer_id"].isna().sum()) + int(quarantine["raw_CustomerID"].isna().sum()) == 668
    assert set(curated["country"]) >= {"GB", "IE", "FR", "DE", "ES", "NL"}  # EIRE -> IE
    assert str(curated["order_ts"].dt.tz) == "UTC"
    # negative quantities that are not cancellations are quarantined, with the rule named; so are fee lines
    reasons = quarantine["_reasons"].value_counts().to_dict()
    assert reasons == {"rule negative_quantity_only_for_cancellations": 7, "rule fee_line_not_a_sale": 2}
    assert sorted(quarantine.loc[quarantine["_reasons"] == "rule fee_line_not_a_sale", "raw_InvoiceNo"]) == [
        "C537600",
        "C574902",
    ]
    report = s3io.read_json(s3, CURATED, result["objects"][0]["report_key"])
    assert report["conservation_ok"] and report["warnings"]["missing_customer_id"] > 600
    assert sorted(result["partitions"]["order_lines"])[0] == "2010-12"


def test_same_object_twice_gives_same_outputs(s3, lambda_context):
    first = invoke(lambda_context, UCI_KEY, UCI_BYTES, s3)
    keys_first = sorted(s3io.list_keys(s3, CURATED, "order_lines/"))
    bytes_first = {k: s3io.read_bytes(s3, CURATED, k) for k in keys_first}
    second = invoke(lambda_context, UCI_KEY, UCI_BYTES, s3)
    keys_second = sorted(s3io.list_keys(s3, CURATED, "order_lines/"))
    assert first == second
    assert keys_first == keys_second
    assert bytes_first == {k: s3io.read_bytes(s3, CURATED, k) for k in keys_second}
    assert len(curated_rows(s3)) == first["rows_curated"]


def test_rerun_of_a_changed_object_removes_partitions_it_no_longer_has(s3, lambda_context):
    two_months = HEADER + GOOD + GOOD.replace(b'"1",', b'"2",').replace(b"12/1/2010", b"1/5/2011")
    invoke(lambda_context, "uci-online-retail/day.csv", two_months, s3)
    assert len(list(s3io.list_keys(s3, CURATED, "order_lines/"))) == 2
    invoke(lambda_context, "uci-online-retail/day.csv", HEADER + GOOD, s3)
    assert len(list(s3io.list_keys(s3, CURATED, "order_lines/"))) == 1


def test_s3_notification_event_with_url_encoded_key(s3, lambda_context):
    key = "uci-online-retail/december export.csv"
    s3.put_object(Bucket=RAW, Key=key, Body=HEADER + GOOD)
    notification = event("raw-to-curated", "s3-notification")
    notification["Records"][0]["s3"]["object"]["key"] = "uci-online-retail/december+export.csv"
    result = handler("raw-to-curated").lambda_handler(notification, lambda_context)
    assert result["rows_curated"] == 1


# --- bad input: each ends in quarantine with a reason or a clear error; nothing is lost ---------------------


def test_empty_file(s3, lambda_context):
    result = invoke(lambda_context, "uci-online-retail/empty.csv", b"", s3)
    assert (result["rows_in"], result["rows_curated"], result["rows_quarantined"]) == (0, 0, 0)


def test_header_only(s3, lambda_context):
    result = invoke(lambda_context, "uci-online-retail/header.csv", HEADER, s3)
    assert (result["rows_in"], result["rows_curated"], result["rows_quarantined"]) == (0, 0, 0)


def test_wrong_delimiter_quarantines_every_row_with_a_hint(s3, lambda_context):
    body = (HEADER + GOOD * 3).replace(b",", b";")
    result = invoke(lambda_context, "uci-online-retail/semicolon.csv", body, s3)
    assert result["rows_in"] == 3 and result["rows_quarantined"] == 3
    reasons = quarantined_rows(s3)["_reasons"]
    assert reasons.str.contains("missing columns").all() and reasons.str.contains("delimiter").all()


def test_non_utf8_bytes_quarantine_only_the_affected_row(s3, lambda_context):
    bad = GOOD.replace(b'"1",', b'"2",').replace(b"WHITE", b"WH\xffTE")
    result = invoke(lambda_context, "uci-online-retail/latin.csv", HEADER + GOOD + bad, s3)
    assert (result["rows_curated"], result["rows_quarantined"]) == (1, 1)
    assert "not valid utf-8" in quarantined_rows(s3)["_reasons"].iloc[0]


def test_truncated_gzip_is_quarantined_whole(s3, lambda_context):
    compressed = gzip.compress(HEADER + GOOD * 50)
    result = invoke(lambda_context, "uci-online-retail/cut.csv.gz", compressed[: len(compressed) // 2], s3)
    assert result["objects"][0]["file_error"] and "gzip" in result["objects"][0]["file_error"]
    kept = list(s3io.list_keys(s3, CURATED, "_quarantine/_files/order_lines/"))
    assert len(kept) == 1 and s3io.read_bytes(s3, CURATED, kept[0]) == compressed[: len(compressed) // 2]


def test_gzip_file_is_read(s3, lambda_context):
    result = invoke(lambda_context, "uci-online-retail/ok.csv.gz", gzip.compress(HEADER + GOOD), s3)
    assert result["rows_curated"] == 1


def test_missing_column_quarantines_rows_with_the_column_named(s3, lambda_context):
    header = HEADER.replace(b',"Country"', b"")
    row = GOOD.replace(b',"United Kingdom"', b"")
    result = invoke(lambda_context, "uci-online-retail/nocountry.csv", header + row, s3)
    assert result["rows_quarantined"] == 1
    assert "missing columns ['Country']" in quarantined_rows(s3)["_reasons"].iloc[0]


def test_extra_column_is_ignored_and_reported(s3, lambda_context):
    header = HEADER.rstrip(b"\n") + b',"Loyalty"\n'
    row = GOOD.rstrip(b"\n") + b',"gold"\n'
    result = invoke(lambda_context, "uci-online-retail/extra.csv", header + row, s3)
    assert result["rows_curated"] == 1
    report = s3io.read_json(s3, CURATED, result["objects"][0]["report_key"])
    assert report["extra_columns"] == ["Loyalty"]


def test_mixed_types_and_unparseable_dates(s3, lambda_context):
    text_qty = GOOD.replace(b'"1",', b'"2",').replace(b",6,", b",six,")
    bad_date = GOOD.replace(b'"1",', b'"3",').replace(b"12/1/2010 8:26", b"31/02/2010 8:26")
    ragged = GOOD.replace(b'"1",', b'"4",').rstrip(b"\n") + b",extra\n"
    result = invoke(lambda_context, "uci-online-retail/mixed.csv", HEADER + GOOD + text_qty + bad_date + ragged, s3)
    assert (result["rows_in"], result["rows_curated"], result["rows_quarantined"]) == (4, 1, 3)
    reasons = " | ".join(quarantined_rows(s3)["_reasons"])
    assert "quantity: expected a whole number, got 'six'" in reasons
    assert "order_ts: expected a timestamp" in reasons and "31/02/2010" in reasons
    assert "expected 9 fields, found 10" in reasons


def test_duplicate_rows_and_business_keys(s3, lambda_context):
    same_key_new_qty = GOOD.replace(b",6,", b",7,")
    result = invoke(lambda_context, "uci-online-retail/dups.csv", HEADER + GOOD + GOOD + same_key_new_qty, s3)
    assert (result["rows_in"], result["rows_curated"], result["rows_quarantined"]) == (3, 1, 2)
    assert int(curated_rows(s3)["quantity"].iloc[0]) == 7  # the latest version of the key wins
    reasons = sorted(quarantined_rows(s3)["_reasons"])
    assert any("exact duplicate of source row 0" in r for r in reasons)
    assert any("duplicate business key" in r for r in reasons)


def test_card_number_in_a_text_column_never_reaches_curated_or_quarantine(s3, lambda_context):
    leaked = GOOD.replace(b"WHITE HANGING HEART T-LIGHT HOLDER", b"paid with 4111 1111 1111 1111 thanks")
    leaked_bad = leaked.replace(b'"1",', b'"2",').replace(b",6,", b",six,")
    invoke(lambda_context, "uci-online-retail/pan.csv", HEADER + leaked + leaked_bad, s3)
    everything = b"".join(s3io.read_bytes(s3, CURATED, k) for k in s3io.list_keys(s3, CURATED, ""))
    assert b"4111 1111 1111 1111" not in everything and b"4111111111111111" not in everything
    assert curated_rows(s3)["description"].iloc[0] == "paid with 4111 11** **** 1111 thanks"


def test_object_that_no_longer_exists(s3, lambda_context):
    with pytest.raises(ObjectNotFoundError, match="does not exist"):
        handler("raw-to-curated").lambda_handler({"bucket": RAW, "key": "uci-online-retail/gone.csv"}, lambda_context)


def test_key_no_contract_matches(s3, lambda_context):
    with pytest.raises(ContractError, match="no source contract matches"):
        invoke(lambda_context, "somewhere/else.csv", HEADER + GOOD, s3)


@pytest.mark.parametrize(
    "bad_event", [[], {}, {"Records": []}, {"detail-type": "Object Created", "detail": {}}, {"bucket": RAW}]
)
def test_malformed_events(bad_event, lambda_context, endpoint):
    with pytest.raises(BadEventError):
        handler("raw-to-curated").lambda_handler(bad_event, lambda_context)


def test_onboarding_a_new_export_with_a_contract_in_the_artifacts_bucket(s3, lambda_context):
    """A retailer's own export (German ERP: semicolons, decimal comma, cp1252) onboarded by one YAML file."""
    contract = """
name: my-shop-orders
dataset: order_lines
prefix: my-shop/orders/
format: csv
csv: {delimiter: ";", encoding: cp1252, decimal: ",", thousands: "."}
timezone: Europe/Berlin
columns:
  order_id: {source: Bestellnummer}
  line_no: {source: Position}
  order_ts: {source: Datum, format: "%d.%m.%Y %H:%M"}
  sku: {source: Artikel}
  description: {source: Bezeichnung}
  quantity: {source: Menge}
  unit_price: {source: Preis}
  currency: {constant: EUR}
  customer_id: {source: Kunde}
  country: {source: Land}
  is_cancellation: {source: Status, map: {storniert: true, bezahlt: false}}
"""
    s3.put_object(Bucket="local-artifacts", Key="contracts/my-shop-orders.yaml", Body=contract.encode())
    handler("raw-to-curated").contracts.cache_clear()
    export = (
        "Bestellnummer;Position;Datum;Artikel;Bezeichnung;Menge;Preis;Kunde;Land;Status\n"
        "A-1;1;24.11.2023 23:30;SKU-9;Kaffeemühle;2;1.299,50;K17;Deutschland;bezahlt\n"
        "A-2;1;25.11.2023 10:00;SKU-9;Kaffeemühle;-1;1.299,50;K17;Österreich;storniert\n"
    ).encode("cp1252")
    try:
        result = invoke(lambda_context, "my-shop/orders/2023-11.csv", export, s3)
    finally:
        s3.delete_object(Bucket="local-artifacts", Key="contracts/my-shop-orders.yaml")
        handler("raw-to-curated").contracts.cache_clear()
    assert (result["rows_curated"], result["rows_quarantined"]) == (2, 0)
    rows = curated_rows(s3).sort_values("order_id")
    assert rows["unit_price"].tolist() == [1299.5, 1299.5]
    assert rows["description"].iloc[0] == "Kaffeemühle"
    assert rows["country"].tolist() == ["DE", "AT"]
    assert rows["is_cancellation"].tolist() == [False, True]
    assert str(rows["order_ts"].iloc[0]) == "2023-11-24 22:30:00+00:00"  # Berlin local time -> UTC
    assert result["partitions"]["order_lines"] == ["2023-11"]  # 24 and 25 November (UTC)


def test_drift_against_the_sources_history_in_the_artifacts_bucket(s3, lambda_context):
    lines = UCI_BYTES.splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    for i in range(4):  # four ordinary batches build the history
        invoke(lambda_context, f"uci-online-retail/part-{i}.csv", header + b"".join(rows[i * 500 : (i + 1) * 500]), s3)
    broken = [r.rsplit(b",", 2)[0] + b',NA,"United Kingdom"\n' for r in rows[2000:2500]]  # customer ids lost
    result = invoke(lambda_context, "uci-online-retail/part-broken.csv", header + b"".join(broken), s3)
    report = s3io.read_json(s3, CURATED, result["objects"][0]["report_key"])
    drifted = {(d["metric"], d["column"]) for d in report["drift"]}
    assert ("completeness", "customer_id") in drifted
    history = list(s3io.list_keys(s3, "local-artifacts", "_quality/uci-online-retail/profiles/"))
    assert len(history) == 5
    # the same object again replaces its own profile instead of comparing against itself
    invoke(lambda_context, "uci-online-retail/part-broken.csv", header + b"".join(broken), s3)
    assert len(list(s3io.list_keys(s3, "local-artifacts", "_quality/uci-online-retail/profiles/"))) == 5


def test_quality_report_names_detector_flags(s3, lambda_context):
    result = invoke(lambda_context, UCI_KEY, UCI_BYTES, s3)
    report = s3io.read_json(s3, CURATED, result["objects"][0]["report_key"])
    flags = report["detector_flags"]
    assert flags["dependency:description"]["rows"] >= 1  # one StockCode, two descriptions
    example = flags["dependency:description"]["examples"][0]
    assert example["source_row"] >= 0 and "expected" in example["flag"] and "confidence" in example["flag"]
    curated = curated_rows(s3)
    assert curated["_warnings"].fillna("").str.contains("dependency description").any()


def test_one_denormalised_export_feeds_several_datasets_in_one_invocation(s3, lambda_context):
    """The Superstore-shaped fixture and contract of the unit tests, through the handler: one object, four
    datasets, each with its partitions, quarantine, report and conservation; a re-run overwrites them all."""
    from tests.unit.test_contract_features import BODY, CONTRACT

    s3.put_object(Bucket="local-artifacts", Key="contracts/eu-superstore.yaml", Body=CONTRACT.encode())
    handler("raw-to-curated").contracts.cache_clear()
    try:
        result = invoke(lambda_context, "eu-superstore/2017.csv", BODY, s3)
        again = invoke(lambda_context, "eu-superstore/2017.csv", BODY, s3)
    finally:
        s3.delete_object(Bucket="local-artifacts", Key="contracts/eu-superstore.yaml")
        handler("raw-to-curated").contracts.cache_clear()
    assert (result["rows_in"], result["rows_curated"], result["rows_quarantined"]) == (20, 18, 2)
    assert set(result["partitions"]) == {"order_lines", "orders", "products", "customers"}
    assert result["partitions"]["products"] == []  # products are not partitioned by date
    assert "2014-06" in result["partitions"]["orders"]
    also = result["objects"][0]["also"]
    for name, counts in also.items():
        report = s3io.read_json(s3, CURATED, counts["report_key"])
        assert report["dataset"] == name and report["conservation_ok"]
        assert len(curated_rows(s3, name)) == counts["rows_curated"]
    assert also["orders"]["rows_curated"] == 9 and also["orders"]["rows_collapsed"] == 11
    assert len(quarantined_rows(s3, "products")) == also["products"]["rows_quarantined"] == 2
    assert again["objects"] == result["objects"]
    assert len(curated_rows(s3, "customers")) == 7  # the re-run replaced its outputs, no duplicates
    assert "region" in curated_rows(s3).columns
