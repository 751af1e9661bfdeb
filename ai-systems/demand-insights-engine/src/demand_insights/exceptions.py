"""Errors of the demand-insights domain (names end in Error; the handler maps them to 4xx answers)."""

from __future__ import annotations

from retail_platform.exceptions import PlatformError


class DemandInsightsError(PlatformError):
    """Base class of every error this package raises on purpose."""


class InputDataError(DemandInsightsError):
    """A sales or transactions table cannot be used: missing columns, wrong types, too little history."""


class RequestError(DemandInsightsError):
    """An online request is malformed (bad query parameter, oversized payload)."""


class NotFoundError(DemandInsightsError):
    """The requested SKU, series or customer has no stored result."""


class ModelUnavailableError(DemandInsightsError):
    """No stored model or result version can be loaded."""
