"""Experiment: is the subflows pattern's task-call excess CPU contention? (docs/performance.md)

Runs monoflow and subflows on the lab's running tuned backend, first with every process free to
use both cores, then with the Prefect server and PostgreSQL pinned to core 0 and the runner (with
the flow processes it forks, which inherit its affinity) pinned to core 1, then free again. Prints
the medians of task call, subflow call and end-to-end per setting as JSON.

    .venv/bin/python -m patternlab backend up
    PYTHONPATH=. .venv/bin/python scripts/pin_cores.py [--runs 5]

Needs 2 cores and an otherwise quiet machine; affinities are restored at the end.
"""

from __future__ import annotations

import argparse
import json
import os

import psutil

from patternlab.backend import backend_pids
from patternlab.bench import measure, worker

MEASURES = ("task_call_ms", "subflow_call_ms", "end_to_end_s", "cpu_s")


def _tree(pid: int) -> list[psutil.Process]:
    """Return a process and all its descendants."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _pin(pids: list[int], cpus: set[int]) -> None:
    """Set the CPU affinity of every thread of every process under `pids`."""
    for pid in pids:
        for proc in _tree(pid):
            for tid in os.listdir(f"/proc/{proc.pid}/task"):
                try:
                    os.sched_setaffinity(int(tid), cpus)
                except (ProcessLookupError, PermissionError):
                    continue


def _medians(rows: list[dict]) -> dict[str, float | None]:
    """Return each measure's median over the runs that have it."""
    return {k: (measure.summarise(r.get(k) for r in rows) or {}).get("median") for k in MEASURES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pids = backend_pids()
    server = [p for p in (pids["server"], pids["postgres"]) if p]
    runner = [pids["runner"]] if pids["runner"] else []
    if not server or not runner:
        raise SystemExit("start the backend first: python -m patternlab backend up")
    every = set(range(os.cpu_count() or 1))
    settings = [("free", every, every), ("pinned", {0}, {1}), ("free again", every, every)]
    result = {"loadavg_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        for name, server_cpus, runner_cpus in settings:
            _pin(server, server_cpus)
            _pin(runner, runner_cpus)
            for pattern in ("monoflow", "subflows"):
                worker.run(pattern, "PrefectHQ/prefect")  # unmeasured: first fork, caches
                rows = [worker.run(pattern, "PrefectHQ/prefect") for _ in range(args.runs)]
                result[f"{name} {pattern}"] = _medians(rows) | {
                    "completed": sum(r["completed"] for r in rows)
                }
                print(name, pattern, result[f"{name} {pattern}"], flush=True)
    finally:
        _pin(server + runner, every)
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
