"""The Prefect server stopped and started again: a clear error at once, then everything is back."""

from __future__ import annotations

import os
import signal
import time

import pytest

from patternlab import backend
from patternlab.backend import BackendError
from patternlab.launch import launch, list_launches, read_launch, wait_for_launch
from tests.helpers import gone, wait_for


def test_server_down_is_a_quick_clear_error_and_launches_survive_a_restart(lab_backend):
    """A stopped server fails reads fast, naming the fix; after a restart history is intact."""
    launch_id = launch(["monoflow"], "PrefectHQ/prefect", "snapshot")
    assert wait_for_launch(launch_id, timeout_s=90).done
    server_pid = backend.backend_status().server_pid
    os.kill(server_pid, signal.SIGTERM)
    assert wait_for(lambda: gone(server_pid), timeout=30)

    started = time.monotonic()
    with pytest.raises(BackendError, match="not answering.*backend up"):
        read_launch(launch_id)
    assert time.monotonic() - started < 5  # no hidden retry loop behind a spinner

    status = backend.ensure_backend()
    assert status.server_up
    assert read_launch(launch_id).patterns[0].state == "Completed"
    assert any(r.launch_id == launch_id for r in list_launches(limit=50).rows)
