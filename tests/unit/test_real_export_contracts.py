"""The contracts of the real exports in tests/data load, and the language they need works on their cells:
formatted money and percents (`number()`, `percent()`) and a row number for exports without line numbers."""

from __future__ import annotations

import textwrap

import pytest

from curation.engine import curate
from retail_platform.contracts import parse_source
from retail_platform.exceptions import ContractError
from tests.support import ROOT

SOURCES = ROOT / "shared" / "retail_platform" / "contracts" / "sources"

CONTRACT = """\
name: money
prefix: money/
format: csv
csv: {delimiter: ",", encoding: utf-8-sig, thousands: ","}
datasets:
  order_lines:
    columns:
      order_id: {source: Order}
      line_no: {row_number: true}
      order_ts: {source: Day, format: "%m/%d/%Y"}
      sku: {source: Item}
      quantity: {source: Qty}
      unit_price: {expr: "number(Sales) / Qty"}
      currency: {constant: USD}
      country: {constant: US}
      is_cancellation: {constant: false}
    attributes:
      discount: {expr: "percent(Discount)", type: float}
      profit: {expr: "number(Profit)", type: float}
"""
BODY = (
    "\ufeffOrder,Day,Item,Qty,Sales,Discount,Profit\r\n"
    'A-1,11/8/2016,chair,2,"$1,706",20%,-$383\r\n'
    "A-1,11/8/2016,chair,1,$15,0%,$7\r\n"
    "A-2,1/3/2017,desk,3,n/a,45%,$0\r\n"
).encode()


def load(tmp_path, text: str):
    path = tmp_path / "contract.yaml"
    path.write_text(textwrap.dedent(text))
    return parse_source(path)


@pytest.mark.parametrize("name", ["superstore-tableau", "iowa-liquor-sales"])
def test_real_export_contracts_load(name):
    contract = parse_source(SOURCES / f"{name}.yaml")
    assert contract.name == name and contract.outputs[0].dataset == "order_lines"
    assert contract.columns["line_no"].row_number


def test_money_percents_and_row_numbers(tmp_path):
    out = curate(BODY, "money/x.csv", load(tmp_path, CONTRACT))
    lines = out.curated.set_index("line_no").sort_index()
    assert lines.index.tolist() == [1, 2]  # the same product twice in one order: two lines
    assert lines["unit_price"].tolist() == [853.0, 15.0]
    assert lines["discount"].tolist() == pytest.approx([0.2, 0.0])
    assert lines["profit"].tolist() == [-383.0, 7.0]
    reason = out.quarantine["_reasons"].iloc[0]
    assert "unit_price: expression 'number(Sales) / Qty' failed: Sales is not a number ('n/a')" in reason


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("{row_number: true}", "{row_number: false}"),
        ('"number(Sales) / Qty"', "\"number('x') / Qty\""),
    ],
)
def test_misuse_fails_when_the_contract_loads(tmp_path, change, message):
    with pytest.raises(ContractError):
        load(tmp_path, CONTRACT.replace(change, message))
