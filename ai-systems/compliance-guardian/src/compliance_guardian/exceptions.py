"""Errors of compliance-guardian's domain core."""

from __future__ import annotations

from retail_platform.exceptions import PlatformError


class ComplianceGuardianError(PlatformError):
    """Base class."""


class BadRequestError(ComplianceGuardianError):
    """A request or input table that cannot be processed; the message says what is wrong."""


class PayloadTooLargeError(BadRequestError):
    """A request bigger than the limit."""


class NotFoundError(ComplianceGuardianError):
    """An unknown id (model version, dataset)."""


class ModelUnavailableError(ComplianceGuardianError):
    """No usable model version in the artifacts bucket."""


class TrainingDataError(BadRequestError):
    """Too little or unusable labelled data to train or evaluate a model."""
