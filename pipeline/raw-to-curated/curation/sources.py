"""Source contracts of this deployment: the built-in ones plus a retailer's own from the artifacts bucket."""

from __future__ import annotations

import tempfile
from pathlib import Path

from retail_platform import s3io
from retail_platform.contracts import load_sources
from retail_platform.storage.blobstore import S3Client

USER_CONTRACTS_PREFIX = "contracts/"


def load_contracts(s3: S3Client, artifacts_bucket: str) -> list:
    """Built-in source contracts plus every s3://<artifacts>/contracts/*.yaml (onboarding an export is one upload).

    The handler keeps the result in an expiring cache, so a warm function sees a new contract within a minute.
    """
    keys = [k for k in s3io.list_keys(s3, artifacts_bucket, USER_CONTRACTS_PREFIX) if k.endswith(".yaml")]
    if not keys:
        return load_sources()
    folder = Path(tempfile.mkdtemp(prefix="contracts-"))
    for key in keys:
        (folder / key.rsplit("/", 1)[-1]).write_bytes(s3io.read_bytes(s3, artifacts_bucket, key))
    return load_sources((folder,))
