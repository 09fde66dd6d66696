"""The benchmark's per-run measures, as pure functions of a pattern's runs and task states.

Definitions (docs/performance.md):
- task_call_ms: orchestration cost of one task call. Per flow run, the span from the first
  measured task's Pending to the last one's Completed, minus the work measured inside them,
  divided by their number (so the gap between two calls counts as call cost).
- subflow_call_ms: orchestration cost of one subflow call, seen from the parent: subflow run
  created -> the parent's next step (next subflow created, or the parent's end), minus the span
  of the subflow's task calls (all of them). Includes any wait on exit (the heartbeat join) and
  the one artifact each lab flow writes about its process.
- trigger_to_scheduled_s / trigger_to_running_s: events pattern, upstream Completed ->
  downstream flow run created / Running.
- notice_s: deployments pattern, child Completed -> parent Completed (the parent's poll).
- pickup_s / process_start_s: for runs the runner starts (entry, deployment child, triggered),
  Scheduled -> Pending (waiting for the runner's poll) and Pending -> Running (proposing
  Submitting, starting the flow's process, loading the flow), averaged over those runs.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from patternlab.launch import FlowRunInfo

# Tasks whose work the flows measure inside (flows/tasks.py `_measure`): their work is known.
MEASURED_TASKS = ("fetch_repo", "fetch_contributors", "fetch_commit_activity", "summarise_stats")
METRICS = (
    "end_to_end_s", "queue_s", "handoff_s", "work_s", "overhead_s", "task_call_ms",
    "subflow_call_ms", "trigger_to_scheduled_s", "trigger_to_running_s", "notice_s", "pickup_s",
    "process_start_s", "cpu_s", "flow_runs", "task_runs", "runner_runs",
)  # fmt: skip
RUNNER_STARTED = ("entry", "deployment-child", "triggered")  # roles the runner starts a process for


@dataclass(frozen=True)
class TaskSpan:
    """One task run: its flow run, its task's name, and its Pending and final timestamps."""

    flow_run_id: str
    task: str
    pending: datetime
    final: datetime


def task_name(run_name: str) -> str:
    """Return the task's name from a task run's name (`fetch_repo-3d8` -> `fetch_repo`)."""
    return run_name.rsplit("-", 1)[0]


def _secs(a: datetime | None, b: datetime | None) -> float | None:
    """Return b - a in seconds, or None when either is unknown."""
    return None if a is None or b is None else (b - a).total_seconds()


def _measured_span(spans: Iterable[TaskSpan], *, every: bool = False) -> tuple[float, int]:
    """Return the span (s) from the first (measured) task's Pending to the last one's end, and n."""
    mine = [s for s in spans if every or s.task in MEASURED_TASKS]
    if not mine:
        return 0.0, 0
    return (max(s.final for s in mine) - min(s.pending for s in mine)).total_seconds(), len(mine)


def _by_run(spans: Iterable[TaskSpan]) -> dict[str, list[TaskSpan]]:
    """Group task spans by flow run id."""
    grouped: dict[str, list[TaskSpan]] = {}
    for s in spans:
        grouped.setdefault(s.flow_run_id, []).append(s)
    return grouped


def task_call_ms(runs: Sequence[FlowRunInfo], spans: Iterable[TaskSpan]) -> float | None:
    """Return the mean orchestration cost of one measured task call, in milliseconds."""
    grouped = _by_run(spans)
    overhead, calls = 0.0, 0
    for run in runs:
        span, n = _measured_span(grouped.get(run.id, []))
        if n:
            overhead += span - (run.work_s or 0.0)
            calls += n
    return round(1000 * overhead / calls, 2) if calls else None


def subflow_call_ms(runs: Sequence[FlowRunInfo], spans: Iterable[TaskSpan]) -> float | None:
    """Return the mean orchestration cost of one subflow call seen from its parent, in ms."""
    entry = next((r for r in runs if r.role == "entry"), None)
    subs = sorted((r for r in runs if r.role == "subflow"), key=lambda r: r.created)
    if entry is None or entry.end is None or not subs:
        return None
    grouped = _by_run(spans)
    costs = []
    for i, sub in enumerate(subs):
        back = subs[i + 1].created if i + 1 < len(subs) else entry.end
        span, _ = _measured_span(grouped.get(sub.id, []), every=True)
        costs.append((back - sub.created).total_seconds() - span)
    return round(1000 * statistics.fmean(costs), 1)


def trigger_delays(runs: Sequence[FlowRunInfo]) -> tuple[float | None, float | None]:
    """Return upstream Completed -> downstream created, and -> downstream Running (seconds)."""
    entry = next((r for r in runs if r.role == "entry"), None)
    down = next((r for r in runs if r.role == "triggered"), None)
    if entry is None or down is None:
        return None, None
    return _secs(entry.end, down.created), _secs(entry.end, down.start)


def notice_s(runs: Sequence[FlowRunInfo]) -> float | None:
    """Return deployment child Completed -> parent Completed, in seconds."""
    entry = next((r for r in runs if r.role == "entry"), None)
    child = next((r for r in runs if r.role == "deployment-child"), None)
    if entry is None or child is None:
        return None
    return _secs(child.end, entry.end)


def start_phases(histories: dict[str, list[tuple[str, datetime]]]) -> dict[str, float | None]:
    """Return mean Scheduled -> Pending and Pending -> Running over runs' state histories."""
    pickups, starts = [], []
    for states in histories.values():
        first = {}
        for name, at in states:
            first.setdefault(name, at)
        pickups.append(_secs(first.get("Scheduled"), first.get("Pending")))
        starts.append(_secs(first.get("Pending"), first.get("Running")))
    known_p = [v for v in pickups if v is not None]
    known_s = [v for v in starts if v is not None]
    return {
        "pickup_s": round(statistics.fmean(known_p), 3) if known_p else None,
        "process_start_s": round(statistics.fmean(known_s), 3) if known_s else None,
    }


def summarise(values: Iterable[float | None]) -> dict[str, float] | None:
    """Return the median, min and max of the known values, or None when there are none."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return {
        "median": round(statistics.median(known), 3),
        "min": round(min(known), 3),
        "max": round(max(known), 3),
    }


RUNNER_REQUESTS = 4  # the poll that finds the run, Pending, read the run, read its deployment


def pattern_floor(steps: dict[str, float | None], counts: dict[str, float]) -> float | None:
    """Return the floor of one pattern: its required steps priced, plus its plain work.

    counts: runner_runs, flow_runs, task_runs (medians of the tuned runs), work_s (plain),
    handoff_wait_s (what Prefect's design makes a hand-off wait: half the child poll for a
    waiting parent, the event pipeline for a trigger).
    """
    needed = ("request_s", "flow_s", "task_s", "process_s", "poll_s")
    if any(steps.get(k) is None for k in needed) or any(v is None for v in counts.values()):
        return None
    runner = steps["poll_s"] / 2 + RUNNER_REQUESTS * steps["request_s"] + steps["process_s"]
    total = (
        counts["runner_runs"] * runner
        + counts["flow_runs"] * steps["flow_s"]
        + counts["task_runs"] * steps["task_s"]
        + counts["handoff_wait_s"]
        + counts["work_s"]
    )
    return round(total, 3)
