"""Browser-test set-up: Debian's Chromium for pytest-playwright, and `streamlit run app.py`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True)
class App:
    """A running `streamlit run app.py`: its URL, when it was started and when it first answered
    its health check (monotonic seconds)."""

    url: str
    started: float
    answered: float


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Use the system Chromium (no browser download), headless and quiet."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run ./test.sh, which installs it")
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Use a tall viewport: Streamlit scrolls an inner container, so full-page shots stop short."""
    return {**browser_context_args, "viewport": {"width": 1440, "height": 3400}}


def serve_app(env: dict[str, str], log_name: str):
    """Run `streamlit run app.py` on a free port with `env`; yield the App, then stop it."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / log_name
    log = open(log_path, "wb")  # noqa: SIM115 - closed after the process
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/_stcore/health", timeout=1.0).text == "ok"
        except httpx.HTTPError:
            return proc.poll() is not None  # stop waiting if it died; the test then fails loudly

    try:
        wait_for(healthy, timeout=60, interval=0.2, what="streamlit to answer its health check")
        assert proc.poll() is None, log_path.read_text()
        yield App(url=url, started=started, answered=time.monotonic())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def streamlit_app(lab_backend) -> App:
    """Start `streamlit run app.py` on a free port against the started backend; stop it after."""
    # The app must find the lab's embedded backend itself (same home and port), as a user's would:
    # without PREFECT_API_URL it is in embedded mode and reuses the running backend.
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    yield from serve_app(env, "streamlit-e2e.log")


@pytest.fixture(scope="session")
def pool_app(pool_backend) -> App:
    """Start a second `streamlit run app.py` against the session's pool-mode backend."""
    # The pool backend's own environment (home, port, PATTERNLAB_EXECUTION=pool): the app finds
    # that backend running and reuses it, as a user's app in pool mode would.
    yield from serve_app(dict(pool_backend.env), "streamlit-e2e-pool.log")
