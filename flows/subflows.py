"""Flow of subflows: a parent flow calls two flows in its own process (conceptual separation)."""

from __future__ import annotations

from typing import Any

from prefect import flow, tags
from prefect.utilities.annotations import quote

from flows import catalog as names
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


@flow(name=names.SUBFLOWS_PARENT)
def subflows_parent(repo: str, source: str = "auto", drill: str = "none") -> dict[str, Any]:
    """Compute a repository's statistics by calling a fetch subflow, then an averaging subflow."""
    # Subflow runs take tags from the tag context, not from the parent run: pass the launch on.
    with recorded(), tags(*launch_tags()):
        if drill == "upstream":
            fail_on_purpose("upstream")
        data = fetch_repo_data(repo, source, drill=drill)
        return calculate_average_commits(repo, source, data, drill=drill)
