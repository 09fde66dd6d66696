"""The floor: what Prefect itself requires to run each pattern, priced on this backend.

`measure_steps` runs in the tuned benchmark worker and prices each step Prefect requires (not
the lab's own additions), by doing just that step many times:
- request_s: one of the requests a runner-started run needs beyond an in-process flow's (the
  poll that finds it, Pending, reading the run and its deployment): the median of those four
  on a bare flow run;
- flow_s: a flow with no task run in-process (create, Running, Completed, engine set-up);
- task_s: one more task call in such a flow (a no-op task);
- process_s: a process forked from a server that has Prefect's engine preloaded, started and
  joined (what the runner's fork adapter does per run);
- poll_s: the runner's poll, as the runner published it; a run waits poll_s / 2 on average.

`measure.pattern_floor` (pure) adds them up per pattern with the counts a tuned run had, plus the
hand-off waits Prefect's design requires and the plain work. docs/performance.md has the
profile of one tuned monoflow run this model is built from.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from collections.abc import Callable
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Pending, Running

from flows import adapters
from flows.catalog import ENTRY_DEPLOYMENTS
from patternlab.backend import api_url, deployment_id, prefect_settings
from patternlab.backend.published import read_runner_facts

PRELOAD = ["prefect.engine", "prefect.flow_engine", "prefect.task_engine"]
PROBE_TASKS = 5


@task(name="floor-probe-task", cache_policy=NO_CACHE)
def _noop_task() -> None:
    """Do nothing: the cost of a task call is all orchestration."""


@flow(name="floor-probe")
def _probe(tasks: int = 0) -> None:
    """Call `tasks` no-op tasks: the cost of a flow and of its task calls."""
    for _ in range(tasks):
        _noop_task()


def _noop() -> None:
    """Be a process and end."""


def _median_s(samples: int, step: Callable[[], Any]) -> float:
    """Return the median wall time of a step, in seconds (one unmeasured call first)."""
    step()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _request_s(client: Any, samples: int) -> float:
    """Return the median of the requests a runner-started run adds, on bare flow runs."""
    deployment = deployment_id(ENTRY_DEPLOYMENTS["monoflow"])
    times = []
    for _ in range(samples):
        run = client.create_flow_run(_probe, parameters={"tasks": 0})
        for call in (
            lambda r=run: client.set_flow_run_state(r.id, Pending(), force=True),
            lambda r=run: client.read_flow_run(r.id),
            lambda: client.read_deployment(deployment),
            lambda r=run: client.set_flow_run_state(r.id, Running(), force=True),
        ):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        client.set_flow_run_state(run.id, Completed(), force=True)
    return statistics.median(times)


def measure_steps(client: Any, samples: int = 7) -> dict[str, float | None]:
    """Price each step Prefect requires, on this process's backend (seconds)."""
    adapters.install()  # as in the runner's flow processes: no heartbeat join on exit
    with prefect_settings(retries=True):
        flow_s = _median_s(samples, lambda: _probe(0))
        with_tasks = _median_s(samples, lambda: _probe(PROBE_TASKS))
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)

    def fork() -> None:
        process = ctx.Process(target=_noop)
        process.start()
        process.join()

    facts = read_runner_facts(api_url(), timeout=5) or {}
    return {
        "request_s": round(_request_s(client, samples), 4),
        "flow_s": round(flow_s, 4),
        "task_s": round(max(with_tasks - flow_s, 0.0) / PROBE_TASKS, 4),
        "process_s": round(_median_s(samples, fork), 4),
        "poll_s": facts.get("query_seconds"),
        "child_poll_s": facts.get("child_poll_s"),
    }
