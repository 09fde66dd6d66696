"""Monoflow: one flow whose tasks pass data to each other; no separation at all."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.utilities.annotations import quote

from flows import catalog as names
from flows.tasks import (
    fail_on_purpose,
    fetch_commit_activity,
    fetch_contributors,
    fetch_repo,
    publish_stats,
    recorded,
    summarise_stats,
)


@flow(name=names.MONOFLOW)
def monoflow(repo: str, source: str = "auto", drill: str = "none") -> dict[str, Any]:
    """Compute a repository's statistics in one flow: fetch, then summarise, all as tasks."""
    with recorded():
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
