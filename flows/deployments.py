"""Flow of deployments: a parent starts a deployed child flow that runs in its own process.

Over many repositories the parent starts one child run per repository without waiting for each
(timeout=0) and keeps as many of them running as the child deployment's concurrency limit (set by
the lab per launch, or by anyone in Prefect) allows, starting the next as one ends.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.utilities.annotations import quote

from flows import catalog as names
from flows.fanout import one_repository, run_in_window
from flows.settings import get_flow_settings
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

# How often the fan-out's parent looks for ended children: one read of at most `limit` runs. A
# slot stays idle half of this on average; at 0.1 s that is ~3 % of a child's ~2 s in its slot.
WINDOW_POLL_S = 0.1


class ChildRunFailed(RuntimeError):
    """The deployment child ended in a state other than Completed."""


@flow(name=names.AVERAGE_CHILD)
def average_commits_child(
    repo: str,
    repo_info: dict[str, Any] | None,
    source: str = "auto",
    drill: str = "none",
    fanout: bool = False,
) -> dict:
    """Deployed child: fetch contributors and commit activity, compute the averages, publish.

    `fanout`: one child of a fan-out (no `repo_info`): the repository's statistics in one task,
    published as one row, as every pattern's fan-out does per repository.
    """
    with recorded():
        if fanout:
            return one_repository(repo, source)
        if drill == "child":
            fail_on_purpose("child")
        contributors = fetch_contributors(repo, source, flaky=drill == "transient")
        activity = fetch_commit_activity(repo, source)
        # quote(): Prefect would otherwise walk the ~400-contributor list on every call (~15 ms).
        stats = summarise_stats(repo, source, repo_info, quote(contributors), quote(activity))
        publish_stats(stats)
        return stats


def child_limit() -> int | None:
    """Return the child deployment's concurrency limit as Prefect holds it now (None: no limit)."""
    with get_client(sync_client=True) as client:
        held = client.read_deployment_by_name(names.CHILD_DEPLOYMENT).global_concurrency_limit
    return held.limit if held else None


def _fan_out(repos: list[str], source: str, wait: bool) -> str:
    """Start one child run per repository; wait for them all unless told not to.

    Waiting, the parent keeps as many children in flight as the child deployment's concurrency
    limit allows, and starts the next as one ends: the limit is held, never refused. Not
    waiting, it creates them all at once and leaves the queueing to the limit on the server.
    """

    def start(repo: str) -> FlowRun:
        parameters = {"repo": repo, "repo_info": None, "source": source, "fanout": True}
        return run_deployment(
            names.CHILD_DEPLOYMENT, parameters=parameters, tags=launch_tags(), timeout=0
        )

    if not wait:
        children = [start(repo) for repo in repos]
        return f"started {len(children)} child runs and did not wait"
    window = child_limit() or len(repos)
    started, failed = run_in_window(
        start, repos, window, min(WINDOW_POLL_S, get_flow_settings().child_poll_s)
    )
    if failed:
        raise ChildRunFailed(f"{len(failed)} of {started} child runs did not complete: "
                             f"{'; '.join(failed[:5])}")  # fmt: skip
    return f"{started} child runs completed, at most {window} at a time"


@flow(name=names.DEPLOYMENTS_PARENT)
def deployments_parent(
    repo: str = "",
    source: str = "auto",
    wait_for_child: bool = True,
    drill: str = "none",
    repos: list[str] | None = None,
) -> str:
    """Fetch the repository, then start the averaging child deployment and wait for it or not;
    over `repos`, start one child per repository, a concurrency limit's worth at a time."""
    with recorded():
        if repos:  # fan-out: one child run per repository
            return _fan_out(repos, source, wait_for_child)
        repo_info = fetch_repo(repo, source)
        if drill == "upstream":
            fail_on_purpose("upstream")
        child = run_deployment(
            names.CHILD_DEPLOYMENT,
            parameters={"repo": repo, "repo_info": repo_info, "source": source, "drill": drill},
            tags=launch_tags(),
            # timeout=0 is fire-and-forget: the parent ends as soon as the child run exists.
            timeout=None if wait_for_child else 0,
            poll_interval=get_flow_settings().child_poll_s,
        )
        if not wait_for_child:
            return f"started {child.name} and did not wait"
        # Prefect does not fail a parent whose run_deployment child failed: check it ourselves.
        if child.state is None or not child.state.is_completed():
            state = child.state.name if child.state else "unknown"
            raise ChildRunFailed(f"child run {child.name} ended {state}: {child.state.message}")
        return f"child run {child.name} completed"
