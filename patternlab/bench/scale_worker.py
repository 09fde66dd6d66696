"""Scale benchmark worker: one process on the benchmark's own backend, driven over stdin/stdout.

Each request runs one pattern (a variant of it) over the first N repositories of the synthetic
organisation, polling it as the dashboard does, and answers with what the run cost: end-to-end,
runs, processes, the Prefect API requests the server answered (its access log, less this
process's own polls) and the polls' own cost. Requests and replies are JSON lines.

python -m patternlab.bench.scale_worker
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.states import Cancelled

from flows.catalog import launch_tag
from flows.snapshot_synthetic import SYNTHETIC_OWNER
from patternlab import backend, launch
from patternlab.backend import prefect_client
from patternlab.bench.worker import RETRY_PATTERN, _counting_requests, main, up
from patternlab.launch import LaunchReport
from patternlab.launch.readback import PAGE, paged
from patternlab.settings import get_settings

# uvicorn's access log line for each request the Prefect server answered
ACCESS = re.compile(rb'"(?:GET|POST|PATCH|PUT|DELETE) /api/')
SETTLE_S = 20.0  # task runs reach the API in batches after the runs end
# Before each measured run the machine must be quiet: the previous run's flow processes gone and
# the server through the events they sent (a 128-repository run leaves seconds of them).
QUIET_CPU = 25.0  # % of all cores, over 0.5 s
QUIET_WAIT_S = 60.0


def _server_log() -> Path:
    """Return the benchmark backend's server log."""
    return Path(get_settings().home).expanduser() / "logs" / "server.log"


def _log_size() -> int:
    """Return the server log's size now (requests are counted from here on)."""
    log = _server_log()
    return log.stat().st_size if log.exists() else 0


def _log_since(offset: int) -> bytes:
    """Return what the server logged since an offset."""
    with open(_server_log(), "rb") as log:
        log.seek(offset)
        return log.read()


def _quiet_machine() -> dict[str, Any]:
    """Wait until two 0.5 s samples of the machine's CPU are under QUIET_CPU % (at most
    QUIET_WAIT_S); return how long that took, the last sample, and whether it got quiet."""
    started, calm, cpu = time.monotonic(), 0, None
    while calm < 2 and time.monotonic() - started < QUIET_WAIT_S:
        cpu = psutil.cpu_percent(interval=0.5)
        calm = calm + 1 if cpu < QUIET_CPU else 0
    return {"quiet_wait_s": round(time.monotonic() - started, 1), "cpu_at_start": cpu,
            "quiet_at_start": calm >= 2}  # fmt: skip


def _settled(launch_id: str) -> LaunchReport:
    """Re-read a finished launch until its task-run count stops growing (or SETTLE_S)."""
    deadline, report = time.monotonic() + SETTLE_S, launch.read_launch(launch_id)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        again = launch.read_launch(launch_id)
        if sum(p.task_runs for p in again.patterns) == sum(p.task_runs for p in report.patterns):
            return again
        report = again
    return report


def run(variant: str, pattern: str, n: int, options: dict, timeout_s: float = 900.0) -> dict:
    """Run one pattern over n synthetic repositories; return its cost (see the module doc)."""
    workload = launch.build_workload(owner=SYNTHETIC_OWNER, limit=n, source="snapshot")
    quiet = _quiet_machine()
    offset, polls, own = _log_size(), [], 0
    started = time.monotonic()
    launch_id = launch.launch([pattern], workload=workload, **options)
    while True:
        with _counting_requests() as sent:
            t0 = time.perf_counter()
            report = launch.advance_launch(launch_id)
            ms = 1000 * (time.perf_counter() - t0)
        own += len(sent)
        if not report.done:
            polls.append((ms, len(sent)))
        if report.done or time.monotonic() - started > timeout_s:
            break
        time.sleep(0.5)
    wall = time.monotonic() - started
    text = _log_since(offset)
    report = _settled(launch_id)
    p = report.patterns[0]
    return {
        "variant": variant, "pattern": pattern, "repos": n, "launch_id": launch_id,
        "completed": report.done and p.state == "Completed", "state": p.state,
        "errors": p.errors[:3], "end_to_end_s": p.timings.end_to_end_s, "wall_s": round(wall, 2),
        "flow_runs": len(p.flow_runs), "task_runs": p.task_runs, "processes": p.processes,
        "api_calls": len(ACCESS.findall(text)) - own, "lab_polls": len(polls),
        "lock_retries": len(RETRY_PATTERN.findall(text.decode(errors="replace"))),
        "stats": p.aggregate.repositories if p.aggregate else 0,
        "peak_running": _peak([(r.start, r.end) for r in p.flow_runs if r.start and r.end]),
        "poll_ms": _median([ms for ms, _ in polls]), "poll_ms_max": _max([ms for ms, _ in polls]),
        "poll_calls": max((c for _, c in polls), default=None), **quiet,
    }  # fmt: skip


def quiet_poll(n: int, samples: int = 10, timeout_s: float = 180.0) -> dict:
    """Time the dashboard's read of a running n-repository launch that does its own work only.

    The subflows pattern, one subflow run per repository one after another: a launch that keeps
    the server busy with its own requests (about 11 per repository) and nothing else. Sampling
    starts once a quarter of its subflow runs exist (at least one), so the read counts a launch
    well under way. (The deployments fan-out at a concurrency limit adds the runner's re-proposed
    slots to the server's load: its reads are in the per-variant poll columns.) Afterwards the
    launch's runs are cancelled.
    """
    workload = launch.build_workload(owner=SYNTHETIC_OWNER, limit=n, source="snapshot")
    quiet = _quiet_machine()
    launch_id = launch.launch(["subflows"], workload=workload)
    deadline = time.monotonic() + timeout_s
    report = launch.read_launch(launch_id)  # also warms the caches a page keeps warm
    counted = report.patterns[0].progress is not None  # one repository is read run by run
    under_way = n // 4 + 1  # the entry and a quarter of the subflow runs
    while counted and _seen(report) < under_way and not report.done:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
        report = launch.read_launch(launch_id)
    times, calls = [], []
    for _ in range(samples):  # only reads of a launch still running count
        with _counting_requests() as sent:
            t0 = time.perf_counter()
            report = launch.read_launch(launch_id)
            took = 1000 * (time.perf_counter() - t0)
        if report.done:
            break
        times.append(took)
        calls.append(len(sent))
        time.sleep(0.2)
    _cancel(launch_id)
    return {"repos": n, "launch": "subflows, one after another", "running": bool(times),
            "samples": len(times), "runs_seen": _seen(report), "poll_ms": _median(times),
            "poll_ms_max": _max(times), "poll_calls": max(calls, default=None),
            "loadavg": [round(x, 2) for x in os.getloadavg()], **quiet}  # fmt: skip


def _seen(report: LaunchReport) -> int:
    """Return how many flow runs a running fan-out's counts have seen."""
    progress = report.patterns[0].progress
    return sum(progress.runs.values()) if progress else 0


def _cancel(launch_id: str) -> None:
    """Cancel what is left of a launch (the benchmark's backend is removed afterwards)."""
    flt = FlowRunFilter(tags=FlowRunFilterTags(all_=[launch_tag(launch_id)]))
    with prefect_client() as client:
        runs = paged(lambda o: client.read_flow_runs(flow_run_filter=flt, limit=PAGE, offset=o))
        for run in runs:
            if run.state and not run.state.is_final():
                client.set_flow_run_state(run.id, Cancelled(), force=True)


def _peak(spans: list[tuple[Any, Any]]) -> int:
    """Return the most spans that were open at the same moment."""
    moments = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    running = peak = 0
    for _, step in moments:
        running += step
        peak = max(peak, running)
    return peak


def _median(values: list[float]) -> float | None:
    """Return the median, rounded (None when empty)."""
    return round(statistics.median(values), 1) if values else None


def _max(values: list[float]) -> float | None:
    """Return the maximum, rounded (None when empty)."""
    return round(max(values), 1) if values else None


def limits() -> dict[str, Any]:
    """Return the limits a scale curve can meet: cores, the runner's process limit.

    `python -m flows.serve` calls Prefect's `serve()` without `limit`, whose default (None) is
    no limit at all (PREFECT_RUNNER_PROCESS_LIMIT applies only to a Runner built without one).
    """
    import inspect

    from prefect import serve

    default = inspect.signature(serve).parameters["limit"].default
    return {"cpus": os.cpu_count(), "runner_process_limit": default,
            "api_url": backend.api_url()}  # fmt: skip


OPS: dict[str, Callable[..., Any]] = {"up": up, "run": run, "quiet_poll": quiet_poll,
                                      "limits": limits}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main(OPS))  # the benchmark worker's request loop, with these operations
