"""Flow of subflows: a parent flow calls two flows in its own process (conceptual separation).

Over many repositories the parent calls one subflow per repository: one after another, or
concurrently from a few threads (each call in a copy of the context, which carries the run).
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prefect import flow, tags
from prefect.utilities.annotations import quote

from flows import catalog as names
from flows.fanout import one_repository
from flows.tasks import (
    fail_on_purpose,
    fetch_commit_activity,
    fetch_contributors,
    fetch_repo,
    launch_tags,
    publish_stats,
    recorded,
    summarise_stats,
)


@flow(name=names.FETCH_REPO_DATA)
def fetch_repo_data(repo: str, source: str = "auto", drill: str = "none") -> dict[str, Any]:
    """Subflow: fetch the repository, its contributors and its weekly commit activity."""
    with recorded():
        return {
            "repo_info": fetch_repo(repo, source),
            "contributors": fetch_contributors(repo, source, flaky=drill == "transient"),
            "activity": fetch_commit_activity(repo, source),
        }


@flow(name=names.CALCULATE_AVERAGES)
def calculate_average_commits(
    repo: str, source: str, data: dict[str, Any], drill: str = "none"
) -> dict[str, Any]:
    """Subflow: compute contributors, commits and the average per contributor, and publish them."""
    with recorded():
        if drill == "child":
            fail_on_purpose("child")
        # quote(): Prefect would otherwise walk the ~400-contributor list on every call (~15 ms).
        contributors, activity = quote(data["contributors"]), quote(data["activity"])
        stats = summarise_stats(repo, source, data["repo_info"], contributors, activity)
        publish_stats(stats)
        return stats


@flow(name=names.REPOSITORY_STATS)
def repository_stats(repo: str, source: str = "auto") -> dict[str, Any]:
    """Subflow of a fan-out: one repository's statistics in one task, published as one row."""
    with recorded():
        return one_repository(repo, source)


@flow(name=names.SUBFLOWS_PARENT)
def subflows_parent(
    repo: str = "",
    source: str = "auto",
    drill: str = "none",
    repos: list[str] | None = None,
    concurrent: bool = False,
) -> dict[str, Any]:
    """Compute statistics with subflows: fetch, then average (one repository); or one per repo."""
    # Subflow runs take tags from the tag context, not from the parent run: pass the launch on.
    with recorded(), tags(*launch_tags()):
        if repos and not concurrent:  # fan-out: one subflow per repository, one after another
            return {"repositories": len([repository_stats(r, source) for r in repos])}
        if repos:  # ... or from 4 threads at once
            with ThreadPoolExecutor(4) as pool:
                calls = [pool.submit(contextvars.copy_context().run, repository_stats, r, source)
                         for r in repos]  # fmt: skip
                return {"repositories": len([call.result() for call in calls])}
        if drill == "upstream":
            fail_on_purpose("upstream")
        data = fetch_repo_data(repo, source, drill=drill)
        return calculate_average_commits(repo, source, data, drill=drill)
