"""Host faults on the embedded backend's own workers (pool mode): kill one, remember what died.

A drill asks for a fault on a launch; what was killed, and when, is kept in the lab's home
(`run/faults/<launch id>.json`), so a reloaded page or a second browser shows it too.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

from patternlab.backend import procs
from patternlab.backend.status import BackendConfigError
from patternlab.backend.workers import local_workers
from patternlab.settings import LabSettings, get_settings


def _fault_file(launch_id: str, settings: LabSettings | None = None) -> Path:
    """Return where a launch's host fault is kept."""
    if not launch_id.isalnum():
        raise ValueError(f"not a launch id: {launch_id!r}")
    return procs.Home((settings or get_settings()).home).run / "faults" / f"{launch_id}.json"


def check_faults_possible(settings: LabSettings | None = None) -> None:
    """Refuse a host fault where the lab has no workers of its own to kill."""
    s = settings or get_settings()
    if not s.embedded or s.execution != "pool" or s.workers < 1:
        raise BackendConfigError(
            "Host faults kill one of the lab's own workers: they need the embedded backend in "
            "pool mode (PATTERNLAB_EXECUTION=pool, PATTERNLAB_WORKERS of 1 or more)."
        )


def write_fault(launch_id: str, record: dict[str, Any]) -> None:
    """Keep a launch's host fault (what was asked, and once done what died)."""
    path = _fault_file(launch_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, default=str))
    tmp.replace(path)


def read_fault(launch_id: str) -> dict[str, Any] | None:
    """Return a launch's host fault record, or None when it has none."""
    try:
        return json.loads(_fault_file(launch_id).read_text())
    except (OSError, ValueError):
        return None


def _tree(root: int) -> set[int]:
    """Return a process's descendants (walking /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def kill_worker(name: str, extra_pids: tuple[int, ...] = ()) -> dict[str, Any]:
    """SIGKILL a local worker: its process group, its descendants and `extra_pids` (its runs).

    Flow processes a worker forks share its process group; ones Prefect starts in a session of
    their own are its descendants: either way every process of that "host" dies at once.
    """
    worker = next((w for w in local_workers(get_settings()) if w.name == name and w.pid), None)
    if worker is None or worker.pid is None:
        raise LookupError(f"No live local worker named {name}")
    victims = {worker.pid, *_tree(worker.pid), *extra_pids}
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(worker.pid, signal.SIGKILL)
    for pid in victims:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return {"worker": name, "host": socket.gethostname(), "pids": sorted(victims),
            "killed_at": time.time()}  # fmt: skip
