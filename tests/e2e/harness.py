"""End-to-end harness: the built images, run the way Lambda and `sam local invoke` run them.

* `ensure_container_runtime()` makes a Docker-compatible engine answer (tools/container-runtime/setup.sh:
  Podman + a locally built stand-in of public.ecr.aws/lambda/python:3.11 where Docker is absent).
* `SamApp.build()` runs `sam build` once; `SamApp.invoke()` runs `sam local invoke <Stack>/<Function>`.
* `MotoServer` is the S3 (and friends) endpoint, bound to 0.0.0.0 so containers reach it at
  `http://host.containers.internal:PORT`.
* `run_readonly_nonroot()` runs a built image as Lambda does: read-only root, uid 1000, only /tmp
  writable, and posts one event to its Runtime Interface Emulator.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = REPO_ROOT / "tools" / "container-runtime" / "setup.sh"
PODMAN_SOCKET = "unix:///run/podman/podman.sock"
CONTAINER_HOST_ALIAS = "host.containers.internal"  # Podman's name for the host, seen from a container
RIE_INVOKE_PATH = "/2015-03-31/functions/function/invocations"
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


_AWS_IDENTITY_VARS = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
}


class HarnessError(RuntimeError):
    """A harness step (runtime setup, build, invoke, container run) failed; the message has the output."""


class FunctionError(HarnessError):
    """The function ran and raised: `response` is Lambda's error document."""

    def __init__(self, message: str, response: dict[str, Any]) -> None:
        super().__init__(message)
        self.response = response


class RuntimeUnavailableError(HarnessError):
    """No container engine can be had on this machine (not Linux and no Docker engine answers)."""


def _output(what: str, proc: subprocess.CompletedProcess[str]) -> str:
    return f"{what} exited {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


WHEELHOUSE = Path("ai-systems") / "compliance-guardian" / "wheelhouse"
LOCAL_WHEEL_DIRS = ("/opt/wheels",)


def fill_wheelhouse(root: Path) -> list[str]:
    """Put a local CPU build of torch where compliance-guardian's Dockerfile looks first.

    Machines that reach only PyPI (whose Linux torch is a multi-GB CUDA build) keep the CPU wheel in a
    local folder; elsewhere the Dockerfile takes torch from the PyTorch CPU index and this does nothing.
    """
    target = root / WHEELHOUSE
    dirs = [*os.environ.get("PIP_FIND_LINKS", "").split(), *LOCAL_WHEEL_DIRS]
    copied = []
    for folder in dirs:
        for wheel in sorted(Path(folder).glob("torch-2.13.0+cpu-*.whl")) if Path(folder).is_dir() else []:
            if target.is_dir() and not (target / wheel.name).exists():
                shutil.copy2(wheel, target / wheel.name)
                copied.append(wheel.name)
    return copied


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- container runtime ------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerRuntime:
    """The engine `sam` talks to (DOCKER_HOST) and the CLI that runs containers directly."""

    docker_host: str | None
    cli: str  # "podman" or "docker"

    @property
    def is_podman(self) -> bool:
        return Path(self.cli).name == "podman"

    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.docker_host} if self.docker_host else {}

    def add_host_args(self) -> list[str]:
        """Podman adds host.containers.internal itself; Docker on Linux needs it spelled out."""
        return [] if self.is_podman else ["--add-host", f"{CONTAINER_HOST_ALIAS}:host-gateway"]


def _docker_answers() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    return subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode == 0


def _python_with_samcli() -> str:
    """setup.sh copies the RIE binary out of the aws-sam-cli package of this interpreter."""
    return sys.executable


def ensure_container_runtime() -> ContainerRuntime:
    """Make a Docker-compatible engine answer and export DOCKER_HOST for `sam` (idempotent, ~1 s warm).

    Raises RuntimeUnavailableError only where nothing can be done (not Linux, no Docker engine);
    the caller decides whether that skips or fails.
    """
    if platform.system() != "Linux":
        if _docker_answers():
            return ContainerRuntime(os.environ.get("DOCKER_HOST"), shutil.which("docker") or "docker")
        raise RuntimeUnavailableError(
            f"no Docker engine answers and the Podman setup needs Linux (this is {platform.system()})"
        )
    env = {**os.environ, "PYTHON": _python_with_samcli()}
    proc = subprocess.run(
        ["bash", str(SETUP_SCRIPT)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise HarnessError(_output(f"{SETUP_SCRIPT}", proc))
    docker_host = None
    for line in proc.stdout.splitlines():
        if line.startswith("export DOCKER_HOST="):
            docker_host = line.split("=", 1)[1].strip()
    if docker_host:
        os.environ["DOCKER_HOST"] = docker_host
    podman = shutil.which("podman")
    cli = podman if podman and docker_host == PODMAN_SOCKET else (shutil.which("docker") or "docker")
    return ContainerRuntime(docker_host, cli)


# --- moto -------------------------------------------------------------------------------------


@dataclass
class MotoServer:
    """A moto server reachable from the host (127.0.0.1) and from containers (host.containers.internal)."""

    port: int = field(default_factory=free_port)
    _server: Any = None

    @property
    def local_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def container_url(self) -> str:
        return f"http://{CONTAINER_HOST_ALIAS}:{self.port}"

    def start(self) -> MotoServer:
        """The product's endpoint server (it declares the container-facing URLs to moto itself)."""
        from retail_platform.local.endpoint import start_server

        self._server = start_server("0.0.0.0", self.port)  # noqa: S104 - containers reach it
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget every bucket and object (moto's reset API)."""
        _http_post(f"{self.local_url}/moto-api/reset", b"", timeout=30)

    def client(self, service: str = "s3") -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.local_url,
            region_name=FAKE_AWS_ENV["AWS_DEFAULT_REGION"],
            aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        )


# --- sam build / sam local invoke ---------------------------------------------------------------


def sam_executable() -> str:
    beside_python = Path(sys.executable).parent / ("sam.exe" if os.name == "nt" else "sam")
    sam = str(beside_python) if beside_python.exists() else shutil.which("sam")
    if not sam:
        raise HarnessError("the sam CLI is not installed (it comes with requirements-dev.txt: python dev.py test)")
    return sam


class _IgnoreTagsLoader:
    """A yaml SafeLoader that reads CloudFormation short-form tags (!Ref, !Sub, ...) as None."""

    @staticmethod
    def load(text: str) -> Any:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass


@dataclass
class SamApp:
    """A SAM project (root template possibly nesting others) built once into `<root>/.aws-sam/build`."""

    root: Path
    runtime: ContainerRuntime
    template: str = "template.yaml"
    parallel: bool = True  # measured: `sam build --parallel` works with the Podman socket
    build_seconds: float | None = None

    @property
    def build_dir(self) -> Path:
        return self.root / ".aws-sam" / "build"

    @property
    def built_template(self) -> Path:
        return self.build_dir / "template.yaml"

    def _env(self) -> dict[str, str]:
        """sam's environment: no credentials at all. With any, `sam local invoke` asks STS for the account
        id first (~8 s of retries where AWS is unreachable, a real call where it is); without, it uses
        its default account and hands the container `defaultkey`/`defaultsecret`, which moto accepts."""
        env = {k: v for k, v in os.environ.items() if k not in _AWS_IDENTITY_VARS}
        return {
            **env,
            **self.runtime.env(),
            "AWS_DEFAULT_REGION": FAKE_AWS_ENV["AWS_DEFAULT_REGION"],
            "AWS_REGION": FAKE_AWS_ENV["AWS_REGION"],
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAM_CLI_TELEMETRY": "0",
        }

    def build(self, timeout: float = 3600) -> SamApp:
        fill_wheelhouse(self.root)
        cmd = [sam_executable(), "build", "--template", self.template, "--build-dir", str(self.build_dir)]
        if self.parallel:
            cmd.append("--parallel")
        started = time.monotonic()
        proc = subprocess.run(
            cmd,
            cwd=self.root,
            env=self._env(),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
        self.build_seconds = time.monotonic() - started
        if proc.returncode != 0 or not self.built_template.exists():
            raise HarnessError(_output(" ".join(cmd), proc))
        return self

    def function_resource(self, function_path: str) -> dict[str, Any]:
        """The built template's resource of `Stack/Function` (nested stacks live in build_dir/<Stack>/)."""
        *stacks, logical_id = function_path.split("/")
        template = self.build_dir.joinpath(*stacks, "template.yaml")
        resources = _IgnoreTagsLoader.load(template.read_text())["Resources"]
        if logical_id not in resources:
            raise HarnessError(f"{function_path}: no resource {logical_id} in {template}")
        return resources[logical_id]

    def image_tag(self, function_path: str) -> str:
        """The local image of an image function: `<logical id, lowercased>:<DockerTag>` (no stack prefix)."""
        return str(self.function_resource(function_path)["Properties"]["ImageUri"])

    def declared_environment(self, function_path: str) -> dict[str, str]:
        """The function's literal Environment.Variables (intrinsics such as !Ref are left out)."""
        variables = (self.function_resource(function_path)["Properties"].get("Environment") or {}).get("Variables")
        return {k: str(v) for k, v in (variables or {}).items() if isinstance(v, (str, int, float))}

    def invoke(
        self,
        function_path: str,
        event_file: Path,
        env: dict[str, str] | None = None,
        *,
        raise_on_function_error: bool = True,
        timeout: float = 900,
    ) -> Any:
        """`sam local invoke <Stack>/<Function> -e <event_file> --env-vars <env>`: the parsed response.

        `env` overrides only variables the template declares (a SAM rule); it is written as
        `{"<Stack>/<Function>": env}`.
        """
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as env_file:
            json.dump({function_path: {k: str(v) for k, v in (env or {}).items()}}, env_file)
        cmd = [
            sam_executable(),
            "local",
            "invoke",
            function_path,
            "--template",
            str(self.built_template),
            "--event",
            str(Path(event_file).resolve()),
            "--env-vars",
            env_file.name,
            "--skip-pull-image",
            *self.runtime.add_host_args(),
        ]
        try:
            proc = subprocess.run(
                cmd,
                cwd=self.root,
                env=self._env(),
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            )
        finally:
            os.unlink(env_file.name)
        TRANSCRIPTS.append((f"{function_path} {Path(event_file).name}", proc.stdout + "\n" + proc.stderr))
        if proc.returncode != 0:
            raise HarnessError(_output(" ".join(cmd), proc))
        response = _last_json_line(proc.stdout)
        if response is _NO_JSON:
            raise HarnessError("no JSON response on stdout\n" + _output(" ".join(cmd), proc))
        _check_function_error(response, raise_on_function_error, lambda: _output(" ".join(cmd), proc))
        return response


_NO_JSON = object()
# (what was invoked, its response and logs) of every `sam local invoke` of the session: the PAN audit reads them
TRANSCRIPTS: list[tuple[str, str]] = []
# (bucket, key) of objects a test planted with card data on purpose (an audit's input): the PAN audit skips them
PLANTED: set[tuple[str, str]] = set()


def _last_json_line(stdout: str) -> Any:
    for line in reversed(stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return _NO_JSON


def _check_function_error(response: Any, raise_on_function_error: bool, details: Any) -> None:
    # sam local invoke exits 0 when the function raises: the error document is the response.
    if (
        raise_on_function_error
        and isinstance(response, dict)
        and "errorType" in response
        and "errorMessage" in response
    ):
        raise FunctionError(
            f"the function raised {response['errorType']}: {response['errorMessage']}\n{details()}", response
        )


# --- read-only, non-root run -------------------------------------------------------------------


def run_readonly_nonroot(
    runtime: ContainerRuntime,
    image_tag: str,
    event: Any,
    env: dict[str, str] | None = None,
    *,
    raise_on_function_error: bool = True,
    timeout: float = 900,
) -> Any:
    """Run `image_tag` as Lambda does (read-only root, uid 1000, writable /tmp only) and invoke it once.

    The image's own entry point starts the Runtime Interface Emulator (it does on the AWS base image and
    on the stand-in); the event is posted to it on a loopback-published port.
    """
    port = free_port()
    environment = {**FAKE_AWS_ENV, "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(timeout)), **(env or {})}
    cmd = [
        runtime.cli,
        "run",
        "--detach",
        "--read-only",
        "--user",
        "1000:1000",
        "--tmpfs",
        "/tmp",
        "--publish",
        f"127.0.0.1:{port}:8080",
        *runtime.add_host_args(),
    ]
    for key, value in environment.items():
        cmd += ["--env", f"{key}={value}"]
    cmd.append(image_tag)
    run_env = {**os.environ, **runtime.env()}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env, stdin=subprocess.DEVNULL, timeout=300)
    if proc.returncode != 0:
        raise HarnessError(_output(" ".join(cmd), proc))
    container = proc.stdout.strip().splitlines()[-1]

    def logs() -> str:
        out = subprocess.run([runtime.cli, "logs", container], capture_output=True, text=True, env=run_env)
        return f"container {container} ({image_tag}) logs:\n{out.stdout}{out.stderr}"

    try:
        body = _post_when_ready(f"http://127.0.0.1:{port}{RIE_INVOKE_PATH}", json.dumps(event).encode(), timeout, logs)
        try:
            response = json.loads(body)
        except ValueError as e:
            raise HarnessError(f"not a JSON response: {body[:2000]!r}\n{logs()}") from e
        _check_function_error(response, raise_on_function_error, logs)
        return response
    finally:
        subprocess.run([runtime.cli, "rm", "--force", container], capture_output=True, env=run_env)


def _http_post(url: str, data: bytes, timeout: float) -> str:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the harness only talks to loopback servers, not {url}")
    request = urllib.request.Request(  # noqa: S310 - checked above: http on loopback
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
        return reply.read().decode()


def _post_when_ready(url: str, data: bytes, timeout: float, logs: Any) -> str:
    deadline = time.monotonic() + 60  # the emulator listens within a second or two
    while True:
        try:
            return _http_post(url, data, timeout)
        except (ConnectionError, urllib.error.URLError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(e, urllib.error.HTTPError) or not isinstance(reason, (ConnectionError, OSError)):
                raise HarnessError(f"POST {url} failed: {e}\n{logs()}") from e
            if time.monotonic() > deadline:
                raise HarnessError(f"the emulator never answered on {url}: {e}\n{logs()}") from e
            time.sleep(0.3)
