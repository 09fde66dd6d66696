"""Turn the flow runs of one launch into a pattern report: run tree, separations, timings.

Pure functions over plain data, so every definition here is testable without a server.
Definitions (also in docs/metrics.md):
- end_to_end_s: entry run created -> last non-alert run of the pattern ended.
- queue_s: entry run created -> entry run Running (pick-up by the runner or worker), split
  (once the launch is over) into pickup_s (created/Scheduled -> Pending: waiting for the poll)
  and process_start_s (Pending -> Running: starting the flow's process and engine).
- handoff_s: deployment child created -> Running, plus upstream ended -> triggered run Running.
- execution_s: time during which at least one run of the pattern was Running (interval union).
- work_s: time the tasks spent on the work itself (HTTP and arithmetic), measured inside them.
- held_s: time a flow waited on purpose (the events upstream's hold), measured in the flow.
- overhead_s: end_to_end_s - queue_s - handoff_s - work_s - held_s: what orchestration cost
  beyond those.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from patternlab.launch.catalog import PATTERN_INFO
from patternlab.launch.expect import (
    TRIGGER_GRACE_S,
    emitted,
    entry_of,
    missed_window,
    pending_reason,
)
from patternlab.launch.models import (
    FlowRunInfo,
    PatternReport,
    RepoStats,
    Separation,
    Timings,
)


def _secs(a: datetime | None, b: datetime | None) -> float | None:
    """Return b - a in seconds, or None when either is unknown."""
    return None if a is None or b is None else round((b - a).total_seconds(), 3)


def _union_s(intervals: list[tuple[datetime, datetime]]) -> float:
    """Return the length in seconds of the union of time intervals."""
    total, cur_start, cur_end = 0.0, None, None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += (cur_end - cur_start).total_seconds()
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += (cur_end - cur_start).total_seconds()
    return round(total, 3)


def compute_timings(runs: list[FlowRunInfo]) -> Timings:
    """Compute where the pattern's time went from its runs' timestamps and measured work."""
    entry = entry_of(runs)
    if entry is None:
        return Timings()
    main = [r for r in runs if r.role != "alert"]
    ends = [r.end for r in main if r.end]
    end_to_end = _secs(entry.created, max(ends)) if ends and all(r.final for r in main) else None
    handoff = 0.0
    for r in main:
        if r.role == "deployment-child":
            handoff += _secs(r.created, r.start) or 0.0
        elif r.role == "triggered":
            handoff += _secs(entry.end, r.start) or 0.0
    spans = [(r.start, r.end) for r in main if r.start and r.end]
    work = round(sum(r.work_s or 0.0 for r in runs), 3)
    held = round(sum(r.held_s or 0.0 for r in main), 3)
    queue = _secs(entry.created, entry.start)
    overhead = None
    if end_to_end is not None:
        overhead = round(max(end_to_end - (queue or 0) - handoff - work - held, 0.0), 3)
    pending = entry.pending_at if entry.start else None
    return Timings(
        end_to_end_s=end_to_end,
        queue_s=queue,
        pickup_s=_secs(entry.created, pending),
        process_start_s=_secs(pending, entry.start),
        execution_s=_union_s(spans) if spans else None,
        handoff_s=round(handoff, 3),
        work_s=work,
        held_s=held,
        overhead_s=overhead,
    )


def observe_separation(runs: list[FlowRunInfo], pattern: str | None = None) -> Separation:
    """Observe separations: flows, OS processes, and runs started by an automation.

    A trait the pattern is documented to show counts as not observed (rather than observed
    absent) when none of the runs that would show it ran: only the entry run did.
    """
    flows = {r.flow for r in runs}
    processes = {(r.host, r.pid) for r in runs if r.pid is not None}
    seen = {
        "conceptual": len(flows) > 1,
        "execution": len(processes) > 1,
        "awareness": any(r.created_by == "automation" for r in runs),
    }
    info = PATTERN_INFO.get(pattern or "")
    others_ran = any(r.role != "entry" and (r.start or r.pid) for r in runs)
    unseen = []
    if info is not None and not others_ran:
        unseen = [t for t, doc in zip(seen, info.documented, strict=True) if doc and not seen[t]]
    return Separation(**seen, not_observed=unseen)


def _errors(pattern: str, runs: list[FlowRunInfo], done: bool) -> list[str]:
    """List what went wrong, one line a user can act on per problem."""
    errors = [
        f"{r.name} ({r.flow}) ended {r.state}: {r.message or 'no message'}"
        for r in runs
        if r.status in {"failed", "crashed", "cancelled"}
    ]
    entry = entry_of(runs)
    if done and entry is not None and entry.status == "completed" and not emitted(entry):
        if pattern == "events" and not any(r.role == "triggered" for r in runs):
            errors.append(
                f"The automation did not start events-downstream within {TRIGGER_GRACE_S:.0f} s"
                " of the upstream completing (is the runner serving it?)"
            )
        if pattern == "deployments" and not any(r.role == "deployment-child" for r in runs):
            errors.append("The parent completed but no child run of average-commits-child exists")
    return errors


def alert_deadline(runs: list[FlowRunInfo], window_s: float) -> datetime | None:
    """Return when the proactive trigger's window ends: the upstream's start plus the window."""
    entry = entry_of(runs)
    if entry is None or entry.start is None:
        return None
    return entry.start + timedelta(seconds=window_s)


def _alert_note(runs: list[FlowRunInfo], window_s: int) -> str:
    """Say what the proactive trigger did for this launch, or what it will do and when."""
    alert = next((r for r in runs if r.role == "alert"), None)
    if alert is not None:
        return f"fired ({alert.state}): upstream did not complete within {window_s} s"
    entry = entry_of(runs)
    if emitted(entry):
        return "none: a refresh request started the downstream, with no upstream to watch"
    deadline = alert_deadline(runs, window_s)
    if entry is None or deadline is None:
        return "watching: the upstream has not started yet"
    at = f"{deadline:%H:%M:%S} UTC"
    if entry.final and entry.status != "completed":
        return (
            f"due: the upstream ended {entry.state}, so no Completed event will come; the alert "
            f"fires when its {window_s} s window ends at {at}"
        )
    if entry.final and missed_window(entry, entry.end or entry.start, window_s):
        return f"due: the upstream completed after its {window_s} s window, which ended at {at}"
    if entry.final:
        return f"not fired: upstream completed within {window_s} s"
    return f"watching: the upstream must complete within {window_s} s (by {at})"


def build_pattern_report(
    pattern: str,
    runs: list[FlowRunInfo],
    stats: RepoStats | None,
    *,
    now: datetime,
    window_s: int = 10,
    variant: str | None = None,
) -> PatternReport:
    """Assemble one pattern's report from its runs (all already read from Prefect)."""
    runs = sorted(runs, key=lambda r: r.created)
    reason = pending_reason(pattern, runs, now, window_s)
    done = reason is None
    errors = _errors(pattern, runs, done)
    # A run that failed settles the outcome at once, though runs may still be due (the alert).
    failed = bool(errors)
    state = "Failed" if failed else ("Completed" if done else "Running")
    return PatternReport(
        pattern=pattern,
        state=state,
        status="failed" if failed else ("completed" if done else "running"),
        done=done,
        pending=reason,
        stats=stats,
        flow_runs=runs,
        task_runs=sum(r.task_runs for r in runs),
        processes=len({(r.host, r.pid) for r in runs if r.pid is not None}),
        separation=observe_separation(runs, pattern),
        timings=compute_timings(runs),
        variant=variant,
        alert=_alert_note(runs, window_s) if pattern == "events" else None,
        errors=errors,
    )
