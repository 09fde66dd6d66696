"""The Scale view's tables: the scale benchmark's curves, targets and notes (pure)."""

from __future__ import annotations

from typing import Any

import pandas as pd

CURVE_COLUMNS = ["variant", "pattern", "repos", "end_to_end_s", "marginal_ms", "per_repo_ms",
                 "flow_runs", "task_runs", "processes", "api_calls", "peak_running", "poll_ms",
                 "completed", "runs"]  # fmt: skip
# (column, chart title, unit) of each curve the Scale view draws against N
CURVES = (
    ("end_to_end_s", "End-to-end time", "seconds"),
    ("marginal_ms", "Marginal cost of one more repository", "ms per repository"),
    ("flow_runs", "Flow runs", "flow runs"),
    ("task_runs", "Task runs (stand-ins excluded)", "task runs"),
    ("processes", "OS processes that ran flows", "processes"),
    ("api_calls", "Prefect API requests the server answered", "requests"),
)


def curves_frame(result: dict[str, Any]) -> pd.DataFrame:
    """Return one row per variant and N, in the benchmark's order."""
    return pd.DataFrame(result.get("curves", []), columns=CURVE_COLUMNS)


def drawable(curves: pd.DataFrame, column: str) -> pd.DataFrame:
    """Return the points a log axis can draw: launches that completed, values above zero."""
    known = curves.dropna(subset=[column])
    return known[(known["completed"] > 0) & (known[column] > 0)]


def left_out(curves: pd.DataFrame) -> list[str]:
    """Say which points the curves leave out, and why (unfinished, or <= 0 on a log axis)."""
    notes = [f"{r.variant} at N={r.repos}: did not complete ({r.completed} of {r.runs} runs)"
             for r in curves.itertuples() if r.completed == 0]  # fmt: skip
    for column, title, unit in CURVES:
        finished = curves[curves["completed"] > 0].dropna(subset=[column])
        for r in finished[finished[column] <= 0].itertuples():
            notes.append(f"{r.variant} at N={r.repos}: {title.lower()} "
                         f"{getattr(r, column):g} {unit}")  # fmt: skip
    return notes


def targets_frame(result: dict[str, Any]) -> pd.DataFrame:
    """Return the targets: what, the measured value, the limit, met or not."""
    rows = [{"target": t["target"], "value": t["value"], "limit": t["limit"],
             "met": {True: "met", False: "MISSED", None: "not measured"}[t["met"]]}
            for t in result.get("targets", [])]  # fmt: skip
    return pd.DataFrame(rows, columns=["target", "value", "limit", "met"])


def measured_note(result: dict[str, Any]) -> str:
    """Say when and on what the figures were measured (with the load average)."""
    m = result.get("machine", {})
    before, after = m.get("loadavg_before", ["?"]), m.get("loadavg_after", ["?"])
    return (f"`bench --scale {','.join(map(str, m.get('sizes', [])))}` finished "
            f"{m.get('finished', '?')} in {m.get('took_s', '?')} s on {m.get('cpus', '?')} cores; "
            f"load average {before[0]} before, {after[0]} after; {m.get('source', '')}, "
            f"{m.get('repeat', 1)} run(s) per point (medians).")  # fmt: skip
