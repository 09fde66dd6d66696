"""Pool mode: the same deployments on a Prefect process work pool, run by the lab's workers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from flows.catalog import PATTERNS, TAGS, launch_tag
from tests.helpers import PoolBackend

HOST = socket.gethostname()
WORKERS = {f"{HOST}-1", f"{HOST}-2"}
STARTED_BY_A_WORKER = {"entry", "deployment-child", "triggered"}  # subflows run in their parent


@pytest.fixture(scope="module")
def pool_launch(pool_backend: PoolBackend) -> dict:
    """Launch all four patterns once on the pool backend and return the JSON report."""
    return pool_backend.launch("--pattern", "all")


def test_all_four_patterns_complete_on_the_pools_workers(pool_launch):
    """Every pattern completes, and every run a worker started names one of the lab's workers."""
    assert [p["pattern"] for p in pool_launch["patterns"]] == list(PATTERNS)
    assert (pool_launch["execution"], pool_launch["pool"]) == ("pool", "lab-process")
    for p in pool_launch["patterns"]:
        assert p["state"] == "Completed", p["errors"]
        for run in p["flow_runs"]:
            assert run["host"] == HOST
            assert run["pid"]
            if run["role"] in STARTED_BY_A_WORKER:
                assert run["worker"] in WORKERS, run
                assert run["work_pool"] == "lab-process"
            else:  # a subflow runs inside its parent's process, created by no deployment
                assert (run["worker"], run["work_pool"]) == (None, None)
        assert p["hosts"] == 1


def test_prefect_records_the_same_workers_as_the_report(pool_backend, pool_launch):
    """Prefect's own labels on the runs name the workers the report shows."""
    found = pool_backend.api("POST", "/flow_runs/filter", json={
        "flow_runs": {"tags": {"all_": [launch_tag(pool_launch["launch_id"])]}},
    })  # fmt: skip
    labels = {r["id"]: r["labels"].get("prefect.worker.name") for r in found}
    reported = {r["id"]: r["worker"] for p in pool_launch["patterns"] for r in p["flow_runs"]}
    assert {i: labels[i] for i in reported} == reported


def test_execution_separation_is_observed_on_the_pool(pool_launch):
    """A deployment child and a triggered run run in processes of their own, as with serve."""
    by_pattern = {p["pattern"]: p for p in pool_launch["patterns"]}
    assert by_pattern["monoflow"]["processes"] == 1
    assert by_pattern["subflows"]["processes"] == 1
    for pattern in ("deployments", "events"):
        assert by_pattern[pattern]["separation"]["execution"] is True
        assert by_pattern[pattern]["processes"] == 2


FANOUT_N = 3
FANOUT = ("--owner", "patternlab-synthetic", "--limit", str(FANOUT_N))


@pytest.fixture(scope="module")
def pool_fanout(pool_backend: PoolBackend) -> dict:
    """Launch all four patterns over three synthetic repositories on the pool, monoflow on Dask."""
    return pool_backend.launch("--pattern", "all", "--runner", "dask", "--child-limit", "2",
                               workload=FANOUT, timeout=600)  # fmt: skip


def test_every_fanout_completes_on_the_pools_workers(pool_fanout):
    """Over three repositories every pattern completes; each run a worker started names one."""
    assert (pool_fanout["execution"], pool_fanout["repos"]) == ("pool", FANOUT_N)
    assert pool_fanout["done"]
    assert pool_fanout["synthetic"]
    for p in pool_fanout["patterns"]:
        assert p["state"] == "Completed", (p["pattern"], p["errors"])
        assert p["aggregate"]["repositories"] == FANOUT_N, p["pattern"]
        assert p["aggregate"]["missing"] == []
        for run in p["flow_runs"]:
            if run["role"] in STARTED_BY_A_WORKER:
                assert run["worker"] in WORKERS, run
                assert run["work_pool"] == "lab-process", run


def test_the_deployments_and_events_fanouts_spread_over_worker_processes(pool_fanout):
    """One child per repository and one triggered run per upstream, each in a process of its own."""
    by_pattern = {p["pattern"]: p for p in pool_fanout["patterns"]}
    deployments, events = by_pattern["deployments"], by_pattern["events"]
    children = [r for r in deployments["flow_runs"] if r["role"] == "deployment-child"]
    assert len(children) == FANOUT_N
    assert deployments["concurrency_limit"] == 2
    assert deployments["processes"] == 1 + FANOUT_N
    triggered = [r for r in events["flow_runs"] if r["role"] == "triggered"]
    assert len(triggered) == FANOUT_N
    assert all(r["created_by"] == "automation" for r in triggered)
    assert len({s["repo"] for s in events["repo_stats"]}) == FANOUT_N
    assert events["processes"] == 2 * FANOUT_N
    for p in (deployments, events):
        assert p["separation"]["execution"] is True
        assert p["hosts"] == 1


def test_monoflow_on_dask_runs_from_the_pools_dask_deployment(pool_backend, pool_fanout):
    """Monoflow's Dask variant is deployment monoflow/lab-dask on the pool, run by a worker."""
    monoflow = next(p for p in pool_fanout["patterns"] if p["pattern"] == "monoflow")
    assert monoflow["variant"] == "dask"
    (entry,) = monoflow["flow_runs"]
    assert entry["worker"] in WORKERS
    run = pool_backend.api("GET", f"/flow_runs/{entry['id']}")
    deployment = pool_backend.api("GET", f"/deployments/{run['deployment_id']}")
    assert (deployment["name"], deployment["work_pool_name"]) == ("lab-dask", "lab-process")
    assert monoflow["task_runs"] == FANOUT_N + 1  # one mapped task per repository, one publish


def test_backend_status_shows_the_pool_and_its_workers(pool_backend):
    """`backend status` says pool mode, names the pool and lists both workers alive."""
    done = pool_backend.cli("backend", "status")
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(None, 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["execution"].strip() == "pool"
    assert lines["pool"].strip() == "lab-process"
    for name in WORKERS:
        assert f"'name': '{name}'" in lines["workers"]
    assert "'up': False" not in lines["workers"]


def test_pool_deployments_carry_the_served_triggers_and_a_zombie_automation(pool_backend):
    """The pool's deployments are module paths with the runner's triggers, plus zombie detection."""
    monoflow = pool_backend.api("GET", "/deployments/name/monoflow/lab")
    assert (monoflow["entrypoint"], monoflow["work_pool_name"]) == (
        "flows.monoflow.monoflow", "lab-process",
    )  # fmt: skip
    assert monoflow["tags"] == TAGS
    assert not monoflow["pull_steps"]
    upstream = pool_backend.api("GET", "/deployments/name/events-upstream/lab")
    automations = {a["name"]: a for a in pool_backend.api("POST", "/automations/filter", json={})}
    related = automations["upstream-completed"]["trigger"]["match_related"]
    related = related[0] if isinstance(related, list) else related
    assert related == {"prefect.resource.id": f"prefect.deployment.{upstream['id']}"}
    zombie = automations["patternlab-crash-zombies-lab-process"]
    assert zombie["trigger"]["posture"] == "Proactive"
    assert zombie["actions"][0]["type"] == "change-flow-run-state"
    assert json.dumps(zombie["trigger"]["match_related"]).count("lab-process") == 1


def test_the_pools_command_lets_the_worker_fork_flow_processes(pool_backend):
    """The pool's job template runs the engine, not Prefect's supervisor: runs can be forked."""
    pool = pool_backend.api("GET", "/work_pools/lab-process")
    command = pool["base_job_template"]["variables"]["properties"]["command"]
    assert command["default"] == "python -m prefect.engine"


def test_killing_the_worker_running_the_child_crashes_it_and_the_lab_restarts_the_worker(
    pool_backend,
):
    """The host-fault drill kills the worker running the child with all its processes: the
    child ends Crashed naming the worker and host, the worker is back, the next launch works."""
    report = pool_backend.launch("--pattern", "deployments", "--host-fault", "kill-worker")
    assert report["done"]
    runs = {r["role"]: r for r in report["patterns"][0]["flow_runs"]}
    child = runs["deployment-child"]
    assert child["state"] == "Crashed"
    assert f"worker {child['worker']} on host {HOST} died" in child["message"]
    assert runs["entry"]["state"] in {"Failed", "Crashed"}  # it waited for its child, or died too
    notes = " ".join(report["notices"])
    assert f"Killed worker {child['worker']} on host {HOST}" in notes
    assert "the lab restarted it" in notes
    assert "ended Crashed" in notes
    status = pool_backend.cli("backend", "status").stdout
    assert "'up': False" not in status
    after = pool_backend.launch("--pattern", "deployments")
    assert after["patterns"][0]["state"] == "Completed"


def test_a_host_fault_outside_embedded_pool_mode_is_refused():
    """The drill needs the lab's own workers: in serve mode the CLI says so and exits 2."""
    from tests.helpers import ROOT

    done = subprocess.run(
        [sys.executable, "-m", "patternlab", "launch", "--repo", "PrefectHQ/prefect",
         "--host-fault", "kill-worker"], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "PATTERNLAB_EXECUTION=pool" in done.stderr
    assert "launched" not in done.stderr
