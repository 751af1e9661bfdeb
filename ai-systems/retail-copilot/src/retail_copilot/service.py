"""Wiring: settings, S3/DynamoDB clients, the current snapshot and the Copilot, shared by the handler and the CLI.

The snapshot is loaded on the first request (not at import, so a batch invocation does not pay for it) and
re-checked against current.json at most every REFRESH_SECONDS, so a new version is picked up without a
cold start; if the current version cannot be read, the previous good one is used. The batch path's module
(and what only it needs) is imported on the first batch invocation, not at cold start of the serving path.
"""

from __future__ import annotations

import time
from typing import Any

from retail_copilot.config import get_copilot_settings
from retail_copilot.copilot import MAX_QUESTION_CHARS, Copilot
from retail_copilot.errors import PlanError
from retail_copilot.sessions import SESSION_ID, MemorySessionStore, SessionStore
from retail_copilot.store import SUBSCRIBED, CopilotData
from retail_platform import aws
from retail_platform.exceptions import PlatformError
from retail_platform.observability import logger
from retail_platform.settings import get_settings

REFRESH_SECONDS = 300


class CopilotService:
    subscribed = SUBSCRIBED

    def __init__(self, data: CopilotData | None = None, sessions: SessionStore | None = None) -> None:
        """`data` and `sessions` are injected by tests (MemoryBlobStore, MemorySessionStore); by default they
        are built from the settings on first use."""
        self.settings = get_copilot_settings()
        self._copilot: Copilot | None = None
        self._checked = 0.0
        self._sessions = sessions
        self._data = data

    # ------------------------------------------------------------------ dependencies

    def data(self) -> CopilotData:
        if self._data is None:
            platform = get_settings()
            self._data = CopilotData.on_s3(
                aws.client("s3"), platform.prod_bucket, platform.curated_bucket, platform.artifacts_bucket
            )
            if self.settings.athena_configured:
                self._data.athena = self.athena
        return self._data

    def athena(self) -> Any:
        """The catalogued prod tables on Athena (the settings' database and workgroup)."""
        from retail_copilot.athena import AthenaWarehouse

        settings = self.settings
        return AthenaWarehouse(
            aws.client("athena"), aws.client("glue"), settings.glue_database or "", settings.athena_workgroup or ""
        )

    def engine(self) -> str:
        """Where plans run now: the settings' choice, given the size of the mart the current version saw."""
        pointer = self.data().current_pointer()
        rows = None
        if pointer and pointer.get("version"):
            try:
                rows = self.data().snapshots.read_json(pointer["version"], "metadata.json")["inputs"]["copilot_mart"]
                rows = rows.get("rows")
            except (PlatformError, KeyError, TypeError, ValueError):
                rows = None
        return self.settings.engine_for(rows)

    def sessions(self) -> SessionStore:
        if self._sessions is None:
            table = self.settings.sessions_table
            if not table:
                logger.warning("COPILOT_SESSIONS_TABLE not set: sessions kept in memory only")
                self._sessions = MemorySessionStore()
            else:
                store = SessionStore(aws.client("dynamodb"), table, self.settings.session_ttl_hours * 3600)
                if get_settings().environment == "local":
                    store.ensure_table()
                self._sessions = store
        return self._sessions

    def understander(self) -> Any | None:
        if not self.settings.bedrock_model_id:
            return None
        from retail_copilot.bedrock import BedrockUnderstander

        return BedrockUnderstander(aws.client("bedrock-runtime"), self.settings.bedrock_model_id)

    def copilot(self) -> Copilot:
        now = time.monotonic()
        if self._copilot is not None and now - self._checked < REFRESH_SECONDS:
            return self._copilot
        self._checked = now
        pointer = self.data().current_pointer()
        if self._copilot is not None and pointer and pointer.get("version") == self._copilot.version:
            return self._copilot
        snapshot = (self.data().load_current(pointer) if pointer else None) or self.data().load_live(
            self.settings.engine_for(None)
        )
        self._copilot = Copilot(
            snapshot, self.data(), self.sessions(), get_settings().reporting_currency, self.understander()
        )
        rows = snapshot.datasets["copilot_mart"].rows if "copilot_mart" in snapshot.datasets else None
        logger.info("copilot loaded", extra={"model_version": snapshot.version, "rows": rows})
        return self._copilot

    # ------------------------------------------------------------------ requests

    @staticmethod
    def validate_session_id(session_id: Any) -> str | None:
        if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
            return "session_id must be 1-128 characters of letters, digits, '_', '-', '.', ':'"
        return None

    def validate_ask(self, body: dict[str, Any]) -> tuple[str, str | None] | str:
        """(question, session_id) or the reason the body is wrong."""
        unknown = sorted(set(body) - {"question", "session_id"})
        if unknown:
            return f"unknown field(s): {', '.join(unknown)}; expected 'question' and optional 'session_id'"
        question = body.get("question")
        if not isinstance(question, str):
            return "'question' is required and must be a string"
        if not question.strip():
            return "'question' must not be empty"
        if len(question) > MAX_QUESTION_CHARS:
            return f"'question' is too long: at most {MAX_QUESTION_CHARS} characters"
        session_id = body.get("session_id")
        if session_id is not None:
            problem = self.validate_session_id(session_id)
            if problem:
                return problem
        return question, session_id

    def ask(self, question: str, session_id: str | None) -> dict[str, Any]:
        try:
            copilot = self.copilot()
        except PlanError as e:  # prod has no copilot_mart yet: a refusal that says so, not a 500
            return {"status": "refused", "answer": str(e), "intent": None, "turn": 0, "session_id": session_id}
        return copilot.ask(question, session_id)

    def session(self, session_id: str) -> dict[str, Any] | None:
        plan, turns = self.sessions().load(session_id)
        if plan is None and turns == 0:
            return None
        return {
            "session_id": session_id,
            "turns": turns,
            "last_plan": plan.to_dict() if plan else None,
            "model_version": self.copilot().version,
        }

    # ------------------------------------------------------------------ batch

    def rebuild(self) -> dict[str, Any]:
        from retail_copilot.batch import rebuild

        outcome = rebuild(self.data(), get_settings().reporting_currency, self.engine())
        self._copilot = None  # the next request loads the new version
        if outcome.get("status") == "rebuilt":
            outcome["report_html"] = self.report_html(outcome)
        return outcome

    def report_html(self, outcome: dict[str, Any]) -> str:
        """The local run's report section: the version, and a few questions answered from it."""
        from retail_copilot.report import section

        return section(outcome, self.copilot().ask)
