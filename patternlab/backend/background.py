"""Start the embedded backend in a background thread, so a page that does not need it answers.

Home renders at once and shows this start's progress in place. One start at a time per
process (a module-level singleton); across processes the backend's own file lock (held by
`ensure_backend`) keeps two starters from racing, so the CLI or another app can start it too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from patternlab.backend.embedded import ensure_backend
from patternlab.backend.status import BackendError, BackendStatus, backend_status
from patternlab.settings import LabSettings


@dataclass
class BackgroundStart:
    """One background start of the backend: its progress lines, outcome and duration."""

    started: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)
    status: BackendStatus | None = None
    error: str | None = None
    took_s: float | None = None
    thread: threading.Thread | None = None

    @property
    def done(self) -> bool:
        """Say whether the start has finished (well or not)."""
        return self.took_s is not None

    @property
    def ready(self) -> bool:
        """Say whether the backend answered and can run flows."""
        return self.status is not None and is_ready(self.status)


_LOCK = threading.Lock()
_CURRENT: BackgroundStart | None = None


def is_ready(status: BackendStatus) -> bool:
    """Say whether a backend can take a launch: the server answers and its executor is not down."""
    return status.server_up and status.runner_up is not False


def last_start() -> BackgroundStart | None:
    """Return this process's latest background start, if any."""
    return _CURRENT


def start_in_background(
    settings: LabSettings | None = None, *, retry: bool = False
) -> BackgroundStart:
    """Return the current start, or begin one in a thread: when none ran, the backend went
    away after a good start, or (with `retry`) the last start failed."""
    global _CURRENT
    with _LOCK:
        failed = _CURRENT is not None and _CURRENT.done and not _CURRENT.ready
        if _CURRENT is not None and (not _CURRENT.done or (failed and not retry)):
            return _CURRENT
        job = BackgroundStart()
        job.thread = threading.Thread(
            target=_run, args=(job, settings), name="patternlab-backend-start", daemon=True
        )
        _CURRENT = job
        job.thread.start()
        return job


def _run(job: BackgroundStart, settings: LabSettings | None) -> None:
    """Start what is missing (recovering a dead runner's runs), recording each step."""
    try:
        status = backend_status(settings)
        if not is_ready(status) and status.mode == "remote":
            raise BackendError(status.message)
        if not is_ready(status):
            if status.server_up and settings is None:
                from patternlab.backend.recovery import recover  # loads Prefect: only here

                job.lines.append("Restarting the runner, and ending the runs it left behind…")
                job.lines += recover()
            status = ensure_backend(settings, progress=job.lines.append)
        job.status = status
    except Exception as exc:  # noqa: BLE001 - any failure is shown in place, never a traceback
        job.error = str(exc) or type(exc).__name__
    finally:
        job.took_s = time.monotonic() - job.started
