"""Errors of the market-pulse domain (names end in Error)."""

from __future__ import annotations

from retail_platform.exceptions import PlatformError


class PulseError(PlatformError):
    """Base class of every error market_pulse raises on purpose."""


class PulseInputError(PulseError, ValueError):
    """The input table cannot be analysed (missing columns, wrong types, too little data)."""


class NoResultsError(PulseError):
    """No stored pulse results exist yet (the batch path has not run)."""


class UnknownCountryError(PulseError, KeyError):
    """A country that the stored results do not contain."""
