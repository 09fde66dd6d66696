"""Monoflow on Dask: the same flow, its repositories mapped by prefect-dask's DaskTaskRunner.

A served deployment runs the flow object its entrypoint names (`with_options` on a deployment is
not seen by the flow process), so the Dask variant is its own module-level flow with the same
name, deployed as `monoflow/lab-dask`: Prefect still sees one flow, `monoflow`.

prefect-dask (and with it dask and distributed) is imported only when a Dask run starts: the
runner and its fork server import every served flow's module, and would otherwise each carry
~30 MB for a variant few launches use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from prefect import flow
from prefect.task_runners import TaskRunner

from flows import catalog as names
from flows.monoflow import THREADS, monoflow
from flows.settings import get_flow_settings

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner


def dask_task_runner() -> DaskTaskRunner:
    """Return a runner on the scheduler at PATTERNLAB_DASK_ADDRESS, else on a LocalCluster.

    The LocalCluster (started and stopped by each run) is threads only and on loopback only:
    Dask's defaults would listen on every interface (its scheduler and dashboards).
    """
    from prefect_dask import DaskTaskRunner

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


class DaskOnDemand(TaskRunner):
    """The flow's task runner: a DaskTaskRunner, made (prefect-dask imported, the Dask address
    read) when a run starts. Prefect's flow engine runs a flow's tasks on a duplicate of its task
    runner, never on the one the flow was defined with: duplicate() returns the real one."""

    def duplicate(self) -> DaskTaskRunner:  # type: ignore[override]
        """Return the DaskTaskRunner this run's tasks go to."""
        return dask_task_runner()

    def submit(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: tasks are submitted to duplicate()'s runner."""
        raise TypeError("DaskOnDemand runs no task itself: the flow engine uses duplicate()")


@flow(name=names.MONOFLOW, task_runner=DaskOnDemand())
def monoflow_dask(
    repo: str = "", source: str = "auto", drill: str = "none", repos: list[str] | None = None
) -> dict[str, Any]:
    """Compute repositories' statistics in one flow, its tasks mapped on a Dask cluster."""
    return monoflow.fn(repo, source, drill, repos)
