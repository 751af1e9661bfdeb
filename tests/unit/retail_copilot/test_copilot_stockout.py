"""Issue #17: "Which SKUs will run out next week?" names the SKUs (id and name) with their numbers, from the
inventory-advice system's newest advice or, without it, from days of cover in daily_sales."""

from __future__ import annotations

import pandas as pd
import pytest
from retail_copilot.copilot import Copilot
from retail_copilot.store import DatasetInfo, Snapshot

from tests.unit.retail_copilot.synthetic import make_frames

QUESTION = "Which SKUs will run out next week?"


class Insights:
    """Stands in for CopilotData: the insight datasets and daily_sales it would read."""

    def __init__(self, advice: pd.DataFrame | None = None, daily_sales: pd.DataFrame | None = None) -> None:
        self.advice, self.daily_sales = advice, daily_sales

    def insight(self, name: str):
        if name == "inventory_advice" and self.advice is not None:
            return self.advice, DatasetInfo(name, 2, "2024-06-30", len(self.advice))
        return None

    def read_recent(self, name: str, days: int):
        return self.daily_sales, DatasetInfo(name, 1, "2024-06", len(self.daily_sales))

    def quality_reports(self):
        return []


@pytest.fixture(scope="module")
def frames():
    return make_frames(seed=7)


def advice_rows(day: str, rows: list[tuple[str, str, float | None, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["sku", "country", "days_of_cover", "stockout_risk", "on_hand"])
    frame.insert(0, "series_id", frame["sku"] + "|" + frame["country"])
    frame["stockout_risk_days"] = 14
    frame["date"] = day
    return frame


def test_advice_answer_names_the_skus_at_risk_most_urgent_first(frames):
    mart, kpis = frames
    older = advice_rows("2024-06-23", [("SKU-10002", "DE", 1.0, 0.99, 2.0)])  # superseded by the newer advice
    newest = advice_rows(
        "2024-06-30",
        [
            ("SKU-10003", "FR", 6.0, 0.40, 30.0),
            ("SKU-10001", "DE", 2.0, 0.91, 8.0),
            ("SKU-10004", "GB", None, 0.05, 500.0),  # never short within the forecast: not at risk
            ("SKU-10005", "ES", 12.0, 0.20, 90.0),
        ],
    )
    copilot = Copilot(Snapshot(mart, kpis, None, "v"), Insights(advice=pd.concat([older, newest])))
    answer = copilot.ask(QUESTION)
    names = copilot.catalog.products
    assert answer["status"] == "answered" and answer["value"] == 2.0
    text = answer["answer"]
    first = f"1. {names['SKU-10001']} (SKU-10001) in DE: 2 days of cover, 91% stock-out risk, 8 on hand"
    second = f"2. {names['SKU-10003']} (SKU-10003) in FR: 6 days of cover"
    assert first in text and second in text and text.index(first) < text.index(second)
    assert "SKU-10002" not in text and "SKU-10004" not in text and "SKU-10005" not in text
    assert [s["sku"] for s in answer["details"]["skus"]] == ["SKU-10001", "SKU-10003"]
    assert answer["details"]["skus"][0]["name"] == names["SKU-10001"]
    assert answer["table"]["rows"][0][:3] == [f"{names['SKU-10001']} (SKU-10001)", "DE", 2.0]


def test_no_sku_at_risk_still_names_the_least_covered(frames):
    mart, kpis = frames
    advice = advice_rows("2024-06-30", [("SKU-10005", "ES", 12.0, 0.2, 90.0), ("SKU-10003", "FR", 20.0, 0.1, 9.0)])
    answer = Copilot(Snapshot(mart, kpis, None, "v"), Insights(advice=advice)).ask(QUESTION)
    assert answer["value"] == 0.0 and "No SKU is expected to run out within 7 days" in answer["answer"]
    assert "(SKU-10005) in ES: 12 days of cover" in answer["answer"]


def test_days_of_cover_from_daily_sales_name_the_skus(frames):
    mart, kpis = frames
    sales = mart.loc[mart["date"] > "2024-05-31", ["date", "sku", "country", "units"]].copy()
    sales["on_hand"] = None
    last = sales["date"].max()
    stock = {("SKU-10001", "DE"): 3.0, ("SKU-10002", "FR"): 4000.0}
    for (sku, country), on_hand in stock.items():  # a stock count on the pair's latest sales day
        sales.loc[sales.index[(sales["sku"] == sku) & (sales["country"] == country)][-1], "on_hand"] = on_hand
    copilot = Copilot(Snapshot(mart, kpis, None, "v"), Insights(daily_sales=sales))
    answer = copilot.ask(QUESTION)
    window = sales.loc[sales["date"] > last - pd.Timedelta(days=28)]
    demand = window.loc[(window["sku"] == "SKU-10001") & (window["country"] == "DE"), "units"].sum() / 28
    cover = round(3.0 / demand, 1)
    name = copilot.catalog.products["SKU-10001"]
    assert answer["value"] == 1.0
    assert f"1. {name} (SKU-10001) in DE: {cover:g} days of cover (3 on hand" in answer["answer"]
    assert "SKU-10002" not in answer["answer"] and answer["details"]["skus"][0]["sku"] == "SKU-10001"


def test_advice_without_any_stock_figure_says_risk_cannot_be_judged(frames):
    """A real export without inventory data (Superstore): demand writes reorder points with on_hand unknown, so
    "no SKU will run out" would be a claim the data cannot support."""
    mart, kpis = frames
    advice = advice_rows(
        "2024-06-30", [("SKU-10005", "ES", None, float("nan"), None), ("SKU-10003", "FR", None, float("nan"), None)]
    )
    answer = Copilot(Snapshot(mart, kpis, None, "v"), Insights(advice=advice)).ask(QUESTION)
    assert answer["status"] == "answered" and answer["value"] is None
    assert answer["answer"].startswith("I cannot tell which SKUs will run out")
    assert "2 SKUs" in answer["answer"] and "No SKU is expected" not in answer["answer"]
    assert answer["details"]["stock_known"] == 0
