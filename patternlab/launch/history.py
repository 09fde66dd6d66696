"""History: past launches' entry runs, filtered and paginated on the server, with end-to-end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort

from flows.repo_input import parse_repo
from patternlab.backend import prefect_client, ui_url
from patternlab.launch.expect import pending_reason
from patternlab.launch.metrics import compute_timings
from patternlab.launch.models import FlowRunInfo, HistoryPage, HistoryRow
from patternlab.launch.readback import ENTRY_TAG, pattern_of, round_of, run_info
from patternlab.settings import get_settings

PAGE_MAX = 200  # the Prefect API's largest page


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
    rows = [_row(r, end_to_end.get(str(r.id)), ui) for r in runs]
    return HistoryPage(rows=rows, total=total)


def _row(r: Any, end_to_end_s: float | None, ui: str) -> HistoryRow:
    """Return one History row: an entry run and its pattern's end-to-end time."""
    return HistoryRow(
        launch_id=_tag_value(r.tags, "launch"),
        pattern=_tag_value(r.tags, "pattern"),
        repo=_workload(r),
        source=(r.parameters or {}).get("source", ""),
        state=r.state.name if r.state else "Unknown",
        status=r.state.type.value.lower() if r.state else "unknown",
        created=r.created,
        duration_s=r.total_run_time.total_seconds() if r.end_time else None,
        end_to_end_s=end_to_end_s,
        flow_run_id=str(r.id),
        ui_url=f"{ui}/runs/flow-run/{r.id}",
        repos=int(_tag_value(r.tags, "repos") or 1),
        synthetic="workload:synthetic" in r.tags,
        round=int(_tag_value(r.tags, "round") or 0),
    )


def _workload(run: Any) -> str:
    """Name what a History row computed: its repository, or "N repositories [of owner]"."""
    count = _tag_value(run.tags, "repos")
    if not count:
        return (run.parameters or {}).get("repo", "")
    owner = _tag_value(run.tags, "owner")
    return f"{count} repositories" + (f" of {owner}" if owner else "")


def _end_to_end(client: Any, entries: list[Any]) -> dict[str, float | None]:
    """Return each entry run's pattern end-to-end time (Compare's definition), by entry run id.

    Reads the listed launches' flow runs by their launch tags: one API call per 200 runs, so
    a History page costs the same however long the history is.
    """
    tags = sorted({t for r in entries for t in r.tags if t.startswith("launch:")})
    runs: list[Any] = []
    while tags:
        flt = FlowRunFilter(tags=FlowRunFilterTags(any_=tags))
        chunk = client.read_flow_runs(flow_run_filter=flt, limit=PAGE_MAX, offset=len(runs))
        runs += chunk
        if len(chunk) < PAGE_MAX:
            break
    leads: dict[tuple[str, str], list[Any]] = {}
    for run in runs:
        if ENTRY_TAG in run.tags:
            key = (_tag_value(run.tags, "launch"), _tag_value(run.tags, "pattern"))
            leads.setdefault(key, []).append(run)
    groups: dict[tuple[str, str, int], list[FlowRunInfo]] = {}
    for run in runs:
        info = run_info(run)
        key = (_tag_value(run.tags, "launch"), pattern_of(info))
        groups.setdefault((*key, round_of(run, leads.get(key, []))), []).append(info)
    now, window = datetime.now(UTC), get_settings().alert_window_s
    found: dict[str, float | None] = {}
    for r in entries:
        pattern = _tag_value(r.tags, "pattern")
        round_ = int(_tag_value(r.tags, "round") or 0)
        group = groups.get((_tag_value(r.tags, "launch"), pattern, round_), [])
        # The alert does not count in end-to-end: a missing alert must not blank the figure.
        over = pending_reason(pattern, group, now, window, ignore={"alert"}) is None
        found[str(r.id)] = compute_timings(group).end_to_end_s if over else None
    return found


def list_all_launches(max_rows: int, **filters: str | None) -> list[HistoryRow]:
    """Return every History row that matches the filters (up to max_rows), page by page."""
    rows: list[HistoryRow] = []
    while len(rows) < max_rows:
        page = list_launches(**filters, limit=min(PAGE_MAX, max_rows - len(rows)), offset=len(rows))
        rows += page.rows
        if len(page.rows) == 0 or len(rows) >= page.total:
            break
    return rows
