"""retail-copilot on real public exports (UCI Online Retail, Tableau Superstore): distinct counts, group-bys by
time and custom attributes, profit and margin, honest refusals; golden answers from the raw files with pandas."""

from __future__ import annotations

import pandas as pd
import pytest
from retail_copilot.copilot import Copilot
from retail_copilot.store import Snapshot

from tests.unit.retail_copilot.copilot_bank import score
from tests.unit.retail_copilot.real_bank import (
    superstore_cases,
    superstore_frames,
    superstore_raw,
    uci_cases,
    uci_frames,
    uci_raw,
)


@pytest.fixture(scope="module")
def superstore():
    raw = superstore_raw()
    mart, kpis, orders = superstore_frames(raw)
    return raw, Copilot(Snapshot(mart, kpis, None, "superstore", orders=orders), currency="EUR")


@pytest.fixture(scope="module")
def uci():
    raw = uci_raw()
    mart, kpis, orders = uci_frames(raw)
    return raw, Copilot(Snapshot(mart, kpis, None, "uci", orders=orders), currency="AUTO")


def test_real_export_banks_are_answered_exactly(superstore, uci):
    cases = superstore_cases(superstore[0]) + uci_cases(uci[0])
    assert len(cases) >= 60
    results = {}
    for name, (raw, copilot), bank in (("superstore", superstore, superstore_cases), ("uci", uci, uci_cases)):
        results[name] = score(copilot.ask, bank(raw))
    for name, result in results.items():
        assert result.refusal_rate == 1.0, (name, [f for f in result.failures if f[1] is None])
        assert result.accuracy >= 0.95, (name, result.failures)


def test_amounts_are_labelled_with_the_datas_reporting_currency(superstore, uci):
    # the settings say EUR (superstore) or AUTO (uci); the marts' reporting_currency column wins
    assert "USD" in superstore[1].ask("Revenue by region")["answer"]
    assert "EUR" not in superstore[1].ask("Total profit in 2016")["answer"]
    assert "GBP" in uci[1].ask("Revenue by year")["answer"]


def test_what_the_data_lacks_is_said_not_replaced(uci, superstore):
    answer = uci[1].ask("How many customers are there?")
    assert answer["metric"] == "customers" and "per day" not in answer["answer"]
    without_orders = Copilot(Snapshot(uci[1].snapshot.mart, uci[1].snapshot.kpis, None, "no-orders"))
    refused = without_orders.ask("How many customers are there?")
    assert refused["status"] == "refused" and "customer_transactions" in refused["answer"] and refused["value"] is None
    profit = uci[1].ask("What was the total profit in 2011?")
    assert profit["status"] == "refused" and "no profit or cost column" in profit["answer"]
    assert superstore[1].ask("How many customers per sub category?")["status"] == "refused"


def test_plans_over_attributes_stay_typed(superstore):
    copilot = superstore[1]
    plan = copilot.parser.parse("top 5 sub categories by profit in the West region")
    assert (plan.intent, plan.metric, plan.group_by, plan.top_n) == ("top", "profit", "sub_category", 5)
    assert plan.attributes == {"region": ["West"]}
    from retail_copilot.plan import QueryPlan

    with pytest.raises(ValueError, match="not an attribute name"):
        QueryPlan("totals", attributes={"region; drop table": ["West"]})
    with pytest.raises(ValueError, match="unknown grouping"):
        QueryPlan("breakdown", group_by="__class__")
    forged = QueryPlan("breakdown", "measure", measure="no_such_column", group_by="region")
    from retail_copilot.engine import PlanError

    with pytest.raises(PlanError, match="no 'no such column'"):
        copilot.engine.run(forged)


def test_nullable_prod_dtypes_are_read(superstore):
    """curated-to-prod writes int measures as Int64 and bool dimensions as nullable boolean."""
    raw = superstore[0]
    mart, kpis, orders = superstore_frames(raw)
    mart = mart.assign(
        profit=mart["profit"].round().astype("Int64"),
        discounted=(mart["discount"] > 0).astype("boolean"),
        segment=mart["segment"].astype("string"),
    )
    first = mart.index[0]
    mart.loc[first, "discounted"] = pd.NA  # a missing flag: in no group
    copilot = Copilot(Snapshot(mart, kpis, None, "nullable", orders=orders))
    answer = copilot.ask("Profit by region")
    assert answer["details"]["groups"] == pytest.approx(raw.groupby("Region")["profit"].sum().to_dict())
    expected = raw.groupby(raw["discount"] > 0)["sales"].sum()
    expected[bool(mart.loc[first, "discount"] > 0)] -= mart.loc[first, "revenue_reporting"]
    by_flag = copilot.ask("Revenue by discounted")["details"]["groups"]
    assert by_flag == pytest.approx({str(k): v for k, v in expected.items()})
    assert copilot.ask("Revenue in the Consumer segment")["value"] == pytest.approx(
        raw.loc[raw["Segment"] == "Consumer", "sales"].sum()
    )


def test_products_named_by_their_description_are_named_once(superstore):
    """Superstore has no product id: its SKU is the product name, shown once, not as 'name (name)'."""
    answer = superstore[1].ask("Top 3 products by revenue in 2017")
    labels = [row[0] for row in answer["table"]["rows"]]
    assert len(labels) == 3 and all(label in superstore[1].catalog.products for label in labels)
    assert all(f"{label} ({label})" not in answer["answer"] for label in labels)
