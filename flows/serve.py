"""Serve every Pattern Lab deployment, with its event triggers, against PREFECT_API_URL.

python -m flows.serve   (the runner: one process serves every deployment, no work pool)
"""

from __future__ import annotations

import argparse
import time

from prefect import serve
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL

from flows import adapters
from flows.catalog import DASK_DEPLOYMENT, DEPLOYMENT, TAGS
from flows.deployments import average_commits_child, deployments_parent
from flows.events import events_downstream, events_missed_alert, events_upstream, triggers
from flows.monoflow import monoflow
from flows.monoflow_dask import monoflow_dask
from flows.settings import get_flow_settings
from flows.subflows import subflows_parent

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


def build_deployments() -> list:
    """Return every deployment the lab launches, the event triggers wired to the upstream's id."""
    upstream = events_upstream.to_deployment(DEPLOYMENT, tags=TAGS)
    wired = triggers(str(upstream.apply()), get_flow_settings().alert_window_s)
    return [
        monoflow.to_deployment(DEPLOYMENT, tags=TAGS),
        monoflow_dask.to_deployment(DASK_DEPLOYMENT, tags=TAGS),  # the same flow on Dask
        subflows_parent.to_deployment(DEPLOYMENT, tags=TAGS),
        deployments_parent.to_deployment(DEPLOYMENT, tags=TAGS),
        average_commits_child.to_deployment(DEPLOYMENT, tags=TAGS),
        upstream,
        *(f.to_deployment(DEPLOYMENT, tags=TAGS, triggers=[wired[f.name]])
          for f in (events_downstream, events_missed_alert)),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Serve the deployments (once the API answers) until interrupted."""
    argparse.ArgumentParser(prog="python -m flows.serve", description=__doc__).parse_args(argv)
    adapters.install(forked_starts=True)  # this process starts the flow processes
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
