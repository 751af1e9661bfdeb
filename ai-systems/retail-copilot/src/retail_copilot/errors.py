"""The copilot's domain errors."""

from __future__ import annotations

from retail_platform.exceptions import PlatformError


class PlanError(PlatformError, ValueError):
    """The plan cannot be answered from the data (the message says why, for the user)."""
