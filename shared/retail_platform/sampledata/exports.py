"""Each source's raw files in its own third-party conventions, with defects injected and recorded.

One function per source; each returns ExportFile objects whose keys are raw-bucket object keys and
must keep matching the committed source contracts in contracts/sources/sample-*.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from . import defects as d
from .catalog import Catalog
from .countries import SHOP_TIMEZONE, CountryInfo
from .customers import Customers
from .inventory import StockLedger
from .orders import OrderBook
from .params import Params, stream
from .pricing import FX_LEVELS, PriceBook
from .writers import csv_bytes, jsonl_bytes, parquet_bytes

PREFIX = "sample"
SEGMENT_LABELS = {"consumer": "Privatkunde", "business": "Geschäftskunde", "vip": "VIP"}


@dataclass
class ExportFile:
    """One raw object: its key, content (uncompressed; writers gzip '.gz' keys), rows and recorded defects."""

    dataset: str
    key: str
    data: bytes
    rows: int
    defects: list[dict[str, object]]
    extras: dict[str, list[dict[str, object]]] = field(default_factory=dict)  # other ground truth, by manifest name


def _rng(params: Params, key: str) -> np.random.Generator:
    return stream(params.seed, "defects:" + key)


def _iso(ts: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' strings of naive datetime64 values."""
    return np.char.replace(np.datetime_as_string(ts.astype("datetime64[s]")), "T", " ")


def _months(labels: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """(YYYY-MM, row indices in ascending order) per month, in calendar order.

    One sort of the month codes instead of a comparison of every label per month (inventory and prices have
    hundreds of thousands of rows over 25 months).
    """
    months, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
    rows = np.argsort(codes, kind="stable")
    for month, idx in zip(months, np.split(rows, np.cumsum(counts)[:-1]), strict=True):
        yield str(month), idx


def _fmt2(x: np.ndarray) -> np.ndarray:
    """Two-decimal strings ('12.90')."""
    return np.array([f"{v:.2f}" for v in np.round(x, 2).tolist()], dtype=object)


def order_lines(
    params: Params,
    catalog: Catalog,
    countries: tuple[CountryInfo, ...],
    customers: Customers,
    orders: OrderBook,
) -> Iterator[ExportFile]:
    """Monthly gzipped CSVs, shop-local naive timestamps, country names for some rows and codes for others."""
    rng = stream(params.seed, "export:order_lines")
    o = orders.line_order
    c = orders.country[o]
    local = _iso(orders.line_ts_utc.tz_convert(SHOP_TIMEZONE).tz_localize(None).to_numpy())
    names = np.array([x.name for x in countries])
    codes = np.array([x.code for x in countries])
    cust = orders.customer[o]
    frame = pd.DataFrame(
        {
            "OrderNo": orders.order_no[o],
            "LineNo": orders.line_no.astype(str),
            "OrderDate": local,
            "Sku": catalog.sku[orders.line_sku],
            "Description": catalog.description[orders.line_sku],
            "Qty": orders.line_qty.astype(str),
            "UnitPrice": _fmt2(orders.line_price),
            "Currency": np.array([x.currency for x in countries])[c],
            "CustomerId": np.where(cust >= 0, customers.customer_id[np.maximum(cust, 0)], ""),
            "Country": np.where(rng.random(len(o)) < 0.55, names[c], codes[c]),
            "Promo": np.where(orders.line_promo, "yes", "no"),
            "Cancelled": np.where(orders.line_cancel, "Y", "N"),
        }
    ).astype(object)
    sale = ~orders.line_cancel
    rules = [
        d.Rule("missing_required", ("OrderNo", "Sku"), d.empty, rate=0.0006, at_least=1),
        d.Rule(
            "unparseable_date",
            ("OrderDate",),
            d.bad_date(("31/02/{y}", "yesterday", "{y}-02-30 12:00:00")),
            rate=0.0005,
            at_least=1,
        ),
        d.Rule("negative_price", ("UnitPrice",), d.negative_text, rate=0.0005, eligible="sale", at_least=1),
        d.Rule("invalid_country", ("Country",), d.invalid_country, rate=0.0005, at_least=1),
        d.Rule("invalid_currency", ("Currency",), d.invalid_currency, rate=0.0005, at_least=1),
        d.Rule("outlier_quantity", ("Qty",), d.outlier_quantity, rate=0.00005, eligible="sale", at_least=1),
        d.Rule("wrong_type", ("Qty",), d.quantity_in_words, rate=0.0005, eligible="sale", at_least=1),
        d.Rule("exact_duplicate", (), rate=0.001, at_least=1),
        d.Rule("business_key_duplicate", ("Qty",), d.other_quantity, rate=0.0005, eligible="sale", at_least=1),
    ]
    for i, (month, idx) in enumerate(_months(np.array([s[:7] for s in local]))):
        key = f"{PREFIX}/order_lines/order_lines-{month}.csv.gz"
        sub = frame.iloc[idx].reset_index(drop=True)
        file_rules = rules if i == 0 else [replace(r, at_least=0) for r in rules]  # every kind at least once
        out, recs, _ = d.inject(sub, key, file_rules, _rng(params, key), masks={"sale": sale[idx]})
        yield ExportFile("order_lines", key, csv_bytes(out), len(out), recs)


def orders_files(
    params: Params, countries: tuple[CountryInfo, ...], customers: Customers, orders: OrderBook
) -> Iterator[ExportFile]:
    """Monthly JSON Lines with camelCase keys, ISO 8601 timestamps with UTC offset, free-text notes."""
    local = orders.ts_utc.tz_convert(SHOP_TIMEZONE).tz_localize(None).to_numpy()
    offset_min = ((local - orders.ts_utc.tz_localize(None).to_numpy()) // np.timedelta64(1, "m")).astype(int)
    offset = np.array([f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in offset_min])
    stamp = np.char.add(np.datetime_as_string(local.astype("datetime64[s]")), offset)
    cust = orders.customer
    codes = np.array([x.code for x in countries])
    frame = pd.DataFrame(
        {
            "orderId": orders.order_no,
            "createdAt": stamp,
            "customerId": np.where(cust >= 0, customers.customer_id[np.maximum(cust, 0)], None),
            "billingCountry": codes[orders.country],
            "currency": np.array([x.currency for x in countries])[orders.country],
            "salesChannel": orders.channel,
            "status": orders.status,
            "shipToCountry": orders.ship_country,
            "notes": orders.notes,
        }
    ).astype(object)
    frame.loc[frame["customerId"].isna(), "customerId"] = None
    rules = [
        d.Rule("missing_required", ("orderId",), d.null, rate=0.0003),
        d.Rule(
            "unparseable_date",
            ("createdAt",),
            d.bad_date(("yesterday", "{y}-02-31T10:00:00+01:00")),
            rate=0.0005,
        ),
        d.Rule("invalid_country", ("billingCountry",), d.invalid_country, rate=0.0005),
    ]
    leaked = {i: (written, digits) for i, written, digits in orders.leaked}
    months = np.array([str(x)[:7] for x in np.datetime_as_string(local.astype("datetime64[D]"))])
    for month, idx in _months(months):
        key = f"{PREFIX}/orders/orders-{month}.jsonl"
        sub = frame.iloc[idx].reset_index(drop=True)
        presets = [
            d.Preset(
                j,
                "notes",
                "leaked_pan",
                sub.at[j, "notes"],
                {"pan": leaked[int(i)][1], "pan_as_written": leaked[int(i)][0]},
            )
            for j, i in enumerate(idx)
            if int(i) in leaked
        ]
        out, recs, new_index = d.inject(sub, key, rules, _rng(params, key), presets=presets)
        look = [
            {"file": key, "row": int(new_index[j]), "column": "notes", "value": sub.at[j, "notes"]}
            for j, i in enumerate(idx)
            if orders.lookalike[i]
        ]
        yield ExportFile("orders", key, jsonl_bytes(out), len(out), recs, {"pan_lookalikes": look})


def customers_file(params: Params, countries: tuple[CountryInfo, ...], customers: Customers) -> Iterator[ExportFile]:
    """One semicolon CSV in cp1252 from a German CRM: accented cities, dd.mm.yyyy sign-up dates."""
    signup = np.datetime64(params.start, "D") + customers.signup_day.astype("timedelta64[D]")
    ymd = np.datetime_as_string(signup)
    frame = pd.DataFrame(
        {
            "Kundennummer": customers.customer_id,
            "E-Mail": customers.email,
            "Land": np.array([x.code for x in countries])[customers.country],
            "Ort": customers.city,
            "PLZ": customers.postcode,
            "Registriert": [f"{s[8:10]}.{s[5:7]}.{s[:4]}" for s in ymd],
            "Kundengruppe": [SEGMENT_LABELS[s] for s in customers.segment],
        }
    ).astype(object)
    rules = [
        d.Rule("placeholder", ("PLZ",), d.placeholder, rate=0.004, at_least=1),
        d.Rule("placeholder", ("Ort",), d.placeholder_text, rate=0.002, at_least=1),
        d.Rule(
            "unparseable_date",
            ("Registriert",),
            d.bad_date(("31.02.{y}", "yesterday", "00.00.0000")),
            rate=0.002,
        ),
        d.Rule("invalid_country", ("Land",), d.invalid_country, rate=0.002),
        d.Rule("missing_required", ("Kundennummer",), d.empty, rate=0.001),
    ]
    key = f"{PREFIX}/customers/customers_export.csv"
    out, recs, _ = d.inject(frame, key, rules, _rng(params, key))
    yield ExportFile("customers", key, csv_bytes(out, delimiter=";", encoding="cp1252"), len(out), recs)


def _german_number(x: float) -> str:
    """1299.0 -> '1.299,00'."""
    return f"{x:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def products_file(params: Params, catalog: Catalog) -> Iterator[ExportFile]:
    """A German ERP article master: semicolons, decimal comma, thousands dot, UTF-8 with BOM."""
    launch = np.datetime64(params.start, "D") + catalog.launch_day.astype("timedelta64[D]")
    frame = pd.DataFrame(
        {
            "Artikelnummer": catalog.sku,
            "Bezeichnung": catalog.description,
            "Warengruppe": catalog.category,
            "Marke": catalog.brand,
            "Listenpreis": [_german_number(float(x)) for x in catalog.base_price],
            "Währung": "EUR",
            "Einführungsdatum": [f"{s[8:10]}.{s[5:7]}.{s[:4]}" for s in np.datetime_as_string(launch)],
        }
    ).astype(object)
    rules = [
        d.Rule("category_typo", ("Warengruppe",), d.category_typo, count=max(2, round(0.025 * len(catalog)))),
        d.Rule("negative_price", ("Listenpreis",), d.negative_text, count=1),
    ]
    key = f"{PREFIX}/products/artikelstamm.csv"
    out, recs, _ = d.inject(frame, key, rules, _rng(params, key))
    yield ExportFile("products", key, csv_bytes(out, delimiter=";", encoding="utf-8-sig"), len(out), recs)


def _cells(params: Params, catalog: Catalog, n_countries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(day, sku, country) of every cell from the SKU's launch on."""
    D, S, C = params.days, len(catalog), n_countries
    day, sku, ctry = (a.ravel() for a in np.meshgrid(np.arange(D), np.arange(S), np.arange(C), indexing="ij"))
    live = day >= catalog.launch_day[sku]
    return day[live], sku[live], ctry[live]


def inventory_files(
    params: Params, catalog: Catalog, countries: tuple[CountryInfo, ...], stock: StockLedger
) -> Iterator[ExportFile]:
    """Monthly gzipped JSON Lines of daily snapshots per SKU x warehouse (warehouses named by ISO alpha-3)."""
    day, sku, ctry = _cells(params, catalog, len(countries))
    dates = np.datetime_as_string(np.datetime64(params.start, "D") + np.arange(params.days))
    frame = pd.DataFrame(
        {
            "date": dates[day],
            "item_sku": catalog.sku[sku],
            "warehouse_country": np.array([x.alpha3 for x in countries])[ctry],
            "qty_on_hand": stock.on_hand[day, sku, ctry],
            "qty_on_order": stock.on_order[day, sku, ctry],
            "lead_time_days": stock.lead_time[sku, ctry],
        }
    )
    frame["item_sku"] = frame["item_sku"].astype(object)
    frame["date"] = frame["date"].astype(object)
    frame["warehouse_country"] = frame["warehouse_country"].astype(object)
    rules = [
        d.Rule("missing_required", ("item_sku",), d.null, rate=0.001),
        d.Rule("unparseable_date", ("date",), d.bad_date(("{y}-02-30", "yesterday")), rate=0.0005),
        d.Rule("invalid_country", ("warehouse_country",), d.invalid_country, rate=0.0005),
        d.Rule("exact_duplicate", (), rate=0.001),
    ]
    for month, idx in _months(np.array([s[:7] for s in dates])[day]):
        key = f"{PREFIX}/inventory/inventory-{month}.jsonl.gz"
        sub = frame.iloc[idx].reset_index(drop=True)
        out, recs, _ = d.inject(sub, key, rules, _rng(params, key))
        yield ExportFile("inventory", key, jsonl_bytes(out), len(out), recs)


def prices_files(
    params: Params, catalog: Catalog, countries: tuple[CountryInfo, ...], prices: PriceBook
) -> Iterator[ExportFile]:
    """Monthly gzipped CSVs from a pricing tool: US dates, 1/0 promo flag, blank unseen competitor price."""
    day, sku, ctry = _cells(params, catalog, len(countries))
    days = np.datetime64(params.start, "D") + np.arange(params.days)
    iso = np.datetime_as_string(days)
    us = np.array([f"{s[5:7]}/{s[8:10]}/{s[:4]}" for s in iso])
    comp = prices.competitor[day, sku, ctry]
    frame = pd.DataFrame(
        {
            "date": us[day],
            "product_id": catalog.sku[sku],
            "market": np.array([x.code for x in countries])[ctry],
            "shelf_price": _fmt2(prices.price[day, sku, ctry]),
            "currency": np.array([x.currency for x in countries])[ctry],
            "on_promo": np.where(prices.promo[day, sku, ctry], "1", "0"),
            "competitor_price": np.where(np.isnan(comp), "", _fmt2(np.nan_to_num(comp))),
        }
    ).astype(object)
    rules = [
        d.Rule("negative_price", ("shelf_price",), d.negative_text, rate=0.001),
        d.Rule("invalid_currency", ("currency",), d.invalid_currency, rate=0.001),
        d.Rule("unparseable_date", ("date",), d.bad_date(("02/31/{y}", "yesterday")), rate=0.0005),
        d.Rule("missing_required", ("product_id",), d.empty, rate=0.0005),
    ]
    for month, idx in _months(np.array([s[:7] for s in iso])[day]):
        key = f"{PREFIX}/prices/prices-{month}.csv.gz"
        sub = frame.iloc[idx].reset_index(drop=True)
        out, recs, _ = d.inject(sub, key, rules, _rng(params, key))
        yield ExportFile("prices", key, csv_bytes(out), len(out), recs)


def fx_files(params: Params, fx: dict[str, np.ndarray]) -> Iterator[ExportFile]:
    """Yearly CSVs shaped like the ECB's SDMX export: one row per day and quote currency, base EUR."""
    iso = np.datetime_as_string(np.datetime64(params.start, "D") + np.arange(params.days))
    rows = []
    for t, day in enumerate(iso):
        for ccy, values in fx.items():
            rows.append(
                {
                    "KEY": f"EXR.D.{ccy}.EUR.SP00.A",
                    "FREQ": "D",
                    "CURRENCY": ccy,
                    "CURRENCY_DENOM": "EUR",
                    "EXR_TYPE": "SP00",
                    "EXR_SUFFIX": "A",
                    "TIME_PERIOD": day,
                    "OBS_VALUE": f"{values[t]:.{FX_LEVELS[ccy][1]}f}",
                }
            )
    frame = pd.DataFrame(rows).astype(object)
    rules = [
        d.Rule("unparseable_date", ("TIME_PERIOD",), d.bad_date(("{y}-02-30", "yesterday")), rate=0.001),
        d.Rule("negative_price", ("OBS_VALUE",), d.negative_text, rate=0.001),
    ]
    years = np.array([r["TIME_PERIOD"][:4] for r in rows])
    for year in np.unique(years):
        idx = np.flatnonzero(years == year)
        key = f"{PREFIX}/fx_rates/fx_rates-{year}.csv"
        sub = frame.iloc[idx].reset_index(drop=True)
        out, recs, _ = d.inject(sub, key, rules, _rng(params, key))
        yield ExportFile("fx_rates", key, csv_bytes(out), len(out), recs)


PAYMENTS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("order_ref", pa.string()),
        ("customer_ref", pa.string()),
        ("created", pa.timestamp("us", tz="UTC")),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("payment_method", pa.string()),
        ("card_number", pa.string()),
        ("bin_country", pa.string()),
        ("billing_country", pa.string()),
        ("shipping_country", pa.string()),
        ("ip_country", pa.string()),
        ("ip_address", pa.string()),
        ("device_id", pa.string()),
        ("email", pa.string()),
        ("account_created", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),
        ("is_fraud", pa.bool_()),
    ]
)


def payments_files(params: Params, payments: pd.DataFrame, labels: dict[str, str]) -> Iterator[ExportFile]:
    """Monthly Parquet files (UTC month) with full card numbers and fraud labels."""
    months = payments["created"].dt.strftime("%Y-%m").to_numpy()
    rules = [
        d.Rule("invalid_currency", ("currency",), d.invalid_currency, rate=0.0005),
        d.Rule("invalid_country", ("billing_country",), d.invalid_country, rate=0.0005),
        d.Rule("negative_price", ("amount",), d.negative_number, rate=0.0005),
        d.Rule("missing_required", ("id",), d.null, rate=0.0003),
    ]
    for month, idx in _months(months):
        key = f"{PREFIX}/payments/payments-{month}.parquet"
        sub = payments.iloc[idx].reset_index(drop=True)
        out, recs, new_index = d.inject(sub, key, rules, _rng(params, key))
        fraud = [
            {"file": key, "row": int(new_index[j]), "payment_id": pid, "pattern": labels[pid]}
            for j, pid in enumerate(sub["id"])
            if pid in labels
        ]
        yield ExportFile("payments", key, parquet_bytes(out, PAYMENTS_SCHEMA), len(out), recs, {"fraud": fraud})
