"""Contract loading: every shipped contract parses; malformed contracts fail with the file and field named."""

from __future__ import annotations

import pytest

from retail_platform.contracts import canonical_names, load_canonical, load_sources, parse_source, route
from retail_platform.exceptions import ContractError


def test_every_shipped_contract_loads():
    sources = load_sources()
    assert {"uci-online-retail"} <= {s.name for s in sources}
    assert {
        "order_lines",
        "orders",
        "customers",
        "products",
        "payments",
        "inventory",
        "prices",
        "fx_rates",
    } <= set(canonical_names())
    for source in sources:
        assert source.canonical.name == source.dataset


def test_routing_takes_the_longest_matching_prefix():
    sources = load_sources()
    assert route("uci-online-retail/2011/export.csv", sources).name == "uci-online-retail"
    with pytest.raises(ContractError, match=r"no source contract matches key 'nowhere/x\.csv'"):
        route("nowhere/x.csv", sources)


def test_partition_column_and_key_come_from_the_canonical_schema():
    lines = load_canonical("order_lines")
    assert lines.partition_by == "order_ts" and lines.business_key == ("order_id", "line_no")
    with pytest.raises(ContractError, match="no canonical dataset named 'nope'"):
        load_canonical("nope")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "name: x\ndataset: order_lines\nprefix: x/\nformat: xlsx\ncolumns: {order_id: {source: A}}\n",
            "format must be one of",
        ),
        (
            "name: x\ndataset: order_lines\nprefix: x/\nformat: csv\ncolumns: {order_id: {source: A}}\n",
            "required canonical columns not mapped",
        ),
        (
            "name: x\ndataset: order_lines\nprefix: x/\nformat: csv\ncolumns: {colour: {source: A}}\n",
            "column 'colour' is not in canonical dataset",
        ),
        (
            "name: x\ndataset: order_lines\nprefix: x/\nformat: csv\ncolumns: {order_id: {source: A, constant: 1}}\n",
            "exactly one of source, source_index, constant",
        ),
        (
            "name: x\ndataset: order_lines\nprefix: x/\nformat: csv\ncolumns: {order_id: {src: A}}\n",
            "unknown keys",
        ),
        ("name: [unclosed\n", "not valid YAML"),
        ("- a list\n", "must be a mapping"),
    ],
)
def test_malformed_source_contracts_name_file_and_field(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(ContractError, match=message) as info:
        parse_source(path)
    assert "bad.yaml" in str(info.value)


def test_rule_on_unknown_column_is_refused(tmp_path):
    path = tmp_path / "rule.yaml"
    path.write_text(
        "name: x\ndataset: fx_rates\nprefix: x/\nformat: csv\n"
        "columns: {date: {source: d}, base_currency: {source: b}, quote_currency: {source: q}, rate: {source: r}}\n"
        "rules: [{name: r1, when: {column: colour, equals: red}}]\n"
    )
    with pytest.raises(ContractError, match="unknown column 'colour'"):
        parse_source(path)
