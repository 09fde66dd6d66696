"""Look for a secret in everything Prefect and the lab keep about some launches: all of it.

Nothing is sampled: every flow run of the launches (parameters, labels, context, state
message), every state in each run's history, every task run, every log line of those flow and
task runs and every artifact, read page by page until a short page, then every report and every
file given (the backend's log files). A server-side text search over *all* log lines backs up
the paged read of logs, whose order Prefect does not make unique (ties on a timestamp).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterTaskRunId,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterTags,
    LogFilter,
    LogFilterFlowRunId,
    LogFilterTaskRunId,
    LogFilterTextSearch,
)
from prefect.client.schemas.sorting import ArtifactSort, FlowRunSort, LogSort, TaskRunSort

from flows.catalog import launch_tag
from patternlab.launch import read_launch

PAGE = 200  # the Prefect API's largest page
IDS_PER_FILTER = 100  # keep each filter's id list (and its request) small


@dataclass
class Sweep:
    """Where the secret was found, and how much was read to look for it."""

    secret: str
    found: list[str] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)

    def look(self, kind: str, where: str, value: Any) -> None:
        """Count one item of a kind and note it when it holds the secret."""
        self.read[kind] = self.read.get(kind, 0) + 1
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if self.secret in text:
            self.found.append(f"{kind} {where}")


def _pages(read: Callable[[int], list]) -> Iterator[Any]:
    """Yield every item of a paged API read, page by page, until a short page."""
    offset = 0
    while True:
        page = read(offset)
        yield from page
        if len(page) < PAGE:
            return
        offset += len(page)


def _chunks(ids: list[UUID]) -> Iterator[list[UUID]]:
    """Split ids into filter-sized lists."""
    for start in range(0, len(ids), IDS_PER_FILTER):
        yield ids[start : start + IDS_PER_FILTER]


def _flow_runs(client: SyncPrefectClient, launch_ids: list[str]) -> list[Any]:
    """Read every flow run tagged with one of the launches."""
    tags = FlowRunFilter(tags=FlowRunFilterTags(any_=[launch_tag(i) for i in launch_ids]))
    return list(_pages(lambda o: client.read_flow_runs(
        flow_run_filter=tags, sort=FlowRunSort.ID_DESC, limit=PAGE, offset=o)))  # fmt: skip


def _sweep_runs(client: SyncPrefectClient, sweep: Sweep, runs: list[Any]) -> list[UUID]:
    """Look in every flow run, its state history, its task runs and their histories."""
    task_ids: list[UUID] = []
    for run in runs:
        sweep.look("flow run", str(run.id), run.model_dump(mode="json"))
        for state in client.read_flow_run_states(run.id):
            sweep.look("flow-run state", str(run.id), state.model_dump(mode="json"))
    for ids in _chunks([r.id for r in runs]):
        flt = FlowRunFilter(id=FlowRunFilterId(any_=ids))
        for task in _pages(lambda o, f=flt: client.read_task_runs(
                flow_run_filter=f, sort=TaskRunSort.ID_DESC, limit=PAGE, offset=o)):  # fmt: skip
            task_ids.append(task.id)
            sweep.look("task run", str(task.id), task.model_dump(mode="json"))
            for state in client.read_task_run_states(task.id):
                sweep.look("task-run state", str(task.id), state.model_dump(mode="json"))
    return task_ids


def _sweep_logs_and_artifacts(
    client: SyncPrefectClient, sweep: Sweep, run_ids: list[UUID], task_ids: list[UUID]
) -> None:
    """Look in every log line and artifact of the flow runs and of the task runs."""
    filters = [LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)) for ids in _chunks(run_ids)]
    filters += [LogFilter(task_run_id=LogFilterTaskRunId(any_=ids)) for ids in _chunks(task_ids)]
    for flt in filters:
        for log in _pages(lambda o, f=flt: client.read_logs(
                log_filter=f, sort=LogSort.TIMESTAMP_ASC, limit=PAGE, offset=o)):  # fmt: skip
            sweep.look("log", str(log.id), log.model_dump(mode="json"))
    artifacts = [
        ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=i)) for i in _chunks(run_ids)
    ]
    artifacts += [ArtifactFilter(task_run_id=ArtifactFilterTaskRunId(any_=i))
                  for i in _chunks(task_ids)]  # fmt: skip
    for flt in artifacts:
        for art in _pages(lambda o, f=flt: client.read_artifacts(
                artifact_filter=f, sort=ArtifactSort.ID_DESC, limit=PAGE, offset=o)):  # fmt: skip
            sweep.look("artifact", str(art.id), art.model_dump(mode="json"))
    # Every log line on the server, searched by the server itself (not just these launches').
    search = LogFilter(text=LogFilterTextSearch(query=sweep.secret))
    for log in _pages(lambda o: client.read_logs(log_filter=search, limit=PAGE, offset=o)):
        sweep.look("log (server search)", str(log.id), log.message)


def find_secret(secret: str, launch_ids: Iterable[str], files: Iterable[Path] = ()) -> Sweep:
    """Return every place the secret is held for these launches, and how much was read."""
    sweep = Sweep(secret=secret)
    launch_ids = list(launch_ids)
    with get_client(sync_client=True) as client:
        runs = _flow_runs(client, launch_ids)
        task_ids = _sweep_runs(client, sweep, runs)
        _sweep_logs_and_artifacts(client, sweep, [r.id for r in runs], task_ids)
    for launch_id in launch_ids:
        sweep.look("report", launch_id, read_launch(launch_id).model_dump_json())
    for path in files:
        sweep.look("file", str(path), path.read_text(errors="replace"))
    return sweep


def backend_log_files(home: Path) -> list[Path]:
    """Return every log file of the lab's backend: server, runner, PostgreSQL, rotated copies."""
    return sorted(p for p in [*home.glob("logs/*"), *home.glob("pgdata/log/*")] if p.is_file())
