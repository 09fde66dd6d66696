"""Flow of deployments: a parent starts a deployed child flow that runs in its own process.

Over many repositories the parent starts one child run per repository without waiting for each
(timeout=0): they run concurrently, as many at once as the child deployment's concurrency limit
(set by the lab per launch) lets the server start; then the parent waits for all of them.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, unmapped
from prefect.deployments import run_deployment
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import catalog as names
from flows.fanout import wait_for_runs
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


class ChildRunFailed(RuntimeError):
    """The deployment child ended in a state other than Completed."""


@flow(name=names.AVERAGE_CHILD)
def average_commits_child(
    repo: str, repo_info: dict[str, Any], source: str = "auto", drill: str = "none"
) -> dict:
    """Deployed child: fetch contributors and commit activity, compute the averages, publish."""
    with recorded():
        if drill == "child":
            fail_on_purpose("child")
        contributors = fetch_contributors(repo, source, flaky=drill == "transient")
        activity = fetch_commit_activity(repo, source)
        # quote(): Prefect would otherwise walk the ~400-contributor list on every call (~15 ms).
        stats = summarise_stats(repo, source, repo_info, quote(contributors), quote(activity))
        publish_stats(stats)
        return stats


@flow(name=names.DEPLOYMENTS_PARENT, task_runner=ThreadPoolTaskRunner(max_workers=8))
def deployments_parent(
    repo: str = "",
    source: str = "auto",
    wait_for_child: bool = True,
    drill: str = "none",
    repos: list[str] | None = None,
) -> str:
    """Fetch the repository, then start the averaging child deployment and wait for it or not."""
    with recorded():
        if repos:  # fan-out: one child run per repository, started without waiting for each
            infos = fetch_repo.map(repos, unmapped(source)).result()
            children = [
                run_deployment(names.CHILD_DEPLOYMENT, tags=launch_tags(), timeout=0,
                               parameters={"repo": r, "repo_info": i, "source": source})
                for r, i in zip(repos, infos, strict=True)
            ]  # fmt: skip
            if not wait_for_child:
                return f"started {len(children)} child runs and did not wait"
            failed = wait_for_runs([c.id for c in children])
            if failed:
                raise ChildRunFailed(f"{len(failed)} of {len(children)} child runs did not "
                                     f"complete: {'; '.join(failed[:5])}")  # fmt: skip
            return f"{len(children)} child runs completed"
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
