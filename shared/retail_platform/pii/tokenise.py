"""Keyed tokenisation of card numbers: the same card joins across datasets without being stored.

The HMAC key lives in AWS Secrets Manager or SSM Parameter Store (a SecureString); its name comes from
an environment variable (`PAN_TOKEN_KEY_NAME`, read through `settings.get_pii_settings`), e.g.
`ssm:/retail/pan-token-key` or `secretsmanager:retail/pan-token-key` (a bare name means SSM). The key is
fetched once per key name and process; `forget_key()` drops it (after a rotation).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from retail_platform.exceptions import ConfigurationError
from retail_platform.pii import pan
from retail_platform.settings import get_pii_settings

KEY_ENV = "PAN_TOKEN_KEY_NAME"
MIN_KEY_BYTES = 16


def parse_key_name(name: str) -> tuple[str, str]:
    """('ssm' | 'secretsmanager', name) from 'ssm:/x', 'secretsmanager:x' or a bare SSM name."""
    service, sep, rest = name.partition(":")
    if sep and service in ("ssm", "secretsmanager") and rest:
        return service, rest
    if name.startswith("arn:aws:secretsmanager:"):
        return "secretsmanager", name
    return "ssm", name


def fetch_key(name: str, client_factory: Any = None) -> bytes:
    """The tokenisation key from Secrets Manager or SSM (decrypted); fails with a clear message."""
    if client_factory is None:
        from retail_platform import aws

        client_factory = aws.client
    service, key_name = parse_key_name(name)
    try:
        if service == "ssm":
            value = client_factory("ssm").get_parameter(Name=key_name, WithDecryption=True)["Parameter"]["Value"]
        else:
            value = client_factory("secretsmanager").get_secret_value(SecretId=key_name)["SecretString"]
    except (ClientError, BotoCoreError) as e:
        raise ConfigurationError(f"cannot read the card tokenisation key {service}:{key_name}: {e}") from e
    key = value.encode()
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"the card tokenisation key {service}:{key_name} is shorter than {MIN_KEY_BYTES} bytes"
        )
    return key


def process_key() -> bytes:
    """The key named by PAN_TOKEN_KEY_NAME (the settings object), fetched once per name and process."""
    name = get_pii_settings().token_key_name
    if not name:
        raise ConfigurationError(f"{KEY_ENV} is not set: it names the SSM parameter or secret holding the key")
    return _key(name)


@cache
def _key(name: str) -> bytes:
    return fetch_key(name)


def forget_key() -> None:
    """Drop the fetched keys (a rotated key is fetched again on the next use)."""
    _key.cache_clear()


def tokenise(pan_text: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 token (32 hex chars) of a PAN's digits; separators do not change it."""
    return pan.card_token(pan_text, key if key is not None else process_key())
