"""The runner's deployments and the automations it registers, read back from the server."""

from __future__ import annotations

from prefect.client.orchestration import get_client

from flows.serve import build_deployments
from patternlab.launch import FLOW_ROLES
from tests.helpers import in_fresh_thread


def test_serve_builds_one_deployment_per_flow(lab_backend):
    """flows.serve defines a `lab` deployment for every flow the lab knows that is not a subflow,
    described for users, and monoflow a second one on Dask (`monoflow/lab-dask`)."""
    deployments = in_fresh_thread(build_deployments)
    subflows = {name for name, (_, role) in FLOW_ROLES.items() if role == "subflow"}
    assert subflows >= {"fetch-repo-data", "calculate-average-commits", "repository-stats"}
    assert {d.flow_name for d in deployments} == set(FLOW_ROLES) - subflows
    assert sorted(f"{d.flow_name}/{d.name}" for d in deployments if d.name != "lab") == [
        "monoflow/lab-dask"
    ]
    assert all(d.description for d in deployments)


def test_event_triggers_are_scoped_to_the_upstream_deployment(lab_backend):
    """Both automations match only events related to the upstream deployment (no self-loop)."""
    with get_client(sync_client=True) as client:
        upstream = client.read_deployment_by_name("events-upstream/lab")
        automations = client.read_automations()
    by_name = {a.name: a for a in automations}
    wanted = {"prefect.resource.id": f"prefect.deployment.{upstream.id}"}
    for name in ("upstream-completed", "upstream-missed-window"):
        trigger = by_name[name].trigger
        related = trigger.match_related
        related = related[0] if isinstance(related, list) else related
        assert dict(getattr(related, "root", related)) == wanted
    assert by_name["upstream-completed"].trigger.expect == {"prefect.flow-run.Completed"}
    missed = by_name["upstream-missed-window"].trigger
    assert missed.posture == "Proactive"
    assert missed.within.total_seconds() >= 10


def test_downstream_parameters_come_from_the_event_not_from_code(lab_backend):
    """The automation fills the downstream's parameters from the upstream run via templates."""
    with get_client(sync_client=True) as client:
        automations = {a.name: a for a in client.read_automations()}
    action = automations["upstream-completed"].actions[0]
    assert "flow_run.parameters['repo']" in action.parameters["repo"]
    assert "launch:" in action.parameters["launch"]


def test_embedded_server_and_runner_listen_on_loopback_only(lab_backend):
    """Nothing the lab starts listens on an address other than 127.0.0.1."""
    from patternlab import backend
    from tests.helpers import listening

    status = backend.backend_status()
    for pid in (status.server_pid, status.runner_pid):
        assert {addr for addr, _port in listening(pid)} <= {"127.0.0.1"}
    assert listening(status.server_pid)  # the server does listen, on loopback
