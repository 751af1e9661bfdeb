"""`sam local start-api` for the built app, on a free loopback port: a base URL and a stop function.

Usage in an e2e test (after the session's `sam_app` fixture built the app):

    from tests.e2e.api import start_api
    api = start_api(sam_app, {"Parameters": {...}, "AiSystemsStack/MyFunction": {...}})
    try:
        status, body = api.post("/my/route", {"x": 1})
    finally:
        api.stop()

`env` is a `--env-vars` document: `{"Parameters": {...}}` applies to every function, a
`"<Stack>/<Function>"` key to one (only variables the template declares are overridden). Requests
are not SigV4-signed: `sam local start-api` does not enforce IAM authorisation.

`warm_containers` ("EAGER" | "LAZY" | None) is passed through as `--warm-containers`; with Podman,
LAZY works (one container per function, reused across requests) and is the default here.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from tests.e2e import harness


@dataclass
class LocalApi:
    base_url: str
    process: subprocess.Popen
    log_path: str
    env_path: str

    def logs(self, tail: int = 6000) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-tail:]
        except OSError:
            return ""

    def request(self, method: str, path: str, body: Any = None, timeout: float = 900) -> tuple[int, Any]:
        """(status, parsed JSON body or text) of one request; HTTP errors are returned, not raised."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(  # noqa: S310 - loopback URL built here
            self.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
                status, raw = reply.status, reply.read().decode()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read().decode()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw

    def post(self, path: str, body: Any = None, timeout: float = 900) -> tuple[int, Any]:
        return self.request("POST", path, body, timeout)

    def get(self, path: str, timeout: float = 900) -> tuple[int, Any]:
        return self.request("GET", path, None, timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        for path in (self.env_path, self.log_path):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_api(
    sam_app: harness.SamApp,
    env: dict[str, dict[str, str]] | None = None,
    *,
    warm_containers: str | None = "LAZY",
    startup_timeout: float = 300,
) -> LocalApi:
    """Start `sam local start-api` on the built template; returns when the port accepts connections."""
    port = harness.free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as env_file:
        json.dump({k: {n: str(v) for n, v in vs.items()} for k, vs in (env or {}).items()}, env_file)
    log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)  # noqa: SIM115 - closed by stop()
    cmd = [
        harness.sam_executable(),
        "local",
        "start-api",
        "--template",
        str(sam_app.built_template),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--env-vars",
        env_file.name,
        "--skip-pull-image",
        *sam_app.runtime.add_host_args(),
    ]
    if warm_containers:
        cmd += ["--warm-containers", warm_containers]
    process = subprocess.Popen(
        cmd, cwd=sam_app.root, env=sam_app._env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    log.close()
    api = LocalApi(f"http://127.0.0.1:{port}", process, log.name, env_file.name)
    deadline = time.monotonic() + startup_timeout
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            output = api.logs()
            api.stop()
            raise harness.HarnessError(f"sam local start-api did not come up on port {port}:\n{output}")
        time.sleep(0.5)
    return api


def start_function_api(sam_app: harness.SamApp, moto_server: Any, function: str, env: dict[str, str]) -> LocalApi:
    """`start_api` with one function's environment, pointed at the session's S3 endpoint as containers reach it."""
    merged = {**env, "LOCAL_ENDPOINT_URL": moto_server.container_url}
    return start_api(sam_app, {function: merged, function.rsplit("/", 1)[-1]: merged})
