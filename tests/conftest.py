"""Test set-up: a private lab home and one embedded backend (PostgreSQL, Prefect server, runner).

Prefect reads PREFECT_API_URL when it is first imported, so the environment is set here, at
import time, before any test module imports prefect.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path


def _free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_HOME = Path(tempfile.mkdtemp(prefix="patternlab-test-"))
os.environ["PATTERNLAB_HOME"] = str(_HOME)
os.environ["PATTERNLAB_PORT"] = os.environ.get("PATTERNLAB_TEST_PORT") or str(_free_port())
os.environ["PATTERNLAB_SOURCE"] = "snapshot"
os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_HOME"] = str(_HOME / "prefect")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
# GitHub is the one thing faked: a local server answering as GitHub does, and a token that must
# never leak anywhere (tests search parameters, logs, artifacts, reports and pages for it).
from tests.fake_github import start_fake_github  # noqa: E402

FAKE_GITHUB = start_fake_github()
TEST_TOKEN = "ghp_patternlabTEST0000secret0000token"
os.environ["GITHUB_API_URL"] = FAKE_GITHUB.url
os.environ["GITHUB_TOKEN"] = TEST_TOKEN
os.environ["PATTERNLAB_GITHUB_TIMEOUT_S"] = "3"

# Tests call Prefect directly too (get_client, flows run in-process): point it at the lab's
# server before anything imports Prefect, which reads its settings once, at import.
from patternlab import backend  # noqa: E402  (must follow the environment set-up)

os.environ["PREFECT_API_URL"] = backend.api_url()

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def fake_github():
    """Return the fake GitHub API the runner's flows talk to with source=github."""
    return FAKE_GITHUB


@pytest.fixture(scope="session")
def lab_backend():
    """Start the lab's embedded backend once for the session and stop it at the end."""
    status = backend.ensure_backend()
    yield status
    backend.stop_backend()


@pytest.fixture(scope="session")
def pool_backend(tmp_path_factory):
    """Start a second embedded backend in pool mode (its own home and port) for the session.

    The lab's settings are read once per process, so pool-mode tests drive it the way a user
    does: through `python -m patternlab` with this backend's environment (PoolBackend.cli).
    """
    from tests.helpers import PoolBackend

    # Each snapshot answer takes 0.3 s, so a host-fault drill finds the child still running.
    pool = PoolBackend(tmp_path_factory.mktemp("pool-home"), PATTERNLAB_SNAPSHOT_LATENCY_MS="300")
    started = pool.cli("backend", "up", timeout=400)
    try:
        assert started.returncode == 0, started.stderr[-3000:]
        yield pool
    finally:
        pool.cli("backend", "down", timeout=120)


POOL_FIXTURES = {"pool_backend", "pool_app"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests after the others, and those on the pool-mode backend last.

    Session-wide parts idle at a good part of a core between their users: the pool backend (a
    second PostgreSQL, server, runner and two workers), Chromium and the Streamlit app. Grouped
    at the end, each is stopped as soon as its users are done instead of idling through the
    rest of the session. The order within each group stays as collected.
    """

    def group(item: pytest.Item) -> tuple[bool, bool]:
        pool = bool(POOL_FIXTURES & set(getattr(item, "fixturenames", ())))
        return pool, "/e2e/" in str(item.path)

    items.sort(key=group)
