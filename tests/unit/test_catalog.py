"""The Glue Data Catalog of pipeline/template.yaml against the contracts (tools/catalog.py generates it).

A contract change without `python tools/catalog.py` fails here with that instruction. The column types are
also checked against the Arrow schema that curated-to-prod writes, so Athena reads what the files hold.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path

import pyarrow as pa
import pytest
from samtranslator.yaml_helper import yaml_parse

from marts.schema import arrow_schema
from retail_platform.contracts import canonical_names, load_canonical, load_prod, prod_names
from retail_platform.sql import SqlEngine, check_trino
from retail_platform.storage import MemoryBlobStore
from retail_platform.storage.codec import parquet_bytes
from tools import catalog

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "pipeline" / "template.yaml"


@cache
def glue_tables() -> dict[str, dict]:
    found = yaml_parse(PIPELINE.read_text(encoding="utf-8"))["Resources"]
    return {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]
        for r in found.values()
        if r["Type"] == "AWS::Glue::Table"
    }


def test_template_is_generated_from_the_current_contracts() -> None:
    catalog.check(PIPELINE)
    assert catalog.main(["--check"]) == 0


def test_a_changed_contract_fails_with_the_command_to_run(tmp_path: Path) -> None:
    stale = tmp_path / "template.yaml"
    text = PIPELINE.read_text(encoding="utf-8")
    # what the template would hold had order_lines.quantity once been a string
    edited = text.replace("Name: quantity\n            Type: bigint", "Name: quantity\n            Type: string", 1)
    assert edited != text
    stale.write_text(edited, encoding="utf-8")
    with pytest.raises(catalog.StaleTemplateError, match=r"run `python tools/catalog.py`"):
        catalog.check(stale)
    # the tool puts it right and leaves the rest of the template as it was
    assert catalog.render(edited) == text


def test_every_curated_and_prod_dataset_has_a_table_in_the_database() -> None:
    tables = glue_tables()
    expected = {f"curated_{n}" for n in canonical_names()} | {f"prod_{n}" for n in prod_names()}
    assert set(tables) == expected
    assert len(expected) == 14
    for props in tables.values():
        assert props["DatabaseName"] == {"Ref": "GlueDatabase"}
        assert props["TableInput"]["TableType"] == "EXTERNAL_TABLE"
        serde = props["TableInput"]["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
        assert serde == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def test_order_lines_columns_and_types() -> None:
    """Golden: the curated order lines as Athena sees them."""
    table = glue_tables()["curated_order_lines"]["TableInput"]
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns == [
        ("order_id", "string"),
        ("line_no", "bigint"),
        ("order_ts", "timestamp"),
        ("sku", "string"),
        ("description", "string"),
        ("quantity", "bigint"),
        ("unit_price", "double"),
        ("currency", "string"),
        ("customer_id", "string"),
        ("country", "string"),
        ("is_cancellation", "boolean"),
        ("promo_flag", "boolean"),
        ("_source_key", "string"),  # lineage: which raw object and row, for latest-version-wins
        ("_source_row", "bigint"),
    ]
    assert table["StorageDescriptor"]["Location"] == {"Fn::Sub": "s3://${CuratedBucket}/order_lines/"}


GLUE_OF_ARROW = {pa.int64(): "bigint", pa.float64(): "double", pa.bool_(): "boolean", pa.string(): "string"}


@pytest.mark.parametrize("name", prod_names())
def test_prod_tables_match_the_parquet_schema_curated_to_prod_writes(name: str) -> None:
    table = glue_tables()[f"prod_{name}"]["TableInput"]
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    written = [
        (f.name, "timestamp" if pa.types.is_timestamp(f.type) else GLUE_OF_ARROW[f.type]) for f in arrow_schema(name)
    ]
    assert columns == written


@pytest.mark.parametrize(
    ("stage", "name"), [*(("curated", n) for n in canonical_names()), *(("prod", n) for n in prod_names())]
)
def test_month_partitions_are_projected_not_crawled(stage: str, name: str) -> None:
    spec = load_canonical(name) if stage == "curated" else load_prod(name)
    table = glue_tables()[f"{stage}_{name}"]["TableInput"]
    params = table["Parameters"]
    bucket = "CuratedBucket" if stage == "curated" else "ProdBucket"
    assert "month" not in spec.columns  # the partition key must not collide with a column
    if spec.partition_by is None:  # e.g. products: one prefix, no partitions
        assert "PartitionKeys" not in table and "projection.enabled" not in params
        return
    assert table["PartitionKeys"] == [{"Name": "month", "Type": "string", "Comment": f"YYYY-MM of {spec.partition_by}"}]
    assert params["projection.enabled"] == "true"
    assert params["projection.month.type"] == "date"
    assert params["projection.month.format"] == "yyyy-MM"
    assert params["projection.month.interval.unit"] == "MONTHS"
    assert params["projection.month.range"] == {"Fn::Sub": "${CatalogFirstMonth},NOW"}
    # ${!month} is CloudFormation's escape for the literal ${month} that Athena fills in
    assert params["storage.location.template"] == {"Fn::Sub": f"s3://${{{bucket}}}/{name}/month=${{!month}}/"}


def test_the_first_month_parameter_is_a_month() -> None:
    parameter = yaml_parse(PIPELINE.read_text(encoding="utf-8"))["Parameters"]["CatalogFirstMonth"]
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch(parameter["Default"])
    assert pattern.fullmatch("2010-12") and not pattern.fullmatch("2010-13") and not pattern.fullmatch("2010-12-01")


def documented_query() -> str:
    """The example query of docs/SCALING.md ("Querying prod from the Athena console")."""
    text = (ROOT / "docs" / "SCALING.md").read_text(encoding="utf-8")
    section = text[text.index("### Querying prod from the Athena console") :]
    return section.split("```sql\n", 1)[1].split("```", 1)[0]


def test_the_documented_console_query_is_trino_and_answers_over_month_partitions(tmp_path: Path) -> None:
    """The example runs as written (DuckDB over the monthly layout, `month` a string partition) and parses as
    Trino; golden sums by hand from the rows below."""
    sql = documented_query()
    check_trino(sql)
    schema = arrow_schema("daily_sales")
    rows = {
        "2011-01": [
            ("2011-01-03", "A", "GB", 2, 10.0),
            ("2011-01-04", "B", "GB", 1, 5.5),
            ("2011-01-04", "A", "FR", 4, 8.0),
        ],
        "2011-02": [("2011-02-01", "A", "GB", 3, 12.0)],
        "2012-01": [("2012-01-05", "A", "GB", 7, 70.0)],  # outside the WHERE
    }
    store = MemoryBlobStore("prod")
    for month, lines in rows.items():
        data = {f.name: [None] * len(lines) for f in schema}
        data["date"] = [datetime.fromisoformat(d) for d, *_ in lines]
        data["sku"] = [s for _, s, *_ in lines]
        data["country"] = [c for _, _, c, *_ in lines]
        data["units"] = [u for *_, u, _ in lines]
        data["revenue_reporting"] = [r for *_, r in lines]
        data["reporting_currency"] = ["GBP"] * len(lines)
        store.put(f"daily_sales/month={month}/part-0.parquet", parquet_bytes(pa.table(data, schema=schema)), "x")
    with SqlEngine(cache_dir=tmp_path) as engine:
        engine.register("prod_daily_sales", store, "daily_sales/")
        got = engine.query(sql).to_pylist()
    assert got == [
        {"month": "2011-01", "country": "GB", "units": 3, "revenue": 15.5, "currency": "GBP"},
        {"month": "2011-01", "country": "FR", "units": 4, "revenue": 8.0, "currency": "GBP"},
        {"month": "2011-02", "country": "GB", "units": 3, "revenue": 12.0, "currency": "GBP"},
    ]


def test_tables_named_in_iam_policies_exist_in_the_catalog() -> None:
    """A Glue table granted by name (e.g. the copilot's three prod tables) is one the generator creates."""
    granted = set()
    for path in (PIPELINE, ROOT / "ai-systems" / "template.yaml"):
        granted |= set(re.findall(r":table/\$\{\w+\}/([a-z_]+)\"", path.read_text(encoding="utf-8")))
    assert {"prod_copilot_mart", "prod_country_kpis", "prod_customer_transactions"} <= granted
    assert granted <= set(glue_tables())
