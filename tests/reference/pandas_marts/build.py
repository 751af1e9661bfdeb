"""The pandas marts (the implementation before SQL) as the reference the SQL marts are compared with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import pandas as pd

from marts.curated import CuratedInputs
from marts.incremental import days_read
from marts.schema import empty
from tests.reference.pandas_marts import (
    copilot_mart,
    country_kpis,
    customer_transactions,
    daily_sales,
    fx,
    market_series,
    payment_transactions,
)
from tests.reference.pandas_marts.sales import line_facts


def _on(frame: pd.DataFrame, column: str, days: Iterable[date]) -> pd.DataFrame:
    wanted = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in days))
    return frame.loc[frame[column].isin(wanted)]


def build_pandas_marts(
    inputs: CuratedInputs, targets: Mapping[str, Iterable[date]], reporting: str
) -> dict[str, pd.DataFrame]:
    """Prod frames (contract columns, then custom attributes; sorted) holding exactly the rows of the target
    partitions, amounts converted to `reporting` (an ISO code: `currency.resolve` has settled AUTO)."""
    targets = {name: sorted(set(days)) for name, days in targets.items() if days}
    facts = line_facts(inputs.order_lines)
    every_day = pd.concat([facts["date"], inputs.payments["_date"], inputs.prices["_date"], inputs.inventory["_date"]])
    factors = fx.daily_factors(inputs.fx_rates, reporting, every_day)

    out: dict[str, pd.DataFrame] = {}
    for name, days in targets.items():
        read_days = {d for t in days for d in days_read(name, t)}
        day_facts = _on(facts, "date", read_days)
        if name == "daily_sales":
            frame = daily_sales.build(
                day_facts,
                _on(inputs.prices, "_date", read_days),
                _on(inputs.inventory, "_date", read_days),
                factors,
                reporting,
                inputs.products,
            )
        elif name == "customer_transactions":
            frame = customer_transactions.build(day_facts, inputs.orders, factors, reporting, inputs.customers)
        elif name == "payment_transactions":
            payments = _on(inputs.payments, "_date", read_days)
            frame = payment_transactions.build(payments, inputs.orders, facts, factors, reporting)
        elif name == "country_kpis":
            frame = country_kpis.build(day_facts, factors, reporting)
        elif name == "copilot_mart":
            frame = copilot_mart.build(day_facts, inputs.products, factors, reporting)
        elif name == "market_series":
            frame = market_series.build(day_facts, inputs.products, factors, reporting)
        else:
            raise ValueError(f"unknown prod dataset {name!r}")
        frame = _on(frame, "date", days).reset_index(drop=True)
        out[name] = frame if not frame.empty else empty(name)
    return out
