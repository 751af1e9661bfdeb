""" "What is the data quality status?" over raw-to-curated's reports: files and raw rows are counted once per
source file, even when one denormalised export feeds several datasets (Superstore: one file, four datasets)."""

from __future__ import annotations

from retail_copilot import insights


def report(source: str, dataset: str, rows_in: int, curated: int, quarantined: int, collapsed: int = 0) -> dict:
    return {
        "source_key": source,
        "dataset": dataset,
        "rows_in": rows_in,
        "rows_curated": curated,
        "rows_quarantined": quarantined,
        "rows_collapsed": collapsed,
    }


def test_one_export_feeding_four_datasets_is_one_file_and_its_raw_rows_once():
    key = "superstore-tableau/superstore.csv"
    reports = [
        report(key, "order_lines", 3383, 3383, 0),
        report(key, "orders", 3383, 1690, 0, collapsed=1693),
        report(key, "products", 3383, 1506, 0, collapsed=1877),
        report(key, "customers", 3383, 710, 0, collapsed=2673),
    ]
    result = insights.quality(reports)
    assert result.text == "1 file curated (3,383 raw rows) into 4 datasets; no row was quarantined."
    assert result.details == {"files": 1, "raw_rows": 3383}
    assert result.value == 0.0
    assert [row[0] for row in result.table["rows"]] == ["customers", "order_lines", "orders", "products"]


def test_quarantine_rates_are_per_dataset_and_the_highest_is_named():
    reports = [
        report("shop/orders-1.csv", "order_lines", 1000, 990, 10),
        report("shop/orders-2.csv", "order_lines", 500, 500, 0),
        report("shop/prices.csv", "prices", 200, 190, 10),
        report("shop/stock.csv", "inventory", 300, 300, 0),
    ]
    result = insights.quality(reports)
    # order_lines: 10 of 1,500 = 0.67 %; prices: 10 of 200 = 5 %
    assert result.text == (
        "4 files curated (2,000 raw rows) into 3 datasets; rows quarantined with a reason: "
        "order_lines 10 of 1,500 (0.67%), prices 10 of 200 (5%). Highest quarantine rate: prices (5%)."
    )
    assert result.value == 5.0
    rows = {row[0]: row for row in result.table["rows"]}
    assert rows["order_lines"] == ["order_lines", 2, 1500, 1490, 10, 0.67]


def test_a_file_that_could_not_be_read_is_reported():
    reports = [
        report("shop/a.csv", "order_lines", 10, 10, 0),
        {**report("shop/b.csv", "order_lines", 0, 0, 0), "file_error": "not UTF-8"},
    ]
    assert "1 file(s) could not be read at all" in insights.quality(reports).text
