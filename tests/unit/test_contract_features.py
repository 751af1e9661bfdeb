# ruff: noqa: E501  (the fixture export keeps its long lines as exported)
"""Contracts for real exports: derived columns, custom attributes, one export feeding several datasets, check
actions, and the CSV options of European exports, through the curation engine.

The fixture is a hand-written 20-line order-line export in the shape of Tableau's "Sample - Superstore"
(values of its first orders), written the European way: `;` separator, `,` decimals, dd/mm/yyyy dates,
UTF-8 with a BOM and CRLF line ends. Golden figures are computed from the same text with pandas.
"""

from __future__ import annotations

import io
import textwrap

import pandas as pd
import pytest

from curation.engine import curate
from retail_platform.contracts import parse_source
from retail_platform.exceptions import ContractError

LINES = """\
Row ID;Order ID;Order Date;Ship Date;Customer ID;Customer Name;Segment;Country;City;State;Region;Product ID;Category;Sub-Category;Product Name;Sales;Quantity;Discount;Profit
1;CA-2016-152156;08/11/2016;11/11/2016;CG-12520;Claire Gute;Consumer;United States;Henderson;Kentucky;South;FUR-BO-10001798;Furniture;Bookcases;Bush Somerset Collection Bookcase;261,96;2;0;41,9136
2;CA-2016-152156;08/11/2016;11/11/2016;CG-12520;Claire Gute;Consumer;United States;Henderson;Kentucky;South;FUR-CH-10000454;Furniture;Chairs;"Hon Deluxe Fabric Upholstered Stacking Chairs; Rounded Back";731,94;3;0;219,582
3;CA-2016-138688;12/06/2016;16/06/2016;DV-13045;Darrin Van Huff;Corporate;United States;Los Angeles;California;West;OFF-LA-10000240;Office Supplies;Labels;Self-Adhesive Address Labels for Typewriters by Universal;14,62;2;0;6,8714
4;US-2015-108966;11/10/2015;18/10/2015;SO-20335;Sean O'Donnell;Consumer;United States;Fort Lauderdale;Florida;South;FUR-TA-10000577;Furniture;Tables;Bretford CR4500 Series Slim Rectangular Table;957,5775;5;0,45;-383,031
5;US-2015-108966;11/10/2015;18/10/2015;SO-20335;Sean O'Donnell;Consumer;United States;Fort Lauderdale;Florida;South;OFF-ST-10000760;Office Supplies;Storage;Eldon Fold 'N Roll Cart System;22,368;2;0,2;2,5164
6;CA-2014-115812;09/06/2014;14/06/2014;BH-11710;Brosina Hoffman;Consumer;United States;Los Angeles;California;West;FUR-FU-10001487;Furniture;Furnishings;Eldon Expressions Wood and Plastic Desk Accessories;48,86;7;0;14,1694
7;CA-2014-115812;09/06/2014;14/06/2014;BH-11710;Brosina Hoffman;Consumer;United States;Los Angeles;California;West;OFF-AR-10002833;Office Supplies;Art;Newell 322;7,28;4;0;1,9656
8;CA-2014-115812;09/06/2014;14/06/2014;BH-11710;Brosina Hoffman;Consumer;United States;Los Angeles;California;West;TEC-PH-10002275;Technology;Phones;Mitel 5320 IP Phone VoIP phone;907,152;6;0,2;90,7152
9;CA-2014-115812;09/06/2014;14/06/2014;BH-11710;Brosina Hoffman;Consumer;United States;Los Angeles;California;West;OFF-BI-10003910;Office Supplies;Binders;DXL Angle-View Binders with Locking Rings by Samsill;18,504;3;0,2;5,7825
10;CA-2014-115812;09/06/2014;14/06/2014;BH-11710;Brosina Hoffman;Consumer;United States;Los Angeles;California;West;OFF-AP-10002892;Office Supplies;Appliances;Belkin F5C206VTEL 6 Outlet Surge;114,9;5;0;34,47
11;CA-2014-115812;09/06/2014;14/06/2014;BH-11710;Brosina Hoffman;Consumer;United States;Los Angeles;California;West;FUR-TA-10001539;Furniture;Tables;Chromcraft Rectangular Conference Tables;1706,184;9;0,2;85,3092
12;CA-2014-115812;09/06/2014;14/06/2014;BH-11710;Brosina Hoffman;Consumer;United States;Los Angeles;California;West;TEC-PH-10002033;Technology;Phones;Konftel 250 Conference phone - Charcoal black;911,424;4;0,2;68,3568
13;CA-2017-114412;15/04/2017;20/04/2017;AA-10480;Andrew Allen;Consumer;United States;Concord;North Carolina;South;OFF-PA-10002365;Office Supplies;Paper;Xerox 1967;15,552;3;0,2;5,4432
14;CA-2016-161389;05/12/2016;10/12/2016;IM-15070;Irene Maddox;Consumer;United States;Seattle;Washington;West;OFF-BI-10003656;Office Supplies;Binders;Fellowes PB200 Plastic Comb Binding Machine;407,976;3;0,2;132,5922
15;US-2015-118983;22/11/2015;26/11/2015;HP-14815;Harold Pawlan;Home Office;United States;Fort Worth;Texas;Central;OFF-AP-10002311;Office Supplies;Appliances;Holmes Replacement Filter for HEPA Air Cleaner;68,81;5;0,8;-123,858
16;US-2015-118983;22/11/2015;26/11/2015;HP-14815;Harold Pawlan;Home Office;United States;Fort Worth;Texas;Central;OFF-BI-10000756;Office Supplies;Binders;Storex DuraTech Recycled Plastic Frosted Binders;2,544;3;0,8;-3,816
17;CA-2017-152157;03/01/2017;05/01/2017;CG-12520;Claire Gute;Consumer;United States;Henderson;Kentucky;South;FUR-BO-10001798;Furniture;Bookcases;Bush Somerset Collection Bookcase;130,98;1;0;20,9568
18;CA-2017-152157;03/01/2017;05/01/2017;CG-12520;Claire Gute;Consumer;United States;Henderson;Kentucky;South;OFF-PA-10002365;Office Supplies;Paper;Xerox 1967;0;0;0;0
19;CA-2017-152158;03/01/2017;07/01/2017;AA-10480;Andrew Allen;Consumer;United States;Concord;North Carolina;South;TEC-PH-10002275;Technology;Phones;Mitel 5320 IP Phone VoIP phone;n/v;2;0,2;10
20;CA-2017-152158;03/01/2017;07/01/2017;AA-10480;Andrew Allen;Consumer;United States;Concord;North Carolina;South;OFF-AR-10002833;Office Supplies;Art;Newell 322;3,64;2;0;0,98
"""
BODY = ("\ufeff" + LINES.replace("\n", "\r\n")).encode("utf-8")
PRICE = "round(Sales / (Quantity * (1 - Discount)), 2)"
CONTRACT = f"""\
name: eu-superstore
prefix: eu-superstore/
format: csv
csv: {{delimiter: ";", decimal: ",", encoding: utf-8}}
timezone: America/New_York
datasets:
  order_lines:
    columns:
      order_id: {{source: Order ID}}
      line_no: {{source: Row ID}}
      order_ts: {{source: Order Date, format: "%d/%m/%Y"}}
      sku: {{source: Product ID}}
      description: {{source: Product Name}}
      quantity: {{source: Quantity}}
      unit_price: {{expr: "{PRICE}"}}
      currency: {{constant: USD}}
      customer_id: {{source: Customer ID}}
      country: {{source: Country}}
      is_cancellation: {{constant: false}}
    attributes:
      region: {{source: Region}}
      state: {{source: State}}
      segment: {{source: Segment}}
      category: {{source: Category}}
      sub_category: {{source: Sub-Category}}
      sales: {{source: Sales, type: float}}
      discount: {{source: Discount, type: float}}
      profit: {{source: Profit, type: float}}
      margin: {{expr: "Profit / Sales", type: float}}
      place: {{expr: "concat(City, ', ', State)"}}
  orders:
    columns:
      order_id: {{source: Order ID}}
      order_ts: {{source: Order Date, format: "%d/%m/%Y"}}
      customer_id: {{source: Customer ID}}
      country: {{source: Country}}
      currency: {{constant: USD}}
      status: {{constant: delivered}}
    attributes:
      ship_date: {{source: Ship Date, type: date, format: "%d/%m/%Y"}}
  products:
    columns:
      sku: {{source: Product ID}}
      description: {{source: Product Name}}
      category: {{source: Category}}
      base_price: {{expr: "{PRICE}"}}
      currency: {{constant: USD}}
    attributes:
      sub_category: {{source: Sub-Category}}
  customers:
    columns:
      customer_id: {{source: Customer ID}}
      signup_ts: {{source: Order Date, format: "%d/%m/%Y"}}
      country: {{source: Country}}
      segment: {{source: Segment, map: {{Consumer: consumer, Corporate: business, Home Office: business}}}}
    attributes:
      name: {{source: Customer Name}}
    aggregate: {{signup_ts: min}}
"""


def load(tmp_path, text: str, name: str = "contract.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return parse_source(path)


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    """The export read independently with pandas (its own CSV reader, decimal and date handling)."""
    raw = pd.read_csv(io.BytesIO(BODY), sep=";", decimal=",", encoding="utf-8-sig", dtype={"Sales": str})
    raw["sales"] = pd.to_numeric(raw["Sales"].str.replace(",", "."), errors="coerce")
    raw["price"] = (raw["sales"] / (raw["Quantity"] * (1 - raw["Discount"]))).round(2)
    raw["ok"] = raw["sales"].notna() & (raw["Quantity"] != 0)
    raw["day"] = pd.to_datetime(raw["Order Date"], format="%d/%m/%Y")
    return raw


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    contract = load(tmp_path_factory.mktemp("c"), CONTRACT)
    return curate(BODY, "eu-superstore/2017.csv", contract)


def test_one_export_feeds_four_datasets_each_accounting_for_every_row(result, golden):
    assert set(result.also) == {"orders", "products", "customers"}
    for part in (result, *result.also.values()):
        report = part.report
        assert report["rows_in"] == len(golden) == 20
        assert report["conservation_ok"]
        assert report["rows_in"] == report["rows_curated"] + report["rows_quarantined"] + report["rows_collapsed"]
        assert len(part.curated) == report["rows_curated"]
    lines = result.curated
    assert len(lines) == int(golden["ok"].sum()) == 18 and result.report["rows_collapsed"] == 0
    orders, products, customers = (result.also[d].curated for d in ("orders", "products", "customers"))
    assert sorted(orders["order_id"]) == sorted(golden["Order ID"].unique())  # every order, once
    assert sorted(customers["customer_id"]) == sorted(golden["Customer ID"].unique())
    priced = golden[golden["ok"]]
    assert sorted(products["sku"]) == sorted(priced["Product ID"].unique())
    assert result.also["orders"].report["rows_collapsed"] == 20 - golden["Order ID"].nunique()


def test_derived_columns_match_pandas_and_failures_are_quarantined_with_the_reason(result, golden):
    lines = result.curated.set_index("line_no").sort_index()
    want = golden[golden["ok"]].set_index("Row ID")["price"]
    assert lines["unit_price"].tolist() == pytest.approx(want.tolist())
    reasons = dict(zip(result.quarantine["_source_row"], result.quarantine["_reasons"], strict=True))
    assert (
        "unit_price: expression 'round(Sales / (Quantity * (1 - Discount)), 2)' failed: division by zero"
        in (reasons[17])
    )
    assert "unit_price: expression" in reasons[18] and "Sales is not a number ('n/v')" in reasons[18]
    assert "margin: expression 'Profit / Sales' failed" in reasons[18]  # every problem of the row is listed
    products = result.also["products"]
    assert len(products.quarantine) == 2  # the same two rows cannot price their product either
    assert products.curated.set_index("sku").loc["FUR-BO-10001798", "base_price"] == 130.98


def test_custom_attributes_are_typed_columns_of_curated_and_listed_in_the_report(result, golden):
    lines = result.curated.set_index("line_no").sort_index()
    ok = golden[golden["ok"]].set_index("Row ID")
    assert lines["region"].tolist() == ok["Region"].tolist()
    assert lines["sub_category"].tolist() == ok["Sub-Category"].tolist()
    assert str(lines["profit"].dtype) in ("float64", "Float64")
    assert lines["profit"].sum() == pytest.approx(ok["Profit"].sum())
    assert lines["margin"].tolist() == pytest.approx((ok["Profit"] / ok["sales"]).tolist())
    assert lines.loc[1, "place"] == "Henderson, Kentucky"
    report = result.report
    assert report["attributes"]["margin"] == {"type": "float", "expr": "Profit / Sales"}
    assert report["attributes"]["region"] == {"type": "string", "source": "Region"}
    assert report["extra_columns"] == []  # every column is read by one of the four datasets
    assert report["completeness"]["region"] == 1.0
    orders = result.also["orders"].curated.set_index("order_id")
    assert str(orders.loc["US-2015-108966", "ship_date"].date()) == "2015-10-18"


def test_further_datasets_collapse_repeats_and_aggregate_the_first_order(result, golden):
    customers = result.also["customers"].curated.set_index("customer_id")
    first = golden.groupby("Customer ID")["day"].min()
    got = customers["signup_ts"].dt.tz_convert("America/New_York").dt.tz_localize(None).dt.normalize()
    assert got.sort_index().tolist() == first.sort_index().tolist()
    assert customers.loc["HP-14815", "segment"] == "business" and customers.loc["CG-12520", "name"] == "Claire Gute"
    assert result.also["customers"].report["rows_quarantined"] == 0


def test_csv_options_of_european_exports(result, golden):
    """`;` separator, `,` decimals, dd/mm/yyyy dates, UTF-8 with BOM, CRLF: the first header cell is 'Row ID'."""
    lines = result.curated.set_index("line_no").sort_index()
    assert lines.index.tolist()[:3] == [1, 2, 3]  # 'Row ID' read despite the BOM
    assert lines.loc[4, "sales"] == 957.5775 and lines.loc[4, "discount"] == 0.45
    assert lines.loc[2, "description"] == "Hon Deluxe Fabric Upholstered Stacking Chairs; Rounded Back"
    local = lines["order_ts"].dt.tz_convert("America/New_York")
    assert local.dt.strftime("%Y-%m-%d").tolist() == golden[golden["ok"]]["day"].dt.strftime("%Y-%m-%d").tolist()


def test_a_column_an_expression_needs_missing_from_the_file_fails_it_whole_naming_the_field(tmp_path):
    contract = load(tmp_path, CONTRACT)
    body = BODY.replace(b";Discount;", b";Rebate;")
    out = curate(body, "eu-superstore/x.csv", contract)
    assert out.report["rows_quarantined"] == 20 and out.report["rows_curated"] == 0
    reason = out.quarantine["_reasons"].iloc[0]
    assert "file is missing columns" in reason
    assert f"Discount (for unit_price: {PRICE})" in reason


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('unit_price: {expr: "' + PRICE + '"}', "unit_price: {expr: \"__import__('os')\"}"), "column 'unit_price'"),
        (('margin: {expr: "Profit / Sales", type: float}', 'margin: {expr: "Profit ** 9", type: float}'), "Pow"),
        (("region: {source: Region}", "region: {source: Region, type: colour}"), "type must be one of"),
        (("region: {source: Region}", "sku: {source: Region}"), "collides with a canonical column"),
        (("region: {source: Region}", "Region Name: {source: Region}"), "snake_case"),
        (("aggregate: {signup_ts: min}", "aggregate: {segment: min}"), "aggregate segment"),
        (("datasets:", "primary: payments\ndatasets:"), "primary 'payments' is not one of"),
        (
            (
                "order_id: {source: Order ID}\n      order_ts",
                "order_id: {source: Order ID, action: warn}\n      order_ts",
            ),
            "would keep rows without a order_id",
        ),
    ],
)
def test_contract_errors_name_the_file_and_the_field(tmp_path, change, message):
    old, new = change
    assert old in CONTRACT
    with pytest.raises(ContractError, match=message) as info:
        load(tmp_path, CONTRACT.replace(old, new, 1), "broken.yaml")
    assert "broken.yaml" in str(info.value)


# ------------------------------------------------------------------ column checks with an action

PRODUCTS = """\
name: catalogue
dataset: products
prefix: catalogue/
format: csv
columns:
  sku: {source: Sku}
  description: {source: Name}
  category: {source: Category, action: {allowed: repair}}
  base_price: {source: Price, repair: {strip_suffix: [" USD", " usd"], strip_prefix: ["$"]}}
  currency: {constant: USD}
attributes:
  weight_oz: {source: Weight, type: float, min: 0, repair: {strip_suffix: [" oz"]}}
  pack: {source: Pack, type: int, action: warn}
  city: {source: City}
"""
CATALOGUE = b"""Sku,Name,Category,Price,Weight,Pack,City
A1,Kettle,Kitchen,12.50,12.0 oz,6,Paris
A2,Toaster,Kitchen,$30 USD,8 oz,six,Lyon
A3,Mug,Kitchen,abc,1.5 lb,2,Paris
A4,Plate,Kitchen,4.0,-3 oz,2,Paris
"""


def test_check_actions_warn_repair_and_quarantine_and_report_all_problems_of_a_row(tmp_path):
    schema = load(tmp_path, PRODUCTS).schema
    assert schema["base_price"].action_for("parse") == "repair" and schema["pack"].action_for("min") == "warn"
    out = curate(CATALOGUE, "catalogue/p.csv", load(tmp_path, PRODUCTS), detect=False)
    curated = out.curated.set_index("sku")
    assert sorted(curated.index) == ["A1", "A2"]
    assert curated.loc["A1", "weight_oz"] == 12.0 and curated.loc["A2", "base_price"] == 30.0
    assert "weight_oz: '12.0 oz' -> '12.0' (repair strip_suffix [' oz'])" in curated.loc["A1", "_repairs"]
    assert "base_price: '$30 USD' -> '30'" in curated.loc["A2", "_repairs"]
    assert pd.isna(curated.loc["A2", "pack"])  # warn: kept, the unparseable value left missing and flagged
    assert "pack: expected a whole number, got 'six'" in curated.loc["A2", "_warnings"]
    reasons = out.quarantine.set_index("raw_Sku")["_reasons"]
    # A3: the price cannot be repaired and neither can the weight: both reasons, not just the first
    assert "base_price: expected a finite number, got 'abc'" in reasons["A3"]
    assert "weight_oz: expected a finite number, got '1.5 lb'" in reasons["A3"]
    # repaired text that still fails a check: quarantined, with both reasons
    assert (
        reasons["A4"] == "weight_oz: expected a finite number, got '-3 oz' (repaired to '-3': weight_oz: must be >= 0)"
    )
    assert out.report["conservation_ok"] and out.report["rows_quarantined"] == 2


def test_allowed_values_repaired_by_case(tmp_path):
    contract = load(
        tmp_path,
        PRODUCTS.replace("category: {source: Category, action: {allowed: repair}}", "category: {source: Category}")
        .replace("  city: {source: City}\n", "")
        .replace("dataset: products", "dataset: customers")
        .replace(
            """columns:
  sku: {source: Sku}
  description: {source: Name}
  category: {source: Category}
  base_price: {source: Price, repair: {strip_suffix: [" USD", " usd"], strip_prefix: ["$"]}}
  currency: {constant: USD}""",
            """columns:
  customer_id: {source: Sku}
  signup_ts: {constant: "2020-01-01"}
  country: {constant: FR}
  segment: {source: Category, action: {allowed: repair}}""",
        ),
    )
    body = b"Sku,Name,Category,Price,Weight,Pack,City\nA1,x,VIP,1,1 oz,1,Paris\nA2,x,Business,1,1 oz,1,Paris\nA3,x,Gold,1,1,1,P\n"
    out = curate(body, "catalogue/c.csv", contract, detect=False)
    assert out.curated.set_index("customer_id")["segment"].to_dict() == {"A1": "vip", "A2": "business"}
    assert "segment: must be one of ['consumer', 'business', 'vip']" in out.quarantine["_reasons"].iloc[0]


def test_a_row_failing_a_check_still_goes_through_the_detectors(tmp_path):
    """60 rows with one dominant city; the row with a bad price also carries a city typo: both are reported."""
    rows = [f"S{i},Item {i},Kitchen,{10 + i}.0,1 oz,1,Springfield" for i in range(60)]
    rows[7] = "S7,Item 7,Kitchen,abc,1 oz,1,Springfeild"
    body = ("Sku,Name,Category,Price,Weight,Pack,City\n" + "\n".join(rows) + "\n").encode()
    contract = load(
        tmp_path,
        PRODUCTS.replace(
            'base_price: {source: Price, repair: {strip_suffix: [" USD", " usd"], strip_prefix: ["$"]}}',
            "base_price: {source: Price}",
        ),
    )
    out = curate(body, "catalogue/d.csv", contract)
    flags = out.report["detector_flags"]
    assert any(k.endswith(":city") for k in flags), flags
    examples = [e["source_row"] for k, v in flags.items() if k.endswith(":city") for e in v["examples"]]
    assert 7 in examples
    assert "base_price: expected a finite number" in out.quarantine["_reasons"].iloc[0]
