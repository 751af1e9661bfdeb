"""The copilot's own settings, on top of retail_platform.settings (read once, fail fast)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from retail_platform.exceptions import ConfigurationError
from retail_platform.settings import Section

LOCAL_SESSIONS_TABLE = "local-copilot-sessions"
ENGINES = ("duckdb", "athena", "auto")


@dataclass(frozen=True)
class CopilotSettings:
    sessions_table: str | None
    session_ttl_hours: int
    bedrock_model_id: str | None
    max_body_bytes: int
    sql_engine: str = "auto"  # duckdb | athena | auto (Athena once copilot_mart reaches athena_min_rows)
    athena_min_rows: int = 20_000_000
    glue_database: str | None = None
    athena_workgroup: str | None = None

    @property
    def athena_configured(self) -> bool:
        return bool(self.glue_database and self.athena_workgroup)

    def engine_for(self, mart_rows: int | None) -> str:
        """Where plans run: Athena when asked, or (auto) when it is configured and the mart is that large."""
        if self.sql_engine == "athena":
            return "athena"
        large = mart_rows is not None and mart_rows >= self.athena_min_rows
        return "athena" if self.sql_engine == "auto" and self.athena_configured and large else "duckdb"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CopilotSettings:
        env = os.environ if environ is None else environ
        try:
            ttl = int(env.get("COPILOT_SESSION_TTL_HOURS", "24"))
            max_body = int(env.get("COPILOT_MAX_BODY_BYTES", "4096"))
            min_rows = int(env.get("COPILOT_ATHENA_MIN_ROWS", "20000000"))
        except ValueError as e:
            raise ConfigurationError(
                f"COPILOT_SESSION_TTL_HOURS / COPILOT_MAX_BODY_BYTES / COPILOT_ATHENA_MIN_ROWS must be integers: {e}"
            ) from e
        if ttl <= 0 or max_body <= 0 or min_rows <= 0:
            raise ConfigurationError(
                "COPILOT_SESSION_TTL_HOURS, COPILOT_MAX_BODY_BYTES and COPILOT_ATHENA_MIN_ROWS must be positive"
            )
        engine = env.get("COPILOT_SQL_ENGINE", "auto").strip().lower() or "auto"
        if engine not in ENGINES:
            raise ConfigurationError(f"COPILOT_SQL_ENGINE must be one of {', '.join(ENGINES)}, not {engine!r}")
        database, workgroup = env.get("GLUE_DATABASE") or None, env.get("ATHENA_WORKGROUP") or None
        if engine == "athena" and not (database and workgroup):
            raise ConfigurationError("COPILOT_SQL_ENGINE=athena needs GLUE_DATABASE and ATHENA_WORKGROUP")
        return cls(
            # the local run and the tests use a table on the embedded endpoint (created on first use)
            sessions_table=env.get("COPILOT_SESSIONS_TABLE")
            or (LOCAL_SESSIONS_TABLE if env.get("ENVIRONMENT") == "local" else None),
            session_ttl_hours=ttl,
            bedrock_model_id=env.get("BEDROCK_MODEL_ID") or None,
            max_body_bytes=max_body,
            sql_engine=engine,
            athena_min_rows=min_rows,
            glue_database=database,
            athena_workgroup=workgroup,
        )


get_copilot_settings = Section(
    (
        "COPILOT_SESSIONS_TABLE",
        "COPILOT_SESSION_TTL_HOURS",
        "COPILOT_MAX_BODY_BYTES",
        "BEDROCK_MODEL_ID",
        "ENVIRONMENT",
        "COPILOT_SQL_ENGINE",
        "COPILOT_ATHENA_MIN_ROWS",
        "GLUE_DATABASE",
        "ATHENA_WORKGROUP",
    ),
    CopilotSettings.from_env,
)
