"""The secret check itself: a secret planted where a sampled check would not look is found."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate, LogCreate
from prefect.states import Cancelled, Failed

from flows.catalog import launch_tag
from patternlab.launch.readback import ENTRY_TAG
from tests.leaks import PAGE, find_secret

SECRET = "ghp_plantedLEAK0000check0000secret"


@flow(name="leak-check-plant")
def _plant() -> None:
    """Stand in for a lab flow (never run: only its flow run is created)."""


@task(name="leak-check-task")
def _plant_task() -> None:
    """Stand in for a lab task (never run: only its task run is created)."""


def _plant_everywhere(launch_id: str) -> None:
    """Create one launch's run holding the secret past the first page of logs and artifacts,
    in a state it has left, in a task run and in a log line of that task run only."""
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(
            _plant, parameters={}, tags=[launch_tag(launch_id), ENTRY_TAG, "pattern:monoflow"]
        )
        client.set_flow_run_state(run.id, Cancelled(message=f"token {SECRET}"), force=True)
        client.set_flow_run_state(run.id, Cancelled(message="clean"), force=True)
        lines = [f"line {i}" for i in range(PAGE + 100)] + [f"oops {SECRET}"]
        client.create_logs([
            LogCreate(name="plant", level=20, message=m, flow_run_id=run.id,
                      timestamp=t0 + timedelta(milliseconds=i)) for i, m in enumerate(lines)
        ])  # fmt: skip
        for i in range(PAGE + 50):
            data = f"artifact {i}" if i < PAGE + 49 else f"artifact {SECRET}"
            client.create_artifact(ArtifactCreate(type="markdown", data=data, flow_run_id=run.id))
        task_run = client.create_task_run(
            _plant_task, flow_run_id=run.id, dynamic_key="0",
            state=Failed(message=f"task saw {SECRET}"),
        )  # fmt: skip
        client.create_logs([
            LogCreate(name="plant", level=40, message=f"task log {SECRET}", task_run_id=task_run.id,
                      timestamp=t0)
        ])  # fmt: skip


def test_the_check_finds_a_secret_wherever_a_launch_left_it(lab_backend, tmp_path):
    """Planted after 300 log lines and 249 artifacts, in an old state, a task run, a task-run-only
    log line, a report and a log file, the secret is found in each place."""
    launch_id = f"plant{uuid.uuid4().hex[:7]}"
    _plant_everywhere(launch_id)
    lab_log = tmp_path / "lab.log"
    lab_log.write_text(f"started\nGITHUB_TOKEN={SECRET}\n")
    sweep = find_secret(SECRET, [launch_id], [lab_log])
    kinds = {where.rsplit(" ", 1)[0] for where in sweep.found}
    assert kinds == {
        "flow-run state", "task run", "task-run state", "log", "log (server search)", "artifact",
        "file",
    }, sweep.found  # fmt: skip
    assert len([w for w in sweep.found if w.rsplit(" ", 1)[0] == "log"]) == 2  # flow, task line
    assert sweep.read["log"] >= PAGE + 102
    assert sweep.read["artifact"] == PAGE + 50


def test_the_check_finds_a_secret_in_a_parameter_and_the_report(lab_backend):
    """A secret in a run's parameters is found in the flow run and in the report read back."""
    launch_id = f"plant{uuid.uuid4().hex[:7]}"
    with get_client(sync_client=True) as client:
        client.create_flow_run(
            _plant, parameters={"repo": f"o/{SECRET}-{launch_id}"}, state=Cancelled(),
            tags=[launch_tag(launch_id), ENTRY_TAG, "pattern:monoflow"],
        )  # fmt: skip
    sweep = find_secret(f"{SECRET}-{launch_id}", [launch_id])
    assert {where.rsplit(" ", 1)[0] for where in sweep.found} == {"flow run", "report"}
