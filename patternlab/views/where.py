"""Where the runs ran: hosts, processes and workers per pattern (pure: no Streamlit, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from patternlab.launch import HostFaultOutcome, LaunchReport, PatternReport
from patternlab.views.labels import Entry

WHERE_COLUMNS = ["label", "pattern", "ran on", "hosts", "processes", "workers", "host names"]


def where_label(report: PatternReport) -> str:
    """Say how many hosts and processes ran a pattern, e.g. "2 hosts / 3 processes"."""
    hosts, procs = report.hosts, report.processes
    return f"{hosts} host{'s' * (hosts != 1)} / {procs} process{'es' * (procs != 1)}"


def where_frame(items: Iterable[Entry]) -> pd.DataFrame:
    """Return, per pattern, the hosts, processes and Prefect workers that ran its flows."""
    rows = []
    for e in items:
        runs = e.report.flow_runs
        rows.append({
            "label": e.label, "pattern": e.pattern, "ran on": where_label(e.report),
            "hosts": e.report.hosts, "processes": e.report.processes,
            "workers": ", ".join(sorted({r.worker for r in runs if r.worker})) or "runner",
            "host names": ", ".join(sorted({r.host for r in runs if r.host})),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=WHERE_COLUMNS)


def host_fault_lines(outcome: HostFaultOutcome, report: LaunchReport | None) -> list[str]:
    """Say what a host-fault drill killed, and what became of the run it hit (and how fast)."""
    if outcome.status == "watching":
        return ["Host fault armed: waiting for a lab worker to take the child step…"]
    if outcome.status != "killed":
        return [f"Host fault {outcome.status}: {outcome.note}."]
    when = f"{outcome.killed_at:%H:%M:%S} UTC" if outcome.killed_at else "?"
    lines = [
        f"Killed worker {outcome.worker} on host {outcome.host} at {when} ({outcome.note}; "
        f"{len(outcome.pids)} processes: pids {', '.join(map(str, outcome.pids))})."
    ]
    runs = [r for p in (report.patterns if report else []) for r in p.flow_runs]
    hit = next((r for r in runs if r.id == outcome.run_id), None)
    if hit is not None and hit.final and hit.end and outcome.killed_at:
        after = (hit.end - outcome.killed_at).total_seconds()
        lines.append(f"{hit.flow} ended {hit.state} {max(after, 0):.1f} s after the kill: "
                     f"{hit.message or 'no message'}")  # fmt: skip
    elif hit is not None:
        lines.append(f"{hit.flow} is {hit.state}: the lab's recovery ends it at its next poll.")
    return lines
