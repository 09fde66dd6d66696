"""Launch patterns through their deployments and read every run of a launch back from Prefect."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort

from flows.github import parse_repo
from patternlab.backend import ui_url
from patternlab.catalog import FLOW_ROLES, PATTERN_INFO
from patternlab.client import deployment_id, prefect_client
from patternlab.drills import DRILLS
from patternlab.metrics import RunView, compute_timings
from patternlab.models import PATTERNS, HistoryPage, HistoryRow, LaunchReport
from patternlab.readback import ENTRY_TAG, launch_tag, read_launch, run_view

__all__ = ["launch", "launch_tag", "list_launches", "read_launch", "wait_for_launch"]

Variant = str  # "wait" | "fire-and-forget"


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
    with prefect_client() as client:
        for pattern in chosen:
            params: dict[str, Any] = {"repo": repo, "source": source, "drill": drill}
            if pattern == "deployments":
                params["wait_for_child"] = variant != "fire-and-forget"
            if pattern == "events" and hold_s > 0:
                params["hold_s"] = hold_s
            client.create_flow_run_from_deployment(
                deployment_id(PATTERN_INFO[pattern].entry_deployment),
                parameters=params,
                tags=[*tags, f"pattern:{pattern}"],
            )
    return launch_id


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
    with prefect_client() as client:
        runs = client.read_flow_runs(
            flow_run_filter=flt,
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=limit,
            offset=offset,
        )
        total = client.count_flow_runs(flow_run_filter=flt)
        end_to_end = _end_to_end(client, runs)
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
            end_to_end_s=end_to_end.get(str(r.id)),
            flow_run_id=str(r.id),
            ui_url=f"{ui}/runs/flow-run/{r.id}",
        )
        for r in runs
    ]
    return HistoryPage(rows=rows, total=total)


def _end_to_end(client: Any, entries: list[Any]) -> dict[str, float | None]:
    """Return each entry run's pattern end-to-end time (Compare's definition), by entry run id.

    Reads the listed launches' flow runs by their launch tags: one API call per 200 runs, so
    a History page costs the same however long the history is.
    """
    tags = sorted({t for r in entries for t in r.tags if t.startswith("launch:")})
    runs: list[Any] = []
    while tags:
        flt = FlowRunFilter(tags=FlowRunFilterTags(any_=tags))
        chunk = client.read_flow_runs(flow_run_filter=flt, limit=200, offset=len(runs))
        runs += chunk
        if len(chunk) < 200:
            break
    groups: dict[tuple[str, str], list[RunView]] = {}
    for run in runs:
        view = run_view(run)
        key = (_tag_value(run.tags, "launch"), FLOW_ROLES.get(view.flow, ("unknown",))[0])
        groups.setdefault(key, []).append(view)
    found: dict[str, float | None] = {}
    for r in entries:
        group = groups.get((_tag_value(r.tags, "launch"), _tag_value(r.tags, "pattern")), [])
        found[str(r.id)] = _group_end_to_end(group)
    return found


def _group_end_to_end(runs: list[RunView]) -> float | None:
    """Return a pattern's end-to-end time, or None while any of its runs may still come or run.

    An events upstream that completed is followed by a triggered run that tags itself only when
    it starts: until it is seen, the pattern is not over.
    """
    roles = {r.role for r in runs}
    upstream = next((r for r in runs if r.flow == "events-upstream"), None)
    if upstream is not None and upstream.status == "completed" and "triggered" not in roles:
        return None
    return compute_timings(runs).end_to_end_s
