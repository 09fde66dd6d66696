"""Host-fault drills (embedded pool mode): kill the worker "host" running a child step.

`start_host_fault` watches a launch from a background thread: as soon as the deployment child
or the triggered run runs in a process of one of the lab's workers (it has recorded its pid), it
kills that worker with all its processes (the flow processes too), as if its host had died. The
lab's recovery, at the next poll of the launch, restarts the worker and marks the runs that died
with it Crashed, naming the worker and the host (else the pool's zombie automation would, after
its window). What died and when is kept with the backend (patternlab/backend/faults.py), so any
page shows it.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from pydantic import BaseModel

from patternlab import backend
from patternlab.launch.models import FlowRunInfo, LaunchReport, Moment

HOST_FAULTS = {
    "none": "No host fault",
    "kill-worker": "Kill the worker host running the child (deployment child or triggered run)",
}
TARGET_ROLES = ("deployment-child", "triggered")
WATCH_EVERY_S = 0.25
WATCH_FOR_S = 180.0


class HostFaultOutcome(BaseModel):
    """What a host-fault drill did: which worker (host) died, when, and what became of its run."""

    fault: str
    status: str  # "watching", "killed", "missed" (the child ended first), "failed"
    worker: str | None = None
    host: str | None = None
    pids: list[int] = []
    run: str | None = None  # the flow it killed the worker of, e.g. average-commits-child
    run_id: str | None = None
    killed_at: Moment | None = None
    note: str = ""


def _target(report: LaunchReport) -> FlowRunInfo | None:
    """Return the first child or triggered run running in a lab worker's process."""
    for p in report.patterns:
        for run in p.flow_runs:
            if run.role in TARGET_ROLES and run.worker and run.status == "running" and run.pid:
                return run
    return None


def _missed(report: LaunchReport) -> bool:
    """Say whether the launch's child steps all ended before the drill could hit one."""
    children = [r for p in report.patterns for r in p.flow_runs if r.role in TARGET_ROLES]
    return report.done or (bool(children) and all(r.final for r in children))


def watch_and_kill(launch_id: str, timeout_s: float = WATCH_FOR_S) -> HostFaultOutcome:
    """Wait until a child step is claimed by a lab worker, kill that worker; record and return."""
    from patternlab.launch.readback import read_launch  # Prefect (~2 s): only when it runs

    deadline = time.monotonic() + timeout_s
    outcome = HostFaultOutcome(fault="kill-worker", status="missed", note="no child step came")
    while time.monotonic() < deadline:
        report = read_launch(launch_id)
        run = _target(report)
        if run is not None:
            killed = backend.kill_worker(run.worker, (run.pid,) if run.pid else ())
            outcome = HostFaultOutcome(
                fault="kill-worker", status="killed", run=run.flow, run_id=run.id,
                killed_at=datetime.fromtimestamp(killed.pop("killed_at"), UTC), **killed,
                note=f"killed while {run.flow} was {run.state}",
            )  # fmt: skip
            break
        if _missed(report):
            outcome.note = "the child steps ended before the lab could kill their worker"
            break
        time.sleep(WATCH_EVERY_S)
    backend.write_fault(launch_id, outcome.model_dump(mode="json"))
    return outcome


def start_host_fault(launch_id: str, fault: str) -> threading.Thread | None:
    """Arrange a host fault for a launch (checked first); watch for it in a background thread."""
    if fault == "none":
        return None
    if fault not in HOST_FAULTS:
        raise ValueError(f"Host fault must be one of {', '.join(HOST_FAULTS)}")
    backend.check_faults_possible()
    backend.write_fault(launch_id, {"fault": fault, "status": "watching"})

    def watch() -> None:
        try:
            watch_and_kill(launch_id)
        except Exception as exc:  # noqa: BLE001 - recorded, so the page says what went wrong
            failed = HostFaultOutcome(fault=fault, status="failed", note=f"{exc}")
            backend.write_fault(launch_id, failed.model_dump(mode="json"))

    thread = threading.Thread(target=watch, name=f"host-fault-{launch_id}", daemon=True)
    thread.start()
    return thread


def host_fault(launch_id: str) -> HostFaultOutcome | None:
    """Return a launch's host-fault drill and what it did (None when it had none)."""
    found = backend.read_fault(launch_id)
    return HostFaultOutcome.model_validate(found) if found else None
