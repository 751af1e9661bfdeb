"""Domain errors of the shared package. Adapters turn AWS ClientErrors into these with `raise ... from`."""

from __future__ import annotations


class PlatformError(Exception):
    """Base class of every error the platform raises on purpose."""


class ConfigurationError(PlatformError):
    """A required setting is missing or invalid; raised at cold start."""


class ContractError(PlatformError):
    """A dataset contract is malformed, or no contract matches an object."""


class BadEventError(PlatformError):
    """An invocation event has a shape the handler does not understand."""


class ObjectNotFoundError(PlatformError):
    """An S3 object named by an event no longer exists."""


class StorageError(PlatformError):
    """An S3 call failed for a reason other than a missing object."""


class UnreadableFileError(PlatformError):
    """A raw file cannot be decoded at all (truncated gzip, wrong encoding, not the declared format)."""


class PublishError(PlatformError):
    """An event could not be published."""
