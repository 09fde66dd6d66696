"""What the patterns share when they fan out over many repositories: one repository's statistics
as a single task, their publication as one table, and a cheap wait for many child runs."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from flows.catalog import CONTRIBUTORS_KEY, STATS_KEY, WEEKLY_KEY
from flows.tasks import (
    RETRYING,
    fetch_commit_activity,
    fetch_contributors,
    fetch_repo,
    summarise_stats,
)

FINAL = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]
PAGE = 200  # the Prefect API's largest page


@task(**RETRYING)
def repository_stats(repo: str, source: str) -> dict[str, Any]:
    """Fetch one repository and compute its statistics, in one task.

    One task per repository, not four: Prefect's cost per task run (~10 ms on the thread pool,
    ~250 ms on Dask here) would otherwise be paid four times for each unit of work.
    """
    info = fetch_repo.fn(repo, source)
    people = fetch_contributors.fn(repo, source)
    activity = fetch_commit_activity.fn(repo, source)
    return summarise_stats.fn(repo, source, info, people, activity)


@task(cache_policy=NO_CACHE)
def publish_stats_table(all_stats: list[dict[str, Any]]) -> None:
    """Publish every repository's statistics as the same three artifacts, one row per repository."""
    series = ("top_contributors", "weekly_commits")
    scalars = [{k: v for k, v in s.items() if k not in series} for s in all_stats]
    desc = f"Statistics of {len(all_stats)} repositories (one row each)"
    create_table_artifact(scalars, key=STATS_KEY, description=desc)
    for key, field in ((CONTRIBUTORS_KEY, series[0]), (WEEKLY_KEY, series[1])):
        rows = [{"repo": s["repo"], **row} for s in all_stats for row in s[field]]
        create_table_artifact(rows or [{}], key=key)


def wait_for_runs(ids: list[UUID], poll_s: float = 1.0) -> list[str]:
    """Wait until every flow run is final; return "name: state" of those not Completed.

    One count per poll for all of them (not a read of every run), then one read at the end.
    Once a second: only the last one's end matters, not when each ends.
    """
    chunks = [ids[i : i + PAGE] for i in range(0, len(ids), PAGE)]

    def among(chunk: list[UUID], excluded: list[StateType]) -> FlowRunFilter:
        state = FlowRunFilterState(type=FlowRunFilterStateType(not_any_=excluded))
        return FlowRunFilter(id=FlowRunFilterId(any_=chunk), state=state)

    with get_client(sync_client=True) as client:
        while sum(client.count_flow_runs(flow_run_filter=among(c, FINAL)) for c in chunks):
            time.sleep(poll_s)
        bad = []
        for chunk in chunks:  # FINAL[:1]: every state but Completed
            bad += client.read_flow_runs(flow_run_filter=among(chunk, FINAL[:1]), limit=PAGE)
    return [f"{r.name}: {r.state.name if r.state else 'unknown'}" for r in bad]
