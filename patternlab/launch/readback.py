"""Read a launch back from the Prefect API alone, in a bounded number of calls."""

from __future__ import annotations

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
from prefect.client.schemas.sorting import FlowRunSort

from flows.catalog import (
    CONTRIBUTORS_KEY,
    EMIT_PREFIX,
    FLOW_ROLES,
    LAUNCH_PREFIX,
    PROCESS_KEY,
    STATS_KEY,
    TRIGGERED_DEPLOYMENTS,
    WEEKLY_KEY,
    launch_tag,
)
from patternlab.backend import deployment_id, flow_name, prefect_client, table_rows, ui_url
from patternlab.launch.expect import untagged_may_exist
from patternlab.launch.metrics import build_pattern_report
from patternlab.launch.models import (
    FlowRunInfo,
    LaunchReport,
    PatternReport,
    RepoStats,
    Separation,
    Timings,
)
from patternlab.launch.plan import ENTRY_TAG, LaunchPlan, is_fanout, shape_of, tag_value
from patternlab.launch.source import NOTE_LABEL, REQUESTED_LABEL, source_used
from patternlab.settings import get_settings

__all__ = ["ENTRY_TAG", "pattern_of", "read_launch", "round_of", "run_info"]
UNTAGGED_LOOK_S = 15 * 60  # past this, a launch's triggered runs are all tagged or never came
# When each finished entry run entered Pending, by run id: read from its state history once,
# when its launch is over (a final run's history no longer changes), never on every poll.
_PENDING: dict[str, datetime | None] = {}
PENDING_CACHE_MAX = 4096
PAGE = 200  # the Prefect API's largest page


def _created_by(run: Any) -> str:
    """Say who created a run: the lab, a parent flow, or an automation."""
    if run.created_by is not None and str(run.created_by.type).upper().endswith("AUTOMATION"):
        return "automation"
    return "parent flow" if run.parent_task_run_id else "lab"


def paged(read: Any) -> list[Any]:
    """Call read(offset) page by page until a page is not full (one call for a small launch)."""
    found: list[Any] = []
    while True:
        page = read(len(found))
        found += page
        if len(page) < PAGE:
            return found


def _read_runs(client: SyncPrefectClient, launch_id: str) -> list[Any]:
    """Read every flow run tagged with the launch (one API call per 200 runs)."""
    flt = FlowRunFilter(tags=FlowRunFilterTags(all_=[launch_tag(launch_id)]))
    order = FlowRunSort.EXPECTED_START_TIME_ASC  # a stable order: pages do not overlap
    return paged(
        lambda o: client.read_flow_runs(flow_run_filter=flt, sort=order, limit=PAGE, offset=o)
    )


def _read_triggered(client: SyncPrefectClient, launch_id: str, since: datetime) -> list[Any]:
    """Read this launch's triggered runs that are not tagged yet (created, not started)."""
    ids = [deployment_id(name) for name in TRIGGERED_DEPLOYMENTS]
    window = FlowRunFilterExpectedStartTime(
        after_=since - timedelta(seconds=1), before_=since + timedelta(seconds=UNTAGGED_LOOK_S)
    )
    runs = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(expected_start_time=window),
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids)),
        limit=200,
    )
    return [r for r in runs if (r.parameters or {}).get("launch") == launch_tag(launch_id)]


def _read_extras(client: SyncPrefectClient, runs: list[Any]) -> tuple[dict, dict, dict]:
    """Read task-run counts, parents, and the artifacts of the runs (two API calls, or one
    more per 200 task runs or artifacts)."""
    flt = FlowRunFilter(id=FlowRunFilterId(any_=[r.id for r in runs]))
    tasks = paged(lambda o: client.read_task_runs(flow_run_filter=flt, limit=PAGE, offset=o))
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
    by_ids = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[r.id for r in runs]))
    arts = paged(lambda o: client.read_artifacts(artifact_filter=by_ids, limit=PAGE, offset=o))
    by_run: dict[str, dict[str, Any]] = defaultdict(dict)
    for a in arts:
        if a.key and a.type == "table":
            by_run[str(a.flow_run_id)][a.key] = table_rows(a)
    return {"counts": counts, "retried": retried}, parent_of_task, by_run


def run_info(run: Any, **known: Any) -> FlowRunInfo:
    """Flatten one Prefect flow run (and whatever else the caller knows of it) into the lab's."""
    state = run.state
    launch = str((run.parameters or {}).get("launch") or "")
    if launch.startswith(LAUNCH_PREFIX + EMIT_PREFIX):  # started by a refresh request: a lead
        known.setdefault("role", "entry")
    return FlowRunInfo(
        id=str(run.id),
        name=run.name,
        flow=flow_name(str(run.flow_id)),
        state=state.name if state else "Unknown",
        status=state.type.value.lower() if state else "unknown",
        message=state.message if state else None,
        created=run.created,
        start=run.start_time,
        end=run.end_time,
        parameters=dict(run.parameters or {}),
        created_by=_created_by(run),
        worker=(run.labels or {}).get("prefect.worker.name"),
        work_pool=run.work_pool_name,
        **known,
    )


def _info(run: Any, tasks: dict, parents: dict, arts: dict, ui: str) -> FlowRunInfo:
    """Flatten one Prefect flow run and what the lab knows of it."""
    process = (arts.get(str(run.id), {}).get(PROCESS_KEY) or [{}])[0]
    return run_info(
        run,
        parent_id=parents.get(str(run.parent_task_run_id)) if run.parent_task_run_id else None,
        pid=process.get("pid"),
        host=process.get("host"),
        work_s=process.get("work_s"),
        held_s=process.get("held_s"),
        task_runs=tasks["counts"].get(str(run.id), 0),
        retried_tasks=tasks["retried"].get(str(run.id), []),
        ui_url=f"{ui}/runs/flow-run/{run.id}",
    )


def _stats(runs: list[FlowRunInfo], arts: dict) -> RepoStats | None:
    """Return the statistics a pattern's runs published, if any."""
    for v in runs:
        found = arts.get(v.id, {})
        if found.get(STATS_KEY):
            row = dict(found[STATS_KEY][0])
            row["top_contributors"] = [c for c in found.get(CONTRIBUTORS_KEY, []) if c]
            row["weekly_commits"] = [w for w in found.get(WEEKLY_KEY, []) if w]
            return RepoStats.model_validate(row)
    return None


def pattern_of(run: FlowRunInfo) -> str:
    """Return the pattern a flow run belongs to ("unknown" for a flow the lab does not know)."""
    return FLOW_ROLES.get(run.flow, ("unknown", "entry"))[0]


def round_of(run: Any, leads: list[Any]) -> int:
    """Return the round a run belongs to: that of its pattern's last lead created before it.

    Rounds never overlap (the lab starts one only when the previous is over), so creation time
    is enough; the lead runs carry their round in a tag.
    """
    found = 0
    for lead in sorted(leads, key=lambda r: r.created):
        if lead.created <= run.created:
            found = int(tag_value(lead.tags, "round", "0"))
    return found


def read_launch(launch_id: str, *, now: datetime | None = None) -> LaunchReport:
    """Read a launch back from Prefect alone: 3 API calls (4 while a trigger is due); a launch
    of several repositories is read by counts while it runs (patternlab/launch/fanout_read.py)."""
    now = now or datetime.now(UTC)
    if is_fanout(launch_id):
        from patternlab.launch.fanout_read import read_fanout

        return read_fanout(launch_id, now=now)
    window = get_settings().alert_window_s
    with prefect_client() as client:
        runs = _read_runs(client, launch_id)
        leads = [r for r in runs if ENTRY_TAG in r.tags]
        if not leads and launch_id.startswith(EMIT_PREFIX):
            raise LookupError(
                f"No run for {launch_id} yet: the automation starts events-downstream within "
                "seconds of the event, and the run tags itself when it starts"
            )
        if not leads:
            raise LookupError(f"No launch {launch_id} on this Prefect server")
        due = _trigger_due(runs, leads, now, window)
        if due is not None:
            known = {r.id for r in runs}
            runs += [r for r in _read_triggered(client, launch_id, due) if r.id not in known]
        tasks, parents, arts = _read_extras(client, runs)
    ui = ui_url()
    infos = {r.id: _info(r, tasks, parents, arts, ui) for r in runs}
    _with_pending(list(infos.values()))
    report = assemble(launch_id, leads, runs, infos, arts, now)
    unread = [i for i in infos.values() if i.role == "entry" and i.final and i.id not in _PENDING]
    if report.done and unread:  # the queue's split: one call per entry run, once
        _read_pending(unread)
        _with_pending(list(infos.values()))
        report = assemble(launch_id, leads, runs, infos, arts, now)
    return report


def _read_pending(runs: list[FlowRunInfo]) -> None:
    """Read when each run entered Pending from its state history (one API call per run)."""
    with prefect_client() as client:
        for run in runs:
            states = client.read_flow_run_states(run.id)
            if len(_PENDING) >= PENDING_CACHE_MAX:
                _PENDING.clear()
            _PENDING[run.id] = next(
                (s.timestamp for s in states if s.type.value == "PENDING"), None
            )


def _with_pending(runs: list[FlowRunInfo]) -> list[FlowRunInfo]:
    """Give the runs whose Pending time is known that time (nothing is read here)."""
    for run in runs:
        run.pending_at = _PENDING.get(run.id, run.pending_at)
    return runs


def _sources_by_pattern(patterns: list[PatternReport]) -> dict[str, list[str]]:
    """Return, per pattern, the sources its runs were given and its statistics came from."""
    return {
        p.pattern: [str(r.parameters.get("source") or "") for r in p.flow_runs]
        + ([p.stats.source] if p.stats else [])
        for p in patterns
    }


def _trigger_due(runs: list[Any], leads: list[Any], now: datetime, window: int) -> Any | None:
    """Return when an events round began if its automation may have made an untagged run."""
    events = [r for r in runs if pattern_of(run_info(r)) == "events"]
    mine = [r for r in leads if "pattern:events" in r.tags]
    for lead in mine:
        group = [run_info(r) for r in events if round_of(r, mine) == round_of(lead, mine)]
        recent = (now - lead.created).total_seconds() < UNTAGGED_LOOK_S
        if recent and untagged_may_exist(group, now, window):
            return lead.created
    return None


def queued_report(pattern: str, round_: int) -> PatternReport:
    """Return a pattern that waits for its turn (fair timings: one pattern at a time)."""
    return PatternReport(
        pattern=pattern, state="Queued", status="scheduled", done=False, queued=True,
        round=round_, separation=Separation(conceptual=False, execution=False, awareness=False),
        timings=Timings(),
    )  # fmt: skip


def assemble(
    launch_id: str, leads: list, runs: list, infos: dict, arts: dict, now: datetime
) -> LaunchReport:
    """Group the runs by pattern and round, in the plan's order; build each one's report."""
    patterns, order, repeat = shape_of(leads)
    plan = LaunchPlan(launch_id=launch_id, patterns=patterns, repos=["-"], order=order,
                      repeat=repeat)  # fmt: skip
    window = get_settings().alert_window_s
    groups: dict[tuple[str, int], list[FlowRunInfo]] = defaultdict(list)
    for run in runs:
        info = infos[run.id]
        mine = [r for r in leads if f"pattern:{pattern_of(info)}" in r.tags]
        groups[(pattern_of(info), round_of(run, mine))].append(info)
    reports = []
    by_pair = {(tag_value(r.tags, "pattern"), int(tag_value(r.tags, "round", "0"))): r
               for r in leads}  # fmt: skip
    for pattern, round_ in [pair for step in plan.steps() for pair in step]:
        lead = by_pair.get((pattern, round_))
        if lead is None:
            reports.append(queued_report(pattern, round_))
            continue
        mine = groups.get((pattern, round_), [])
        variant = None
        if pattern == "deployments":
            wait = (lead.parameters or {}).get("wait_for_child", True)
            variant = "wait" if wait else "fire-and-forget"
        report = build_pattern_report(
            pattern, mine, _stats(mine, arts), now=now, window_s=window, variant=variant
        )
        reports.append(report.model_copy(update={"round": round_}))
    return _launch_report(launch_id, leads, reports, order, repeat)


def _launch_report(
    launch_id: str, leads: list, reports: list[PatternReport], order: str, repeat: int
) -> LaunchReport:
    """Assemble a launch of one repository from its patterns' reports and its lead runs."""
    first = min(leads, key=lambda r: r.created)
    requested = (first.labels or {}).get(REQUESTED_LABEL) or (first.parameters or {}).get("source")
    note = str((first.labels or {}).get(NOTE_LABEL) or "")
    source, note = source_used(str(requested or ""), note, _sources_by_pattern(reports))
    return LaunchReport(
        launch_id=launch_id,
        repo=(first.parameters or {}).get("repo", ""),
        source=source,
        source_requested=str(requested or ""),
        source_note=note,
        drill=(first.parameters or {}).get("drill", "none"),
        hold_s=max([float((e.parameters or {}).get("hold_s", 0.0)) for e in leads]),
        created=first.created,
        done=all(p.done for p in reports),
        patterns=reports,
        order=order,
        repeat=repeat,
    )
