"""Storage errors, and the one place where an S3 ClientError is classified as missing, throttled or failed.

Corrupt objects (bytes that do not decode as the JSON or Parquet they should be) are a `CorruptObjectError`,
which is also a `ValueError` so that callers that caught decoding errors before keep working.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from retail_platform.exceptions import ObjectNotFoundError, StorageError

__all__ = ["CorruptObjectError", "ObjectNotFoundError", "StorageError", "ThrottledError", "translate"]

MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchBucket"})
THROTTLING_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "503"}
)


class ThrottledError(StorageError):
    """The store kept refusing a call for load after the client's own retries (retry later, a 5xx)."""


class CorruptObjectError(StorageError, ValueError):
    """An object exists but its bytes are not the JSON or Parquet they should be."""


def translate(error: ClientError, where: str) -> StorageError | ObjectNotFoundError:
    """The domain error of a ClientError on `where` (an s3:// address)."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in MISSING_CODES:
        return ObjectNotFoundError(f"{where} does not exist ({code})")
    if code in THROTTLING_CODES:
        return ThrottledError(f"S3 call on {where} failed: {code} (throttled, after the client's retries)")
    return StorageError(f"S3 call on {where} failed: {code or error}")
