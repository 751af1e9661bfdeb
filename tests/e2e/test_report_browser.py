"""The main job's report as a person sees it: headless Chromium (Debian's package) opens the `--small` run's report.

Checks: no heading repeats, every chart image loaded (naturalWidth > 0), the page logged no console error and
raised no exception. The full-page screenshot is kept as local-run/report-browser.png.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON messages ended by NUL on
file descriptors 3 and 4), so no client library or browser download is needed. When `chromium` is missing, the
test's set-up installs the Debian package (`apt-get install -y chromium`, as root on Debian/Ubuntu).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT

SCREENSHOT = ROOT / "local-run" / "report-browser.png"
BROWSERS = ("chromium", "chromium-browser")
PAGE_STATE = """JSON.stringify({
  headings: [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => h.tagName + ' ' + h.textContent.trim()),
  images: [...document.images].map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth})),
  height: document.documentElement.scrollHeight,
})"""


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def ensure_chromium() -> str:
    """The path of chromium; installs Debian's package first when it is missing and apt-get can (root)."""
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found:
        return found
    if platform.system() != "Linux" or not shutil.which("apt-get") or os.geteuid() != 0:
        raise RuntimeError("chromium is not installed and cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, env=env, capture_output=True, timeout=900).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600, check=True)
        proc = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"apt-get install chromium failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return next(path for name in BROWSERS if (path := shutil.which(name)))


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe (flat sessions)."""

    def __init__(self, browser: str, profile: Path) -> None:
        to_browser_read, self._write = os.pipe()
        self._read, from_browser_write = os.pipe()
        os.set_inheritable(to_browser_read, True)
        os.set_inheritable(from_browser_write, True)
        # the browser reads commands on fd 3 and writes replies on fd 4
        launcher = (
            f"import os, sys; os.dup2({to_browser_read}, 3); os.dup2({from_browser_write}, 4); "
            "os.execv(sys.argv[1], sys.argv[1:])"
        )
        args = [
            "--headless",
            "--no-sandbox",  # root in a container: the sandbox needs user namespaces
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            [sys.executable, "-c", launcher, browser, *args],
            pass_fds=(to_browser_read, from_browser_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium closed the pipe: {self.process.stderr.read().decode()[-2000:]}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its reply; events arriving meanwhile are kept in `events`."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):  # it may be gone already
            self.call("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._write)
        os.close(self._read)


@pytest.fixture(scope="module")
def small_report(tmp_path_factory) -> Path:
    """The report of `python dev.py demo --small` (the main job, run as the README says)."""
    out = tmp_path_factory.mktemp("local-run-small")
    proc = subprocess.run(
        [sys.executable, "-m", "retail_platform.local", "--small", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = (out / "run.log").read_text(errors="replace") if (out / "run.log").exists() else ""
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:] + log[-3000:]
    return out / "report.html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[DevTools]:
    try:
        path = ensure_chromium()
    except RuntimeError as e:
        if _on_ci():
            pytest.fail(str(e), pytrace=False)
        pytest.skip(str(e))
    devtools = DevTools(path, tmp_path_factory.mktemp("chromium-profile"))
    yield devtools
    devtools.close()


def open_page(devtools: DevTools, page: Path) -> tuple[dict[str, Any], list[str], bytes]:
    """Load the page; its state (headings, images), its console errors and exceptions, a full-page PNG."""
    target = devtools.call("Target.createTarget", url="about:blank")["targetId"]
    session = devtools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        devtools.call(f"{domain}.enable", session)
    devtools.call(
        "Emulation.setDeviceMetricsOverride", session, width=1280, height=900, deviceScaleFactor=1, mobile=False
    )
    devtools.call("Page.navigate", session, url=page.as_uri())
    devtools.wait_for("Page.loadEventFired", timeout=120)
    state = json.loads(
        devtools.call("Runtime.evaluate", session, expression=PAGE_STATE, returnByValue=True)["result"]["value"]
    )
    height = min(int(state["height"]), 20000)
    shot = devtools.call(
        "Page.captureScreenshot",
        session,
        timeout=120,
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1},
    )
    errors = []
    for event in devtools.events:
        params = event.get("params", {})
        if event.get("method") == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif event.get("method") == "Runtime.exceptionThrown":
            errors.append(params.get("exceptionDetails", {}).get("text", "exception"))
        elif event.get("method") == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", ""))
    return state, errors, base64.b64decode(shot["data"])


def test_the_small_report_reads_right_in_chromium(small_report, browser):
    state, errors, png = open_page(browser, small_report)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    headings = state["headings"]
    repeated = sorted({h for h in headings if headings.count(h) > 1})
    assert not repeated, f"headings repeat: {repeated}"
    assert "H2 AI systems" in headings and len(headings) >= 8
    images = state["images"]
    assert len(images) >= 5, f"expected the report's charts, found {len(images)} images"
    broken = [i["alt"] for i in images if not i["complete"] or i["width"] <= 0]
    assert not broken, f"chart images that did not load: {broken}"
    assert not errors, f"the page logged errors: {errors}"
