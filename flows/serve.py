"""Serve every Pattern Lab deployment, with its event triggers, against PREFECT_API_URL.

python -m flows.serve   (the runner: one process serves every deployment, no work pool)
"""

from __future__ import annotations

import argparse
import time

from prefect import serve
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, PREFECT_RUNNER_POLL_FREQUENCY

from flows import adapters
from flows.catalog import (
    CHILD_DEPLOYMENT,
    ENTRY_DEPLOYMENTS,
    MONOFLOW_DASK_DEPLOYMENT,
    TRIGGERED_DEPLOYMENTS,
)
from flows.lab_deployments import lab_deployments
from flows.settings import get_flow_settings

LAB_DEPLOYMENTS = (
    *ENTRY_DEPLOYMENTS.values(),
    MONOFLOW_DASK_DEPLOYMENT,
    CHILD_DEPLOYMENT,
    *TRIGGERED_DEPLOYMENTS,
)

API_WAIT_S = 180.0  # longer than a fresh server's slowest start (SQLite, busy machine)


def wait_for_api(timeout_s: float, interval_s: float = 0.2) -> Exception | None:
    """Wait until PREFECT_API_URL answers Prefect's own health check; return the last error if not.

    Prefect's client, not a bare GET: it sends the API key and honours proxies (Prefect Cloud).
    """
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while (error := client.api_healthcheck()) is not None and time.monotonic() < deadline:
            time.sleep(interval_s)
    return error


def take_over_from_pool() -> list[str]:
    """Delete the lab's deployments that sit on a work pool (left by pool mode); say which.

    Re-applied by a runner they would keep their pool, so their runs would be created for
    workers and reported as pool runs; the runner creates them afresh instead.
    """
    deleted = []
    with get_client(sync_client=True) as client:
        for name in LAB_DEPLOYMENTS:
            try:
                found = client.read_deployment_by_name(name)
            except ObjectNotFound:
                continue
            if found.work_pool_name:
                client.delete_deployment(found.id)
                deleted.append(name)
    return deleted


def build_deployments() -> list:
    """Return every deployment the lab launches, for the runner (flows/lab_deployments.py)."""
    return lab_deployments()


def main(argv: list[str] | None = None) -> None:
    """Serve the deployments (once the API answers) until interrupted."""
    argparse.ArgumentParser(prog="python -m flows.serve", description=__doc__).parse_args(argv)
    adapters.install(forked_starts=True)  # this process starts the flow processes
    adapters.report_off()  # an adapter Prefect's changes turned off says so, once
    # The lab starts its runner while the server still migrates: wait for the API first.
    error = wait_for_api(API_WAIT_S)
    if error is not None:
        raise SystemExit(
            f"The Prefect API at {PREFECT_API_URL.value()} did not answer within "
            f"{API_WAIT_S:.0f} s ({type(error).__name__}: {error})."
        )
    take_over_from_pool()
    settings = get_flow_settings()
    # A float poll (sub-second pick-up) goes to the Runner directly: Prefect's setting is an int.
    poll = settings.runner_poll_s or PREFECT_RUNNER_POLL_FREQUENCY.value()
    # The lab reads which adapters are active, and the polls in force, from the server.
    adapters.publish(query_seconds=poll, child_poll_s=settings.child_poll_s, tuning=settings.tuning)
    serve(*build_deployments(), print_starting_message=False, query_seconds=poll)


if __name__ == "__main__":
    main()
