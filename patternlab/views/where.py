"""Where the runs ran: hosts, processes and workers per pattern (pure: no Streamlit, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from patternlab.launch import PatternReport
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
