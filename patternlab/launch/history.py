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
from patternlab.launch.plan import LAUNCH_VARIANT, REPO_ANY_CASE
from patternlab.launch.readback import ENTRY_TAG, pattern_of, round_of, run_info
from patternlab.settings import get_settings

PAGE_MAX = 200  # the Prefect API's largest page


def _tag_value(tags: list[str], prefix: str) -> str:
    """Return the value of the first `prefix:value` tag, or ""."""
    return next((t.split(":", 1)[1] for t in tags if t.startswith(prefix + ":")), "")


def _filter(
    pattern: str | None,
    repo: str | None,
    source: str | None,
    status: str | None,
    drill: str | None = None,
    variant: str | None = None,
) -> FlowRunFilter:
    """Build History's server-side filter: every criterion is a tag of the entry runs."""
    tags = [ENTRY_TAG]
    tags += [f"pattern:{pattern}"] if pattern else []
    tags += [f"source:{source}"] if source else []
    tags += [f"drill:{drill}"] if drill else []
    tags += [f"{LAUNCH_VARIANT}:{variant}"] if variant else []
    names = None
    if repo:  # lower-cased on newer runs; as typed on runs made before that tag existed
        name = parse_repo(repo)
        names = [f"repo:{name}", f"{REPO_ANY_CASE}:{name.lower()}"]
    flt = FlowRunFilter(tags=FlowRunFilterTags(all_=tags, any_=names))
    if status:
        flt.state = FlowRunFilterState(
            type=FlowRunFilterStateType(any_=[StateType(status.upper())])
        )
    return flt


def list_launches(
    *,
    pattern: str | None = None,
    repo: str | None = None,
    source: str | None = None,
    status: str | None = None,
    drill: str | None = None,
    variant: str | None = None,
    limit: int = 50,
    offset: int = 0,
    end_to_end: bool = True,
) -> HistoryPage:
    """List past launches' entry runs, newest first, filtered and paginated on the server.

    end_to_end=False skips reading the listed launches' other runs (a picker needs no times).
    """
    flt = _filter(pattern, repo, source, status, drill, variant)
    with prefect_client() as client:
        runs = client.read_flow_runs(
            flow_run_filter=flt,
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=limit,
            offset=offset,
        )
        total = client.count_flow_runs(flow_run_filter=flt)
        times = _end_to_end(client, runs) if end_to_end else {}
    ui = ui_url()
    rows = [_row(r, times.get(str(r.id)), ui) for r in runs]
    return HistoryPage(rows=rows, total=total)


def _variant(run: Any) -> str:
    """Return the launch's deployment variant (older runs: from the deployments' parameter)."""
    found = _tag_value(run.tags, LAUNCH_VARIANT)
    params = run.parameters or {}
    if found or "wait_for_child" not in params:
        return found
    return "wait" if params["wait_for_child"] else "fire-and-forget"


def _row(r: Any, end_to_end_s: float | None, ui: str) -> HistoryRow:
    """Return one History row: an entry run and its pattern's end-to-end time."""
    params = r.parameters or {}
    return HistoryRow(
        launch_id=_tag_value(r.tags, "launch"),
        pattern=_tag_value(r.tags, "pattern"),
        repo=_workload(r),
        source=params.get("source", ""),
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
        patterns=[p for p in _tag_value(r.tags, "plan").split("+") if p],
        drill=_tag_value(r.tags, "drill") or params.get("drill", "none"),
        variant=_variant(r),
        hold_s=float(_tag_value(r.tags, "hold") or params.get("hold_s", 0.0) or 0.0),
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
