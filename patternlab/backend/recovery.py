"""Recover from a dead embedded runner or worker: restart it, end the runs that died with it.

Prefect cannot know that a flow's process vanished (no heartbeat arrives for minutes), so such a
run would show Running forever. Each lab flow records its pid and host when it starts; when the lab
finds its runner dead it restarts the runner and marks as Crashed every unfinished lab run whose
recorded process is gone, or that the dead runner had claimed without starting its process. In
pool mode the same holds for each local worker, judged by the worker Prefect records on the run
(`prefect.worker.name`): runs of a living worker are never touched. Workers on other hosts are
not the lab's to see: the pool's zombie automation (flows/pool.py) crashes their silent runs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Crashed

from flows.catalog import PROCESS_KEY, TAGS
from patternlab.backend import procs
from patternlab.backend.client import prefect_client, table_rows
from patternlab.backend.embedded import ensure_backend
from patternlab.backend.status import backend_status, runner_alive
from patternlab.backend.workers import local_workers
from patternlab.settings import LabSettings, get_settings

UNFINISHED = [StateType.RUNNING, StateType.PENDING, StateType.CANCELLING]
WORKER_LABEL = "prefect.worker.name"  # Prefect labels each run a worker starts with its name


def recover(
    settings: LabSettings | None = None, *, progress: Callable[[str], None] | None = None
) -> list[str]:
    """Restart a dead embedded runner (and server) and crash the runs it left behind."""
    s = settings or get_settings()
    if not s.embedded:
        return []  # remote runners and workers are not the lab's to manage
    if s.execution == "pool":
        return _recover_workers(s, progress)
    # Called on every poll of a running launch: a pid check, no request, while the runner lives.
    if runner_alive(s):
        return []
    status = backend_status(s)
    before_restart = datetime.now(UTC)
    ensure_backend(s, progress=progress)  # restarts the server too if it died as well
    notes = ["The runner had stopped; the lab restarted it."]
    if not status.server_up:
        notes = ["The Prefect server and the runner had stopped; the lab restarted them."]
    with prefect_client() as client:
        crashed = crash_orphaned_runs(client, before_restart)
    if crashed:
        notes.append(f"Marked {len(crashed)} run(s) whose process had died as Crashed.")
    return notes


def _recover_workers(s: LabSettings, progress: Callable[[str], None] | None) -> list[str]:
    """Restart dead local workers (and the server) and crash the runs they left behind."""
    # Called on every poll of a running launch: pid checks, no request, while all workers live.
    dead = [w.name for w in local_workers(s) if not w.up]
    if not dead:
        return []
    before_restart = datetime.now(UTC)
    server_up = backend_status(s).server_up
    if server_up:  # end the dead worker's runs first: its restart takes seconds
        with prefect_client() as client:
            crashed = crash_runs_of_dead_workers(client, dead, before_restart)
    ensure_backend(s, progress=progress)
    if not server_up:
        with prefect_client() as client:
            crashed = crash_runs_of_dead_workers(client, dead, before_restart)
    host = socket.gethostname()
    notes = [f"Worker {', '.join(dead)} on host {host} had stopped; the lab restarted it."]
    if crashed:
        notes.append(f"Marked {len(crashed)} run(s) that died with the worker as Crashed.")
    return notes


def _unfinished_lab_runs(client: SyncPrefectClient) -> list:
    """Read the lab's runs that are not final (one call)."""
    return client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=TAGS),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=UNFINISHED)),
        ),
        limit=200,
    )


def crash_runs_of_dead_workers(
    client: SyncPrefectClient, dead: list[str], restarted: datetime
) -> list[str]:
    """Mark as Crashed the unfinished runs of these dead workers whose process is gone."""
    runs = [r for r in _unfinished_lab_runs(client) if (r.labels or {}).get(WORKER_LABEL) in dead]
    processes = _process_of(client, [r.id for r in runs]) if runs else {}
    host = socket.gethostname()
    crashed = []
    for run in runs:
        worker, proc = run.labels[WORKER_LABEL], processes.get(str(run.id))
        if proc is not None:
            if proc.get("host") == host and procs.is_alive(int(proc["pid"])):
                continue  # started in a session of its own, it outlived its worker
            why = (
                f"worker {worker} on host {host} died, and its process (pid {proc['pid']}) with it"
            )
        elif run.state is not None and run.state.timestamp < restarted:
            why = f"worker {worker} on host {host} died before the run's process started"
        else:
            continue
        client.set_flow_run_state(run.id, Crashed(message=f"Crashed: {why}"), force=True)
        crashed.append(str(run.id))
    return crashed


def _process_of(client: SyncPrefectClient, run_ids: list) -> dict[str, dict]:
    """Return the recorded process (pid, host) of each run that recorded one."""
    arts = client.read_artifacts(
        artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=run_ids),
            key=ArtifactFilterKey(any_=[PROCESS_KEY]),
        ),
        limit=200,
    )
    found: dict[str, dict] = {}
    for art in arts:
        if rows := table_rows(art):
            found[str(art.flow_run_id)] = rows[0]
    return found


def crash_orphaned_runs(client: SyncPrefectClient, runner_restarted: datetime) -> list[str]:
    """Mark unfinished lab runs whose process is gone (or that were never started) as Crashed."""
    runs = _unfinished_lab_runs(client)
    if not runs:
        return []
    processes = _process_of(client, [r.id for r in runs])
    host = socket.gethostname()
    crashed = []
    for run in runs:
        proc = processes.get(str(run.id))
        since = run.state.timestamp if run.state else runner_restarted
        if proc is not None:
            if proc.get("host") != host or procs.is_alive(int(proc["pid"])):
                continue  # still running (or on another machine: not ours to judge)
            why = f"its process (pid {proc['pid']}) died with the lab's runner"
        elif since < runner_restarted:
            # Claimed or started by the dead runner, and no process ever recorded itself.
            why = "the lab's runner died before the run's process started"
        else:
            continue
        client.set_flow_run_state(run.id, Crashed(message=f"Crashed: {why}"), force=True)
        crashed.append(str(run.id))
    return crashed
