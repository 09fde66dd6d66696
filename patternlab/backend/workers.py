"""The embedded backend's local workers (pool mode): their names, pid files, and what is alive.

Pid checks only, no requests: status and recovery call this on every poll of a page.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from patternlab.backend import procs
from patternlab.settings import LabSettings

WORKER_MODULE = "flows.worker"


@dataclass(frozen=True)
class LocalWorker:
    """One local worker: its number, its name in Prefect, and its pid when it is alive."""

    n: int
    name: str
    pid: int | None

    @property
    def up(self) -> bool:
        """Say whether its process is alive."""
        return self.pid is not None


def worker_name(n: int, host: str | None = None) -> str:
    """Return local worker n's name: the host first, since Prefect records no host for a worker."""
    return f"{host or socket.gethostname()}-{n}".replace("/", "-").replace("%", "-")


def markers(n: int) -> tuple[str, ...]:
    """Return what worker n's command line holds (a reused pid does not)."""
    return (WORKER_MODULE, f"--name {worker_name(n)} ")


def local_workers(
    settings: LabSettings, home: procs.Home | None = None, *, clean: bool = False
) -> list[LocalWorker]:
    """Return the configured local workers (pool mode) and which of them are alive."""
    home = home or procs.Home(settings.home)
    if settings.execution != "pool":
        return []
    return [
        LocalWorker(n, worker_name(n), procs.owned_pid(home.worker_pid(n), markers(n), clean=clean))
        for n in range(1, settings.workers + 1)
    ]


def stray_workers(settings: LabSettings, home: procs.Home) -> list[tuple[int, int]]:
    """Return (number, pid) of live workers beyond the configured ones (or any in serve mode)."""
    keep = settings.workers if settings.execution == "pool" else 0
    found = []
    for n in home.worker_numbers():
        pid = procs.owned_pid(home.worker_pid(n), markers(n))
        if n > keep and pid is not None:
            found.append((n, pid))
    return found
