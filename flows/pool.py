"""Put the lab's deployments on a Prefect process work pool, with their triggers and automations.

python -m flows.pool [--pool NAME]   (the embedded backend runs it in pool mode; run it once
                                      against any server whose workers should run the lab)

What it does, with Prefect's own API: creates the process work pool if it is missing (its
`command` set to the engine, so a `python -m flows.worker` can fork flow processes), deploys
the same deployments `flows.serve` serves (flows/lab_deployments.py) with `prefect.deploy`, and
keeps one automation that marks a pool run Crashed when its heartbeats stop (Prefect 3.9.1
self-hosted has no zombie detection of its own; its docs give this automation).
"""

from __future__ import annotations

import argparse
from datetime import timedelta

import prefect
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from prefect.client.schemas.objects import StateType, WorkPool
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import PREFECT_API_URL
from prefect.workers.process import ProcessWorker

from flows.lab_deployments import lab_deployments
from flows.serve import API_WAIT_S, wait_for_api
from flows.settings import get_flow_settings

# A worker that runs this command (not Prefect's workspace supervisor) can fork the flow process
# from a preloaded server (flows/adapters.py). `python` is the worker's own: flows/worker.py
# puts its interpreter's folder first on PATH.
ENGINE_COMMAND = "python -m prefect.engine"
HEARTBEAT_S = 30  # PREFECT_FLOWS_HEARTBEAT_FREQUENCY the workers set (Prefect's minimum)
ZOMBIE_MESSAGE = "Flow run marked as crashed due to missing heartbeats."
_FINAL = ("Completed", "Failed", "Cancelled", "Crashed")


def base_job_template() -> dict:
    """Return Prefect's process job template with the engine as the default command."""
    template = ProcessWorker.get_default_base_job_template()
    template["variables"]["properties"]["command"]["default"] = ENGINE_COMMAND
    return template


def ensure_pool(client: SyncPrefectClient, name: str) -> WorkPool:
    """Create the process work pool if it is missing; give a stock one the engine command."""
    try:
        pool = client.read_work_pool(name)
    except ObjectNotFound:
        try:
            return client.create_work_pool(
                WorkPoolCreate(name=name, type="process", base_job_template=base_job_template())
            )
        except ObjectAlreadyExists:  # a worker starting at the same time made it
            pool = client.read_work_pool(name)
    command = pool.base_job_template.get("variables", {}).get("properties", {}).get("command", {})
    if pool.type == "process" and command.get("default") is None:
        # Made by a stock worker: Prefect's template. A command someone chose is left alone.
        client.update_work_pool(name, WorkPoolUpdate(base_job_template=base_job_template()))
    return pool


def zombie_automation(pool: str, within_s: int) -> AutomationCore:
    """Return the automation that crashes a pool run whose heartbeats stopped (Prefect's docs).

    Unlike the docs' version it also starts the clock at the Running event, so a run whose host
    died before its first heartbeat reached the server is caught too; that is why it is scoped
    to this pool's runs (runs elsewhere may send no heartbeats at all).
    """
    return AutomationCore(
        name=f"patternlab-crash-zombies-{pool}",
        description=f"Crash runs of work pool {pool} silent for {within_s} s (Pattern Lab).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat", "prefect.flow-run.Running"},
            expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{s}" for s in _FINAL)},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification(
                {"prefect.resource.role": "work-pool", "prefect.resource.name": pool}
            ),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=within_s),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED, message=ZOMBIE_MESSAGE)],
    )


def ensure_zombie_automation(client: SyncPrefectClient, pool: str, within_s: int) -> str:
    """Create or update the pool's zombie automation; return its id."""
    wanted = zombie_automation(pool, within_s)
    found = client.read_automations_by_name(wanted.name)
    if found:
        client.update_automation(found[0].id, wanted)
        return str(found[0].id)
    return str(client.create_automation(wanted))


def deploy_to_pool(pool: str) -> list[str]:
    """Deploy the lab's deployments to `pool` with Prefect's deploy API; return their ids."""
    deployments = lab_deployments(pool=pool)
    ids = prefect.deploy(
        *deployments, work_pool_name=pool, build=False, push=False,
        print_next_steps_message=False, ignore_warnings=True,
    )  # fmt: skip
    if len(ids) != len(deployments):  # prefect.deploy prints a table of failures, then goes on
        raise RuntimeError(f"deployed {len(ids)} of {len(deployments)} deployments to {pool}")
    return [str(i) for i in ids]


def main(argv: list[str] | None = None) -> None:
    """Create the pool, deploy the lab's flows to it and keep its zombie automation, then exit."""
    settings = get_flow_settings()
    parser = argparse.ArgumentParser(
        prog="python -m flows.pool",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pool", default=settings.pool, help="work pool (PATTERNLAB_POOL)")
    args = parser.parse_args(argv)
    error = wait_for_api(API_WAIT_S)
    if error is not None:
        raise SystemExit(f"The Prefect API at {PREFECT_API_URL.value()} did not answer within "
                         f"{API_WAIT_S:.0f} s ({type(error).__name__}: {error}).")  # fmt: skip
    with get_client(sync_client=True) as client:
        ensure_pool(client, args.pool)
        ensure_zombie_automation(client, args.pool, settings.zombie_window_s)
    ids = deploy_to_pool(args.pool)
    print(f"deployed {len(ids)} deployments to work pool {args.pool}", flush=True)


if __name__ == "__main__":
    main()
