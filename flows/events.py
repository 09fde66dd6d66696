"""Event-triggered flows: an upstream's Completed event makes an automation start a downstream.

The downstream knows nothing of the upstream: the reactive trigger below hands it the repository
from the event. The proactive trigger runs the alert flow when the upstream does not complete
within its window ("or lack thereof"). Both match only the upstream deployment's events.

"The event could come from anywhere": the downstream has a second trigger, on the custom event
`patternlab.repo.refresh-requested` that anything may emit (the lab, the CLI, a webhook posting
to Prefect's events API). It matches only that event's own resource (a refresh request), so the
downstream's own events can never fire it. With no upstream run to inherit a launch tag from,
the run is correlated by the event's id: it tags itself `launch:emit-<event id>` and as a lead
(`lab-entry`), so the lab reads it back and lists it like any launch.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.events import DeploymentEventTrigger
from prefect.utilities.annotations import quote

from flows import catalog as names
from flows.catalog import EMIT_PREFIX, ENTRY_TAG, LAUNCH_PREFIX, REFRESH_EVENT, REFRESH_RESOURCE
from flows.fanout import one_repository
from flows.tasks import (
    fail_on_purpose,
    fetch_commit_activity,
    fetch_contributors,
    fetch_repo,
    hold,
    join_launch,
    publish_stats,
    recorded,
    summarise_stats,
)

# Jinja the automation runs on the server: the upstream run's `launch:<id>` tag and parameters.
LAUNCH = (
    "{% for t in flow_run.tags %}{% if t.startswith('launch:') %}{{ t }}{% endif %}{% endfor %}"
)
FROM_EVENT = {"repo": "{{ flow_run.parameters['repo'] }}", "launch": LAUNCH,
              "source": "{{ flow_run.parameters['source'] }}",
              "drill": "{{ flow_run.parameters.get('drill', 'none') }}",
              # One `{{ expression }}` alone: Prefect renders it as JSON, so `fanout` arrives a
              # boolean (text around it would make it a string the parameter schema refuses).
              "fanout": "{{ flow_run.parameters.get('fanout', False) }}"}  # fmt: skip
# From a refresh request: the repository is the related resource in the role "repository".
FROM_REQUEST = {
    "repo": "{{ event.resource_in_role['repository'].name }}",
    "source": "{{ event.payload.get('source', 'auto') }}",
    "launch": LAUNCH_PREFIX + EMIT_PREFIX + "{{ event.id }}",
    # The run is its own launch's lead: one pattern (events), one round, nothing to wait for.
    "lead_tags": [ENTRY_TAG, "pattern:events", "plan:events", "order:sequential", "repeat:1",
                  "round:0", "trigger:refresh-requested"],
}  # fmt: skip


@flow(name=names.EVENTS_UPSTREAM)
def events_upstream(
    repo: str, source: str = "auto", hold_s: float = 0.0, drill: str = "none", fanout: bool = False
) -> dict[str, Any]:
    """Refresh a repository's metadata; completing emits the event the downstream reacts to.

    `fanout`: one of a launch's many upstream runs; the downstream its event starts reads it
    from the run's parameters and works as every fan-out's child does.
    """
    with recorded():
        repo_info = fetch_repo(repo, source)
        if hold_s > 0:  # a demo switch: hold the upstream past the proactive trigger's window
            hold(hold_s)
        if drill == "upstream":
            fail_on_purpose("upstream")
        return repo_info


@flow(name=names.EVENTS_DOWNSTREAM)
def events_downstream(
    repo: str,
    source: str = "auto",
    launch: str = "",
    drill: str = "none",
    lead_tags: list[str] | None = None,
    fanout: bool = False,
) -> dict[str, Any]:
    """Triggered by an automation: compute the statistics of the repository named in the event
    (as a fan-out's child, in one task, when the upstream was one of a fan-out)."""
    with recorded():
        join_launch(launch, [*lead_tags, f"source:{source}"] if lead_tags else ())
        if fanout:
            return one_repository(repo, source)
        if drill == "child":
            fail_on_purpose("child")
        repo_info = fetch_repo(repo, source)
        contributors = fetch_contributors(repo, source, flaky=drill == "transient")
        activity = fetch_commit_activity(repo, source)
        # quote(): Prefect would otherwise walk the ~400-contributor list on every call (~15 ms).
        stats = summarise_stats(repo, source, repo_info, quote(contributors), quote(activity))
        publish_stats(stats)
        return stats


@flow(name=names.EVENTS_ALERT)
def events_missed_alert(repo: str = "", launch: str = "", window_s: int = 10) -> str:
    """Alert: the expected Completed event did not arrive within the window (proactive trigger)."""
    with recorded():
        join_launch(launch)
        message = (
            f"Upstream refresh of {repo or 'a repository'} did not complete within {window_s} s"
        )
        get_run_logger().warning(message)
        create_markdown_artifact(f"**Alert**: {message}.", key=names.ALERT_KEY)
        return message


def triggers(upstream_id: str, window_s: int) -> dict[str, DeploymentEventTrigger]:
    """Return the downstream's and the alert's triggers, scoped to the upstream deployment.

    An unscoped `prefect.flow-run.Completed` trigger would fire on the downstream's own
    completions and loop.
    """
    upstream = {"prefect.resource.id": f"prefect.deployment.{upstream_id}"}
    scope = {"match": {"prefect.resource.id": "prefect.flow-run.*"}, "match_related": upstream}
    completed = DeploymentEventTrigger(
        name="upstream-completed", expect={"prefect.flow-run.Completed"}, parameters=FROM_EVENT,
        **scope,
    )  # fmt: skip
    missed = DeploymentEventTrigger(
        name="upstream-missed-window", posture="Proactive", after={"prefect.flow-run.Running"},
        expect={"prefect.flow-run.Completed"}, for_each={"prefect.resource.id"},
        within=timedelta(seconds=window_s), threshold=1, **scope,
        parameters={"repo": FROM_EVENT["repo"], "launch": LAUNCH, "window_s": window_s},
    )  # fmt: skip
    return {names.EVENTS_DOWNSTREAM: completed, names.EVENTS_ALERT: missed}


def refresh_trigger() -> DeploymentEventTrigger:
    """Return the downstream's second trigger: a refresh request for a repository, from anyone.

    Scoped to the request's own resource: the downstream's flow-run events never match it.
    """
    return DeploymentEventTrigger(
        name="refresh-requested",
        expect={REFRESH_EVENT},
        match={"prefect.resource.id": f"{REFRESH_RESOURCE}.*"},
        parameters=FROM_REQUEST,
    )
