"""Read a launch of several repositories: by counts while it runs, run by run once it is over.

A poll of a running fan-out never reads its runs one by one (a 128-repository launch has up to
256 runs and ~1,000 task runs). It costs, whatever the number of repositories:
1. `POST /flow_runs/filter`: the lead entry runs (one per pattern and round, `lab-entry`);
2. `POST /flow_runs/history`: counts by state of the running step's flow runs (one bucket;
   the events pattern takes two: upstream runs, then the runs its automation started);
3. `POST /ui/task_runs/count`: counts by state of the running step's task runs (Prefect's
   stand-ins for subflows and child deployments excluded).
The third goes out beside the second (a thread): a poll waits for the slower, not for both.
So 3 calls (4 for the events pattern; once every upstream and every tagged run is final, one
more per 200 of the downstream runs its automation created, and, while it is due, one for the
last upstream's end; in "all at once" order, 1 + 1 per running pattern + 1). Earlier steps are
over (the lab starts a step only then), so their counts are final: each is counted, after the
running step, with the same calls (1 per pattern, 2 for events, and its task runs if it ran alone)
bounded by the next step's start, until it has been over SETTLE_S and two polls counted it alike
(task runs are recorded from events, a moment after their flow run ends); then this process
remembers it. The first poll of a launch in a process counts every earlier step once. A
presenter's page then says 129 flow runs, not the one lead run it has read.
Once the last step is over, the launch is read run by run: flow runs, task-run counts and the
artifacts, 200 a call.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from datetime import datetime, timedelta
from threading import Lock
from typing import Any, NamedTuple

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    DeploymentFilter,
    DeploymentFilterId,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterTags,
)
from prefect.client.schemas.sorting import FlowRunSort

from flows.catalog import (
    EVENTS_DOWNSTREAM,
    FLOW_ROLES,
    PROCESS_KEY,
    STATS_KEY,
    deployment_name,
    launch_tag,
)
from patternlab.backend import deployment_id, prefect_client, table_rows, ui_url
from patternlab.launch.expect import TRIGGER_GRACE_S
from patternlab.launch.fanout_report import fanout_report, lead_report
from patternlab.launch.models import SETTLE_S, LaunchReport, PatternReport, Progress, RepoStats
from patternlab.launch.plan import ENTRY_TAG, LaunchPlan, fanout_runs, shape_of, tag_value
from patternlab.launch.readback import PAGE, paged, queued_report, round_of, run_info
from patternlab.launch.source import NOTE_LABEL, REQUESTED_LABEL

FINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
# Counts of steps that are over, by lead run id: they never change once settled (see the
# module docstring). _SEEN holds each one's last count until two alike settle it.
_OVER: dict[str, Progress] = {}
_SEEN: dict[str, Progress] = {}
_KEPT = 512  # lead runs remembered in each; the oldest goes first
_LOCK = Lock()  # pages read in several threads


class Span(NamedTuple):
    """When a step's runs were expected to start: from its start, up to the next step's."""

    since: datetime
    until: datetime | None = None


def read_fanout(launch_id: str, *, now: datetime) -> LaunchReport:
    """Read a launch of several repositories (see the module's docstring for its API calls)."""
    with prefect_client() as client:
        leads = _leads(client, launch_id)
        if not leads:
            raise LookupError(f"No launch {launch_id} on this Prefect server")
        patterns, order, repeat = shape_of(leads)
        steps = LaunchPlan(launch_id=launch_id, patterns=patterns, repos=["-", "-"],
                           order=order, repeat=repeat).steps()  # fmt: skip
        by_pair = {_pair(r): r for r in leads}
        started = [i for i, step in enumerate(steps) if any(p in by_pair for p in step)]
        step_leads = [[by_pair[p] for p in steps[i] if p in by_pair] for i in started]
        spans = _spans(step_leads)
        active = steps[started[-1]] if started else []
        running = [pair for pair in active if pair in by_pair]
        span = spans[-1] if spans else None
        # The task-run count and the flow-run counts depend only on the leads: sent together
        # (in this block's Prefect settings: no client retries while the server is away).
        with ThreadPoolExecutor(max_workers=1) as aside:
            tasks = aside.submit(copy_context().run, _count_tasks, client, launch_id, span,
                                 len(running))  # fmt: skip
            progress = {pair: _progress(client, launch_id, by_pair[pair], span, now)
                        for pair in running}  # fmt: skip
            total = tasks.result()
        for _, prog in progress.values():  # one pattern: all of them are its; several: not split
            prog.task_runs = total if len(progress) == 1 else None
        over = all(done for done, _ in progress.values()) and len(progress) == len(active)
        if over and started and started[-1] == len(steps) - 1:
            return _read_whole(client, launch_id, leads, steps)
        done_steps = list(zip(step_leads, spans, strict=True))[:-1]  # all but the running one
        earlier = _earlier_counts(client, launch_id, done_steps, now)
    reports: list[PatternReport] = []
    for step in steps:
        for pair in step:
            lead = by_pair.get(pair)
            if lead is None:
                reports.append(queued_report(*pair))
            elif pair in progress:  # running, by counts
                reports.append(lead_report(lead, pair, progress[pair]))
            else:  # an earlier step: over, by its final counts; read run by run at the end
                reports.append(lead_report(lead, pair, (True, earlier.get(pair))))
    return _launch_report(launch_id, leads, reports, order, repeat)


def _spans(steps: list[list[Any]]) -> list[Span]:
    """Return the started steps' spans from their leads: each from its first expected start
    (the first step: a second before, for the clocks of the hosts that create its runs) to the
    next one's. The lab starts a step once it has seen the one before over, so every run of
    that one was created, its expected start set, before: the spans tile, no run in two."""
    starts = [min(r.expected_start_time or r.created for r in leads) for leads in steps]
    if not starts:
        return []
    starts[0] -= timedelta(seconds=1)
    return [Span(start, nxt) for start, nxt in zip(starts, [*starts[1:], None], strict=True)]


def _earlier_counts(
    client: SyncPrefectClient,
    launch_id: str,
    steps: list[tuple[list[Any], Span]],
    now: datetime,
) -> dict[tuple[str, int], Progress]:
    """Return the counts of the steps before the running one: remembered once settled (over
    SETTLE_S, and two counts alike: task runs are recorded a moment after their run ends)."""
    counts = {}
    for leads, span in steps:
        known = [(lead, _remembered(lead)) for lead in leads]
        # A step's task runs are counted together: a pattern's own only when it ran alone.
        alone = len(leads) == 1 and known[0][1] is None
        tasks = _count_tasks(client, launch_id, span, 1) if alone else None
        for lead, found in known:
            if found is None:
                runs = _step_runs(client, launch_id, lead, span)
                found = Progress(expected_runs=_expected(lead), runs=runs, task_runs=tasks)
                _remember(lead, found, settled=(now - span.until).total_seconds() >= SETTLE_S)
            counts[_pair(lead)] = found
    return counts


def _remembered(lead: Any) -> Progress | None:
    """Return a settled step's counts for its lead run, if remembered."""
    with _LOCK:
        found = _OVER.get(str(lead.id))
    return found.model_copy(deep=True) if found is not None else None


def _remember(lead: Any, found: Progress, *, settled: bool) -> None:
    """Keep a step's counts: settled once over SETTLE_S and counted alike twice running."""
    key = str(lead.id)
    with _LOCK:
        before = _SEEN.pop(key, None)
        kept = _OVER if settled and before == found else _SEEN
        while len(kept) >= _KEPT:
            kept.pop(next(iter(kept)), None)
        kept[key] = found.model_copy(deep=True)


def _pair(lead: Any) -> tuple[str, int]:
    """Return a lead run's pattern and round."""
    return tag_value(lead.tags, "pattern"), int(tag_value(lead.tags, "round", "0"))


def _leads(client: SyncPrefectClient, launch_id: str) -> list[Any]:
    """Read the launch's lead entry runs (one per pattern and round)."""
    flt = FlowRunFilter(tags=FlowRunFilterTags(all_=[launch_tag(launch_id), ENTRY_TAG]))
    return client.read_flow_runs(flow_run_filter=flt, limit=PAGE)


def _window(launch_id: str, span: Span) -> dict[str, Any]:
    """Return the API filter of a step's runs: the launch's, expected to start in its span
    (the API's after_ and before_ include their bounds: the next step's start is not this one's)."""
    when = {"after_": span.since.isoformat()}
    if span.until is not None:
        when["before_"] = (span.until - timedelta(microseconds=1)).isoformat()
    return {"tags": {"all_": [launch_tag(launch_id)]}, "expected_start_time": when}


def _counts(client: SyncPrefectClient, launch_id: str, span: Span, flows: list[str]) -> dict:
    """Count a step's flow runs of the given flows by state type, in one call."""
    body = {
        "history_start": span.since.isoformat(),
        "history_end": (span.since + timedelta(days=30)).isoformat(),
        "history_interval_seconds": 30 * 86_400,  # one bucket: the whole step
        "flows": {"name": {"any_": flows}},
        "flow_runs": _window(launch_id, span),
    }
    found: dict[str, int] = defaultdict(int)
    for bucket in client.request("POST", "/flow_runs/history", json=body).json():
        for state in bucket["states"]:
            found[state["state_type"].lower()] += state["count_runs"]
    return dict(found)


def _flows_of(pattern: str, roles: tuple[str, ...]) -> list[str]:
    """Return the names of a pattern's flows in the given roles."""
    return [f for f, (p, role) in FLOW_ROLES.items() if p == pattern and role in roles]


def _expected(lead: Any) -> int:
    """Return how many flow runs a lead's pattern makes for its repositories."""
    return fanout_runs(tag_value(lead.tags, "pattern"), int(tag_value(lead.tags, "repos", "1")))


def _step_runs(client: SyncPrefectClient, launch_id: str, lead: Any, span: Span) -> dict[str, int]:
    """Count one pattern's flow runs in a step by state (events: upstream and downstream)."""
    pattern = tag_value(lead.tags, "pattern")
    if pattern != "events":
        flows = _flows_of(pattern, ("entry", "subflow", "deployment-child"))
        return _counts(client, launch_id, span, flows)
    return _both(*_events_counts(client, launch_id, span))


def _events_counts(
    client: SyncPrefectClient, launch_id: str, span: Span
) -> tuple[dict[str, int], dict[str, int]]:
    """Count an events step's upstream runs and the runs its automations started (2 calls)."""
    ups = _counts(client, launch_id, span, _flows_of("events", ("entry",)))
    downs = _counts(client, launch_id, span, _flows_of("events", ("triggered", "alert")))
    return ups, downs


def _both(ups: dict[str, int], downs: dict[str, int]) -> dict[str, int]:
    """Add two counts by state."""
    return {s: ups.get(s, 0) + downs.get(s, 0) for s in {*ups, *downs}}


def _progress(
    client: SyncPrefectClient, launch_id: str, lead: Any, span: Span, now: datetime
) -> tuple[bool, Progress]:
    """Count one pattern's running step and say whether it is over."""
    pattern, n = tag_value(lead.tags, "pattern"), int(tag_value(lead.tags, "repos", "1"))
    if pattern != "events":
        runs = _step_runs(client, launch_id, lead, span)
        lead_final = lead.state is not None and lead.state.type.value in FINAL
        over = lead_final and not _unfinished(runs)
        return over, Progress(expected_runs=_expected(lead), runs=runs)
    ups, downs = _events_counts(client, launch_id, span)
    runs = _both(ups, downs)
    progress = Progress(expected_runs=_expected(lead), runs=runs)
    if sum(ups.values()) < n or _unfinished(runs):
        return False, progress
    # The tagged counts cannot tell: alert runs count among them, and a downstream run tags
    # itself only once it starts. So look at the downstream deployment's runs themselves.
    downstream = _downstream_runs(client, launch_id, span)
    if any(r.state is None or r.state.type.value not in FINAL for r in downstream):
        return False, progress  # created by the automation, not over yet (or not started)
    if len(downstream) >= ups.get("completed", 0):
        return True, progress
    # The automation is due: wait for it, up to the grace after the last upstream's end.
    over = (now - _last_end(client, launch_id, span)).total_seconds() > TRIGGER_GRACE_S
    return over, progress


def _downstream_runs(client: SyncPrefectClient, launch_id: str, span: Span) -> list[Any]:
    """Read the downstream runs the automation created for this step, started or not (one call
    per 200; only once every upstream and every tagged run is final)."""
    window = FlowRunFilterExpectedStartTime(after_=span.since)
    by_deployment = DeploymentFilter(
        id=DeploymentFilterId(any_=[deployment_id(deployment_name(EVENTS_DOWNSTREAM))])
    )
    runs = paged(lambda o: client.read_flow_runs(
        flow_run_filter=FlowRunFilter(expected_start_time=window),
        deployment_filter=by_deployment, limit=PAGE, offset=o))  # fmt: skip
    return [r for r in runs if (r.parameters or {}).get("launch") == launch_tag(launch_id)]


def _unfinished(runs: dict[str, int]) -> int:
    """Return how many counted runs are not final."""
    return sum(n for s, n in runs.items() if s.upper() not in FINAL)


def _last_end(client: SyncPrefectClient, launch_id: str, span: Span) -> datetime:
    """Return when the step's last upstream run ended (one call, only while a trigger is due)."""
    runs = client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=_flows_of("events", ("entry",)))),
        flow_run_filter=FlowRunFilter.model_validate(_window(launch_id, span)),
        sort=FlowRunSort.END_TIME_DESC,
        limit=1,
    )
    return runs[0].end_time if runs and runs[0].end_time else span.since


def _count_tasks(
    client: SyncPrefectClient, launch_id: str, span: Span | None, patterns: int
) -> int | None:
    """Count a step's task runs, in one call (None when no step runs)."""
    if span is None or not patterns:
        return None
    body = {"flow_runs": _window(launch_id, span),
            "task_runs": {"subflow_runs": {"exists_": False}}}  # fmt: skip
    counts = client.request("POST", "/ui/task_runs/count", json=body).json()
    return sum(int(v) for v in counts.values())


def _read_whole(
    client: SyncPrefectClient, launch_id: str, leads: list, steps: list
) -> LaunchReport:
    """Read a finished fan-out run by run: flow runs, task-run counts, artifacts (200 a call)."""
    flt = FlowRunFilter(tags=FlowRunFilterTags(all_=[launch_tag(launch_id)]))
    runs = paged(lambda o: client.read_flow_runs(flow_run_filter=flt, limit=PAGE, offset=o))
    ids = [str(r.id) for r in runs]
    tasks: dict[str, int] = {}
    process: dict[str, dict] = {}
    stats: dict[str, list[RepoStats]] = defaultdict(list)
    for i in range(0, len(ids), PAGE):
        chunk = ids[i : i + PAGE]
        body = {"flow_run_ids": chunk}
        tasks |= client.request("POST", "/ui/flow_runs/count-task-runs", json=body).json()
        keys = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=chunk),
                              key=ArtifactFilterKey(any_=[PROCESS_KEY, STATS_KEY]))  # fmt: skip
        for art in paged(lambda o, k=keys: client.read_artifacts(
                artifact_filter=k, limit=PAGE, offset=o)):  # fmt: skip
            rows = table_rows(art)
            if art.key == PROCESS_KEY and rows:
                process[str(art.flow_run_id)] = rows[0]
            elif art.key == STATS_KEY:
                stats[str(art.flow_run_id)] += [RepoStats.model_validate(r) for r in rows if r]
    _, order, repeat = shape_of(leads)
    groups: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for run in runs:
        pattern = FLOW_ROLES.get(run_info(run).flow, ("unknown", ""))[0]
        mine = [r for r in leads if f"pattern:{pattern}" in r.tags]
        groups[(pattern, round_of(run, mine))].append(run)
    ui = ui_url()
    reports = []
    for pair in [pair for step in steps for pair in step]:
        mine = groups.get(pair, [])
        lead = next((r for r in mine if ENTRY_TAG in r.tags), None)
        found = [s for r in mine for s in stats.get(str(r.id), [])]
        reports.append(fanout_report(pair, lead, mine, tasks, process, found, ui))
    return _launch_report(launch_id, leads, reports, order, repeat)


def _launch_report(
    launch_id: str, leads: list, reports: list, order: str, repeat: int
) -> LaunchReport:
    """Assemble the launch's report from its patterns' (the workload from the leads' tags)."""
    first = min(leads, key=lambda r: r.created)
    tags = first.tags
    owner = tag_value(tags, "owner") or None
    n = int(tag_value(tags, "repos", "1"))
    synthetic = "workload:synthetic" in tags
    label = f"{n} repositories" + (f" of {owner}" if owner else "")
    return LaunchReport(
        launch_id=launch_id,
        repo=label + (" (synthetic)" if synthetic else ""),
        source=tag_value(tags, "source"),
        source_requested=str((first.labels or {}).get(REQUESTED_LABEL) or ""),
        source_note=str((first.labels or {}).get(NOTE_LABEL) or ""),
        drill=(first.parameters or {}).get("drill", "none"),
        hold_s=max(float((r.parameters or {}).get("hold_s", 0.0)) for r in leads),
        created=first.created,
        done=all(p.done for p in reports),
        patterns=reports,
        order=order,
        repeat=repeat,
        repos=n,
        owner=owner,
        synthetic=synthetic,
    )
