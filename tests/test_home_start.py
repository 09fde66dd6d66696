"""The background start behind Home: it never blocks, reports failures once, retries on request."""

from __future__ import annotations

import threading

from patternlab.backend import background
from patternlab.settings import LabSettings
from tests.helpers import free_port, wait_for


def _nowhere() -> LabSettings:
    """Return settings naming a remote Prefect server that does not answer."""
    return LabSettings(prefect_api_url=f"http://127.0.0.1:{free_port()}/api")


def test_a_failed_start_is_reported_and_not_retried_until_asked(monkeypatch):
    """A start against a server that never answers ends with its message, and stays failed."""
    monkeypatch.setattr(background, "_CURRENT", None)
    settings = _nowhere()
    job = background.start_in_background(settings)
    wait_for(lambda: job.done, timeout=30, what="the background start to finish")
    assert not job.ready
    assert job.error
    assert "127.0.0.1" in job.error
    assert background.start_in_background(settings) is job  # no retry loop from a page rerun
    again = background.start_in_background(settings, retry=True)
    assert again is not job
    wait_for(lambda: again.done, timeout=30, what="the retried start to finish")
    assert background.last_start() is again


def test_a_running_start_is_shared_by_every_caller(monkeypatch):
    """While a start runs, every page run gets that same start, not a second one."""
    monkeypatch.setattr(background, "_CURRENT", None)
    release = threading.Event()
    monkeypatch.setattr(background, "backend_status", lambda _s: release.wait(10) and None)
    first = background.start_in_background(_nowhere())
    try:
        assert background.start_in_background(_nowhere()) is first
        assert not first.done
    finally:
        release.set()
    wait_for(lambda: first.done, timeout=10, what="the start to finish")
    assert first.error  # backend_status returned nothing usable: reported, not raised
