"""The curation engine on bad and big input, without S3: every row is curated or quarantined with a reason."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from curation.engine import curate
from retail_platform.contracts import load_sources, route
from retail_platform.exceptions import UnreadableFileError
from tests.support import DATA

KEY = "uci-online-retail/export.csv"
CONTRACT = route(KEY, load_sources())
UCI = (DATA / "online-retail" / "online_retail_sample.csv").read_bytes()
HEADER = b'"","InvoiceNo","StockCode","Description","Quantity","InvoiceDate","UnitPrice","CustomerID","Country"\n'


def row(
    i: int,
    qty: str = "6",
    date: str = "12/1/2010 8:26",
    price: str = "2.55",
    country: str = "United Kingdom",
    invoice: str = "536365",
    desc: str = "WHITE HANGING HEART",
) -> bytes:
    return f'"{i}","{invoice}","85123A","{desc}",{qty},"{date}",{price},17850,"{country}"\n'.encode()


def reasons(result) -> str:
    return " | ".join(result.quarantine["_reasons"]) if not result.quarantine.empty else ""


def test_file_bigger_than_one_batch_gives_the_same_outputs_as_one_batch():
    whole = curate(UCI, KEY, CONTRACT)
    batched = curate(UCI, KEY, CONTRACT, batch_rows=500)
    assert batched.report["rows_in"] == 2709 and batched.report["conservation_ok"]
    for field in ("rows_curated", "rows_quarantined", "warnings", "rules_flagged"):
        assert batched.report[field] == whole.report[field]
    columns = ["_source_row", "order_id", "quantity", "unit_price", "country"]
    pd.testing.assert_frame_equal(
        batched.curated[columns].sort_values("_source_row").reset_index(drop=True),
        whole.curated[columns].sort_values("_source_row").reset_index(drop=True),
    )


def test_duplicates_across_batches_are_found():
    body = HEADER + row(1) + b"".join(row(i, invoice=f"5{i:05d}") for i in range(2, 40)) + row(1) + row(1, qty="9")
    result = curate(body, KEY, CONTRACT, batch_rows=10)
    assert result.report["conservation_ok"]
    assert "exact duplicate of source row 0" in reasons(result)
    assert "superseded by source row 40" in reasons(result)
    kept = result.curated[result.curated["line_no"] == 1]
    assert kept["quantity"].tolist() == [9]


def test_future_and_impossible_dates():
    body = HEADER + row(1, date="2/30/2011 10:00") + row(2, date="13/45/2011 10:00") + row(3, date="12/1/2999 8:00")
    body += row(4, date="12/1/2031 8:00")
    result = curate(body, KEY, CONTRACT)
    text = reasons(result)
    assert "got '2/30/2011 10:00'" in text and "got '13/45/2011 10:00'" in text
    assert "got '12/1/2999 8:00'" in text  # beyond what a timestamp can hold
    assert "order_ts: is in the future" in text
    assert result.report["rows_quarantined"] == 4 and result.report["conservation_ok"]


def test_negative_and_zero_quantities_and_prices_outside_cancellation_rules():
    body = HEADER + row(1, qty="-3") + row(2, price="-1.5") + row(3, qty="-2", invoice="C536379") + row(4, price="0")
    result = curate(body, KEY, CONTRACT)
    text = reasons(result)
    assert "rule negative_quantity_only_for_cancellations" in text
    assert "unit_price: must be >= 0" in text
    assert sorted(result.curated["line_no"].tolist()) == [3, 4]  # a cancellation; a zero price kept with a warning
    assert result.report["warnings"]["zero_unit_price"] == 1


def test_unknown_country_codes():
    result = curate(HEADER + row(1, country="Atlantis") + row(2, country="XX"), KEY, CONTRACT)
    assert "country: expected an ISO 3166 country, got 'Atlantis'" in reasons(result)
    assert result.report["rows_curated"] == 0


def test_a_single_enormous_line():
    huge = "X" * 5_000_000
    result = curate(HEADER + row(1, desc=huge) + row(2), KEY, CONTRACT)
    assert result.report["rows_curated"] == 2
    assert len(result.curated.loc[result.curated["line_no"] == 1, "description"].iloc[0]) == 5_000_000


def test_a_column_whose_type_changes_halfway():
    good = b"".join(row(i) for i in range(1, 300))
    changed = b"".join(row(i, qty="many", price="n/a") for i in range(300, 320))
    result = curate(HEADER + good + changed, KEY, CONTRACT, batch_rows=100)
    assert (result.report["rows_curated"], result.report["rows_quarantined"]) == (299, 20)
    assert "quantity: expected a whole number, got 'many'" in reasons(result)


def test_gzip_bomb_is_refused():
    bomb = gzip.compress(HEADER + b"\n" * 300_000_000, compresslevel=9)
    assert len(bomb) < 1_000_000
    with pytest.raises(UnreadableFileError, match="gzip bomb"):
        curate(bomb, KEY + ".gz", CONTRACT)


def test_truncated_gzip_is_unreadable():
    compressed = gzip.compress(HEADER + row(1) * 1000)
    with pytest.raises(UnreadableFileError, match="gzip"):
        curate(compressed[: len(compressed) // 2], KEY + ".gz", CONTRACT)


SUPERSEDING = (
    HEADER
    + b"".join(row(i, invoice=f"5{i:05d}") for i in range(40))
    + row(1, qty="9", invoice="500001")
    + row(7, qty="2", invoice="500007")
)


@pytest.mark.parametrize(("body", "batch_rows"), [(UCI, 700), (SUPERSEDING, 10)], ids=["uci", "superseded"])
def test_candidates_spilled_to_disk_give_the_same_outputs_as_held_in_memory(body: bytes, batch_rows: int):
    import io

    from curation import reading
    from curation.engine import Curation, MemorySink

    def run(spill_rows: int) -> tuple[MemorySink, dict]:
        sink = MemorySink()
        curation = Curation(KEY, CONTRACT, sink, spill_rows=spill_rows)
        for batch in reading.iter_batches(io.BytesIO(body), KEY, CONTRACT, size=len(body), batch_rows=batch_rows):
            curation.add(batch)
        return sink, curation.finish()

    held, held_report = run(10**9)
    spilled, spilled_report = run(batch_rows // 2)
    del held_report["detector_seconds"], spilled_report["detector_seconds"]
    assert spilled_report == held_report and spilled_report["conservation_ok"]
    assert held.curated_parts.keys() == spilled.curated_parts.keys()
    for key, frame in held.curated_parts.items():
        pd.testing.assert_frame_equal(spilled.curated_parts[key], frame)
    for key, frame in held.quarantine_parts.items():
        pd.testing.assert_frame_equal(spilled.quarantine_parts[key], frame)
    assert {part for _, part in held.curated_parts} == {0}  # several batches, still one part per day
    if body is SUPERSEDING:
        assert held_report["uniqueness"] < 1 and "superseded by source row 40" in str(held_report["failed_checks"])


def test_day_partitions_keep_source_order_and_split_big_days():
    import pyarrow as pa

    from curation.partitioning import by_partition

    days = ["2024-01-02", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-02", "2024-01-01", "2024-01-02"]
    stamps = pa.array(pd.to_datetime(days).tz_localize("UTC"))
    table = pa.table({"ts": stamps, "row": list(range(len(days)))})
    batches = [table.slice(0, 3), table.slice(3, 0), table.slice(3, 4)]  # as held: file order, one empty
    expected = [
        ("2024-01-01", 0, [1, 5]),
        ("2024-01-02", 0, [0, 2, 4]),
        ("2024-01-02", 1, [6]),
        ("2024-01-03", 0, [3]),
    ]
    for held in ([table], batches):
        for chunk_rows in (1, 4, 100):
            parts = [
                (day, part, t["row"].to_pylist())
                for day, part, t in by_partition(held, "ts", "day", part_rows=3, chunk_rows=chunk_rows)
            ]
            assert parts == expected, (len(held), chunk_rows)
    unpartitioned = [(day, part, t.num_rows) for day, part, t in by_partition(batches, None, part_rows=3)]
    assert unpartitioned == [("", 0, 3), ("", 1, 3), ("", 2, 1)]
    assert list(by_partition([], "ts")) == [] and list(by_partition([], None)) == []


def test_string_hashes_depend_on_the_value_only():
    import numpy as np
    import pyarrow as pa

    from curation.arrowcols import hash_strings, row_hashes

    values = pa.array(["a", "", None, "ab", "ba", "a", "é", "ab", "a" * 300])
    hashed = hash_strings(values)
    assert hashed[0] == hashed[5] and hashed[3] == hashed[7]
    assert len(set(hashed.tolist())) == 7  # "ab" / "ba" and "" / missing differ
    assert (hash_strings(values.slice(3, 4)) == hashed[3:7]).all()  # offsets of a slice
    assert (hash_strings(values.cast(pa.large_string())) == hashed).all()
    long_texts = pa.array([f"{i} " + "x" * 70_000 for i in range(200)] + [None])  # 14 MB: hashed in slices
    assert (hash_strings(long_texts)[[0, 150, 200]] == hash_strings(long_texts.take([0, 150, 200]))).all()
    texts = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([values])))
    frame = pd.DataFrame({"text": texts, "n": pd.array([1, 2, None, 4, 5, 1, 7, 4, 9], dtype="Int64")})
    rows = row_hashes(frame, ["text", "n"])
    assert rows[0] == rows[5] and rows[3] == rows[7] and len(set(rows.tolist())) == 7
    # a batch with other neighbours and another cardinality hashes the same row the same way
    other = frame.iloc[[5, 3, 3, 3]].reset_index(drop=True)
    other["text"] = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(["a", "ab", "ab", "ab"])])))
    assert (row_hashes(other, ["text", "n"]) == rows[[5, 3, 3, 3]]).all()
    assert not np.array_equal(row_hashes(frame, ["n", "text"]), rows)  # column order matters


def test_infinite_and_huge_numbers_are_quarantined_with_a_reason():
    body = HEADER + row(1, qty="inf") + row(2, qty="1e30") + row(3, qty="-9223372036854775809") + row(4, qty="7")
    result = curate(body, KEY, CONTRACT)
    assert result.report["conservation_ok"] and result.report["rows_curated"] == 1
    text = reasons(result)
    for shown in ("'inf'", "'1e30'", "'-9223372036854775809'"):
        assert f"quantity: expected a whole number, got {shown}" in text
    prices = curate(HEADER + row(1, price="inf") + row(2, price="1e400") + row(3, price="-inf") + row(4), KEY, CONTRACT)
    assert prices.report["rows_curated"] == 1 and prices.report["conservation_ok"]
    for shown in ("'inf'", "'1e400'", "'-inf'"):
        assert f"unit_price: expected a finite number, got {shown}" in reasons(prices)


def test_prefetched_batches_keep_order_raise_reading_errors_and_stop_with_the_caller():
    import threading

    from curation.reading import prefetched

    assert list(prefetched(iter(range(5)))) == [0, 1, 2, 3, 4]

    def broken():
        yield 1
        raise UnreadableFileError("CSV cannot be parsed after 1 rows")

    seen = []
    with pytest.raises(UnreadableFileError, match="after 1 rows"):
        for item in prefetched(broken()):
            seen.append(item)
    assert seen == [1]

    produced = []

    def endless():
        while True:
            produced.append(len(produced))
            yield produced[-1]

    for item in prefetched(endless()):
        if item == 3:
            break
    assert not any(t.name == "curation-reader" for t in threading.enumerate())  # the reader stopped too
    assert len(produced) <= 6  # the reader ran at most a batch or two ahead


def test_json_lines_missing_keys_are_missing_cells_not_nan_text():
    import io

    from curation import reading

    contract = next(s for s in load_sources() if s.format == "jsonl")
    body = b'{"a": "x", "b": 1}\n{"a": "y"}\n{"b": 2.5, "c": {"k": 1}, "d": null}\n'
    (batch,) = reading.iter_batches(io.BytesIO(body), "k.jsonl", contract)
    cells = batch.frame.drop(columns=[reading.ROW]).astype(object).where(batch.frame.notna(), None)
    assert cells.to_dict("list") == {
        "a": ["x", "y", None],
        "b": ["1", None, "2.5"],  # 1 stays '1' (a DataFrame made it 1.0)
        "c": [None, None, '{"k": 1}'],
        "d": [None, None, None],
    }
