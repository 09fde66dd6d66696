"""Stand-in for `flows.serve` in the backend tests: serve the `monoflow/lab` deployment forever."""

from __future__ import annotations

from prefect import flow

from flows.serve import wait_for_api


@flow(name="monoflow")
def monoflow() -> None:
    """Do nothing: the backend tests only need the deployment to be served."""


if __name__ == "__main__":
    # Like flows.serve: the backend starts its runner while the server is still migrating.
    wait_for_api(180.0)
    monoflow.serve(name="lab", print_starting_message=False)
