"""Conversation state per session id in DynamoDB (pk = SESSION#<id>, sk = META | TURN#<n>, TTL expires_at).

Stores the last plan (intent, filters, period) so follow-ups such as "and in Spain?" work, and each turn's
masked question and short answer. Card numbers never reach the table (questions are masked first).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from botocore.exceptions import ClientError

from retail_copilot.plan import QueryPlan
from retail_platform.exceptions import PlatformError

SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
TTL_SECONDS = 24 * 3600


class SessionStoreError(PlatformError):
    """The session table could not be read or written."""


class SessionStore:
    def __init__(self, dynamodb: Any, table: str, ttl_seconds: int = TTL_SECONDS) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.ttl_seconds = ttl_seconds

    def ensure_table(self) -> None:
        """Create the table when it is missing (only used when ENVIRONMENT=local)."""
        try:
            self.dynamodb.describe_table(TableName=self.table)
            return
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise SessionStoreError(f"describe_table {self.table} failed: {e}") from e
        self.dynamodb.create_table(
            TableName=self.table,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )

    def load(self, session_id: str) -> tuple[QueryPlan | None, int]:
        """The last plan of a session and its number of turns (None, 0 for a new or expired session)."""
        try:
            item = self.dynamodb.get_item(
                TableName=self.table,
                Key={"pk": {"S": f"SESSION#{session_id}"}, "sk": {"S": "META"}},
                ConsistentRead=True,
            ).get("Item")
        except ClientError as e:
            raise SessionStoreError(
                f"get_item on {self.table} failed: {e.response.get('Error', {}).get('Code')}"
            ) from e
        if not item or int(item.get("expires_at", {}).get("N", "0")) < time.time():
            return None, 0
        turns = int(item.get("turns", {}).get("N", "0"))
        plan_json = item.get("last_plan", {}).get("S")
        try:
            return (QueryPlan.from_dict(json.loads(plan_json)) if plan_json else None), turns
        except (ValueError, TypeError, KeyError):
            return None, turns

    def save(self, session_id: str, turn: int, plan: QueryPlan, question: str, answer: str) -> None:
        expires = int(time.time()) + self.ttl_seconds
        pk = {"S": f"SESSION#{session_id}"}
        meta = {
            "pk": pk,
            "sk": {"S": "META"},
            "last_plan": {"S": json.dumps(plan.to_dict(), default=str)},
            "turns": {"N": str(turn)},
            "expires_at": {"N": str(expires)},
        }
        turn_item = {
            "pk": pk,
            "sk": {"S": f"TURN#{turn:05d}"},
            "question": {"S": question[:1000]},
            "answer": {"S": answer[:2000]},
            "intent": {"S": plan.intent},
            "expires_at": {"N": str(expires)},
        }
        try:  # one round trip for both items
            response = self.dynamodb.batch_write_item(
                RequestItems={self.table: [{"PutRequest": {"Item": meta}}, {"PutRequest": {"Item": turn_item}}]}
            )
            for request in response.get("UnprocessedItems", {}).get(self.table, []):  # throttled: one by one
                self.dynamodb.put_item(TableName=self.table, Item=request["PutRequest"]["Item"])
        except ClientError as e:
            raise SessionStoreError(f"writing to {self.table} failed: {e.response.get('Error', {}).get('Code')}") from e


class MemorySessionStore(SessionStore):
    """Sessions in process memory: for tests and the CLI (not for Lambda, where instances do not share memory)."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[QueryPlan, int]] = {}

    def ensure_table(self) -> None:
        return None

    def load(self, session_id: str) -> tuple[QueryPlan | None, int]:
        return self.items.get(session_id, (None, 0))

    def save(self, session_id: str, turn: int, plan: QueryPlan, question: str, answer: str) -> None:
        self.items[session_id] = (plan, turn)
