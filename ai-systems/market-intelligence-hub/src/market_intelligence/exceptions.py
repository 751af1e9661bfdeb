"""Domain errors of market_intelligence (names end in Error)."""

from __future__ import annotations

from retail_platform.exceptions import PlatformError


class MarketIntelligenceError(PlatformError):
    """Base class."""


class InputError(MarketIntelligenceError, ValueError):
    """A table or request that cannot be used, with a message that says why."""


class NotFoundError(MarketIntelligenceError, LookupError):
    """An unknown market or no stored results."""


class UnavailableError(MarketIntelligenceError):
    """Stored results exist but none of them can be read (corrupt or unreadable objects)."""
