"""The copilot: question -> plan -> engine or insights -> answer with numbers, table, period, sources, follow-ups."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd

from retail_copilot import insights
from retail_copilot.catalog import Catalog
from retail_copilot.engine import PlanError, QueryEngine, Result, metric_label
from retail_copilot.entities import from_warehouse, reporting_currency
from retail_copilot.parser import QuestionParser, mask_cards
from retail_copilot.plan import DATA_INTENTS, QueryPlan
from retail_copilot.sessions import MemorySessionStore, SessionStore
from retail_copilot.store import CopilotData, DatasetInfo, Snapshot

MAX_QUESTION_CHARS = 500


@dataclass
class Answer:
    payload: dict[str, Any]

    @property
    def status(self) -> str:
        return self.payload["status"]


class Copilot:
    def __init__(
        self,
        snapshot: Snapshot,
        data: CopilotData | None = None,
        sessions: SessionStore | None = None,
        currency: str | None = "EUR",
        understander: Any | None = None,
    ) -> None:
        self.snapshot = snapshot
        warehouse = snapshot.tables()
        saved = snapshot.catalog
        # a catalogue saved before custom attributes existed is rebuilt from the mart that has them
        stale = saved is not None and "dimensions" not in saved and warehouse.attributes.dimensions
        if saved and not stale:
            self.catalog = Catalog.from_dict(saved)
        else:
            self.catalog = Catalog.from_mart(snapshot.mart) if snapshot.mart is not None else from_warehouse(warehouse)
        # amounts are labelled with the data's own reporting currency (interfaces #5), else the configured one
        currency = reporting_currency(warehouse, currency)
        self.engine = QueryEngine(warehouse, self.catalog, currency)
        self.parser = QuestionParser(self.catalog, self.engine.last)
        self.data = data
        self.sessions = sessions or MemorySessionStore()
        self.currency = currency
        self.understander = understander  # optional LLM rewriting (Bedrock); numbers always come from the engine
        self._daily_sales: pd.DataFrame | None = None

    @property
    def version(self) -> str:
        return self.snapshot.version

    # ------------------------------------------------------------------ entry point

    def ask(self, question: str, session_id: str | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        if session_id:
            previous, turns = self.sessions.load(session_id)
        else:  # a new conversation: nothing to read back (saves a DynamoDB round trip)
            session_id, previous, turns = uuid.uuid4().hex, None, 0
        masked = mask_cards(question)
        plan = self.parser.parse(masked, previous)
        used_llm = False
        if self.understander is not None and plan.intent == "clarify":
            rewritten = self.understander.rewrite(masked, self.parser.examples())
            if rewritten:
                candidate = self.parser.parse(mask_cards(rewritten), previous)
                if candidate.intent not in ("clarify", "refuse"):
                    plan, used_llm = candidate, True
        payload = self._answer(plan)
        payload.update(
            {
                "session_id": session_id,
                "turn": turns + 1,
                "question": masked,
                "model_version": self.version,
                "understood_with": "bedrock+rules" if used_llm else "rules",
                "elapsed_ms": round(1000 * (time.perf_counter() - started), 1),
            }
        )
        # a refused or unclear turn keeps the conversation's last good plan for the next follow-up
        remembered = plan if payload["status"] == "answered" or previous is None else previous
        self.sessions.save(session_id, turns + 1, remembered, masked, payload["answer"])
        return payload

    # ------------------------------------------------------------------ dispatch

    def _answer(self, plan: QueryPlan) -> dict[str, Any]:
        if plan.intent == "refuse":
            return self._payload("refused", plan, Result(plan.message or "I cannot answer that."), plan.options)
        if plan.intent == "clarify":
            return self._payload("clarify", plan, Result(plan.message or "Could you rephrase?"), plan.options)
        if plan.intent == "help":
            attributes = [a.replace("_", " ") for a in (*self.catalog.dimensions, *self.catalog.measures)]
            text = (
                "I answer questions about sales (revenue, units, orders, average order value, distinct customers, "
                "products and countries"
                + (", profit and margin" if self.parser.vocabulary.has_profit else "")
                + ") by country, category, product, "
                + (f"{', '.join(attributes)}, " if attributes else "")
                + "day, week, month, quarter and year, compare periods, show trends, and report fraud alerts, "
                "stock-out risk, forecasts, market pulse and data quality."
            )
            return self._payload("answered", plan, Result(text), self.parser.examples())
        try:
            result = self.engine.run(plan) if plan.intent in DATA_INTENTS else self._insight(plan)
        except PlanError as e:
            return self._payload("refused", plan, Result(str(e)), self._suggestions(plan))
        return self._payload("answered", plan, result, self._suggestions(plan))

    def _insight(self, plan: QueryPlan) -> Result:
        anchor = self.engine.last
        if plan.intent == "quality":
            return insights.quality(self.data.quality_reports() if self.data else [])
        if plan.intent == "fraud":
            return insights.fraud(plan, self._read_insight("fraud_alerts"), anchor)
        if plan.intent == "forecast":
            return insights.forecast(plan, self._read_insight("demand_forecasts"), anchor)
        if plan.intent == "pulse":
            return insights.pulse(plan, {n: self._read_insight(n) for n in ("pulse", "market_trends")})
        if plan.intent == "stockout":
            advice = self._read_insight("inventory_advice")
            sales = None if advice is not None else self._recent_daily_sales()
            return insights.stockout(plan, advice, sales, anchor, plan.top_n or 7, self.catalog)
        raise PlanError(f"I cannot answer '{plan.intent}' questions.")

    def _read_insight(self, name: str) -> tuple[pd.DataFrame, DatasetInfo] | None:
        if self.data is None:
            return None
        result = self.data.insight(name)
        if result is not None:
            self.snapshot.datasets[name] = result[1]
        return result

    def _recent_daily_sales(self) -> pd.DataFrame | None:
        if self._daily_sales is None and self.data is not None:
            frame, info = self.data.read_recent("daily_sales", days=35)
            self.snapshot.datasets["daily_sales"] = info
            self._daily_sales = frame
        return self._daily_sales

    # ------------------------------------------------------------------ shaping

    def _payload(self, status: str, plan: QueryPlan, result: Result, suggestions: list[str]) -> dict[str, Any]:
        notes = list(result.notes) + [f"Assumed {a}." for a in plan.assumptions]
        text = result.text + (" " + " ".join(notes) if notes else "")
        sources = []
        for name in result.datasets:
            info = self.snapshot.datasets.get(name)
            sources.append(info.to_dict() if info else {"name": name})
        return {
            "status": status,
            "answer": text,
            "value": result.value,
            "table": result.table,
            "intent": plan.intent,
            "metric": plan.metric if plan.intent in DATA_INTENTS else None,
            "period": result.period.to_dict() if result.period else (plan.period.to_dict() if plan.period else None),
            "compared_with": result.compare.to_dict() if result.compare else None,
            "filters": {
                "countries": plan.countries,
                "categories": plan.categories,
                "skus": plan.skus,
                "attributes": plan.attributes,
                "group_by": plan.group_by,
                "top_n": plan.top_n,
            },
            "details": result.details,
            "datasets": sources,
            "data_window": {"first": str(self.engine.first), "last": str(self.engine.last)},
            "suggestions": suggestions[:3],
        }

    def _suggestions(self, plan: QueryPlan) -> list[str]:
        top_country = next(iter(self.catalog.countries.values()), None)
        if plan.intent in ("totals", "compare"):
            out = [
                "Break that down by category",
                f"How did {metric_label(plan.metric, plan.measure)} change vs the previous period?",
            ]
            if top_country and not plan.countries:
                out[1] = f"And in {top_country}?"
            return out
        if plan.intent in ("breakdown", "top"):
            return ["What about last month?", "Show the trend by week"]
        if plan.intent == "trend":
            return ["Which products drove the change?", "Compare with last year"]
        return self.parser.examples()[:2]
