"""Monoflow on Dask: the same flow, its repositories mapped by prefect-dask's DaskTaskRunner.

A served deployment runs the flow object its entrypoint names (`with_options` on a deployment is
not seen by the flow process), so the Dask variant is its own module-level flow with the same
name, deployed as `monoflow/lab-dask`: Prefect still sees one flow, `monoflow`.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect_dask import DaskTaskRunner

from flows import catalog as names
from flows.monoflow import THREADS, monoflow
from flows.settings import get_flow_settings


def dask_task_runner() -> DaskTaskRunner:
    """Return a runner on the scheduler at PATTERNLAB_DASK_ADDRESS, else on a LocalCluster.

    The LocalCluster (started and stopped by each run) is threads only and on loopback only:
    Dask's defaults would listen on every interface (its scheduler and dashboards).
    """
    address = get_flow_settings().dask_address
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": 1, "threads_per_worker": THREADS, "processes": False,
            "protocol": "tcp", "host": "127.0.0.1",
            "dashboard_address": "127.0.0.1:0", "worker_dashboard_address": "127.0.0.1:0",
        }
    )  # fmt: skip


@flow(name=names.MONOFLOW, task_runner=dask_task_runner())
def monoflow_dask(
    repo: str = "", source: str = "auto", drill: str = "none", repos: list[str] | None = None
) -> dict[str, Any]:
    """Compute repositories' statistics in one flow, its tasks mapped on a Dask cluster."""
    return monoflow.fn(repo, source, drill, repos)
