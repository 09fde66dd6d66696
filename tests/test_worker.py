"""The worker wrapper, the pool template, the zombie automation, where-ran views (no server)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flows.pool import ENGINE_COMMAND, base_job_template, zombie_automation
from flows.settings import FlowSettings
from flows.worker import PROJECT_ROOT, prepare_environment
from patternlab import views
from tests.helpers import build_report


def test_worker_environment_makes_flow_processes_find_python_and_flows():
    """The worker puts its interpreter on PATH, the project on PYTHONPATH, heartbeats and poll."""
    env = {"PATH": "/usr/bin", "PYTHONPATH": "/elsewhere"}
    prepare_environment(FlowSettings(worker_poll_s=0.25), env)
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["PYTHONPATH"].split(os.pathsep) == [str(PROJECT_ROOT), "/elsewhere"]
    assert env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"
    assert env["PREFECT_WORKER_QUERY_SECONDS"] == "0.25"


def test_stock_worker_keeps_prefects_poll_and_an_explicit_one_wins():
    """Tuning off leaves Prefect's 10 s poll; a PREFECT_WORKER_QUERY_SECONDS already set stays."""
    stock: dict[str, str] = {}
    prepare_environment(FlowSettings(tuning=False), stock)
    assert "PREFECT_WORKER_QUERY_SECONDS" not in stock
    chosen = {"PREFECT_WORKER_QUERY_SECONDS": "3"}
    prepare_environment(FlowSettings(), chosen)
    assert chosen["PREFECT_WORKER_QUERY_SECONDS"] == "3"


def test_pool_template_runs_the_engine_so_the_fork_adapter_applies():
    """The pool's default command is the 3-word engine command the fork adapter recognises."""
    from flows.adapters import _is_engine_command

    command = base_job_template()["variables"]["properties"]["command"]["default"]
    assert command == ENGINE_COMMAND
    assert _is_engine_command(command.split())


def test_zombie_automation_also_arms_on_running_and_only_for_the_pool():
    """The automation starts its clock at Running or a heartbeat, for this pool's runs only."""
    automation = zombie_automation("lab-process", 45)
    trigger = automation.trigger
    assert trigger.after == {"prefect.flow-run.heartbeat", "prefect.flow-run.Running"}
    assert "prefect.flow-run.Completed" in trigger.expect
    assert trigger.within.total_seconds() == 45
    assert trigger.posture == "Proactive"
    assert trigger.match_related.root == {
        "prefect.resource.role": "work-pool", "prefect.resource.name": "lab-process",
    }  # fmt: skip
    assert automation.actions[0].state.value == "CRASHED"


def test_where_frame_counts_hosts_processes_and_workers():
    """Each pattern's row says "N hosts / M processes" and names the workers that ran it."""
    report = build_report()
    deployments = report.patterns[2]
    deployments.flow_runs[0].worker, deployments.flow_runs[1].worker = "a-1", "b-1"
    deployments.flow_runs[1].host = "b"
    frame = views.where_frame(views.entries([report])).set_index("pattern")
    assert frame.loc["deployments", "ran on"] == "2 hosts / 2 processes"
    assert frame.loc["deployments", "workers"] == "a-1, b-1"
    assert frame.loc["monoflow", "ran on"] == "1 host / 1 process"
    assert frame.loc["monoflow", "workers"] == "runner"


def test_run_tree_and_timeline_name_the_host_and_worker():
    """The run tree shows host · pid and the worker; the timeline's rows name the host."""
    report = build_report()
    run = report.patterns[0].flow_runs[0]
    run.worker = "h-2"
    tree = views.run_tree_frame(report.patterns[0], run.end)
    assert tree.loc[0, "process"] == f"h · pid {run.pid}"
    assert tree.loc[0, "worker"] == "h-2"
    assert views.timeline_frame(report)["row"].str.endswith("@ h").all()
