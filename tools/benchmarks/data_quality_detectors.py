"""Benchmark of the data-quality detectors (pipeline/raw-to-curated/curation/detectors).

Generates N order lines (default 1,000,000) shaped like a curated batch, already coerced as the engine
hands them to `detect`: orders of 1-4 lines with SKU, description, category, quantity, unit price in the
buyer's currency, customer with country, postcode and city, cancellation and promo flags. Defects are
injected at known positions, one per row:

  category_typo          'Electornics', 'Gardn', 'ELECTRONICS' ...      -> typo / rare_category
  placeholder            city 'N/A', postcode '0000', description '?'  -> placeholder
  outlier_quantity       120, 480, 1000 or 5000 on a sale line           -> robust_zscore / isolation_forest
  price_far_apart        unit price x10 or /10 for its SKU               -> robust_zscore / dependency
  dependency_violation   another city for the postcode, another SKU's description -> dependency
  near_duplicate         a copy of a line with another line_no, a re-cased description or another order id

Prints precision per detector (a flag is right when its row carries an injected defect in the flagged
column; whole-row flags and dependency flags, which cannot tell which side of the dependency is wrong, are
judged by row), recall per defect kind, the share of clean rows flagged, and timings.

    .venv/bin/python tools/benchmarks/data_quality_detectors.py                # 1,000,000 rows
    .venv/bin/python tools/benchmarks/data_quality_detectors.py --rows 200000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "pipeline" / "raw-to-curated"))

from curation import detectors  # noqa: E402

COLUMNS = {
    "order_id": "string",
    "line_no": "int",
    "order_ts": "timestamp",
    "sku": "string",
    "description": "string",
    "category": "string",
    "quantity": "int",
    "unit_price": "float",
    "currency": "currency",
    "customer_id": "string",
    "country": "country",
    "postcode": "string",
    "city": "string",
    "is_cancellation": "bool",
    "promo_flag": "bool",
}
KIND_DETECTORS = {
    "category_typo": {"typo", "rare_category"},
    "placeholder": {"placeholder"},
    "outlier_quantity": {"robust_zscore", "isolation_forest"},
    "price_far_apart": {"robust_zscore", "dependency", "isolation_forest"},
    "dependency_violation": {"dependency"},
    "near_duplicate": {"near_duplicate"},
}
ROW_LEVEL = {"near_duplicate", "isolation_forest", "dependency"}
RATES = {  # share of rows per defect kind
    "category_typo": 0.0003,
    "placeholder": 0.0003,
    "outlier_quantity": 0.0001,
    "price_far_apart": 0.0002,
    "dependency_violation": 0.0003,
    "near_duplicate": 0.0003,
}

CATEGORIES = {
    "Electronics": ("Wireless Earbuds", "Bluetooth Speaker", "Smart Watch", "4K Monitor", "Power Bank"),
    "Home & Kitchen": ("Espresso Machine", "Chef Knife", "Cast Iron Pan", "Blender", "Kettle"),
    "Garden": ("Garden Hose", "Pruning Shears", "Raised Bed", "Solar Lights", "Watering Can"),
    "Toys": ("Building Set", "Plush Bear", "RC Car", "Board Game", "Wooden Train"),
    "Sports": ("Yoga Mat", "Running Shoes", "Dumbbell Set", "Cycling Helmet", "Tennis Racket"),
    "Beauty": ("Face Serum", "Hair Dryer", "Perfume", "Lip Balm Set", "Night Cream"),
    "Books": ("Cookbook", "Crime Novel", "Travel Guide", "Atlas", "Garden Handbook"),
    "Fashion": ("Winter Jacket", "Wool Scarf", "Leather Belt", "Sneakers", "Rain Coat"),
}
TYPOS = {
    "Electronics": ("Electornics", "Electronic", "ELECTRONICS"),
    "Home & Kitchen": ("Home & Kitchn", "home & kitchen"),
    "Garden": ("Gardn", "Garden "),
    "Toys": ("Tosy", "toys"),
    "Sports": ("Sprots", "Sport"),
    "Beauty": ("Beuaty", "BEAUTY"),
    "Books": ("Bokos", "Boooks"),
    "Fashion": ("Fashon", "Fahsion"),
}
BRANDS = (
    "Voltix",
    "Nordvik",
    "Lumen",
    "Kochwerk",
    "Casa Bella",
    "GreenThumb",
    "Playfox",
    "Stride",
    "Alpenfit",
    "Belle Rose",
    "Skinlab",
    "Paperleaf",
    "Urbane",
    "Maison Fil",
    "Nordkap",
)
COLOURS = ("black", "white", "grey", "navy", "red", "green", "oak", "steel")
COUNTRIES = {  # code: (currency, price factor, weight, cities)
    "GB": (
        "GBP",
        0.86,
        0.30,
        (
            "London",
            "Manchester",
            "Birmingham",
            "Leeds",
            "Glasgow",
            "Bristol",
            "Liverpool",
            "Edinburgh",
            "Cardiff",
            "Belfast",
            "Sheffield",
            "Leicester",
        ),
    ),
    "DE": (
        "EUR",
        1.0,
        0.22,
        (
            "Berlin",
            "Hamburg",
            "München",
            "Köln",
            "Frankfurt am Main",
            "Stuttgart",
            "Düsseldorf",
            "Leipzig",
            "Dortmund",
            "Essen",
            "Bremen",
            "Dresden",
        ),
    ),
    "FR": (
        "EUR",
        1.0,
        0.12,
        ("Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier", "Bordeaux", "Lille"),
    ),
    "NL": ("EUR", 1.0, 0.08, ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen")),
    "US": (
        "USD",
        1.08,
        0.18,
        (
            "New York",
            "Los Angeles",
            "Chicago",
            "Houston",
            "Phoenix",
            "Philadelphia",
            "San Antonio",
            "San Diego",
            "Dallas",
            "Seattle",
            "Boston",
            "Denver",
        ),
    ),
    "SE": ("SEK", 11.5, 0.10, ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro")),
}
POSTCODES_PER_CITY = 40
PLACEHOLDERS = {"city": ("N/A", "-", "unknown"), "postcode": ("0000", "N/A", "-"), "description": ("?", "N/A")}


def _postcode(country: str, city: int, k: int, rng: np.random.Generator) -> str:
    if country == "GB":
        letters = "ABCDEFGHJKLMNPRSTUWY"
        return (
            f"{letters[city % 20]}{letters[(city * 7 + k) % 20]}{k % 9 + 1} {k // 9 % 9 + 1}{letters[k % 20]}"
            f"{letters[(k * 3 + city) % 20]}"
        )
    if country == "NL":
        return f"{1000 + city * 100 + k} {'ABCDEFGHJK'[k % 10]}{'LMNPRSTVWX'[city % 10]}"
    if country == "SE":
        code = 10000 + city * 1000 + k * 7
        return f"{code // 100} {code % 100:02d}"
    base = {"DE": 10000, "FR": 20000, "US": 30000}[country]
    code = f"{base + city * 500 + k * 3:05d}"
    return code if len(set(code)) > 1 else f"{base + city * 500 + k * 3 + 1:05d}"


def _catalog(rng: np.random.Generator, n_skus: int) -> pd.DataFrame:
    names = list(CATEGORIES)
    cat = rng.integers(0, len(names), n_skus)
    noun = np.array([CATEGORIES[names[c]][rng.integers(5)] for c in cat], dtype=object)
    brand = np.array(BRANDS, dtype=object)[rng.integers(0, len(BRANDS), n_skus)]
    colour = np.array(COLOURS, dtype=object)[rng.integers(0, len(COLOURS), n_skus)]
    median = {
        "Electronics": 90.0,
        "Home & Kitchen": 45.0,
        "Garden": 30.0,
        "Toys": 25.0,
        "Sports": 40.0,
        "Beauty": 20.0,
        "Books": 14.0,
        "Fashion": 45.0,
    }
    price = np.round(np.array([median[names[c]] for c in cat]) * np.exp(rng.normal(0, 0.6, n_skus)), 2)
    return pd.DataFrame(
        {
            "sku": [f"SKU-{10001 + i}" for i in range(n_skus)],
            "description": [f"{b} {n}, {c} #{i}" for i, (b, n, c) in enumerate(zip(brand, noun, colour, strict=True))],
            "category": [names[c] for c in cat],
            "price": np.maximum(price, 1.5),
            "popularity": rng.zipf(1.6, n_skus).clip(1, 500).astype(float),
        }
    )


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    codes = list(COUNTRIES)
    weights = np.array([COUNTRIES[c][2] for c in codes])
    country = rng.choice(len(codes), size=n, p=weights / weights.sum())
    rows = []
    for i, c in enumerate(country.tolist()):
        code = codes[c]
        cities = COUNTRIES[code][3]
        city = int(rng.integers(len(cities)))
        k = int(rng.integers(POSTCODES_PER_CITY))
        rows.append((f"C{100000 + i}", code, _postcode(code, city, k, rng), cities[city]))
    return pd.DataFrame(rows, columns=["customer_id", "country", "postcode", "city"])


def generate(n_rows: int, seed: int = 7, defects: bool = True) -> tuple[pd.DataFrame, list[dict]]:
    """(frame of about n_rows order lines with the dtypes `detect` receives, injected defects)."""
    rng = np.random.default_rng(seed)
    catalog = _catalog(rng, max(50, min(3000, n_rows // 300)))
    customers = _customers(rng, max(100, min(60000, n_rows // 15)))
    n_orders = int(n_rows / 2.2)
    lines = rng.choice([1, 2, 3, 4], size=n_orders, p=[0.35, 0.3, 0.2, 0.15])
    while lines.sum() < n_rows:
        lines = np.r_[lines, rng.choice([1, 2, 3, 4], size=1000, p=[0.35, 0.3, 0.2, 0.15])]
    cut = np.searchsorted(np.cumsum(lines), n_rows)
    lines = lines[: cut + 1]
    lines[-1] -= lines.sum() - n_rows
    lines = lines[lines > 0]
    n_orders = lines.size
    order_of_line = np.repeat(np.arange(n_orders), lines)
    starts = np.r_[0, np.cumsum(lines)[:-1]]
    line_no = np.arange(n_rows) - np.repeat(starts, lines) + 1
    cust_of_order = rng.integers(0, len(customers), n_orders)
    ts_order = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        np.sort(rng.integers(0, 365 * 86400, n_orders)), unit="s"
    )
    p = catalog["popularity"].to_numpy() / catalog["popularity"].sum()
    sku = rng.choice(len(catalog), size=n_rows, p=p)
    for _ in range(50):  # no SKU twice in one order: redraw repeats
        repeat = pd.DataFrame({"o": order_of_line, "s": sku}).duplicated().to_numpy()
        if not repeat.any():
            break
        sku[repeat] = rng.choice(len(catalog), size=int(repeat.sum()), p=p)
    cust = customers.iloc[cust_of_order[order_of_line]].reset_index(drop=True)
    currency = np.array([COUNTRIES[c][0] for c in cust["country"]], dtype=object)
    factor = np.array([COUNTRIES[c][1] for c in cust["country"]])
    promo = rng.random(n_rows) < 0.1
    discount = np.where(promo, rng.choice([0.1, 0.15, 0.2, 0.25, 0.3], size=n_rows), 0.0)
    drift = 1 + 0.04 * np.sin(np.arange(n_rows) / n_rows * 6.28)
    price = np.round(catalog["price"].to_numpy()[sku] * factor * (1 - discount) * drift, 2)
    quantity = np.minimum(rng.geometric(0.45, n_rows), 24)
    cancelled_orders = rng.random(n_orders) < 0.02
    is_cancel = cancelled_orders[order_of_line]
    quantity = np.where(is_cancel, -quantity, quantity)
    frame = pd.DataFrame(
        {
            "order_id": np.array([f"ORD-{1000000 + i}" for i in range(n_orders)], dtype=object)[order_of_line],
            "line_no": pd.array(line_no, dtype="Int64"),
            "order_ts": ts_order[order_of_line].to_numpy(),
            "sku": catalog["sku"].to_numpy()[sku],
            "description": catalog["description"].to_numpy()[sku],
            "category": catalog["category"].to_numpy()[sku],
            "quantity": pd.array(quantity, dtype="Int64"),
            "unit_price": pd.array(price, dtype="Float64"),
            "currency": currency,
            "customer_id": cust["customer_id"].to_numpy(dtype=object),
            "country": cust["country"].to_numpy(dtype=object),
            "postcode": cust["postcode"].to_numpy(dtype=object),
            "city": cust["city"].to_numpy(dtype=object),
            "is_cancellation": pd.array(is_cancel, dtype="boolean"),
            "promo_flag": pd.array(promo, dtype="boolean"),
        }
    )
    frame["order_ts"] = pd.to_datetime(frame["order_ts"], utc=True)
    if not defects:
        return frame, []
    return _inject(frame, catalog, rng)


def _inject(frame: pd.DataFrame, catalog: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, list[dict]]:
    n = len(frame)
    taken = np.zeros(n, dtype=bool)
    records: list[dict] = []
    sale = ~frame["is_cancellation"].to_numpy(dtype=bool)

    def pick(rate: float, eligible: np.ndarray | None = None) -> np.ndarray:
        ok = ~taken if eligible is None else (~taken & eligible)
        k = min(int(rng.binomial(n, rate)), int(ok.sum()))
        rows = np.sort(rng.choice(np.flatnonzero(ok), size=k, replace=False)) if k else np.zeros(0, np.int64)
        taken[rows] = True
        return rows

    cat = frame["category"].to_numpy(dtype=object)
    for r in pick(RATES["category_typo"]).tolist():
        options = TYPOS[cat[r]]
        new = options[int(rng.integers(len(options)))]
        records.append({"row": r, "column": "category", "kind": "category_typo", "value": new, "original": cat[r]})
        frame.at[r, "category"] = new
    for r in pick(RATES["placeholder"]).tolist():
        col = ("city", "postcode", "description")[int(rng.integers(3))]
        new = PLACEHOLDERS[col][int(rng.integers(len(PLACEHOLDERS[col])))]
        records.append({"row": r, "column": col, "kind": "placeholder", "value": new, "original": frame.at[r, col]})
        frame.at[r, col] = new
    for r in pick(RATES["outlier_quantity"], sale).tolist():
        new = int(rng.choice([120, 480, 1000, 5000], p=[0.4, 0.3, 0.2, 0.1]))
        records.append(
            {
                "row": r,
                "column": "quantity",
                "kind": "outlier_quantity",
                "value": new,
                "original": int(frame.at[r, "quantity"]),
            }
        )
        frame.at[r, "quantity"] = new
    for r in pick(RATES["price_far_apart"]).tolist():
        old = float(frame.at[r, "unit_price"])
        new = round(old * 10, 2) if rng.random() < 0.5 else round(old / 10, 2)
        records.append({"row": r, "column": "unit_price", "kind": "price_far_apart", "value": new, "original": old})
        frame.at[r, "unit_price"] = new
    cities = {c: v[3] for c, v in COUNTRIES.items()}
    descriptions = catalog["description"].to_numpy(dtype=object)
    for r in pick(RATES["dependency_violation"]).tolist():
        if rng.random() < 0.5:
            options = [c for c in cities[frame.at[r, "country"]] if c != frame.at[r, "city"]]
            col, new = "city", options[int(rng.integers(len(options)))]
        else:
            col, new = "description", descriptions[int(rng.integers(len(descriptions)))]
            if new == frame.at[r, "description"]:
                continue
        records.append(
            {"row": r, "column": col, "kind": "dependency_violation", "value": new, "original": frame.at[r, col]}
        )
        frame.at[r, col] = new
    # near duplicates: inserted right after their source row; positions refer to the final frame
    sources = pick(RATES["near_duplicate"])
    copies = frame.iloc[sources].copy()
    how = rng.integers(0, 3, len(sources))
    max_line = frame.groupby("order_id")["line_no"].transform("max").to_numpy()[sources]
    for i, h in enumerate(how.tolist()):
        if h == 0:
            copies.iat[i, copies.columns.get_loc("line_no")] = int(max_line[i]) + 1
        elif h == 1:
            copies.iat[i, copies.columns.get_loc("description")] = str(
                copies.iat[i, copies.columns.get_loc("description")]
            ).upper()
        else:
            copies.iat[i, copies.columns.get_loc("order_id")] = f"ORD-{9000000 + i}"
    counts = np.ones(n, dtype=np.int64)
    counts[sources] = 2
    new_pos = np.arange(n) + np.r_[0, np.cumsum(counts - 1)[:-1]]
    out = frame.iloc[np.repeat(np.arange(n), counts)].reset_index(drop=True)
    copy_pos = new_pos[sources] + 1
    out.iloc[copy_pos] = copies.to_numpy()
    out = out.astype(frame.dtypes.to_dict())
    for rec in records:
        rec["row"] = int(new_pos[rec["row"]])
    for i, pos in enumerate(copy_pos.tolist()):
        records.append(
            {
                "row": pos,
                "column": None,
                "kind": "near_duplicate",
                "value": ["line_no", "description", "order_id"][int(how[i])],
                "original": int(new_pos[sources[i]]),
            }
        )
    records.sort(key=lambda d: d["row"])
    return out, records


def score(flags: list, truth: list[dict], n_rows: int) -> dict:
    cells = {(d["row"], d["column"]) for d in truth}
    rows = {d["row"] for d in truth}

    def correct(f) -> bool:
        if f.column is None or f.detector in ROW_LEVEL:
            return f.row in rows
        return (f.row, f.column) in cells or (f.row, None) in cells

    per_detector: dict[str, dict] = {}
    for name in sorted({f.detector for f in flags}):
        mine = [f for f in flags if f.detector == name]
        right = sum(correct(f) for f in mine)
        per_detector[name] = {"flags": len(mine), "correct": right, "precision": round(right / len(mine), 4)}
    flagged_cells: dict[tuple[int, str | None], set[str]] = {}
    flagged_rows: dict[int, set[str]] = {}
    for f in flags:
        flagged_cells.setdefault((f.row, f.column), set()).add(f.detector)
        flagged_rows.setdefault(f.row, set()).add(f.detector)
    per_kind: dict[str, dict] = {}
    for kind, wanted in KIND_DETECTORS.items():
        mine = [d for d in truth if d["kind"] == kind]
        found = 0
        for d in mine:
            detectors_here = (
                flagged_rows.get(d["row"], set())
                if d["column"] is None
                else (
                    flagged_cells.get((d["row"], d["column"]), set())
                    | {x for x in flagged_rows.get(d["row"], set()) if x in ROW_LEVEL}
                )
            )
            found += bool(detectors_here & wanted)
        per_kind[kind] = {
            "injected": len(mine),
            "found": found,
            "recall": round(found / len(mine), 4) if mine else None,
        }
    right = sum(correct(f) for f in flags)
    clean_rows = n_rows - len(rows)
    false_rows = len({f.row for f in flags if not correct(f)})
    return {
        "per_detector": per_detector,
        "per_kind": per_kind,
        "overall": {
            "flags": len(flags),
            "precision": round(right / len(flags), 4) if flags else None,
            "recall": round(
                sum(k["found"] for k in per_kind.values()) / max(1, sum(k["injected"] for k in per_kind.values())), 4
            ),
            "clean_rows_flagged": false_rows,
            "clean_row_share": round(false_rows / max(1, clean_rows), 6),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--show", type=int, default=0, help="print this many wrong flags per detector")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    frame, truth = generate(args.rows, args.seed)
    generated = time.perf_counter() - t0
    print(
        f"generated {len(frame):,} rows x {frame.shape[1]} columns, {len(truth)} injected defects "
        f"({dict(Counter(d['kind'] for d in truth))}) in {generated:.1f} s",
        flush=True,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    result = detectors.run(frame, COLUMNS, with_profile=True)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    figures = score(result.flags, truth, len(frame))
    figures["rows"] = len(frame)
    figures["seconds"] = {"detect_and_profile": round(total, 2), "cpu": round(cpu, 2), **result.seconds}
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    figures["notes"] = result.notes

    print(f"\n{'detector':<18}{'flags':>8}{'correct':>9}{'precision':>11}")
    for name, d in figures["per_detector"].items():
        print(f"{name:<18}{d['flags']:>8}{d['correct']:>9}{d['precision']:>11.3f}")
    print(f"\n{'defect kind':<22}{'injected':>9}{'found':>7}{'recall':>8}")
    for kind, d in figures["per_kind"].items():
        recall = "-" if d["recall"] is None else f"{d['recall']:.3f}"
        print(f"{kind:<22}{d['injected']:>9}{d['found']:>7}{recall:>8}")
    o = figures["overall"]
    print(
        f"\noverall precision {o['precision']}, recall {o['recall']}, clean rows flagged {o['clean_rows_flagged']} "
        f"({o['clean_row_share']:.4%})"
    )
    print(
        "seconds: "
        + ", ".join(f"{k} {v}" for k, v in figures["seconds"].items())
        + f" (wall clock; cpu = this process's CPU time; load average {figures['load_average']})"
    )
    if result.notes:
        print("notes:", result.notes)
    if args.show:
        rows = {d["row"]: d for d in truth}
        cells = {(d["row"], d["column"]) for d in truth}
        shown: Counter = Counter()
        for f in result.flags:
            ok = (
                (f.row in rows)
                if (f.column is None or f.detector in ROW_LEVEL)
                else ((f.row, f.column) in cells or (f.row, None) in cells)
            )
            if not ok and shown[f.detector] < args.show:
                shown[f.detector] += 1
                print("  wrong:", f, "| row:", frame.iloc[f.row].to_dict())
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
