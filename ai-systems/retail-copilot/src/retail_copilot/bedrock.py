"""Optional Bedrock help for questions the rules could not place: the model only rewrites the question into
the plain form the deterministic parser understands. It never produces a number: every figure in an answer
comes from the query engine. Any failure falls back silently to the rules' own answer.
"""

from __future__ import annotations

import json
from typing import Any

from retail_platform.observability import logger, record

SYSTEM_PROMPT = (
    "Rewrite the user's question about retail sales data as ONE short question in plain English that names "
    "the metric (revenue, units, orders, average order value or customers), the period, and any country, "
    "category or product. Examples of the style: {examples}. Reply with JSON only: "
    '{{"question": "<rewritten question>"}}. If it is not about the shop\'s sales data, reply {{"question": ""}}.'
)


class BedrockUnderstander:
    def __init__(self, client: Any, model_id: str, max_tokens: int = 200) -> None:
        self.client = client
        self.model_id = model_id
        self.max_tokens = max_tokens

    def rewrite(self, question: str, examples: list[str]) -> str | None:
        try:
            response = self.client.converse(
                modelId=self.model_id,
                system=[{"text": SYSTEM_PROMPT.format(examples="; ".join(examples))}],
                messages=[{"role": "user", "content": [{"text": question[:500]}]}],
                inferenceConfig={"maxTokens": self.max_tokens, "temperature": 0.0},
            )
            text = response["output"]["message"]["content"][0]["text"]
            start, end = text.find("{"), text.rfind("}")
            rewritten = json.loads(text[start : end + 1]).get("question", "") if start >= 0 else ""
        except Exception as e:
            logger.warning("bedrock rewrite failed; rules only", extra={"error": type(e).__name__})
            record("DegradedAnswers", 1, part="copilot-bedrock-rewrite")
            return None
        if not isinstance(rewritten, str) or not rewritten.strip():
            return None
        return rewritten.strip()[:500]
