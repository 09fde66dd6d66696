"""Event-triggered flows: an upstream flow's Completed event starts a downstream deployment.

The downstream flow knows nothing of the upstream: an automation (the trigger in flows/serve.py)
hands it the repository from the event. A proactive trigger runs the alert flow when the upstream
does not complete within its window ("or lack thereof").
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote

from flows.tasks import (
    fail_on_purpose,
    fetch_commit_activity,
    fetch_contributors,
    fetch_repo,
    publish_stats,
    recorded,
    summarise_stats,
)


def _join_launch(launch: str) -> None:
    """Tag this run with the launch the event came from, so the lab finds it by tag."""
    ctx = FlowRunContext.get()
    if not launch.startswith("launch:") or ctx is None or ctx.flow_run is None:
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(ctx.flow_run.id, tags=sorted({*ctx.flow_run.tags, launch}))


@flow(name="events-upstream")
def events_upstream(
    repo: str, source: str = "auto", hold_s: float = 0.0, drill: str = "none"
) -> dict[str, Any]:
    """Refresh a repository's metadata; completing emits the event the downstream reacts to."""
    with recorded():
        repo_info = fetch_repo(repo, source)
        if hold_s > 0:
            # A demo switch: hold the upstream past the proactive trigger's window.
            time.sleep(min(hold_s, 600))
        if drill == "upstream":
            fail_on_purpose("upstream")
        return repo_info


@flow(name="events-downstream")
def events_downstream(
    repo: str, source: str = "auto", launch: str = "", drill: str = "none"
) -> dict[str, Any]:
    """Triggered by an automation: compute the statistics of the repository named in the event."""
    with recorded():
        _join_launch(launch)
        if drill == "child":
            fail_on_purpose("child")
        repo_info = fetch_repo(repo, source)
        contributors = fetch_contributors(repo, source, flaky=drill == "transient")
        activity = fetch_commit_activity(repo, source)
        # quote(): Prefect would otherwise walk the ~400-contributor list on every call (~15 ms).
        stats = summarise_stats(repo, source, repo_info, quote(contributors), quote(activity))
        publish_stats(stats)
        return stats


@flow(name="events-missed-alert")
def events_missed_alert(repo: str = "", launch: str = "", window_s: int = 10) -> str:
    """Alert: the expected Completed event did not arrive within the window (proactive trigger)."""
    with recorded():
        _join_launch(launch)
        message = (
            f"Upstream refresh of {repo or 'a repository'} did not complete within {window_s} s"
        )
        get_run_logger().warning(message)
        create_markdown_artifact(f"**Alert**: {message}.", key="missed-upstream-alert")
        return message
