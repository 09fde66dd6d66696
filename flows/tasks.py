"""Shared tasks: every pattern computes the same statistics with these, and records where it ran."""

from __future__ import annotations

import json
import os
import socket
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.context import FlowRunContext, TaskRunContext

from flows import github
from flows.catalog import CONTRIBUTORS_KEY, LAUNCH_PREFIX, PROCESS_KEY, STATS_KEY, WEEKLY_KEY
from flows.catalog import launch_tags as _launch_tags_of
from flows.settings import get_flow_settings
from flows.snapshot import SNAPSHOT_DATE, SNAPSHOT_NOTE, snapshot_note

# Seconds of real work (HTTP, arithmetic) per flow run, measured inside this process's tasks.
_WORK_S: dict[str, float] = defaultdict(float)
# Seconds a flow run spent waiting on purpose (a demo's hold): neither work nor orchestration.
_HELD_S: dict[str, float] = defaultdict(float)


def _retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only when GitHub failed transiently (5xx, timeout, connection); never on 4xx."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - we classify whatever the task raised
        return github.is_transient(exc)
    return False


RETRYING = {
    "retries": 2,
    "retry_delay_seconds": [0.5, 2.0],
    "retry_condition_fn": _retry_transient,
    "cache_policy": NO_CACHE,
}


@contextmanager
def _measure() -> Iterator[None]:
    """Add the time spent inside the block to the current flow run's work."""
    started = time.perf_counter()
    try:
        yield
    finally:
        ctx = TaskRunContext.get()
        if ctx is not None:
            _WORK_S[str(ctx.task_run.flow_run_id)] += time.perf_counter() - started


@lru_cache(maxsize=4)
def resolve_source(source: str) -> tuple[str, str]:
    """Return the data source to use ("github" or "snapshot") and a note saying why."""
    if source == "snapshot":
        return "snapshot", SNAPSHOT_NOTE
    if source == "github":
        return "github", "Live GitHub API"
    reason = github.probe_live(get_flow_settings().github_api_url, get_flow_settings().token())
    if reason is None:
        return "github", "Live GitHub API"
    return "snapshot", f"{reason}; fell back to the offline snapshot. {SNAPSHOT_NOTE}"


@contextmanager
def _client(source: str, *, fail_first: bool = False) -> Iterator[github.GitHubClient]:
    """Lend a GitHub client for the resolved source, closing its connections afterwards."""
    settings = get_flow_settings()
    with github.build_http_client(
        resolve_source(source)[0],
        api_url=settings.github_api_url,
        token=settings.token(),
        latency_ms=settings.snapshot_latency_ms,
        timeout_s=settings.github_timeout_s,
        fail_first=fail_first,
    ) as http:
        yield github.GitHubClient(http)


@task(**RETRYING)
def fetch_repo(repo: str, source: str) -> dict[str, Any]:
    """Fetch the repository's metadata (stars, forks, issues, watchers, dates)."""
    with _measure(), _client(source) as gh:
        data = gh.get_repo(repo)
        keep = (
            "full_name", "description", "stargazers_count", "forks_count", "open_issues_count",
            "watchers_count", "subscribers_count", "default_branch", "created_at", "pushed_at",
        )  # fmt: skip
        return {k: data.get(k) for k in keep}


@task(**RETRYING)
def fetch_contributors(repo: str, source: str, flaky: bool = False) -> list[dict[str, Any]]:
    """Fetch every contributor (all pages) with their contribution count."""
    # The transient drill: GitHub answers 503 on the first attempt only, so the retry succeeds.
    ctx = TaskRunContext.get()
    first_attempt = ctx is None or ctx.task_run.run_count <= 1
    with _measure(), _client(source, fail_first=flaky and first_attempt) as gh:
        people = gh.list_contributors(repo)
        return [
            {"login": p.get("login"), "contributions": p.get("contributions", 0)} for p in people
        ]


@task(**RETRYING)
def fetch_commit_activity(repo: str, source: str) -> list[dict[str, Any]] | None:
    """Fetch weekly commit activity of the top contributors (None while GitHub computes it)."""
    with _measure(), _client(source) as gh:
        stats = gh.get_contributor_stats(repo)
        if stats is None:
            return None
        # Keep only what the summary needs: one pseudo-author holding weekly totals.
        weeks: dict[int, int] = defaultdict(int)
        for author in stats:
            for week in author.get("weeks", []):
                weeks[int(week["w"])] += int(week.get("c", 0))
        return [{"weeks": [{"w": w, "c": c} for w, c in sorted(weeks.items())]}]


@task(cache_policy=NO_CACHE)
def summarise_stats(
    repo: str,
    source: str,
    repo_info: dict[str, Any],
    contributors: list[dict[str, Any]],
    activity: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """Compute contributors, commits and average commits per contributor."""
    with _measure():
        resolved, note = resolve_source(source)
        stats = github.summarise(repo_info, contributors, activity)
        offline = resolved == "snapshot"
        # The synthetic organisation's figures say so wherever they show, not "sample".
        note = note.replace(SNAPSHOT_NOTE, snapshot_note(repo)) if offline else note
        stats.update(repo=repo, source=resolved, source_note=note)
        stats["snapshot_date"] = SNAPSHOT_DATE if offline else None
        stats["synthetic"] = offline and snapshot_note(repo) != SNAPSHOT_NOTE
        return stats


# (artifact key, statistic) of each series published as a table of its own
SERIES = ((CONTRIBUTORS_KEY, "top_contributors"), (WEEKLY_KEY, "weekly_commits"))


def scalars(stats: dict[str, Any]) -> dict[str, Any]:
    """Return a repository's statistics without their series: its one row of figures."""
    series = {field for _, field in SERIES}
    return {k: v for k, v in stats.items() if k not in series}


def publish_row(stats: dict[str, Any]) -> None:
    """Publish a repository's statistics as one row, without the series tables.

    What a fan-out's child publishes: the row is what the lab's aggregate reads, and one
    artifact per repository instead of three keeps each extra repository's cost to the work.
    """
    desc = f"Statistics for {stats['repo']} ({stats['source_note'] or stats['source']})"
    create_table_artifact([scalars(stats)], key=STATS_KEY, description=desc)


@task(cache_policy=NO_CACHE)
def publish_stats(stats: dict[str, Any]) -> None:
    """Publish the statistics as artifacts the lab (and Prefect's UI) can read back."""
    publish_row(stats)
    for key, field in SERIES:
        create_table_artifact(stats[field] or [{}], key=key)


def launch_tags() -> list[str]:
    """Return this flow run's `launch:<id>` tags, to hand on to the runs it starts."""
    ctx = FlowRunContext.get()
    return _launch_tags_of(ctx.flow_run.tags if ctx and ctx.flow_run else [])


def join_launch(launch: str, extra: Iterable[str] = ()) -> None:
    """Tag this run with the launch an event came from (and any extra tags), so the lab finds it
    by its tag."""
    ctx = FlowRunContext.get()
    if not launch.startswith(LAUNCH_PREFIX) or ctx is None or ctx.flow_run is None:
        return
    tags = sorted({*ctx.flow_run.tags, launch, *extra})
    with get_client(sync_client=True) as client:
        client.update_flow_run(ctx.flow_run.id, tags=tags)


def _process_row(work_s: float | None, held_s: float | None = None) -> list[dict[str, Any]]:
    """Return the `lab-process` table: where this flow runs and, once it ends, its work time
    and the time it was held on purpose."""
    row = {"pid": os.getpid(), "host": socket.gethostname(), "work_s": work_s, "held_s": held_s}
    return [row]


def hold(seconds: float) -> None:
    """Wait on purpose (a demo switch), recorded as held time, not as work or overhead."""
    ctx = FlowRunContext.get()
    started = time.perf_counter()
    try:
        time.sleep(min(max(seconds, 0.0), 600))
    finally:
        if ctx is not None and ctx.flow_run is not None:
            _HELD_S[str(ctx.flow_run.id)] += time.perf_counter() - started


@contextmanager
def recorded() -> Iterator[None]:
    """Record where the flow runs when it starts, and its work time when it ends (even failing).

    Recording at the start lets the lab tell a run whose process died (it would stay Running
    forever) from one that is merely slow.
    """
    ctx = FlowRunContext.get()
    run_id = str(ctx.flow_run.id) if ctx and ctx.flow_run else ""
    artifact_id = create_table_artifact(
        _process_row(None), key=PROCESS_KEY, description="Where this flow run ran"
    )
    try:
        yield
    finally:
        work_s = round(_WORK_S.pop(run_id, 0.0), 6)
        held_s = round(_HELD_S.pop(run_id, 0.0), 6)
        update = ArtifactUpdate(data=json.dumps(_process_row(work_s, held_s)))
        if ctx is not None and isinstance(ctx.client, SyncPrefectClient):
            ctx.client.update_artifact(artifact_id, update)
        else:
            with get_client(sync_client=True) as client:
                client.update_artifact(artifact_id, update)


class DrillFailure(RuntimeError):
    """A failure injected on purpose by a failure drill."""


@task(cache_policy=NO_CACHE)
def fail_on_purpose(step: str) -> None:
    """Fail this step on purpose (a failure drill chosen at launch)."""
    raise DrillFailure(f"Failure drill: the {step} step failed on purpose")
