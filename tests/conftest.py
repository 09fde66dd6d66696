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
os.environ.pop("GITHUB_TOKEN", None)
os.environ["PREFECT_HOME"] = str(_HOME / "prefect")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"

from patternlab import backend  # noqa: E402  (must follow the environment set-up)

backend.activate()

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def lab_backend():
    """Start the lab's embedded backend once for the session and stop it at the end."""
    status = backend.ensure_backend()
    yield status
    backend.stop_backend()
