"""The sample data generator: determinism, contracts, recorded defects, fraud labels, leaked PANs, profiles.

Files are read directly with pandas/pyarrow using each source contract's own settings (not via the pipeline).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

import retail_platform.sampledata as sampledata
from retail_platform.sampledata import MANIFEST_DIR, SMALL_PROFILE, Manifest, generate
from retail_platform.sampledata.__main__ import main
from retail_platform.sampledata.catalog import CATEGORIES
from retail_platform.sampledata.defects import KINDS

CONTRACTS = Path(sampledata.__file__).resolve().parents[1] / "contracts"
SOURCE_NAMES = (
    "sample-orders",
    "sample-order-lines",
    "sample-customers",
    "sample-products",
    "sample-payments",
    "sample-inventory",
    "sample-prices",
    "sample-fx-rates",
)
CURRENCIES = {"EUR", "GBP", "USD", "SEK"}
COUNTRY_NAMES = {
    "United Kingdom",
    "Germany",
    "France",
    "Spain",
    "Italy",
    "Netherlands",
    "United States",
    "Sweden",
}
ALPHA3 = {"GBR", "DEU", "FRA", "ESP", "ITA", "NLD", "USA", "SWE"}
BOOL_WORDS = {"true", "false", "yes", "no", "y", "n", "1", "0"}
PAN_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in re.sub(r"\D", "", number)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return len(digits) > 1 and total % 10 == 0


@cache
def contract(name: str) -> dict:
    return yaml.safe_load((CONTRACTS / "sources" / f"{name}.yaml").read_text(encoding="utf-8"))


@cache
def canonical(dataset: str) -> dict:
    return yaml.safe_load((CONTRACTS / "canonical" / f"{dataset}.yaml").read_text(encoding="utf-8"))


def read_raw(path: Path, spec: dict) -> pd.DataFrame:
    """The file's cells as the contract describes it: CSV values as text, JSON/Parquet values as stored."""
    fmt = spec["format"]
    if fmt == "csv":
        c = spec["csv"]
        return pd.read_csv(
            path,
            sep=c["delimiter"],
            encoding=c["encoding"],
            quotechar=c.get("quotechar", '"'),
            dtype=str,
            keep_default_na=False,
            compression="infer",
        )
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False, convert_dates=False, compression="infer")
    assert fmt == "parquet"
    return pq.read_table(path).to_pandas()


def is_null(v: object, na_values: list[str]) -> bool:
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return isinstance(v, str) and v in na_values


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small-a")
    assert main(["--out", str(out), "--small"]) == 0
    return out


@pytest.fixture(scope="module")
def manifest(small: Path) -> Manifest:
    return Manifest.read(small)


@pytest.fixture(scope="module")
def frames(small: Path, manifest: Manifest) -> dict[str, pd.DataFrame]:
    by_prefix = {contract(n)["prefix"]: contract(n) for n in SOURCE_NAMES}
    out = {}
    for key in manifest.files:
        spec = next(s for p, s in by_prefix.items() if key.startswith(p))
        out[key] = read_raw(small / key, spec)
    return out


def spec_for(key: str) -> dict:
    return next(contract(n) for n in SOURCE_NAMES if key.startswith(contract(n)["prefix"]))


# --- determinism and profiles ---------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(small: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", seed=7, **SMALL_PROFILE)
    generate(tmp_path / "other", seed=8, **SMALL_PROFILE)
    first, again, other = _tree(small), _tree(tmp_path / "again"), _tree(tmp_path / "other")
    assert first == again
    assert first.keys() == other.keys()
    changed = [k for k in first if first[k] != other[k]]
    assert len(changed) >= len(first) - 2  # every file with random content differs


def test_small_profile_has_the_expected_shape(tmp_path: Path) -> None:
    m = generate(tmp_path, seed=3, **SMALL_PROFILE)  # its speed is a benchmark figure, not a test
    rows = {k: v["rows"] for k, v in m.summary["datasets"].items()}
    files = {k: v["files"] for k, v in m.summary["datasets"].items()}
    assert files == {
        "order_lines": 3,
        "orders": 3,
        "customers": 1,
        "products": 1,
        "payments": 3,
        "inventory": 3,
        "prices": 3,
        "fx_rates": 1,
    }
    assert rows["customers"] == 300
    assert rows["products"] == 30
    assert rows["fx_rates"] == 92 * 3
    assert 2_500 <= rows["order_lines"] <= 8_000
    assert 1_200 <= rows["orders"] <= 5_000
    assert rows["payments"] > rows["orders"]  # declined retries and card-testing attempts
    dup = sum(1 for d in m.defects if d["kind"] == "exact_duplicate" and d["file"].startswith("sample/inventory/"))
    assert rows["inventory"] - dup == rows["prices"] <= 92 * 30 * 4  # one snapshot/price per live SKU x market x day
    assert m.summary["params"]["countries"] == ["GB", "DE", "US", "SE"]


def test_manifest_row_counts_match_the_files(frames: dict[str, pd.DataFrame], manifest: Manifest, small: Path) -> None:
    assert {k: len(df) for k, df in frames.items()} == manifest.files
    written = {p.relative_to(small).as_posix() for p in small.rglob("*") if p.is_file()}
    assert {k for k in written if not k.startswith(MANIFEST_DIR)} == set(manifest.files)
    assert all(k.startswith("sample/") for k in manifest.files)


# --- contracts ------------------------------------------------------------------------------------


def test_every_sample_contract_exists_and_routes_files(manifest: Manifest) -> None:
    for name in SOURCE_NAMES:
        spec = contract(name)
        assert spec["name"] == name
        assert spec["prefix"] == f"sample/{spec['dataset']}/"
        assert set(spec["columns"]) <= set(canonical(spec["dataset"])["columns"])
        assert any(k.startswith(spec["prefix"]) for k in manifest.files), name
    for key in manifest.files:  # exactly one contract routes each object
        assert sum(key.startswith(contract(n)["prefix"]) for n in SOURCE_NAMES) == 1


def _check_value(v: object, ctype: str, mapping: dict, fmt: str | None, spec: dict) -> bool:
    """Would the canonical type accept this raw value?"""
    s = str(v).strip()
    if "map" in mapping:
        return s in {str(k) for k in mapping["map"]}
    if ctype in ("int", "float"):
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            return ctype == "float" or float(v) == int(v)
        c = spec.get("csv", {})
        if c.get("thousands"):
            s = s.replace(c["thousands"], "")
        s = s.replace(c.get("decimal", "."), ".")
        return bool(re.fullmatch(r"-?\d+" if ctype == "int" else r"-?\d+(\.\d+)?", s))
    if ctype in ("date", "timestamp"):
        if isinstance(v, pd.Timestamp):
            return True
        try:
            if fmt:
                pd.to_datetime(s, format=fmt)
            else:
                pd.Timestamp(s)
            return True
        except ValueError:
            return False
    if ctype == "bool":
        return isinstance(v, (bool, np.bool_)) or s.lower() in BOOL_WORDS
    if ctype == "currency":
        return s in CURRENCIES
    if ctype == "country":
        return bool(re.fullmatch(r"[A-Z]{2}", s)) or s in ALPHA3 or s in COUNTRY_NAMES
    if ctype == "pan":
        return s.isdigit() and 13 <= len(s) <= 19 and luhn_ok(s)
    return True


def test_every_file_parses_with_its_contract_except_at_recorded_defects(
    frames: dict[str, pd.DataFrame], manifest: Manifest
) -> None:
    recorded = {(d["file"], d["row"], d["column"]) for d in manifest.defects}
    for key, df in frames.items():
        spec = spec_for(key)
        canon = canonical(spec["dataset"])["columns"]
        na = spec.get("na_values", [""])
        for col, mapping in spec["columns"].items():
            src = mapping["source"]
            assert src in df.columns, f"{key}: missing column {src}"
            ctype = canon[col]["type"]
            allowed = canon[col].get("allowed")
            for row, v in enumerate(df[src].tolist()):
                if is_null(v, na):
                    ok = not canon[col].get("required")
                else:
                    ok = _check_value(v, ctype, mapping, mapping.get("format"), spec)
                    if ok and allowed and "map" not in mapping:
                        ok = str(v) in allowed
                    if ok and allowed and "map" in mapping:
                        ok = mapping["map"][str(v)] in allowed
                assert ok or (key, row, src) in recorded, f"{key} row {row} {src}={v!r} is bad but not recorded"


def test_contract_encodings_and_number_formats_are_real(small: Path, manifest: Manifest) -> None:
    customers = next(k for k in manifest.files if k.startswith("sample/customers/"))
    raw = (small / customers).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # genuinely cp1252, accented city names
    text = raw.decode(contract("sample-customers")["csv"]["encoding"])
    assert any(city in text for city in ("München", "Köln", "Düsseldorf", "Nürnberg", "Malmö", "Göteborg", "Västerås"))
    products = next(k for k in manifest.files if k.startswith("sample/products/"))
    c = contract("sample-products")["csv"]
    df = pd.read_csv(
        small / products,
        sep=c["delimiter"],
        encoding=c["encoding"],
        decimal=c["decimal"],
        thousands=c["thousands"],
    )
    assert df.columns[0] == "Artikelnummer"  # the BOM is consumed by utf-8-sig
    assert df["Listenpreis"].dtype == float and df["Listenpreis"].max() > 1000  # "1.299,00" style values


# --- defects --------------------------------------------------------------------------------------


def test_every_defect_is_where_the_manifest_says(frames: dict[str, pd.DataFrame], manifest: Manifest) -> None:
    assert manifest.defects, "no defects injected"
    kinds = {d["kind"] for d in manifest.defects}
    assert kinds == set(KINDS)  # even the small profile shows every kind
    seen: set[tuple[str, int]] = set()
    for d in manifest.defects:
        df = frames[d["file"]]
        row = int(d["row"])
        assert (d["file"], row) not in seen, f"two defects in one row: {d}"
        seen.add((d["file"], row))
        if d["kind"] == "exact_duplicate":
            assert d["of_row"] == row - 1
            assert df.iloc[row].equals(df.iloc[row - 1]), d
            continue
        cell = df.at[row, d["column"]]
        if d["value"] is None:
            assert is_null(cell, []), d
        elif isinstance(d["value"], float):
            assert cell == pytest.approx(d["value"]), d
        else:
            assert cell == d["value"], d
        assert d["value"] != d["original"] or d["kind"] == "leaked_pan"
        if d["kind"] == "business_key_duplicate":
            prev = df.iloc[int(d["of_row"])]
            assert (prev["OrderNo"], prev["LineNo"]) == (df.at[row, "OrderNo"], df.at[row, "LineNo"])
            assert prev["Qty"] == d["original"] != cell
        if d["kind"] == "category_typo":
            assert d["original"] in CATEGORIES and cell not in CATEGORIES
        if d["kind"] == "placeholder":
            assert cell in ("N/A", "-", "0000")


def test_defects_are_rare(manifest: Manifest) -> None:
    by_dataset: dict[str, int] = {}
    for d in manifest.defects:
        if d["kind"] != "leaked_pan":
            by_dataset[d["file"].split("/")[1]] = by_dataset.get(d["file"].split("/")[1], 0) + 1
    rows = {k: v["rows"] for k, v in manifest.summary["datasets"].items()}
    total = sum(by_dataset.values()) / sum(rows.values())
    assert 0.001 <= total <= 0.01
    for ds, n in by_dataset.items():
        assert n / rows[ds] <= 0.1 if ds == "products" else n / rows[ds] <= 0.02, ds


def test_duplicates_exist_only_where_recorded(frames: dict[str, pd.DataFrame], manifest: Manifest) -> None:
    for key, df in frames.items():
        if not key.startswith(("sample/order_lines/", "sample/inventory/")):
            continue
        dup_rows = set(np.flatnonzero(df.astype(str).duplicated().to_numpy()))
        recorded = {d["row"] for d in manifest.defects_in(key) if d["kind"] == "exact_duplicate"}
        assert dup_rows == recorded, key
        if key.startswith("sample/order_lines/"):
            keyed = df[(df["OrderNo"] != "")]
            bk = set(keyed.index[keyed.duplicated(["OrderNo", "LineNo"])]) - recorded
            assert bk == {d["row"] for d in manifest.defects_in(key) if d["kind"] == "business_key_duplicate"}


# --- PANs -----------------------------------------------------------------------------------------


def test_leaked_pans_are_luhn_valid_and_the_only_card_numbers_in_notes(
    frames: dict[str, pd.DataFrame], manifest: Manifest
) -> None:
    leaks = [d for d in manifest.defects if d["kind"] == "leaked_pan"]
    assert len(leaks) == manifest.summary["leaked_pans"] >= 5
    lengths = set()
    for d in leaks:
        pan = str(d["pan"])
        assert pan.isdigit() and 13 <= len(pan) <= 19 and luhn_ok(pan), d
        assert re.sub(r"\D", "", str(d["pan_as_written"])) == pan
        assert str(d["pan_as_written"]) in str(d["value"])
        lengths.add(len(pan))
    assert len(lengths) >= 2
    leaked_rows = {(d["file"], d["row"]) for d in leaks}
    lookalikes = {(x["file"], x["row"]) for x in manifest.extras["pan_lookalikes"]}
    assert lookalikes and not (lookalikes & leaked_rows)
    for key, df in frames.items():
        if not key.startswith("sample/orders/"):
            continue
        for row, note in enumerate(df["notes"].tolist()):
            has_pan = isinstance(note, str) and any(luhn_ok(m.group()) for m in PAN_RUN.finditer(note))
            assert has_pan == ((key, row) in leaked_rows), (key, row, note)


def test_payment_card_numbers_are_full_luhn_valid_pans(frames: dict[str, pd.DataFrame]) -> None:
    for key, df in frames.items():
        if key.startswith("sample/payments/"):
            cards = df.loc[df["payment_method"] == "card", "card_number"]
            assert cards.notna().all() and cards.map(luhn_ok).all()
            assert cards.str.len().between(13, 19).all()
            assert df.loc[df["payment_method"] != "card", "card_number"].isna().all()


# --- fraud ----------------------------------------------------------------------------------------


def test_fraud_labels_and_patterns(frames: dict[str, pd.DataFrame], manifest: Manifest) -> None:
    pay = pd.concat(
        [df.assign(_file=k, _row=np.arange(len(df))) for k, df in frames.items() if k.startswith("sample/payments/")],
        ignore_index=True,
    )
    rate = pay["is_fraud"].mean()
    assert 0.01 <= rate <= 0.02
    labels = {(x["file"], x["row"]): x["pattern"] for x in manifest.extras["fraud"]}
    fraud_rows = set(zip(pay.loc[pay["is_fraud"], "_file"], pay.loc[pay["is_fraud"], "_row"], strict=True))
    assert fraud_rows == set(labels)
    pay["pattern"] = [labels.get((f, r), "") for f, r in zip(pay["_file"], pay["_row"], strict=True)]
    assert set(pay["pattern"]) == {"", "account_takeover", "stolen_card", "card_testing"}

    testing = pay[pay["pattern"] == "card_testing"]
    assert (testing["amount"] <= 3.0).all() and testing["order_ref"].isna().all()
    assert testing.groupby("device_id").size().min() >= 5  # bursts from one device
    assert testing["card_number"].nunique() == len(testing)  # a fresh card each attempt

    stolen = pay[pay["pattern"] == "stolen_card"]
    assert (
        (stolen["bin_country"] != stolen["billing_country"])
        & (stolen["ip_country"] != stolen["billing_country"])
        & (stolen["ip_country"] != stolen["bin_country"])
    ).all()
    assert stolen["customer_ref"].isna().all()

    ato = pay[pay["pattern"] == "account_takeover"]
    legit = pay[pay["pattern"] == ""]
    known = set(zip(legit["customer_ref"], legit["device_id"], strict=True))
    assert ato["customer_ref"].notna().all() and (ato["ip_country"] != ato["billing_country"]).all()
    assert not any((c, dev) in known for c, dev in zip(ato["customer_ref"], ato["device_id"], strict=True))

    orders = pay[pay["order_ref"].notna() & (pay["amount"] > 0)]
    assert (
        orders.loc[orders["pattern"].isin(["stolen_card", "account_takeover"]), "amount"].median()
        > 2 * orders.loc[orders["pattern"] == "", "amount"].median()
    )  # fraudsters buy expensive baskets


# --- demand realism -------------------------------------------------------------------------------


def test_stockouts_suppress_sales(frames: dict[str, pd.DataFrame]) -> None:
    inv = pd.concat([df for k, df in frames.items() if k.startswith("sample/inventory/")]).drop_duplicates()
    inv = inv[
        (inv["warehouse_country"] == "DEU") & inv["item_sku"].notna() & inv["date"].str.match(r"\d{4}-\d\d-\d\d$")
    ]
    inv = inv.sort_values(["item_sku", "date"])
    inv["prev"] = inv.groupby("item_sku")["qty_on_hand"].shift()
    empty = inv[(inv["prev"] == 0) & (inv["qty_on_hand"] == 0)]
    assert len(empty) > 20  # stock-outs last for stretches
    lines = pd.concat([df for k, df in frames.items() if k.startswith("sample/order_lines/")])
    lines = lines[lines["Country"].isin(["DE", "Germany"]) & (lines["Cancelled"] == "N")]
    sold = set(zip(lines["Sku"], lines["OrderDate"].str[:10], strict=True))
    hits = sum((s, d) in sold for s, d in zip(empty["item_sku"], empty["date"], strict=True))
    assert hits <= 0.02 * len(empty)  # (only a delivery sold out the same day can do it)


def test_order_lines_follow_prices_and_promotions(frames: dict[str, pd.DataFrame]) -> None:
    lines = pd.concat([df for k, df in frames.items() if k.startswith("sample/order_lines/")])
    prices = pd.concat([df for k, df in frames.items() if k.startswith("sample/prices/")])
    prices = prices[prices["market"] == "DE"]
    prices = prices.assign(
        day=pd.to_datetime(prices["date"], format="%m/%d/%Y", errors="coerce").dt.strftime("%Y-%m-%d")
    )
    de = lines[(lines["Country"].isin(["DE", "Germany"])) & (lines["Cancelled"] == "N")]
    de = de.assign(day=de["OrderDate"].str[:10])
    m = de.merge(prices, left_on=["Sku", "day"], right_on=["product_id", "day"])
    assert len(m) > 0.9 * len(de)
    assert (m["UnitPrice"] == m["shelf_price"]).mean() > 0.99
    assert ((m["Promo"] == "yes") == (m["on_promo"] == "1")).mean() > 0.99
    share_promo_lines = (m["Promo"] == "yes").mean()
    share_promo_days = (prices["on_promo"] == "1").mean()
    assert share_promo_lines > 1.3 * share_promo_days  # promotions lift demand
