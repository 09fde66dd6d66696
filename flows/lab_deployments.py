"""The one list of the lab's deployments: `flows.serve` serves it, `flows.pool` puts it on a pool.

Both build it here, so the runner's and the pool's deployments cannot drift apart: the same
names (`<flow>/lab`), tags, descriptions and event triggers.
"""

from __future__ import annotations

from prefect.deployments.runner import EntrypointType, RunnerDeployment

from flows.catalog import DASK_DEPLOYMENT, DEPLOYMENT, TAGS
from flows.deployments import average_commits_child, deployments_parent
from flows.events import (
    events_downstream,
    events_missed_alert,
    events_upstream,
    refresh_trigger,
    triggers,
)
from flows.monoflow import monoflow
from flows.monoflow_dask import monoflow_dask
from flows.settings import get_flow_settings
from flows.subflows import subflows_parent


def lab_deployments(pool: str | None = None) -> list[RunnerDeployment]:
    """Return every deployment the lab launches, the event triggers wired to the upstream's id.

    The upstream is applied first (on `pool`, when given): the triggers name its deployment id.
    For a pool the entrypoints are module paths (`flows.monoflow.monoflow`), not file paths: no
    location is baked in, and any worker whose Python can import `flows` runs them.
    """
    kind = EntrypointType.MODULE_PATH if pool else EntrypointType.FILE_PATH

    def deployment(flow, name: str = DEPLOYMENT, **extra) -> RunnerDeployment:  # noqa: ANN001
        return flow.to_deployment(name, tags=TAGS, entrypoint_type=kind, **extra)

    upstream = deployment(events_upstream)
    wired = triggers(str(upstream.apply(work_pool_name=pool)), get_flow_settings().alert_window_s)
    return [
        deployment(monoflow),
        deployment(monoflow_dask, DASK_DEPLOYMENT),  # the same flow, its tasks on Dask
        deployment(subflows_parent),
        deployment(deployments_parent),
        deployment(average_commits_child),
        upstream,
        # Two triggers: the upstream's Completed event, and a refresh request from anyone.
        deployment(events_downstream, triggers=[wired[events_downstream.name], refresh_trigger()]),
        deployment(events_missed_alert, triggers=[wired[events_missed_alert.name]]),
    ]
