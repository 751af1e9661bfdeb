"""generate(): build the simulated shop, export every source's raw files and write the manifest."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from itertools import chain
from pathlib import Path

import numpy as np

from . import exports
from .catalog import build_catalog
from .countries import check_countries
from .customers import build_customers
from .demand import expected_lines, sample_lines
from .fraud import PATTERN_NAMES
from .inventory import simulate_stock
from .manifest import Manifest
from .orders import build_orders
from .params import DEFAULT_COUNTRIES, Params
from .payments import build_payments
from .pricing import build_fx_rates, build_prices
from .seasonality import calendar_factors
from .writers import write

DATASETS = ("order_lines", "orders", "customers", "products", "payments", "inventory", "prices", "fx_rates")


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    start: date = date(2023, 1, 1),
    days: int = 730,
    n_skus: int = 120,
    n_customers: int = 3000,
    countries: tuple[str, ...] = DEFAULT_COUNTRIES,
) -> Manifest:
    """Write raw exports under out_dir (paths = raw object keys) + _manifest/; same args -> same bytes."""
    params = Params(
        seed=seed, start=start, days=days, n_skus=n_skus, n_customers=n_customers, countries=tuple(countries)
    )
    out_dir = Path(out_dir)
    markets = check_countries(params.countries)

    catalog = build_catalog(params)
    prices = build_prices(params, catalog, markets)
    fx = build_fx_rates(params)
    cal = calendar_factors(params.dates, params.countries)
    lam = expected_lines(params, catalog, markets, prices, cal)
    demand = sample_lines(params, catalog, lam)
    stock = simulate_stock(params, catalog, lam, demand)
    customers = build_customers(params, markets)
    orders = build_orders(params, catalog, markets, prices, customers, demand.subset(stock.served))
    payments, labels = build_payments(params, markets, customers, orders)

    exported = chain(
        exports.order_lines(params, catalog, markets, customers, orders),
        exports.orders_files(params, markets, customers, orders),
        exports.customers_file(params, markets, customers),
        exports.products_file(params, catalog),
        exports.payments_files(params, payments, labels),
        exports.inventory_files(params, catalog, markets, stock),
        exports.prices_files(params, catalog, markets, prices),
        exports.fx_files(params, fx),
    )
    # each file is compressed and written on a thread while the next one is built (zlib and file writes release
    # the GIL): the same bytes, less wall time
    files = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="sample-write") as pool:
        written = []
        for f in exported:
            files.append(f)
            written.append(pool.submit(write, out_dir, f.key, f.data))
        for future in written:
            future.result()

    defects = [rec for f in files for rec in f.defects]
    extras: dict[str, list[dict[str, object]]] = {}
    for f in files:
        for name, recs in f.extras.items():
            extras.setdefault(name, []).extend(recs)
    row_counts = {f.key: f.rows for f in files}
    fraud_patterns = Counter(r["pattern"] for r in extras.get("fraud", []))
    n_payments = sum(f.rows for f in files if f.dataset == "payments")
    summary: dict[str, object] = {
        "generator": "retail_platform.sampledata",
        "seed": params.seed,
        "params": params.as_dict(),
        "files": row_counts,
        "datasets": {
            ds: {
                "files": sum(f.dataset == ds for f in files),
                "rows": sum(f.rows for f in files if f.dataset == ds),
            }
            for ds in DATASETS
        },
        "orders": len(orders),
        "order_lines_sales": int((~orders.line_cancel).sum()),
        "order_lines_cancellations": int(orders.line_cancel.sum()),
        "cancelled_orders": int((orders.status == "cancelled").sum()),
        "guest_orders": int((orders.customer < 0).sum()),
        "customers": len(customers),
        "customers_with_orders": len(np.unique(orders.customer[orders.customer >= 0])),
        "skus": len(catalog),
        "skus_launched_in_history": int((catalog.launch_day >= 0).sum()),
        "intermittent_skus": int(catalog.intermittent.sum()),
        "price_changes": prices.n_price_changes,
        "promo_windows": prices.n_promo_windows,
        "demanded_lines": len(demand),
        "lines_lost_to_stockouts": int((~stock.served).sum()),
        "stockout_cell_days": stock.stockout_cell_days,
        "supplier_disruptions": stock.disruptions,
        "leaked_pans": sum(1 for x in defects if x["kind"] == "leaked_pan"),
        "pan_lookalikes": len(extras.get("pan_lookalikes", [])),
        "payments": n_payments,
        "fraud": {
            "payments": sum(fraud_patterns.values()),
            "rate": round(sum(fraud_patterns.values()) / max(n_payments, 1), 4),
            "by_pattern": {name: fraud_patterns.get(name, 0) for name in PATTERN_NAMES.values()},
        },
        "defects": len(defects),
        "defects_by_kind": dict(sorted(Counter(str(x["kind"]) for x in defects).items())),
        "defects_by_dataset": {ds: sum(1 for f in files if f.dataset == ds for _ in f.defects) for ds in DATASETS},
    }
    manifest = Manifest(out_dir, row_counts, defects, summary, extras)
    manifest.write()
    return manifest
