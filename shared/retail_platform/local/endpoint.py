"""An embedded S3 (and EventBridge, DynamoDB) endpoint served by moto, and the environment that points at it.

The same endpoint serves the in-process local run (on loopback) and `sam local invoke` containers (bound to
0.0.0.0; a container reaches the host as `host.containers.internal` under Podman, `host.docker.internal` under
Docker). `env_vars_file` writes the one `--env-vars` file that serves every function and every file in events/.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUCKET_ENV = {
    "RAW_BUCKET": "local-raw",
    "CURATED_BUCKET": "local-curated",
    "PROD_BUCKET": "local-prod",
    "ARTIFACTS_BUCKET": "local-artifacts",
}
PODMAN_HOST_ALIAS = "host.containers.internal"
DOCKER_HOST_ALIAS = "host.docker.internal"
CONTAINER_HOST_ALIASES = (PODMAN_HOST_ALIAS, DOCKER_HOST_ALIAS)
LOCAL_SESSIONS_TABLE = "local-copilot-sessions"  # the copilot creates it on the endpoint's DynamoDB when missing
CUSTOM_ENDPOINTS_VAR = "MOTO_S3_CUSTOM_ENDPOINTS"
# Variables of the local environment that `sam local invoke --env-vars` can set: the templates declare them
# (Globals, or the copilot's function). AWS_* credentials and region are Lambda-reserved: sam hands a
# container its own (or placeholders, which moto accepts), whatever the file says.
ENV_VARS_FILE_KEYS = (
    *BUCKET_ENV,
    "ENVIRONMENT",
    "EVENT_BUS_NAME",
    "REPORTING_CURRENCY",
    "LOCAL_ENDPOINT_URL",
    "COPILOT_SESSIONS_TABLE",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_environment(endpoint_url: str, reporting_currency: str | None = None) -> dict[str, str]:
    """The environment every function sees in the local run (same variables as in the templates).

    reporting_currency: an ISO code or AUTO; None keeps the process's REPORTING_CURRENCY (default EUR).
    """
    return {
        **BUCKET_ENV,
        "ENVIRONMENT": "local",
        "EVENT_BUS_NAME": "default",
        "REPORTING_CURRENCY": reporting_currency or os.environ.get("REPORTING_CURRENCY", "EUR"),
        "LOCAL_ENDPOINT_URL": endpoint_url,
        "COPILOT_SESSIONS_TABLE": LOCAL_SESSIONS_TABLE,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "RetailPlatformLocal",
        "POWERTOOLS_METRICS_DISABLED": "true",  # EMF lines would drown the progress output
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
    }


def container_urls(port: int) -> list[str]:
    """The endpoint as containers address it, under Podman and under Docker."""
    return [f"http://{alias}:{port}" for alias in CONTAINER_HOST_ALIASES]


def container_host_alias(environ: Mapping[str, str] | None = None) -> str:
    """The host's name inside a `sam local invoke` container: Podman's when the engine is Podman."""
    env = os.environ if environ is None else environ
    docker_host = env.get("DOCKER_HOST", "")
    if "podman" in docker_host:
        return PODMAN_HOST_ALIAS
    if not docker_host and not Path("/var/run/docker.sock").exists() and shutil.which("podman"):
        return PODMAN_HOST_ALIAS
    return DOCKER_HOST_ALIAS


def declare_container_endpoints(port: int) -> list[str]:
    """Declare the container-facing URLs as S3 custom endpoints of moto (read per request).

    Without it moto reads the host of `http://host.containers.internal:<port>/local-artifacts/...` as a
    virtual-hosted bucket named "host" and answers NoSuchBucket to every container.
    """
    declared = [e for e in os.environ.get(CUSTOM_ENDPOINTS_VAR, "").split(",") if e]
    urls = [u for u in container_urls(port) if u not in declared]
    os.environ[CUSTOM_ENDPOINTS_VAR] = ",".join([*declared, *urls])
    return container_urls(port)


def start_server(host: str, port: int) -> Any:
    """moto's threaded server on host:port, its container-facing URLs declared; the caller stops it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    declare_container_endpoints(port)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def env_vars_file(path: Path, port: int, reporting_currency: str, environ: Mapping[str, str] | None = None) -> Path:
    """Write the `sam local invoke --env-vars` file for every function: {"Parameters": {...}}."""
    url = f"http://{container_host_alias(environ)}:{port}"
    variables = local_environment(url, reporting_currency)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Parameters": {k: variables[k] for k in ENV_VARS_FILE_KEYS}}, indent=2) + "\n")
    return path


@contextmanager
def s3_endpoint(
    host: str = "127.0.0.1", port: int | None = None, reporting_currency: str | None = None
) -> Iterator[str]:
    """Start moto's server, create the local buckets, export the environment; stop it on exit."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    environment = local_environment(url, reporting_currency)
    previous = {k: os.environ.get(k) for k in (*environment, CUSTOM_ENDPOINTS_VAR)}
    server = start_server(host, port)
    os.environ.update(environment)
    try:
        import boto3

        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        for bucket in BUCKET_ENV.values():
            s3.create_bucket(Bucket=bucket)
        yield url
    finally:
        server.stop()
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
