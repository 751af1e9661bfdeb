"""The SQL marts (DuckDB) against the pandas marts they replace, on real public exports curated by the real
raw-to-curated engine (UCI Online Retail, Superstore, Iowa liquor sales, CDNOW) and on the generated sample
with payments, prices, stock and FX rates in four currencies: same rows, same values, whatever the reporting
currency and however the months are batched."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from curation.engine import curate
from marts import currency
from marts.curated import CuratedInputs
from marts.incremental import PARTITIONED_INPUTS, full_plan
from marts.schema import to_table
from marts.sql.run import SqlMarts, build_from_store
from marts.store import table_partitions
from retail_platform.contracts import load_sources, route
from retail_platform.sampledata import SMALL_PROFILE, generate
from retail_platform.sql import SqlEngine
from retail_platform.storage import MemoryBlobStore, codec
from tests.reference.pandas_marts.build import build_pandas_marts
from tests.support import DATA

EXPORTS = {
    "uci": ("uci-online-retail/online_retail_sample.csv", DATA / "online-retail" / "online_retail_sample.csv"),
    "superstore": (
        "superstore-tableau/superstore_orders_sample.csv",
        DATA / "superstore-tableau" / "superstore_orders_sample.csv",
    ),
    "iowa": (
        "iowa-liquor-sales/iowa_liquor_sales_2012-01-31.csv",
        DATA / "iowa-liquor-sales" / "iowa_liquor_sales_2012-01-31.csv",
    ),
    "cdnow": ("cdnow-sample/CDNOW_sample.txt", DATA / "cdnow-sample" / "CDNOW_sample.txt"),
}


def curated(files: list[tuple[str, Path]]) -> CuratedInputs:
    contracts = load_sources()
    frames: dict[str, list[pd.DataFrame]] = {}
    for key, path in files:
        contract = route(key, contracts)
        result = curate(path.read_bytes(), key, contract)
        for name, out in [(contract.dataset, result), *result.also.items()]:
            frames.setdefault(name, []).append(out.curated)
    return CuratedInputs.from_frames({k: pd.concat(v, ignore_index=True) for k, v in frames.items()})


def targets(inputs: CuratedInputs) -> dict:
    available = {n: set(getattr(inputs, n)["_date"].dropna().dt.date) for n in PARTITIONED_INPUTS}
    return full_plan(available, ["products", "customers"]).targets


def assert_same(inputs: CuratedInputs, reporting: str, **options: int) -> None:
    wanted = targets(inputs)
    expected = build_pandas_marts(inputs, wanted, reporting)
    with SqlEngine() as engine:
        got = SqlMarts.from_inputs(inputs, engine, **options).build(wanted, reporting)
    assert sorted(got) == sorted(expected)
    for name, frame in expected.items():
        assert len(frame), name
        pd.testing.assert_frame_equal(got[name], frame, check_exact=False, rtol=1e-9, obj=name)


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_sql_marts_equal_the_pandas_marts_on_real_exports(export):
    inputs = curated([(EXPORTS[export][0], EXPORTS[export][1])])
    assert_same(inputs, currency.resolve("AUTO", currency.currencies(inputs)))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> CuratedInputs:
    out = tmp_path_factory.mktemp("generated")
    generate(out, seed=7, **SMALL_PROFILE)
    files = sorted(p for p in out.rglob("*") if p.is_file() and "_manifest" not in p.parts)
    return curated([(str(p.relative_to(out)), p) for p in files])


@pytest.mark.parametrize("reporting", ["EUR", "USD", "SEK"])
def test_sql_marts_equal_the_pandas_marts_with_payments_stock_and_fx(generated, reporting):
    assert_same(generated, reporting)


def test_month_by_month_batches_give_the_same_marts(generated):
    assert_same(generated, "EUR", rows_per_batch=1)


def curated_store(generated: CuratedInputs) -> MemoryBlobStore:
    """The generated curated rows as objects: monthly, fx in the older daily layout, lookups unpartitioned."""
    store = MemoryBlobStore("curated")
    for name in CuratedInputs.__dataclass_fields__:
        frame = getattr(generated, name).drop(columns=["_date"])
        if name in ("products", "customers"):
            store.put(f"{name}/part-x-0.parquet", codec.parquet_bytes(frame))
            continue
        day = getattr(generated, name)["_date"]
        labels = day.dt.strftime("%Y-%m-%d" if name == "fx_rates" else "%Y-%m")
        field = "date" if name == "fx_rates" else "month"
        for label, rows in frame.groupby(labels.to_numpy()):
            store.put(f"{name}/{field}={label}/part-x-0.parquet", codec.parquet_bytes(rows.reset_index(drop=True)))
    return store


def test_marts_built_straight_from_curated_objects_equal_the_pandas_marts(generated, tmp_path):
    """Curated objects in a store mirrored and scanned by DuckDB, batch by batch, give the frames the pandas
    marts give from the same rows."""
    store = curated_store(generated)
    wanted = targets(generated)
    expected = build_pandas_marts(generated, wanted, "EUR")
    batches = list(build_from_store(store, {}, wanted, "EUR", cache_dir=str(tmp_path), memory_limit="1GB"))
    assert len(batches) == 1  # 4,000 lines: every month in one batch
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(batches[0][name], frame, check_exact=False, rtol=1e-9, obj=name)
    with SqlEngine(tmp_path) as engine:
        assert SqlMarts.from_store(store, engine).currencies() == currency.currencies(generated)


def test_month_by_month_arrow_tables_from_the_store_equal_the_conformed_frames(generated, tmp_path):
    """The fast path (each batch scanning only its months' objects, conformed by SQL into Arrow tables, as a
    rebuild writes them) gives exactly the tables `to_table(conform(frame))` gives: same rows, order, types."""
    wanted = targets(generated)
    with SqlEngine() as engine:
        frames = SqlMarts.from_inputs(generated, engine).build(wanted, "USD")
    parts: dict[str, list[pa.Table]] = {}
    with SqlEngine(tmp_path, memory_limit="1GB") as engine:
        marts = SqlMarts.from_store(curated_store(generated), engine, rows_per_batch=1)
        months = marts.lines_per_month()
        batches = list(marts.tables(wanted, "USD"))
        scanned = engine.query("SELECT count(*) AS n FROM curated_order_lines").to_pylist()[0]["n"]
        last = generated.order_lines["_date"].dt.strftime("%Y-%m") >= max(f"{y:04d}-{m:02d}" for y, m in months)
        assert scanned < len(generated.order_lines) == sum(months.values())  # the last batch: its months only
        assert scanned >= last.sum()
        assert marts.lines_per_month() == months  # a whole-history question sees every object again
        assert len(batches) == len(marts.batches({n: set(d) for n, d in wanted.items()})) >= len(months) >= 3
        for tables in batches:
            for name, table in tables.items():
                parts.setdefault(name, []).append(table)
    for name, frame in frames.items():
        got = pa.concat_tables(parts[name])
        want = to_table(frame, name)
        assert got.schema == want.schema, name
        assert got.equals(want), name
        for label, month in table_partitions(got).items():  # what a writer puts: one object per month
            assert set(pc.strftime(month.column("date"), "%Y-%m").to_pylist()) == {label}
