"""What the patterns share when they fan out over many repositories: one repository's statistics
as a single task, their publication as one table, and child runs started a limit at a time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
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
from prefect.client.schemas.objects import FlowRun, StateType

from flows.catalog import STATS_KEY
from flows.tasks import (
    RETRYING,
    fetch_commit_activity,
    fetch_contributors,
    fetch_repo,
    publish_row,
    scalars,
    summarise_stats,
)

FINAL = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]
PAGE = 200  # the Prefect API's largest page
T = TypeVar("T")
_NONE = object()  # the end of the items (an item may be None)


@task(**RETRYING)
def repository_stats(repo: str, source: str) -> dict[str, Any]:
    """Fetch one repository and compute its statistics, in one task.

    One task per repository, not four: Prefect's cost per task run (~10 ms on the thread pool,
    ~100 ms on Dask, docs/performance.md) would otherwise be paid four times per unit of work.
    """
    info = fetch_repo.fn(repo, source)
    people = fetch_contributors.fn(repo, source)
    activity = fetch_commit_activity.fn(repo, source)
    return summarise_stats.fn(repo, source, info, people, activity)


def one_repository(repo: str, source: str) -> dict[str, Any]:
    """Do a fan-out child's work, the same in every pattern: one task, one published row."""
    publish_row(repository_stats(repo, source))
    return {"repo": repo}


@task(cache_policy=NO_CACHE)
def publish_stats_table(all_stats: list[dict[str, Any]]) -> None:
    """Publish every repository's statistics as one table, one row per repository.

    What the other patterns' children publish, together: the rows the lab's aggregate reads,
    no series tables (128 repositories' weekly commits were ~6,700 rows, sent after the work).
    """
    desc = f"Statistics of {len(all_stats)} repositories (one row each)"
    create_table_artifact([scalars(s) for s in all_stats], key=STATS_KEY, description=desc)


def _ended(ids: list[UUID]) -> FlowRunFilter:
    """Filter the runs among `ids` that are in a final state."""
    final = FlowRunFilterState(type=FlowRunFilterStateType(any_=FINAL))
    return FlowRunFilter(id=FlowRunFilterId(any_=ids), state=final)


def run_in_window(
    start: Callable[[T], FlowRun], items: Iterable[T], window: int, poll_s: float
) -> tuple[int, list[str]]:
    """Start a run per item, at most `window` unfinished at a time, and wait for them all.

    Each time one ends the next starts, so a concurrency limit of `window` is never refused a
    slot: no run is created only to wait (and be re-proposed) in AwaitingConcurrencySlot.
    One read per poll finds which of the (at most `window`) running ones ended. Returns how
    many were started and "name: state" of those not Completed.
    """
    pending, running, started, bad = iter(items), [], 0, []
    with get_client(sync_client=True) as client:
        while True:
            while len(running) < window and (item := next(pending, _NONE)) is not _NONE:
                running.append(start(item).id)
                started += 1
            if not running:
                return started, bad
            ended = client.read_flow_runs(flow_run_filter=_ended(running), limit=PAGE)
            for run in ended:
                running.remove(run.id)
                if run.state is None or not run.state.is_completed():
                    bad.append(f"{run.name}: {run.state.name if run.state else 'unknown'}")
            if not ended:
                time.sleep(poll_s)
