"""Presentation: the rows, tables and figures the pages show (pure: no Streamlit, no I/O).

`frames` and `labels` make tables from the lab's reports, `stats` the repository statistics,
`failures` the error hints and failure isolation, `charts` the plotly figures.
"""

from patternlab.views.frames import (
    TRAITS,
    alert_deadlines,
    counts_frame,
    documented_frame,
    elapsed_s,
    flow_excerpt,
    launch_state,
    mismatches,
    run_tree_frame,
    separation_frame,
    timeline_frame,
    timings_frame,
    unobserved,
    waiting_runs,
)
from patternlab.views.labels import Entry, entries, escape_md, pattern_title
from patternlab.views.launches import (
    END_TO_END_S,
    ENTRY_RUN_S,
    history_frame,
    launch_label,
    launch_labels,
    unique_launches,
)
from patternlab.views.where import host_fault_lines, where_frame, where_label

__all__ = [
    "END_TO_END_S", "ENTRY_RUN_S", "TRAITS", "Entry", "alert_deadlines",
    "counts_frame", "documented_frame",
    "elapsed_s", "entries", "escape_md", "flow_excerpt", "history_frame", "launch_state",
    "mismatches", "pattern_title", "run_tree_frame", "separation_frame", "timeline_frame",
    "timings_frame", "unique_launches", "unobserved", "waiting_runs", "where_frame", "where_label",
    "host_fault_lines", "launch_label", "launch_labels",
]  # fmt: skip
