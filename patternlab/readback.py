"""Read a launch back from the Prefect API alone, in a bounded number of calls."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterId,
    FlowRunFilterTags,
)

from patternlab.backend import ui_url
from patternlab.catalog import FLOW_ROLES, TRIGGERED_DEPLOYMENTS
from patternlab.client import deployment_id, flow_name, prefect_client
from patternlab.metrics import RunView, build_pattern_report
from patternlab.models import (
    CONTRIBUTORS_KEY,
    PATTERNS,
    PROCESS_KEY,
    STATS_KEY,
    WEEKLY_KEY,
    LaunchReport,
    RepoStats,
)
from patternlab.settings import get_settings

ENTRY_TAG = "lab-entry"


def launch_tag(launch_id: str) -> str:
    """Return the tag every flow run of a launch carries."""
    return f"launch:{launch_id}"


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
    ids = [deployment_id(name) for name in TRIGGERED_DEPLOYMENTS]
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
            by_run[str(a.flow_run_id)][a.key] = table_rows(a)
    return {"counts": counts, "retried": retried}, parent_of_task, by_run


def table_rows(artifact: Any) -> list[dict[str, Any]]:
    """Return a table artifact's rows (Prefect stores them as a JSON string)."""
    data = artifact.data
    if not data:
        return []
    return json.loads(data) if isinstance(data, str) else data


def run_view(run: Any, **known: Any) -> RunView:
    """Flatten one Prefect flow run (and whatever else the caller knows of it) into a RunView."""
    state = run.state
    return RunView(
        id=str(run.id),
        name=run.name,
        flow=flow_name(str(run.flow_id)),
        state=state.name if state else "Unknown",
        status=state.type.value.lower() if state else "unknown",
        message=state.message if state else None,
        created=run.created,
        start=run.start_time,
        end=run.end_time,
        **known,
    )


def _view(run: Any, tasks: dict, parents: dict, arts: dict, ui: str) -> RunView:
    """Flatten one Prefect flow run and what the lab knows of it."""
    process = (arts.get(str(run.id), {}).get(PROCESS_KEY) or [{}])[0]
    return run_view(
        run,
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
        if found.get(STATS_KEY):
            row = dict(found[STATS_KEY][0])
            row["top_contributors"] = [c for c in found.get(CONTRIBUTORS_KEY, []) if c]
            row["weekly_commits"] = [w for w in found.get(WEEKLY_KEY, []) if w]
            return RepoStats.model_validate(row)
    return None


def _trigger_may_be_pending(runs: list[Any], now: datetime) -> bool:
    """Say whether an automation may have created a run of this launch that is not tagged yet.

    Triggered runs tag themselves when they start; between creation and start only a look at
    the triggered deployments finds them. That look is needed only once the upstream ended (the
    downstream follows its Completed event) or ran past the alert window (the alert follows).
    """
    names = {flow_name(str(r.flow_id)): r for r in runs}
    upstream = names.get("events-upstream")
    if upstream is None or upstream.state is None:
        return False
    window = timedelta(seconds=get_settings().alert_window_s)
    if not upstream.state.is_final():
        return upstream.start_time is not None and now - upstream.start_time > window
    ran = (upstream.end_time - upstream.start_time) if upstream.start_time else window
    missed = not upstream.state.is_completed() or ran > window
    wanted = {"events-missed-alert"} if missed else set()
    wanted |= {"events-downstream"} if upstream.state.is_completed() else set()
    return not wanted <= set(names)


def read_launch(launch_id: str, *, now: datetime | None = None) -> LaunchReport:
    """Read a launch back from Prefect alone: 3 API calls (4 while a trigger is due)."""
    now = now or datetime.now(UTC)
    with prefect_client() as client:
        runs = _read_runs(client, launch_id)
        entries = [r for r in runs if ENTRY_TAG in r.tags]
        if not entries:
            raise LookupError(f"No launch {launch_id} on this Prefect server")
        started = min(r.created for r in entries)
        if _trigger_may_be_pending(runs, now) and (now - started) < timedelta(minutes=15):
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
        hold_s=max([float((e.parameters or {}).get("hold_s", 0.0)) for e in entries]),
        created=min(e.created for e in entries),
        done=all(p.done for p in patterns),
        patterns=patterns,
    )
