"""The one rule for which runs a pattern's launch still expects, and whether it is over.

Read-back (which runs to look for), the reports (done or not) and History (end-to-end or not
yet) all ask here. Runs that code starts (subflows, a deployment child) appear as soon as their
parent creates them; runs that an automation starts appear after the event that triggers them,
and tag themselves with the launch only once they start.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from flows.catalog import EVENTS_DOWNSTREAM
from patternlab.launch.models import FlowRunInfo, Role

TRIGGER_GRACE_S = 30.0  # how long after a run is due the lab waits for Prefect to create it
DUE_WHAT: dict[str, str] = {
    "deployment-child": "waiting for the child run",
    "triggered": "waiting for the automation to start the downstream flow",
    "alert": "waiting for the proactive alert",
}


def entry_of(runs: Sequence[FlowRunInfo]) -> FlowRunInfo | None:
    """Return the pattern's entry run (the one the lab created), if it is there."""
    return next((r for r in runs if r.role == "entry"), None)


def emitted(entry: FlowRunInfo | None) -> bool:
    """Say whether an events launch was started by a refresh request, not by an upstream run."""
    return entry is not None and entry.flow == EVENTS_DOWNSTREAM


def missed_window(entry: FlowRunInfo, now: datetime, window_s: float) -> bool:
    """Say whether an events upstream did not complete within the proactive trigger's window."""
    window = timedelta(seconds=window_s)
    if not entry.final:
        return entry.start is not None and now - entry.start > window
    ran = (entry.end - entry.start) if entry.start and entry.end else timedelta(0)
    return entry.status != "completed" or ran > window


def due_runs(
    pattern: str, runs: Sequence[FlowRunInfo], now: datetime, window_s: float
) -> dict[Role, datetime]:
    """Return the runs Prefect should create for this pattern that are not seen yet, by role,
    with the time each became due (the entry's end, or now while the entry still runs)."""
    entry = entry_of(runs)
    if entry is None or emitted(entry):  # an event started the downstream: nothing follows it
        return {}
    roles = {r.role for r in runs}
    since = entry.end or now
    due: dict[Role, datetime] = {}
    completed = entry.status == "completed"
    if pattern == "deployments" and completed and "deployment-child" not in roles:
        due["deployment-child"] = since
    if pattern == "events":
        if completed and "triggered" not in roles:
            due["triggered"] = since
        if "alert" not in roles and missed_window(entry, now, window_s):
            due["alert"] = since
    return due


def pending_reason(
    pattern: str,
    runs: Sequence[FlowRunInfo],
    now: datetime,
    window_s: float,
    *,
    ignore: Collection[str] = (),
) -> str | None:
    """Return why the pattern is not over yet, or None once every expected run is final.

    A run Prefect should create but has not within the grace (the automation's alert waits for
    its window too) is given up on: the report then says it is missing. `ignore` leaves out
    roles that do not matter to the caller (History's end-to-end time ignores the alert).
    """
    if entry_of(runs) is None:
        return "waiting for the entry run"
    unfinished = [r for r in runs if not r.final and r.role not in ignore]
    if unfinished:
        return f"{unfinished[0].name} is {unfinished[0].state}"
    for role, since in due_runs(pattern, runs, now, window_s).items():
        grace = TRIGGER_GRACE_S + (window_s if role == "alert" else 0.0)
        if role not in ignore and (now - since).total_seconds() < grace:
            return DUE_WHAT[role]
    return None


def untagged_may_exist(runs: Sequence[FlowRunInfo], now: datetime, window_s: float) -> bool:
    """Say whether an automation may have created a run of this launch not tagged yet.

    Triggered runs tag themselves when they start; between creation and start only a look at
    the triggered deployments finds them.
    """
    return bool({"triggered", "alert"} & set(due_runs("events", runs, now, window_s)))
