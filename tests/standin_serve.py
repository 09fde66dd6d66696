"""Stand-in for `flows.serve` in the backend tests: serve the `monoflow/lab` deployment forever."""

from __future__ import annotations

from prefect import flow


@flow(name="monoflow")
def monoflow() -> None:
    """Do nothing: the backend tests only need the deployment to be served."""


if __name__ == "__main__":
    monoflow.serve(name="lab", print_starting_message=False)
