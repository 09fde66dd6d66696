"""The backend: the lab's embedded Prefect (PostgreSQL, server, runner) or a remote server.

The public face: start, check and stop the backend; the one Prefect client; recovery from a
dead runner. Everything else in this package is its inside. The client and recovery load
Prefect (~2 s), which a page that only checks the backend never needs: they load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from patternlab.backend.background import (
    BackgroundStart,
    is_ready,
    last_start,
    start_in_background,
)
from patternlab.backend.embedded import PROJECT_ROOT, ensure_backend, stop_backend
from patternlab.backend.faults import check_faults_possible, kill_worker, read_fault, write_fault
from patternlab.backend.procs import poll_until
from patternlab.backend.status import (
    HOST,
    BackendConfigError,
    BackendError,
    BackendStatus,
    api_url,
    backend_pids,
    backend_status,
    runner_alive,
    ui_url,
)
from patternlab.backend.tuning import TUNINGS, runner_env, server_env

_LAZY = {
    "deployment_id": "client", "flow_name": "client", "prefect_client": "client",
    "prefect_settings": "client", "table_rows": "client", "recover": "recovery",
}  # fmt: skip

__all__ = [
    "BackgroundStart", "is_ready", "last_start", "start_in_background",
    "HOST", "PROJECT_ROOT", "TUNINGS", "BackendConfigError", "BackendError", "BackendStatus",
    "api_url", "backend_pids", "backend_status", "poll_until",
    "ensure_backend", "runner_alive", "runner_env", "server_env", "stop_backend", "ui_url",
    "check_faults_possible", "kill_worker", "read_fault", "write_fault",
    *_LAZY,
]  # fmt: skip


def __getattr__(name: str) -> Any:
    """Load the Prefect-backed parts of the face on first use."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"patternlab.backend.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
