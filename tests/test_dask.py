"""Monoflow's Dask task runner on a real distributed.LocalCluster (loopback only, no mocks)."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest
from distributed import LocalCluster
from prefect import flow, unmapped

from flows import settings as flow_settings
from flows.fanout import repository_stats
from flows.monoflow_dask import DaskOnDemand, dask_task_runner
from flows.snapshot_synthetic import synthetic_names

LOOPBACK = {"127.0.0.1"}


def _listening() -> set[tuple[str, int]]:
    """Return the (address, port) pairs this test process listens on."""
    conns = psutil.Process().net_connections(kind="inet")
    return {(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}


@pytest.fixture
def dask_address(monkeypatch):
    """Point the flows' settings at a given Dask scheduler (and back afterwards)."""

    def point(address: str) -> None:
        monkeypatch.setenv("PATTERNLAB_DASK_ADDRESS", address)
        flow_settings.get_flow_settings.cache_clear()

    yield point
    flow_settings.get_flow_settings.cache_clear()


def test_the_local_cluster_listens_on_loopback_only(dask_address):
    """Each run's LocalCluster (scheduler, worker, both dashboards) binds to 127.0.0.1 only."""
    dask_address("")
    before = _listening()
    with dask_task_runner().duplicate() as runner:
        assert runner.client is not None  # the cluster starts on first use, as in a flow's map
        opened = _listening() - before
    assert len(opened) >= 3, opened  # scheduler, its dashboard, the worker's (and its dashboard)
    assert {ip for ip, _ in opened} == LOOPBACK, opened


def test_an_existing_scheduler_is_used_when_its_address_is_set(lab_backend, dask_address):
    """With PATTERNLAB_DASK_ADDRESS the runner joins that scheduler: the tasks run there."""
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster:  # fmt: skip
        dask_address(cluster.scheduler_address)
        runner = dask_task_runner()
        assert runner.address == cluster.scheduler_address

        @flow(task_runner=DaskOnDemand())  # as the served Dask variant: made when it starts
        def on_dask(repos: list[str]) -> list[int]:
            stats = repository_stats.map(repos, unmapped("snapshot")).result()
            return [s["commits"] for s in stats]

        before = cluster.scheduler.transition_counter
        commits = on_dask(synthetic_names(3))
        assert len(commits) == 3
        assert all(c > 0 for c in commits)
        assert cluster.scheduler.transition_counter > before  # the scheduler ran the tasks


def test_serving_the_flows_does_not_import_dask():
    """The runner and its fork server import every served flow: Dask is imported by a Dask run
    only (each would otherwise carry ~30 MB of prefect-dask, dask and distributed)."""
    code = (
        "import sys, flows.serve, flows.lab_deployments; "
        "print(sorted({'prefect_dask', 'dask', 'distributed'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
