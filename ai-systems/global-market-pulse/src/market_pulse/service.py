"""Application services used by the handler and the CLI: run the batch analysis, answer pulse queries."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from market_pulse.config import COUNTRY
from market_pulse.exceptions import PulseInputError, UnknownCountryError

if TYPE_CHECKING:
    from market_pulse.store import Stores
    from retail_platform.storage import BlobStore

CONSUMED_DATASETS = ("country_kpis", "customer_transactions")
COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
MARKET_LABEL = re.compile(r"^[\w .,&()'/|-]{1,120}$")
SORT_KEYS = {"pulse": "pulse_index", "revenue": "revenue_28d", "growth": "revenue_mom"}
SERVING_TTL_SECONDS = 300


def run_batch(
    stores: Stores,
    events: Any,
    settings: Any,
    *,
    emit: bool = True,
    report: bool = False,
    dimensions: tuple[str, ...] = COUNTRY,
    engine_factory: Any = None,
) -> dict[str, Any]:
    """Recompute the whole pulse from the prod datasets and store it; returns a short summary.

    `dimensions` say what a market is: countries (country_kpis), or custom attributes of
    customer_transactions such as ("region",) (markets.py). Prod is read as per-market daily aggregates
    computed by DuckDB (prod_sql; `engine_factory` makes its `SqlEngine`, default: the platform's)."""
    from market_pulse import analysis, currency, markets, panel, prod_sql, store

    started = time.perf_counter()
    notes: list[str] = []
    try:
        inputs = prod_sql.read_inputs(stores.prod, dimensions, engine_factory)
        if inputs.empty:
            what = "country_kpis" if markets.is_countries(dimensions) else "customer_transactions"
            return {
                "status": "skipped",
                "reason": f"no {what} in prod (it is built from order_lines): market pulse skipped",
                "skipped": [],
            }
        label, notes = currency.notes_from_summary(inputs.currencies, settings.reporting_currency)
        frame = panel.from_country_kpis(inputs.daily, returning=inputs.returning)
        result = analysis.analyse(
            frame, reporting_currency=label, dimension=markets.label(dimensions), holiday_countries=inputs.holidays
        )
    except PulseInputError as e:  # too little data for any analysis: say so, write nothing
        return {"status": "skipped", "reason": f"market pulse skipped: {e}", "skipped": notes}
    notes += analysis.limits(frame)
    written = store.write_results(stores, result)
    events_emitted = 0
    if emit and events is not None:
        from retail_platform.events import prod_dataset_updated_entries, put_events

        entries = prod_dataset_updated_entries(settings.event_bus_name, "pulse", stores.prod.bucket, [result.as_of])
        events_emitted = put_events(events, entries)
    response = {
        "status": "ok",
        "model_version": written["version"],
        "as_of": result.as_of,
        "dimension": result.dimension,
        "countries": int(result.tables["pulse"].shape[0]),
        "anomalies": int(result.tables["anomalies"].shape[0]),
        "tables": written["tables"],
        "events_emitted": events_emitted,
        "seconds": round(time.perf_counter() - started, 2),
        "reporting_currency": result.reporting_currency,
        "skipped": notes,
    }
    if report:
        from market_pulse import report as report_module

        response["report_html"] = report_module.html_section(result, frame)
    return response


@dataclass
class PulseReader:
    """Serves stored results: loads the current version lazily, refreshes it after a TTL."""

    artifacts: BlobStore
    dimensions: tuple[str, ...] = COUNTRY
    ttl: float = SERVING_TTL_SECONDS
    _docs: dict[str, Any] | None = field(default=None, init=False)
    _version: str = field(default="", init=False)
    _loaded_at: float = field(default=0.0, init=False)

    def documents(self) -> tuple[dict[str, Any], str]:
        from market_pulse import store

        if self._docs is None or time.monotonic() - self._loaded_at > self.ttl:
            self._docs, self._version = store.load_serving(self.artifacts)
            self._loaded_at = time.monotonic()
        return self._docs, self._version

    def overview(self, params: dict[str, str]) -> dict[str, Any]:
        unknown = sorted(set(params) - {"limit", "sort"})
        if unknown:
            raise PulseInputError(f"unknown query parameter(s): {', '.join(unknown)}; allowed: limit, sort")
        limit = 250
        if "limit" in params:
            raw = params["limit"]
            if not raw.isdigit() or not 1 <= int(raw) <= 250:
                raise PulseInputError(f"limit must be an integer from 1 to 250, got {raw[:20]!r}")
            limit = int(raw)
        sort = params.get("sort", "pulse")
        if sort not in SORT_KEYS:
            raise PulseInputError(f"sort must be one of {', '.join(SORT_KEYS)}, got {sort[:20]!r}")
        docs, version = self.documents()
        key = SORT_KEYS[sort]
        rows = sorted(docs["summary"], key=lambda r: (r.get(key) is None, -(r.get(key) or 0.0), r["country"]))
        return {
            "model_version": version,
            "as_of": docs["as_of"],
            "reporting_currency": docs["reporting_currency"],
            "countries": rows[:limit],
            "count": min(limit, len(rows)),
            "total": len(rows),
        }

    def country(self, code: str) -> dict[str, Any]:
        """One market's entry: a country by its ISO code, or (custom dimensions) a market by its label."""
        code = code or ""
        if self.dimensions == COUNTRY and not COUNTRY_CODE.match(code):
            raise PulseInputError(f"country must be a two-letter ISO 3166 code such as DE, got {code[:20]!r}")
        if self.dimensions != COUNTRY and not MARKET_LABEL.match(code):
            raise PulseInputError(f"market must be a label such as 'West' (1-120 characters), got {code[:20]!r}")
        docs, version = self.documents()
        by_name = {name.casefold(): name for name in docs["countries"]}
        entry = docs["countries"].get(by_name.get(code.casefold(), ""))
        if entry is None:
            raise UnknownCountryError(code.upper() if self.dimensions == COUNTRY else code)
        return {
            "model_version": version,
            "as_of": docs["as_of"],
            "reporting_currency": docs["reporting_currency"],
            **entry,
        }
