"""Header-less, whitespace-separated exports (e.g. the CDNOW purchase log) described by a contract alone:
`csv: {header: false, delimiter: whitespace, column_names: [...]}`; golden values from pandas' own reader."""

from __future__ import annotations

import io
import textwrap

import pandas as pd
import pytest

from curation.engine import curate
from curation.reading import WhitespaceFields
from retail_platform.contracts import parse_source
from retail_platform.exceptions import ContractError
from tests.support import DATA

CONTRACT = """\
name: purchase-log
dataset: order_lines
prefix: purchase-log/
format: csv
csv: {header: false, delimiter: whitespace, column_names: [customer, day, cds, dollars]}
columns:
  order_id: {row_number: true}
  line_no: {constant: 1}
  order_ts: {source: day, format: "%Y%m%d"}
  sku: {constant: CD}
  quantity: {source: cds}
  unit_price: {expr: "dollars / cds"}
  currency: {constant: USD}
  customer_id: {source: customer}
  country: {constant: US}
  is_cancellation: {constant: false}
attributes:
  amount: {source: dollars, type: float}
"""
# leading blanks, runs of spaces and tabs, CRLF, a blank line, a line of blanks, a line missing a field,
# a line without CDs (its unit price cannot be derived), no line end after the last line
BODY = (
    b" 00004 19970101  2   29.33\r\n"
    b" 00004\t19970118 \t 2   29.73\r\n"
    b"\r\n"
    b"00021 19970101  3   63.34  \r\n"
    b"   \r\n"
    b" 00022 19970102  5\r\n"
    b" 00023 19970103  0   10.00\r\n"
    b" 00031 19970301  1    0.00"
)


def load(tmp_path, text: str):
    path = tmp_path / "log.yaml"
    path.write_text(textwrap.dedent(text))
    return parse_source(path)


def golden(body: bytes) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(body), sep=r"\s+", header=None, dtype=str, names=["customer", "day", "cds", "dollars"]
    )


@pytest.mark.parametrize("chunk", [3, 7, 64, 1 << 20])
def test_whitespace_fields_become_one_tab_between_fields_whatever_the_chunking(chunk):
    text = io.BufferedReader(WhitespaceFields(io.BytesIO(BODY), chunk=chunk)).read().decode()
    rows = [line.split("\t") for line in text.split("\n") if line]
    want = golden(BODY)
    assert len(rows) == len(want)
    for got, expected in zip(rows, want.itertuples(index=False), strict=True):
        assert got == [v for v in expected if isinstance(v, str)]


def test_headerless_whitespace_export_is_curated_by_its_contract(tmp_path):
    out = curate(BODY, "purchase-log/log.txt", load(tmp_path, CONTRACT))
    want = golden(BODY)
    ragged = want["dollars"].isna()
    no_cds = pd.to_numeric(want["cds"]) == 0
    report = out.report
    assert report["rows_in"] == len(want) == 6
    assert report["rows_curated"] == int((~ragged & ~no_cds).sum()) == 4
    assert report["rows_in"] == report["rows_curated"] + report["rows_quarantined"]
    reasons = " | ".join(out.quarantine["_reasons"])
    assert "expected 4 fields, found 3" in reasons and "unit_price" in reasons
    curated = out.curated.sort_values("order_id", key=lambda ids: ids.astype(int)).reset_index(drop=True)
    ok = want[~ragged & ~no_cds].reset_index(drop=True)
    assert curated["customer_id"].tolist() == ok["customer"].tolist()  # zero-padded ids kept as text
    assert curated["quantity"].tolist() == pd.to_numeric(ok["cds"]).tolist()
    assert (curated["quantity"] * curated["unit_price"]).round(2).tolist() == pd.to_numeric(ok["dollars"]).tolist()
    assert curated["amount"].tolist() == pd.to_numeric(ok["dollars"]).tolist()
    days = pd.to_datetime(ok["day"], format="%Y%m%d").dt.strftime("%Y-%m-%d").tolist()
    assert curated["order_ts"].dt.strftime("%Y-%m-%d").tolist() == days


def test_the_cdnow_sample_reads_as_pandas_reads_it(tmp_path):
    from retail_platform.contracts import load_sources, route

    body = (DATA / "cdnow-sample" / "CDNOW_sample.txt").read_bytes()
    out = curate(body, "cdnow-sample/CDNOW_sample.txt", route("cdnow-sample/x.txt", load_sources()))
    raw = pd.read_csv(io.BytesIO(body), sep=r"\s+", header=None, dtype=str)
    repeated = raw.duplicated(keep="first")
    assert out.report["rows_in"] == len(raw) == 6919
    assert out.report["rows_quarantined"] == int(repeated.sum()) == 21
    assert out.curated["amount"].sum() == pytest.approx(pd.to_numeric(raw.loc[~repeated, 4]).sum(), abs=0.005)
    assert out.curated["customer_id"].nunique() == raw.loc[~repeated, 0].nunique()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (", column_names: [customer, day, cds, dollars]", "", "needs csv.column_names"),
        ("header: false, ", "", "set csv.header: false"),
        ("delimiter: whitespace", "delimiter: tabs", "one character or 'whitespace'"),
        ("header: false", "header: no-thanks", "must be true or false"),
        ("[customer, day, cds, dollars]", "[customer, day, cds, day]", "repeats a name"),
    ],
)
def test_csv_options_are_checked_when_the_contract_loads(tmp_path, old, new, message):
    assert old in CONTRACT
    with pytest.raises(ContractError, match=message):
        load(tmp_path, CONTRACT.replace(old, new))
