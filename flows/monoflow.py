"""Monoflow: one flow whose tasks pass data to each other; no separation at all.

Over many repositories it maps one task per repository on the flow's task runner: Prefect's
thread pool here, Dask in flows/monoflow_dask.py (the same flow, another task runner).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, unmapped
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import catalog as names
from flows.fanout import publish_stats_table, repository_stats
from flows.tasks import (
    fail_on_purpose,
    fetch_commit_activity,
    fetch_contributors,
    fetch_repo,
    publish_stats,
    recorded,
    summarise_stats,
)

THREADS = 8  # Prefect's default pool has no bound: 128 repositories would be 128 threads


@flow(name=names.MONOFLOW, task_runner=ThreadPoolTaskRunner(max_workers=THREADS))
def monoflow(
    repo: str = "", source: str = "auto", drill: str = "none", repos: list[str] | None = None
) -> dict[str, Any]:
    """Compute statistics in one flow: fetch, then summarise, all as tasks (mapped for many)."""
    with recorded():
        if repos:  # fan-out: the task mapped over the repositories, on the flow's task runner
            all_stats = repository_stats.map(repos, unmapped(source)).result()
            publish_stats_table(quote(all_stats))
            return {"repositories": len(all_stats)}
        if drill == "upstream":
            fail_on_purpose("upstream")
        repo_info = fetch_repo(repo, source)
        contributors = fetch_contributors(repo, source, flaky=drill == "transient")
        activity = fetch_commit_activity(repo, source)
        if drill == "child":
            fail_on_purpose("child")
        # quote(): Prefect would otherwise walk the ~400-contributor list on every call (~15 ms).
        stats = summarise_stats(repo, source, repo_info, quote(contributors), quote(activity))
        publish_stats(stats)
        return stats
