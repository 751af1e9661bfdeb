"""The copilot's own settings, on top of retail_platform.settings (read once, fail fast)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from retail_platform.exceptions import ConfigurationError
from retail_platform.settings import Section

LOCAL_SESSIONS_TABLE = "local-copilot-sessions"


@dataclass(frozen=True)
class CopilotSettings:
    sessions_table: str | None
    session_ttl_hours: int
    bedrock_model_id: str | None
    max_body_bytes: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CopilotSettings:
        env = os.environ if environ is None else environ
        try:
            ttl = int(env.get("COPILOT_SESSION_TTL_HOURS", "24"))
            max_body = int(env.get("COPILOT_MAX_BODY_BYTES", "4096"))
        except ValueError as e:
            raise ConfigurationError(f"COPILOT_SESSION_TTL_HOURS / COPILOT_MAX_BODY_BYTES must be integers: {e}") from e
        if ttl <= 0 or max_body <= 0:
            raise ConfigurationError("COPILOT_SESSION_TTL_HOURS and COPILOT_MAX_BODY_BYTES must be positive")
        return cls(
            # the local run and the tests use a table on the embedded endpoint (created on first use)
            sessions_table=env.get("COPILOT_SESSIONS_TABLE")
            or (LOCAL_SESSIONS_TABLE if env.get("ENVIRONMENT") == "local" else None),
            session_ttl_hours=ttl,
            bedrock_model_id=env.get("BEDROCK_MODEL_ID") or None,
            max_body_bytes=max_body,
        )


get_copilot_settings = Section(
    (
        "COPILOT_SESSIONS_TABLE",
        "COPILOT_SESSION_TTL_HOURS",
        "COPILOT_MAX_BODY_BYTES",
        "BEDROCK_MODEL_ID",
        "ENVIRONMENT",
    ),
    CopilotSettings.from_env,
)
