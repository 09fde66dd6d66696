"""Serve every Pattern Lab deployment, with its triggers, against PREFECT_API_URL.

python -m flows.serve
"""

from __future__ import annotations

from datetime import timedelta

from prefect import serve
from prefect.events import DeploymentEventTrigger
from prefect.settings import PREFECT_API_URL

from flows.deployments import average_commits_child, deployments_parent
from flows.events import events_downstream, events_missed_alert, events_upstream
from flows.monoflow import monoflow
from flows.subflows import subflows_parent
from patternlab.client import wait_for_api
from patternlab.settings import get_settings

DEPLOYMENT = "lab"
API_WAIT_S = 180.0  # longer than a fresh server's slowest start (SQLite, busy machine)
TAGS = ["patternlab"]
# Jinja run by the automation on the server: the `launch:<id>` tag of the upstream flow run.
LAUNCH_TEMPLATE = (
    "{% for t in flow_run.tags %}{% if t.startswith('launch:') %}{{ t }}{% endif %}{% endfor %}"
)
FROM_EVENT = {
    "repo": "{{ flow_run.parameters['repo'] }}",
    "source": "{{ flow_run.parameters['source'] }}",
    "launch": LAUNCH_TEMPLATE,
    "drill": "{{ flow_run.parameters.get('drill', 'none') }}",
}


def _scoped_to(deployment_id: str) -> dict[str, str]:
    """Match only events related to one deployment: an unscoped trigger would fire on itself."""
    return {"prefect.resource.id": f"prefect.deployment.{deployment_id}"}


def build_deployments() -> list:
    """Return every deployment the lab launches, the event triggers wired to the upstream's id."""
    upstream = events_upstream.to_deployment(DEPLOYMENT, tags=TAGS)
    upstream_id = str(upstream.apply())
    completed = DeploymentEventTrigger(
        name="upstream-completed",
        expect={"prefect.flow-run.Completed"},
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related=_scoped_to(upstream_id),
        parameters=FROM_EVENT,
    )
    window = get_settings().alert_window_s
    missed = DeploymentEventTrigger(
        name="upstream-missed-window",
        posture="Proactive",
        after={"prefect.flow-run.Running"},
        expect={"prefect.flow-run.Completed"},
        for_each={"prefect.resource.id"},
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related=_scoped_to(upstream_id),
        within=timedelta(seconds=window),
        threshold=1,
        parameters={"repo": FROM_EVENT["repo"], "launch": LAUNCH_TEMPLATE, "window_s": window},
    )
    return [
        monoflow.to_deployment(DEPLOYMENT, tags=TAGS),
        subflows_parent.to_deployment(DEPLOYMENT, tags=TAGS),
        deployments_parent.to_deployment(DEPLOYMENT, tags=TAGS),
        average_commits_child.to_deployment(DEPLOYMENT, tags=TAGS),
        upstream,
        events_downstream.to_deployment(DEPLOYMENT, tags=TAGS, triggers=[completed]),
        events_missed_alert.to_deployment(DEPLOYMENT, tags=TAGS, triggers=[missed]),
    ]


def main() -> None:
    """Serve the deployments (once the API answers) until interrupted."""
    # The lab starts its runner while the server still migrates: wait for the API first.
    error = wait_for_api(API_WAIT_S)
    if error is not None:
        raise SystemExit(
            f"The Prefect API at {PREFECT_API_URL.value()} did not answer within "
            f"{API_WAIT_S:.0f} s ({type(error).__name__}: {error})."
        )
    serve(*build_deployments(), print_starting_message=False)


if __name__ == "__main__":
    main()
