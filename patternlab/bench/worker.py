"""Benchmark worker: one process per backend, driven by patternlab.bench over stdin/stdout.

Each worker reads its backend from its environment (PATTERNLAB_HOME, _PORT, _DB, _TUNING), so
Prefect's client in this process points at that backend only. Requests and replies are JSON
lines; anything else the process prints goes to stderr.

python -m patternlab.bench.worker
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from patternlab import backend, launch
from patternlab.backend import BackendError, prefect_settings
from patternlab.bench import measure
from patternlab.launch import LaunchReport, PatternReport
from patternlab.settings import get_settings

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
# What Prefect's server logs (PREFECT_SERVER_LOG_RETRYABLE_ERRORS) for each request it answered
# with 503 "retry later" (SQLite: database is locked), and for lock conflicts on PostgreSQL.
RETRY_PATTERN = re.compile(r"Encountered retryable exception|deadlock detected|could not serialize")


@contextmanager
def _retrying_client() -> Iterator[SyncPrefectClient]:
    """Lend a Prefect client with its retries: the lab's fails fast, which suits pages only."""
    with prefect_settings(retries=True), get_client(sync_client=True) as client:
        yield client


def up() -> dict[str, Any]:
    """Start this worker's backend if needed; say whether it was already up."""
    before = backend.backend_status()
    was_up = bool(before.server_up and before.runner_up is not False)
    status = backend.ensure_backend()
    s = get_settings()
    return {"was_up": was_up, "db": status.db, "tuning": s.tuning, **status.to_dict()}


def _patiently(call: Callable[[], Any], refused: list[str], timeout_s: float = 60.0) -> Any:
    """Call the lab; while the server answers 503 (SQLite busy), note it and try again."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except BackendError as exc:
            # The lab fails fast so a page can say "backend down"; stock SQLite answers 503 while
            # locked, which a benchmark must ride out (and count), not abort on.
            refused.append(str(exc))
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _wait(launch_id: str, refused: list[str], timeout_s: float, poll_s: float) -> LaunchReport:
    """Poll a launch like the dashboard does until it is done or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        report = _patiently(lambda: launch.read_launch(launch_id), refused)
        if report.done or time.monotonic() > deadline:
            return report
        time.sleep(poll_s)


def backend_cpu_s() -> float | None:
    """Return the CPU seconds the backend's processes (server, runner, PostgreSQL, with their
    children, ended ones included) have used so far; None when they cannot be read."""
    import psutil

    total = 0.0
    for pid in backend.backend_pids().values():
        try:
            procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        except (psutil.Error, ValueError, TypeError):
            return None
        for proc in procs:
            try:
                t = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue  # ended: its time is in its parent's children_* once reaped
            except psutil.Error:
                return None
            total += t.user + t.system + t.children_user + t.children_system
    return total


def run(pattern: str, repo: str, timeout_s: float = 240.0) -> dict[str, Any]:
    """Launch one pattern, wait for it, and return its timings and the benchmark's measures."""
    refused: list[str] = []
    cpu_before = backend_cpu_s()
    launch_id = _patiently(lambda: launch.launch([pattern], repo, "snapshot"), refused)
    report = _wait(launch_id, refused, timeout_s, poll_s=0.5)
    cpu_after = backend_cpu_s()
    p = report.patterns[0]
    row: dict[str, Any] = {
        # CPU the backend spent on this run (less noisy than wall time on a shared machine).
        "cpu_s": round(cpu_after - cpu_before, 3) if None not in (cpu_before, cpu_after) else None,
        "load1": round(os.getloadavg()[0], 2),
        "refused_503": len(refused),
        "launch_id": launch_id,
        "completed": report.done and p.state == "Completed",
        "state": p.state,
        "errors": p.errors,
        **{k: getattr(p.timings, k) for k in ("end_to_end_s", "queue_s", "handoff_s")},
        **{k: getattr(p.timings, k) for k in ("work_s", "overhead_s")},
    }
    spans = _task_spans(p)
    to_scheduled, to_running = measure.trigger_delays(p.flow_runs)
    row |= {
        "task_call_ms": measure.task_call_ms(p.flow_runs, spans),
        "subflow_call_ms": measure.subflow_call_ms(p.flow_runs, spans),
        "trigger_to_scheduled_s": to_scheduled,
        "trigger_to_running_s": to_running,
        "notice_s": measure.notice_s(p.flow_runs),
        **_start_phases(p),
        # What the floor (patternlab/bench/floor.py) prices per pattern.
        "flow_runs": len(p.flow_runs),
        "task_runs": p.task_runs,
        "runner_runs": len([r for r in p.flow_runs if r.role in measure.RUNNER_STARTED]),
        "pids": sorted({r.pid for r in p.flow_runs if r.pid}),
    }
    return row


def _task_spans(p: PatternReport, timeout_s: float = 15.0) -> list[measure.TaskSpan]:
    """Read the pattern's task runs and their Pending/final timestamps (they arrive in batches)."""
    ids = [r.id for r in p.flow_runs]
    flt = FlowRunFilter(id=FlowRunFilterId(any_=ids))
    deadline, previous = time.monotonic() + timeout_s, -1
    with _retrying_client() as client:
        while True:
            tasks = client.read_task_runs(flow_run_filter=flt, limit=200)
            settled = all(t.state_type and t.state_type.value in FINAL for t in tasks)
            if (settled and len(tasks) == previous) or time.monotonic() > deadline:
                break
            previous = len(tasks)
            time.sleep(0.2)
        spans = []
        # Prefect's placeholder task runs (a parent's stand-ins for subflows and run_deployment)
        # sit in the parent run; every measure here looks at a run's own tasks only.
        for t in tasks:
            name = measure.task_name(t.name)
            states = client.read_task_run_states(t.id)
            pending = next((s.timestamp for s in states if s.type.value == "PENDING"), None)
            final = next((s.timestamp for s in states if s.type.value in FINAL), None)
            if pending and final:
                spans.append(measure.TaskSpan(str(t.flow_run_id), name, pending, final))
    return spans


def _start_phases(p: PatternReport) -> dict[str, float | None]:
    """Split the runner's pick-ups into polling and process start, from the state histories."""
    started = [r for r in p.flow_runs if r.role in measure.RUNNER_STARTED]
    histories = {}
    with _retrying_client() as client:
        for r in started:
            histories[r.id] = [(s.name, s.timestamp) for s in client.read_flow_run_states(r.id)]
    return measure.start_phases(histories)


@contextmanager
def _counting_requests() -> Iterator[list[str]]:
    """Count the HTTP requests this process sends (every Prefect client call is one)."""
    sent: list[str] = []
    original = httpx.Client.send

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return original(self, request, **kwargs)

    httpx.Client.send = send  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        httpx.Client.send = original  # type: ignore[method-assign]


def poll(repo: str, hold_s: float = 8.0, samples: int = 10) -> dict[str, Any]:
    """Time the dashboard's read of a running launch and count its API calls.

    The launch is the events pattern with its upstream held (asleep): running, and no flow
    competes with the read for the CPU. The hold stays under the proactive trigger's 10 s window,
    so no alert run starts.
    """
    launch_id = launch.launch(["events"], repo, "snapshot", hold_s=hold_s)
    deadline = time.monotonic() + 60
    report = launch.read_launch(launch_id)  # also warms the caches a page keeps warm
    while not _upstream_running(report) and time.monotonic() < deadline:
        time.sleep(0.1)
        report = launch.read_launch(launch_id)
    times, calls = [], []
    for _ in range(samples):
        with _counting_requests() as sent:
            started = time.perf_counter()
            report = launch.read_launch(launch_id)
            times.append(1000 * (time.perf_counter() - started))
        calls.append(len(sent))
    running = _upstream_running(report)
    _wait(launch_id, [], 120.0, poll_s=0.5)
    return {
        "poll_ms": round(statistics.median(times), 1),
        "poll_ms_max": round(max(times), 1),
        "poll_api_calls": max(calls),
        "launch_was_running": running,
    }


def _upstream_running(report: LaunchReport) -> bool:
    """Say whether the events upstream of a launch is Running (held)."""
    events = next((p for p in report.patterns if p.pattern == "events"), None)
    return events is not None and any(
        r.role == "entry" and r.status == "running" for r in events.flow_runs
    )


def concurrent(repo: str, n: int = 20, timeout_s: float = 600.0) -> dict[str, Any]:
    """Launch the subflows pattern n times at once; count completions and lock retries."""
    log = Path(get_settings().home).expanduser() / "logs" / "server.log"
    offset = log.stat().st_size if log.exists() else 0
    refused: list[str] = []  # 503 answers the lab's client saw (it does not retry by itself)
    started = time.monotonic()

    def subflows_launch(_: int) -> str:
        return _patiently(lambda: launch.launch(["subflows"], repo, "snapshot"), refused)

    with ThreadPoolExecutor(n) as pool:
        ids = list(pool.map(subflows_launch, range(n)))
    launch_refusals = len(refused)
    reports = [_wait(i, refused, timeout_s, poll_s=1.0) for i in ids]
    wall = time.monotonic() - started
    text = log.read_bytes()[offset:].decode(errors="replace") if log.exists() else ""
    done = [r.patterns[0] for r in reports if r.done and r.patterns[0].state == "Completed"]
    e2e = [p.timings.end_to_end_s for p in done if p.timings.end_to_end_s is not None]
    return {
        "launches": n,
        "completed": len(done),
        "wall_s": round(wall, 2),
        "end_to_end_median_s": round(statistics.median(e2e), 3) if e2e else None,
        "end_to_end_max_s": round(max(e2e), 3) if e2e else None,
        "lock_retries": len(RETRY_PATTERN.findall(text)),
        "database_is_locked_lines": text.count("database is locked"),
        "launches_refused_503": launch_refusals,
        "polls_refused_503": len(refused) - launch_refusals,
        "server_log": str(log),
    }


def floor_steps(samples: int = 7) -> dict[str, Any]:
    """Price each step Prefect requires on this backend (patternlab/bench/floor.py)."""
    from patternlab.bench import floor

    with _retrying_client() as client:
        return floor.measure_steps(client, samples)


OPS: dict[str, Callable[..., dict[str, Any]]] = {
    "up": up, "run": run, "poll": poll, "concurrent": concurrent, "floor": floor_steps,
}  # fmt: skip


def main(ops: dict[str, Callable[..., Any]] | None = None) -> int:
    """Answer requests (one JSON object per line) with `ops` (these OPS) until stdin closes."""
    ops = ops or OPS
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever else prints (Prefect, warnings) must not corrupt the replies
    sys.stdout = sys.stderr
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"ok": True, "result": ops[request["op"]](**request.get("args", {}))}
        except Exception as exc:  # noqa: BLE001 - reported to the benchmark, which says so
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
