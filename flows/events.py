"""Event-triggered flows: an upstream's Completed event makes an automation start a downstream.

The downstream knows nothing of the upstream: the reactive trigger below hands it the repository
from the event. The proactive trigger runs the alert flow when the upstream does not complete
within its window ("or lack thereof"). Both match only the upstream deployment's events.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.events import DeploymentEventTrigger
from prefect.utilities.annotations import quote

from flows import catalog as names
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
              "drill": "{{ flow_run.parameters.get('drill', 'none') }}"}  # fmt: skip


@flow(name=names.EVENTS_UPSTREAM)
def events_upstream(
    repo: str, source: str = "auto", hold_s: float = 0.0, drill: str = "none"
) -> dict[str, Any]:
    """Refresh a repository's metadata; completing emits the event the downstream reacts to."""
    with recorded():
        repo_info = fetch_repo(repo, source)
        if hold_s > 0:  # a demo switch: hold the upstream past the proactive trigger's window
            hold(hold_s)
        if drill == "upstream":
            fail_on_purpose("upstream")
        return repo_info


@flow(name=names.EVENTS_DOWNSTREAM)
def events_downstream(
    repo: str, source: str = "auto", launch: str = "", drill: str = "none"
) -> dict[str, Any]:
    """Triggered by an automation: compute the statistics of the repository named in the event."""
    with recorded():
        join_launch(launch)
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
