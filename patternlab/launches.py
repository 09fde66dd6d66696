"""Launch patterns through their deployments and read every run of a launch back from Prefect."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    DeploymentFilter,
    DeploymentFilterId,
    FlowFilter,
    FlowFilterId,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from flows.github import parse_repo
from patternlab.backend import BackendError, api_url, ui_url
from patternlab.catalog import FLOW_ROLES, PATTERN_INFO, TRIGGERED_DEPLOYMENTS
from patternlab.drills import DRILLS
from patternlab.metrics import RunView, build_pattern_report
from patternlab.models import PATTERNS, HistoryPage, HistoryRow, LaunchReport, RepoStats
from patternlab.settings import get_settings

ENTRY_TAG = "lab-entry"
Variant = str  # "wait" | "fire-and-forget"


def launch_tag(launch_id: str) -> str:
    """Return the tag every flow run of a launch carries."""
    return f"launch:{launch_id}"


_CLIENTS: dict[str, SyncPrefectClient] = {}
_CLIENTS_LOCK = threading.Lock()


@contextmanager
def _client() -> Iterator[SyncPrefectClient]:
    """Lend the process-wide Prefect client; turn "server unreachable" into a BackendError.

    The client stays open (a new one pays a CSRF-token request) and does not retry here: a page
    polling every second should say "backend down" at once, not hang in Prefect's backoff.
    """
    url = api_url()
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(url)
        if client is None:
            client = get_client(sync_client=True)
            client.__enter__()
            _CLIENTS[url] = client
    try:
        with temporary_settings(updates={PREFECT_CLIENT_MAX_RETRIES: 0}):
            yield client
    except httpx.TransportError as exc:
        raise BackendError(_unreachable(url, type(exc).__name__)) from None
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code < 500:
            raise
        raise BackendError(_unreachable(url, f"HTTP {exc.response.status_code}")) from None


def _unreachable(url: str, why: str) -> str:
    """Say that the Prefect server is not answering, and what to do."""
    fix = (
        "Start it with `python -m patternlab backend up` (the dashboard reconnects by itself)."
        if get_settings().embedded
        else "Check PREFECT_API_URL and that the server is up."
    )
    return f"The Prefect server at {url} is not answering ({why}). {fix}"


@lru_cache(maxsize=32)
def _deployment_id(name: str) -> str:
    """Return a deployment's id by name (cached: deployments outlive launches)."""
    with _client() as client:
        try:
            return str(client.read_deployment_by_name(name).id)
        except ObjectNotFound:
            raise BackendError(
                f"Deployment {name} is not on the Prefect server: is the runner "
                "(python -m flows.serve, or a worker) serving the lab's flows?"
            ) from None


def launch(
    patterns: Iterable[str],
    repo: str,
    source: str = "auto",
    *,
    variant: Variant = "wait",
    hold_s: float = 0.0,
    drill: str = "none",
) -> str:
    """Validate the input, create one flow run per pattern from its deployment; return the id."""
    repo = parse_repo(repo)  # raises InvalidRepository before anything is created
    chosen = [p for p in PATTERNS if p in set(patterns)]
    if not chosen or source not in ("auto", "github", "snapshot"):
        raise ValueError("Choose at least one pattern and a source of auto, github or snapshot")
    if drill not in DRILLS:
        raise ValueError(f"Failure drill must be one of {', '.join(DRILLS)}")
    launch_id = uuid.uuid4().hex[:12]
    tags = ["patternlab", ENTRY_TAG, launch_tag(launch_id), f"source:{source}", f"repo:{repo}"]
    with _client() as client:
        for pattern in chosen:
            params: dict[str, Any] = {"repo": repo, "source": source, "drill": drill}
            if pattern == "deployments":
                params["wait_for_child"] = variant != "fire-and-forget"
            if pattern == "events" and hold_s > 0:
                params["hold_s"] = hold_s
            client.create_flow_run_from_deployment(
                _deployment_id(PATTERN_INFO[pattern].entry_deployment),
                parameters=params,
                tags=[*tags, f"pattern:{pattern}"],
            )
    return launch_id


@lru_cache(maxsize=256)
def _flow_name(flow_id: str) -> str:
    """Return a flow's name by id (cached: names never change)."""
    with _client() as client:
        flows = client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=[flow_id])))
    return flows[0].name if flows else "unknown"


def _created_by(run: Any) -> str:
    """Say who created a run: the lab, a parent flow, or an automation."""
    if run.created_by is not None and str(run.created_by.type).upper().endswith("AUTOMATION"):
        return "automation"
    return "parent flow" if run.parent_task_run_id else "lab"


def _read_runs(client: SyncPrefectClient, launch_id: str) -> list[Any]:
    """Read every flow run tagged with the launch (one API call, bounded by the launch size)."""
    return client.read_flow_runs(
        flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[launch_tag(launch_id)])),
        limit=200,
    )


def _read_triggered(client: SyncPrefectClient, launch_id: str, since: datetime) -> list[Any]:
    """Read this launch's triggered runs that are not tagged yet (created, not started)."""
    ids = [_deployment_id(name) for name in TRIGGERED_DEPLOYMENTS]
    window = FlowRunFilterExpectedStartTime(
        after_=since - timedelta(seconds=1), before_=since + timedelta(minutes=15)
    )
    runs = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(expected_start_time=window),
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids)),
        limit=200,
    )
    return [r for r in runs if (r.parameters or {}).get("launch") == launch_tag(launch_id)]


def _read_extras(client: SyncPrefectClient, runs: list[Any]) -> tuple[dict, dict, dict]:
    """Read task-run counts, parents, and the artifacts of the runs (two API calls)."""
    ids = [r.id for r in runs]
    tasks = client.read_task_runs(
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=200
    )
    placeholders = {r.parent_task_run_id for r in runs if r.parent_task_run_id}
    counts: dict[str, int] = defaultdict(int)
    retried: dict[str, list[str]] = defaultdict(list)
    parent_of_task: dict[str, str] = {}
    for t in tasks:
        parent_of_task[str(t.id)] = str(t.flow_run_id)
        if t.id not in placeholders:  # Prefect's stand-in tasks for subflows/run_deployment
            counts[str(t.flow_run_id)] += 1
            if t.run_count > 1:
                retried[str(t.flow_run_id)] += [t.name] * (t.run_count - 1)
    arts = client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)), limit=200
    )
    by_run: dict[str, dict[str, Any]] = defaultdict(dict)
    for a in arts:
        if a.key and a.type == "table":
            by_run[str(a.flow_run_id)][a.key] = json.loads(a.data) if a.data else []
    return {"counts": counts, "retried": retried}, parent_of_task, by_run


def _view(run: Any, tasks: dict, parents: dict, arts: dict, ui: str) -> RunView:
    """Flatten one Prefect flow run and what the lab knows of it."""
    state = run.state
    process = (arts.get(str(run.id), {}).get("lab-process") or [{}])[0]
    return RunView(
        id=str(run.id),
        name=run.name,
        flow=_flow_name(str(run.flow_id)),
        state=state.name if state else "Unknown",
        status=state.type.value.lower() if state else "unknown",
        message=state.message if state else None,
        created=run.created,
        start=run.start_time,
        end=run.end_time,
        parent_id=parents.get(str(run.parent_task_run_id)) if run.parent_task_run_id else None,
        created_by=_created_by(run),
        parameters=dict(run.parameters or {}),
        pid=process.get("pid"),
        host=process.get("host"),
        work_s=process.get("work_s"),
        task_runs=tasks["counts"].get(str(run.id), 0),
        retried_tasks=tasks["retried"].get(str(run.id), []),
        ui_url=f"{ui}/runs/flow-run/{run.id}",
    )


def _stats(views: list[RunView], arts: dict) -> RepoStats | None:
    """Return the statistics a pattern's runs published, if any."""
    for v in views:
        found = arts.get(v.id, {})
        if found.get("repo-stats"):
            row = dict(found["repo-stats"][0])
            row["top_contributors"] = [c for c in found.get("top-contributors", []) if c]
            row["weekly_commits"] = [w for w in found.get("weekly-commits", []) if w]
            return RepoStats.model_validate(row)
    return None


def read_launch(launch_id: str, *, now: datetime | None = None) -> LaunchReport:
    """Read a launch back from Prefect alone: 3 API calls, 4 while a trigger may still fire."""
    now = now or datetime.now(UTC)
    with _client() as client:
        runs = _read_runs(client, launch_id)
        entries = [r for r in runs if ENTRY_TAG in r.tags]
        if not entries:
            raise LookupError(f"No launch {launch_id} on this Prefect server")
        started = min(r.created for r in entries)
        has_events = any("pattern:events" in r.tags for r in entries)
        if has_events and (now - started) < timedelta(minutes=15):
            known = {r.id for r in runs}
            runs += [r for r in _read_triggered(client, launch_id, started) if r.id not in known]
        tasks, parents, arts = _read_extras(client, runs)
    ui = ui_url()
    views = [_view(r, tasks, parents, arts, ui) for r in runs]
    return _assemble(launch_id, entries, views, arts, now)


def _assemble(launch_id: str, entries: list, views: list[RunView], arts: dict, now) -> LaunchReport:
    """Group the runs by pattern and build each pattern's report."""
    by_pattern: dict[str, list[RunView]] = defaultdict(list)
    for v in views:
        by_pattern[FLOW_ROLES.get(v.flow, ("unknown", "entry"))[0]].append(v)
    first = entries[0]
    window = get_settings().alert_window_s
    patterns = []
    for pattern in PATTERNS:
        if not any(f"pattern:{pattern}" in e.tags for e in entries):
            continue
        runs = by_pattern.get(pattern, [])
        variant = None
        if pattern == "deployments":
            entry = next((e for e in entries if "pattern:deployments" in e.tags), None)
            wait = (entry.parameters or {}).get("wait_for_child", True) if entry else True
            variant = "wait" if wait else "fire-and-forget"
        report = build_pattern_report(
            pattern, runs, _stats(runs, arts), now=now, window_s=window, variant=variant
        )
        patterns.append(report)
    return LaunchReport(
        launch_id=launch_id,
        repo=(first.parameters or {}).get("repo", ""),
        source=(first.parameters or {}).get("source", ""),
        drill=(first.parameters or {}).get("drill", "none"),
        created=min(e.created for e in entries),
        done=all(p.done for p in patterns),
        patterns=patterns,
    )


def wait_for_launch(
    launch_id: str,
    *,
    timeout_s: float = 180.0,
    poll_s: float = 0.5,
    on_poll: Callable[[LaunchReport], None] | None = None,
) -> LaunchReport:
    """Poll a launch until every expected run is final, or the deadline passes."""
    from patternlab.recovery import recover  # recovery reads runs through this module

    deadline = time.monotonic() + timeout_s
    notices: list[str] = []
    while True:
        notices += recover()
        report = read_launch(launch_id)
        report.notices = notices
        if on_poll:
            on_poll(report)
        if report.done or time.monotonic() > deadline:
            return report
        time.sleep(poll_s)


def _tag_value(tags: list[str], prefix: str) -> str:
    """Return the value of the first `prefix:value` tag, or ""."""
    return next((t.split(":", 1)[1] for t in tags if t.startswith(prefix + ":")), "")


def list_launches(
    *,
    pattern: str | None = None,
    repo: str | None = None,
    source: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> HistoryPage:
    """List past launches' entry runs, newest first, filtered and paginated on the server."""
    tags = [ENTRY_TAG]
    tags += [f"pattern:{pattern}"] if pattern else []
    tags += [f"repo:{parse_repo(repo)}"] if repo else []
    tags += [f"source:{source}"] if source else []
    flt = FlowRunFilter(tags=FlowRunFilterTags(all_=tags))
    if status:
        flt.state = FlowRunFilterState(
            type=FlowRunFilterStateType(any_=[StateType(status.upper())])
        )
    with _client() as client:
        runs = client.read_flow_runs(
            flow_run_filter=flt,
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=limit,
            offset=offset,
        )
        total = client.count_flow_runs(flow_run_filter=flt)
    ui = ui_url()
    rows = [
        HistoryRow(
            launch_id=_tag_value(r.tags, "launch"),
            pattern=_tag_value(r.tags, "pattern"),
            repo=(r.parameters or {}).get("repo", ""),
            source=(r.parameters or {}).get("source", ""),
            state=r.state.name if r.state else "Unknown",
            status=r.state.type.value.lower() if r.state else "unknown",
            created=r.created,
            duration_s=r.total_run_time.total_seconds() if r.end_time else None,
            flow_run_id=str(r.id),
            ui_url=f"{ui}/runs/flow-run/{r.id}",
        )
        for r in runs
    ]
    return HistoryPage(rows=rows, total=total)
