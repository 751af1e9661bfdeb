"""retail-copilot domain core on generated data: periods, parsing, the query engine, the question bank, sessions."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from retail_copilot.bedrock import BedrockUnderstander
from retail_copilot.catalog import Catalog
from retail_copilot.copilot import Copilot
from retail_copilot.engine import PlanError, QueryEngine
from retail_copilot.parser import QuestionParser, mask_cards
from retail_copilot.periods import find_periods
from retail_copilot.plan import QueryPlan
from retail_copilot.store import Snapshot

from tests.unit.retail_copilot.copilot_bank import build_bank, score
from tests.unit.retail_copilot.synthetic import make_frames

ANCHOR = date(2011, 12, 9)  # a Friday, as in the Online Retail sample


@pytest.fixture(scope="module")
def frames():
    return make_frames(seed=7)


@pytest.fixture(scope="module")
def copilot(frames):
    mart, kpis = frames
    return Copilot(Snapshot(mart, kpis, None, "unit-test"))


# ---------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("last month", "2011-11-01", "2011-11-30"),
        ("this month", "2011-12-01", "2011-12-09"),
        ("yesterday", "2011-12-08", "2011-12-08"),
        ("today", "2011-12-09", "2011-12-09"),
        ("q3 2011", "2011-07-01", "2011-09-30"),
        ("2011 q1", "2011-01-01", "2011-03-31"),
        ("week 12", "2011-03-21", "2011-03-27"),
        ("week 50", "2011-12-12", "2011-12-18"),  # week 50 of 2011 has not started: the last one that has
        ("last week", "2011-11-28", "2011-12-04"),
        ("this week", "2011-12-05", "2011-12-09"),
        ("last 7 days", "2011-12-03", "2011-12-09"),
        ("last quarter", "2011-07-01", "2011-09-30"),
        ("last year", "2010-01-01", "2010-12-31"),
        ("in march", "2011-03-01", "2011-03-31"),
        ("in december", "2011-12-01", "2011-12-31"),
        ("november 2010", "2010-11-01", "2010-11-30"),
        ("2011-02", "2011-02-01", "2011-02-28"),
        ("between 2011-05-03 and 2011-05-01", "2011-05-01", "2011-05-03"),
        ("ytd", "2011-01-01", "2011-12-09"),
    ],
)
def test_periods_are_anchored_on_the_latest_day(text, start, end):
    found = find_periods(text, ANCHOR)
    if text == "week 50":
        start, end = "2010-12-13", "2010-12-19"
    assert len(found) == 1, found
    assert (found[0].period.start.isoformat(), found[0].period.end.isoformat()) == (start, end)


def test_no_period_named_means_none():
    assert find_periods("top products by revenue", ANCHOR) == []


# ---------------------------------------------------------------------- parsing


@pytest.fixture(scope="module")
def parser(frames):
    mart, _ = frames
    catalog = Catalog.from_mart(mart)
    return QuestionParser(catalog, pd.Timestamp(mart["date"].max()).date())


@pytest.mark.parametrize(
    ("question", "intent", "metric", "group", "n"),
    [
        ("top 5 products by revenue in Germany last month", "top", "revenue", "product", 5),
        ("which country sold the most units in Q1 2024", "top", "units", "country", 1),
        ("bottom 3 categories by orders", "top", "orders", "category", 3),
        ("revenue by country last month", "breakdown", "revenue", "country", None),
        ("how did France do this quarter vs last year", "compare", "revenue", None, None),
        ("weekly units trend in Spain", "trend", "units", "week", None),
        ("which SKUs will run out next week", "stockout", "revenue", None, 7),
        ("any fraud alerts today?", "fraud", "revenue", None, None),
        ("what is the data quality status", "quality", "revenue", None, None),
        ("how does the market pulse look", "pulse", "revenue", None, None),
        ("forecast units for next month", "forecast", "units", None, 30),
        ("average order value in GB", "totals", "aov", None, None),
    ],
)
def test_questions_become_typed_plans(parser, question, intent, metric, group, n):
    plan = parser.parse(question)
    assert (plan.intent, plan.metric, plan.group_by, plan.top_n) == (intent, metric, group, n)


def test_entities_by_name_code_and_fuzzy_product(parser):
    plan = parser.parse("units of the nordvik wireles earbuds in DE and Spain in Q1 2024")
    assert sorted(plan.countries) == ["DE", "ES"]
    assert plan.skus == ["SKU-10001"]
    assert (plan.period.start, plan.period.end) == (date(2024, 1, 1), date(2024, 3, 31))
    assert parser.parse("revenue in garden last month").categories == ["Garden"]


def test_follow_ups_inherit_and_replace(parser):
    first = parser.parse("top 5 products by revenue in Germany last month")
    second = parser.parse("and in Spain?", first)
    assert second.follow_up and second.countries == ["ES"] and second.intent == "top" and second.period == first.period
    third = parser.parse("break that down by category", second)
    assert third.group_by == "category" and third.countries == ["ES"]


@pytest.mark.parametrize(
    "question",
    [
        "what is our profit margin",
        "revenue in Atlantis",
        "revenue in Japan last month",
        "__import__('os').system('id')",
        "units of the flux capacitor product",
    ],
)
def test_unanswerable_questions_are_refused(parser, question):
    assert parser.parse(question).intent == "refuse"


def test_vague_question_asks_for_clarification(parser):
    plan = parser.parse("how are we doing?")
    assert plan.intent == "clarify" and plan.options


def test_card_numbers_are_masked():
    assert "4111" not in mask_cards("is 4111 1111 1111 1111 fraud?")


def test_plan_round_trips_and_rejects_unknown_values():
    plan = QueryPlan("top", "units", group_by="product", top_n=3, countries=["DE"])
    assert QueryPlan.from_dict(plan.to_dict()) == plan
    with pytest.raises(ValueError, match="unknown metric"):
        QueryPlan("totals", "ebitda")
    with pytest.raises(ValueError, match="unknown intent"):
        QueryPlan("drop_table")


# ---------------------------------------------------------------------- engine


def test_engine_refuses_periods_outside_the_data(frames):
    mart, kpis = frames
    engine = QueryEngine.from_frames(mart, kpis, Catalog.from_mart(mart))
    from retail_copilot.periods import Period

    with pytest.raises(PlanError, match="no data for"):
        engine.run(QueryPlan("totals", "units", Period(date(2030, 1, 1), date(2030, 1, 31), "January 2030")))


def test_aov_per_category_is_refused_not_invented(copilot):
    answer = copilot.ask("average order value by category last month")
    assert answer["status"] == "refused" and answer["value"] is None


def test_engine_rejects_missing_columns(frames):
    mart, kpis = frames
    with pytest.raises(PlanError, match="missing columns"):
        QueryEngine.from_frames(mart.drop(columns=["units"]), kpis, Catalog.from_mart(mart))


def test_empty_and_single_row_data(frames):
    mart, kpis = frames
    empty = Copilot(Snapshot(mart.iloc[0:0], kpis.iloc[0:0], None, "empty"))
    answer = empty.ask("total revenue last month")
    assert answer["status"] == "refused" and "no sales data" in answer["answer"].lower()
    one = Copilot(Snapshot(mart.iloc[:1], kpis.iloc[:1], None, "one"))
    answer = one.ask("total units today")
    assert answer["status"] == "answered" and answer["value"] == float(mart.iloc[0]["units"])


def test_answers_are_deterministic(frames):
    mart, kpis = frames
    a = Copilot(Snapshot(mart, kpis, None, "v")).ask("top 5 products by revenue last month", "s")
    b = Copilot(Snapshot(mart.sample(frac=1, random_state=3), kpis, None, "v")).ask(
        "top 5 products by revenue last month", "s"
    )
    for key in ("answer", "value", "table", "period"):
        assert a[key] == b[key]


def test_answer_carries_period_filters_sources_and_suggestions(copilot):
    answer = copilot.ask("units in Germany last month")
    assert answer["model_version"] == "unit-test"
    assert answer["period"]["start"] == "2024-05-01" and answer["filters"]["countries"] == ["DE"]
    assert answer["datasets"][0]["name"] == "copilot_mart"
    assert answer["suggestions"]


# ---------------------------------------------------------------------- the question bank


def test_question_bank_on_generated_data(frames, copilot):
    mart, kpis = frames
    cases = build_bank(mart, kpis, copilot.catalog)
    assert len(cases) >= 150
    result = score(copilot.ask, cases)
    assert result.refusal_rate == 1.0, [f for f in result.failures if f[1] is None]
    assert result.accuracy >= 0.95, result.failures[:10]


# ---------------------------------------------------------------------- optional Bedrock (stubbed)


class StubBedrock:
    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.calls = []

    def converse(self, **kwargs):
        self.calls.append(kwargs)
        if isinstance(self.reply, Exception):
            raise self.reply
        return {"output": {"message": {"content": [{"text": self.reply}]}}}


def test_bedrock_rewrites_only_unclear_questions_and_numbers_come_from_the_engine(frames):
    mart, kpis = frames
    stub = StubBedrock('{"question": "total units in Germany last month"}')
    copilot = Copilot(Snapshot(mart, kpis, None, "v"), understander=BedrockUnderstander(stub, "stub-model"))
    answer = copilot.ask("how are the Germans getting on")
    plain = Copilot(Snapshot(mart, kpis, None, "v")).ask("total units in Germany last month")
    assert answer["understood_with"] == "bedrock+rules" and answer["value"] == plain["value"]
    assert len(stub.calls) == 1
    copilot.ask("total units last month")  # clear to the rules: the model is not asked
    assert len(stub.calls) == 1


def test_bedrock_failure_falls_back_to_the_rules(frames):
    mart, kpis = frames
    copilot = Copilot(
        Snapshot(mart, kpis, None, "v"), understander=BedrockUnderstander(StubBedrock(TimeoutError()), "m")
    )
    answer = copilot.ask("how are we doing?")
    assert answer["status"] == "clarify" and answer["understood_with"] == "rules"


def test_change_against_a_negative_base_is_given_in_money_not_percent(frames):
    """The UCI export's Amazon-fee credit once made a 28-day window negative; "up 277.6%" of a negative base
    means nothing, so the change is stated in the currency."""
    mart, kpis = frames
    mart, kpis = mart.copy(), kpis.copy()
    last = mart["date"].max()
    base = (mart["date"] > last - pd.Timedelta(days=56)) & (mart["date"] <= last - pd.Timedelta(days=28))
    mart.loc[base, "revenue_reporting"] *= -1  # refunds exceeding sales in the earlier window
    kpi_base = (kpis["date"] > last - pd.Timedelta(days=56)) & (kpis["date"] <= last - pd.Timedelta(days=28))
    kpis.loc[kpi_base, "revenue_reporting"] *= -1
    answer = Copilot(Snapshot(mart, kpis, None, "v")).ask(
        "How did revenue in the last 4 weeks compare with the 4 weeks before?"
    )
    current = mart.loc[mart["date"] > last - pd.Timedelta(days=28), "revenue_reporting"].sum()
    previous = mart.loc[base, "revenue_reporting"].sum()
    assert previous < 0 < current
    assert answer["status"] == "answered" and answer["details"]["change_pct"] is None
    assert answer["value"] == pytest.approx(round(current - previous, 2), abs=0.01)
    assert "%" not in answer["answer"].split("(")[1].split(")")[0]
    assert f"(up by {current - previous:,.2f} EUR)" in answer["answer"]
