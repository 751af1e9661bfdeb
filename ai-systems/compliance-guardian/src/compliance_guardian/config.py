"""compliance-guardian's own settings (beyond retail_platform.settings), read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from retail_platform.exceptions import ConfigurationError
from retail_platform.settings import Section


@dataclass(frozen=True)
class GuardianSettings:
    threshold_objective: str  # what the fraud threshold must meet: precision:P | alerts_per_day:N | alert_rate:R
    retrain_days: int  # retrain the fraud model when prod data is this many days newer than its training window
    history_days: int  # days of earlier payments loaded to compute velocity features
    training_days: int  # days of payments the fraud model trains on
    mask_policy: str  # bin_last4 | last4
    max_body_bytes: int
    max_batch: int
    audit_curated_days: int
    text_model_texts: int  # size of the generated corpus the text model trains on
    text_model_epochs: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GuardianSettings:
        env = os.environ if environ is None else environ
        try:
            settings = cls(
                threshold_objective=objective_from_env(env),
                retrain_days=int(env.get("FRAUD_RETRAIN_DAYS", "7")),
                history_days=int(env.get("FRAUD_HISTORY_DAYS", "30")),
                training_days=int(env.get("FRAUD_TRAINING_DAYS", "365")),
                mask_policy=env.get("MASK_POLICY", "bin_last4"),
                max_body_bytes=int(env.get("MAX_BODY_BYTES", str(256 * 1024))),
                max_batch=int(env.get("MAX_BATCH", "100")),
                audit_curated_days=int(env.get("AUDIT_CURATED_DAYS", "3")),
                text_model_texts=int(env.get("TEXT_MODEL_TEXTS", "3000")),
                text_model_epochs=int(env.get("TEXT_MODEL_EPOCHS", "4")),
            )
        except ValueError as e:
            raise ConfigurationError(f"compliance-guardian setting is not a number: {e}") from e
        if settings.mask_policy not in ("bin_last4", "last4"):
            raise ConfigurationError("MASK_POLICY must be bin_last4 or last4")
        return settings


def objective_from_env(env: Mapping[str, str]) -> str:
    """FRAUD_THRESHOLD_OBJECTIVE (default precision:0.5), checked; a deployment that still sets only the old
    FRAUD_ALERT_RATE gets alert_rate:<that value>."""
    from compliance_guardian.fraud.threshold import DEFAULT_OBJECTIVE, parse_objective

    text = env.get("FRAUD_THRESHOLD_OBJECTIVE", "").strip()
    if not text and env.get("FRAUD_ALERT_RATE", "").strip():
        text = f"alert_rate:{env['FRAUD_ALERT_RATE'].strip()}"
    try:
        return str(parse_objective(text or DEFAULT_OBJECTIVE))
    except ValueError as e:
        raise ConfigurationError(f"FRAUD_THRESHOLD_OBJECTIVE: {e}") from e


ENV_NAMES = (
    "FRAUD_THRESHOLD_OBJECTIVE",
    "FRAUD_ALERT_RATE",
    "FRAUD_RETRAIN_DAYS",
    "FRAUD_HISTORY_DAYS",
    "FRAUD_TRAINING_DAYS",
    "MASK_POLICY",
    "MAX_BODY_BYTES",
    "MAX_BATCH",
    "AUDIT_CURATED_DAYS",
    "TEXT_MODEL_TEXTS",
    "TEXT_MODEL_EPOCHS",
)
get_guardian_settings = Section(ENV_NAMES, GuardianSettings.from_env)
