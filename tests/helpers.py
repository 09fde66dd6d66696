"""Shared test helpers: polling with a deadline, free ports, process facts, hand-built reports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import psutil

from patternlab.launch import (
    PATTERNS,
    Contributor,
    FlowRunInfo,
    LaunchReport,
    PatternReport,
    RepoStats,
    Separation,
    Timings,
    WeekCommits,
)

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent


def wait_for(
    predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.1, what: str = ""
) -> T:
    """Call `predicate` until it returns something truthy and return that; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


def restart_runner() -> None:
    """Stop the lab's runner and start it again (it then reads the environment afresh)."""
    from patternlab import backend

    pid = backend.backend_status().runner_pid
    if pid is not None:
        os.killpg(pid, signal.SIGTERM)
        wait_for(lambda: gone(pid), timeout=15, what=f"runner {pid} to stop")
    backend.ensure_backend()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gone(pid: int) -> bool:
    """Say whether a process has ended (a zombie waiting to be reaped counts as ended)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def tree(pid: int) -> list[psutil.Process]:
    """Return a process and all its descendants."""
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def listening(pid: int) -> set[tuple[str, int]]:
    """Return the (address, port) pairs that a process tree listens on over TCP."""
    found = set()
    for proc in tree(pid):
        for conn in proc.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                found.add((conn.laddr.ip, conn.laddr.port))
    return found


# --- hand-built launch reports (the shapes patternlab.readback returns) ----------------------

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# (flow, role, parent flow, created_by) per pattern, in the shape the lab reads them back.
RUNS = {
    "monoflow": [("monoflow", "entry", None, "lab")],
    "subflows": [
        ("subflows-parent", "entry", None, "lab"),
        ("fetch-repo-data", "subflow", "subflows-parent", "parent flow"),
        ("calculate-average-commits", "subflow", "subflows-parent", "parent flow"),
    ],
    "deployments": [
        ("deployments-parent", "entry", None, "lab"),
        ("average-commits-child", "deployment-child", "deployments-parent", "parent flow"),
    ],
    "events": [
        ("events-upstream", "entry", None, "lab"),
        ("events-downstream", "triggered", None, "automation"),
    ],
}
OBSERVED = {
    "monoflow": (False, False, False),
    "subflows": (True, False, False),
    "deployments": (True, True, False),
    "events": (True, True, True),
}


def build_stats(stars: int = 100) -> RepoStats:
    """Return statistics as a flow publishes them from the snapshot."""
    return RepoStats(
        repo="PrefectHQ/prefect", source="snapshot", source_note="Offline sample (2026-11-20)",
        snapshot_date="2026-11-20", description="<b>Prefect</b> [x](javascript:1)", stars=stars,
        forks=20, open_issues=3, watchers=4, default_branch="main", contributors=2, commits=30,
        avg_commits_per_contributor=15.0,
        top_contributors=[Contributor(login="bob", contributions=10),
                          Contributor(login="alice", contributions=20)],
        weekly_commits=[WeekCommits(week=T0 - timedelta(days=7 * i), commits=i) for i in range(3)],
    )  # fmt: skip


def build_pattern(pattern: str, index: int, *, state: str = "Completed") -> PatternReport:
    """Return one finished pattern whose numbers are distinct per pattern (index 0..3)."""
    runs, ids = [], {}
    c, e, a = OBSERVED[pattern]
    for n, (flow, role, parent, by) in enumerate(RUNS[pattern]):
        ids[flow] = f"{pattern}-{n}"
        created = T0 + timedelta(seconds=n)
        runs.append(
            FlowRunInfo(
                id=ids[flow], name=f"run-{n}", flow=flow, role=role, state=state,
                status=state.lower(), pid=1000 + n * e, host="h", parent_id=ids.get(parent),
                created_by=by, created=created, start=created + timedelta(seconds=1),
                end=created + timedelta(seconds=3), ui_url=f"http://ui/runs/flow-run/{ids[flow]}",
                task_runs=2,
            )
        )  # fmt: skip
    return PatternReport(
        pattern=pattern, state=state, status=state.lower(), done=True, stats=build_stats(),
        flow_runs=runs, task_runs=2 * len(runs), processes=len({r.pid for r in runs}),
        separation=Separation(conceptual=c, execution=e, awareness=a),
        timings=Timings(end_to_end_s=10.0 + index, queue_s=1.0 + index, execution_s=5.0,
                        handoff_s=0.5 * index, work_s=2.0, overhead_s=3.0),
    )  # fmt: skip


def build_report(
    launch_id: str = "abc123def456", patterns: Iterable[str] = PATTERNS, *, drill: str = "none"
) -> LaunchReport:
    """Return a finished launch of the given patterns (under a failure drill, if named)."""
    return LaunchReport(
        launch_id=launch_id, repo="PrefectHQ/prefect", source="snapshot", created=T0, done=True,
        drill=drill, patterns=[build_pattern(p, i) for i, p in enumerate(patterns)],
    )  # fmt: skip


def fail_run(report: PatternReport, flow: str, message: str = "boom") -> FlowRunInfo:
    """Mark one flow run of a pattern Failed with a message and return it."""
    run = next(r for r in report.flow_runs if r.flow == flow)
    run.state, run.status, run.message = "Failed", "failed", message
    return run


def child_drill_report() -> LaunchReport:
    """Return a finished child drill of all four patterns, failing as documented (deployments
    waiting for its child)."""
    report = build_report(drill="child")
    by = {p.pattern: p for p in report.patterns}
    by["deployments"].variant = "wait"
    fail_run(by["monoflow"], "monoflow")
    fail_run(by["subflows"], "calculate-average-commits")
    fail_run(by["subflows"], "subflows-parent")
    fail_run(by["deployments"], "average-commits-child")
    fail_run(by["deployments"], "deployments-parent")
    fail_run(by["events"], "events-downstream")
    return report


def add_alert_run(report: PatternReport) -> FlowRunInfo:
    """Add the proactive trigger's alert run to an events pattern and return it."""
    alert = FlowRunInfo(
        id="events-alert", name="run-alert", flow="events-missed-alert", role="alert",
        state="Completed", status="completed", created_by="automation",
        created=T0 + timedelta(seconds=11), start=T0 + timedelta(seconds=12),
        end=T0 + timedelta(seconds=13),
    )  # fmt: skip
    report.flow_runs.append(alert)
    return alert


# --- AppTest: everything a page shows ---------------------------------------------------------


def page_nodes(at: AppTest) -> list[Any]:
    """Return every element of an AppTest page (main area and sidebar), depth first."""
    found, todo = [], [at.main, at.sidebar]
    while todo:
        node = todo.pop()
        children = getattr(node, "children", None)
        if children is not None:
            todo.extend(children.values())
        if getattr(node, "proto", None) is not None:
            found.append(node)
    return found


def page_bytes(at: AppTest) -> bytes:
    """Return everything an AppTest page holds as bytes: texts, values, tables, figures, links."""
    parts = [node.proto.SerializeToString() for node in page_nodes(at)]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv().encode())
    return b"\n".join(parts)


def in_fresh_thread(fn, *args, **kwargs):
    """Call fn in a new thread: Prefect's sync APIs and asyncio.run() refuse a running event loop,
    and pytest-playwright's sync API leaves one running in the main thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


# --- a pool-mode backend, driven through the CLI ---------------------------------------------

ONE_REPO = ("--repo", "PrefectHQ/prefect")


class PoolBackend:
    """A pool-mode embedded backend in its own home: the CLI and the API with its environment."""

    def __init__(self, home: Path, **settings: str) -> None:
        # Not the session's serve backend: no PREFECT_API_URL, a home and a port of its own.
        drop = ("PREFECT_API_URL", "PREFECT_HOME")
        self.env = {k: v for k, v in os.environ.items() if k not in drop}
        self.env |= {
            "PATTERNLAB_HOME": str(home),
            "PATTERNLAB_PORT": str(free_port()),
            "PATTERNLAB_EXECUTION": "pool",
            "PATTERNLAB_WORKERS": "2",
        } | settings
        self.home = home
        self.api_url = f"http://127.0.0.1:{self.env['PATTERNLAB_PORT']}/api"

    def cli(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        """Run `python -m patternlab ARGS` against this backend."""
        return subprocess.run(
            [sys.executable, "-m", "patternlab", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def launch(
        self, *args: str, timeout: float = 240, workload: tuple[str, ...] = ONE_REPO
    ) -> dict[str, Any]:
        """Launch with `--json` and return the report (fail the test on a bad exit)."""
        done = self.cli("launch", *workload, "--source", "snapshot", "--json", *args,
                        timeout=timeout)  # fmt: skip
        assert done.stdout, done.stderr[-3000:]
        return json.loads(done.stdout)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call this backend's Prefect REST API and return the decoded JSON."""
        answer = httpx.request(method, f"{self.api_url}{path}", timeout=10, trust_env=False,
                               **kwargs)  # fmt: skip
        answer.raise_for_status()
        return answer.json()
