"""The Scale view's tables: the scale benchmark's curves, targets and notes (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from patternlab.views.glossary import number

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


# The "Every point" table: its columns (the frame's, less the pattern), digits and headers
POINT_COLUMNS = {
    "variant": (None, "variant"), "repos": (0, "N"), "end_to_end_s": (2, "end-to-end s"),
    "marginal_ms": (1, "marginal ms"), "per_repo_ms": (1, "ms / repo"),
    "flow_runs": (0, "flow runs"), "task_runs": (0, "task runs"), "processes": (0, "processes"),
    "api_calls": (0, "API requests"), "peak_running": (0, "at once"), "poll_ms": (1, "poll ms"),
}  # fmt: skip


def points_table(curves: pd.DataFrame) -> pd.DataFrame:
    """Return every point as the page shows it: numbers as on every page (1,234.5), `–` where a
    point has none (the marginal cost at the smallest N), never "None" or "nan"; "done" is the
    launches that completed of those run."""
    shown = pd.DataFrame()
    for column, (digits, header) in POINT_COLUMNS.items():
        values = curves[column].tolist()  # Python numbers; number() shows None and NaN as `–`
        shown[header] = [v if digits is None else number(v, digits) for v in values]
    pairs = zip(curves["completed"].tolist(), curves["runs"].tolist(), strict=True)
    shown["done"] = [f"{number(done)}/{number(runs)}" for done, runs in pairs]
    return shown


def points_by_variant(curves: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return the "Every point" table split per variant (a tab each: 1280 px wide, no scroll)."""
    table = points_table(curves)
    return {str(v): rows.drop(columns="variant").reset_index(drop=True)
            for v, rows in table.groupby("variant", sort=False)}  # fmt: skip


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


def _value(value: Any) -> str:
    """Format a measured figure as every page does (`–` when it was not measured)."""
    return number(value, 1) if isinstance(value, float) else number(value)


def poll_note(poll: dict[str, Any]) -> str:
    """Say what one dashboard poll of the largest running launch cost (`–` where not measured)."""
    return (
        f"One dashboard poll of a running {number(poll.get('repos'))}-repository launch "
        f"({poll.get('launch') or 'not measured'}): {_value(poll.get('poll_ms'))} ms median "
        f"({_value(poll.get('poll_ms_max'))} ms at most), {number(poll.get('poll_calls'))} API "
        "calls (counts, never every run)."
    )


def targets_frame(result: dict[str, Any]) -> pd.DataFrame:
    """Return the targets: what, the measured value, the limit, met or not."""
    rows = [{"target": t["target"], "value": _value(t["value"]), "limit": t["limit"],
             "met": {True: "met", False: "MISSED", None: "not measured"}[t["met"]]}
            for t in result.get("targets", [])]  # fmt: skip
    return pd.DataFrame(rows, columns=["target", "value", "limit", "met"])


def measured_note(result: dict[str, Any]) -> str:
    """Say when and on what the figures were measured (with the load average), as plain text
    (the page escapes it): "bench --scale 1,8,32,128 finished 2026-12-06 17:46 UTC after 20 min
    6 s on 2 cores; ..."."""
    m = result.get("machine", {})
    before, after = m.get("loadavg_before", ["?"]), m.get("loadavg_after", ["?"])
    repeat = m.get("repeat", 1)
    per_point = f"{repeat} runs per point (medians)" if repeat != 1 else "1 run per point"
    return (f"bench --scale {','.join(map(str, m.get('sizes', [])))} finished "
            f"{_when(m.get('finished'))} after {_took(m.get('took_s'))} on "
            f"{m.get('cpus', '?')} cores; load average {before[0]} before, {after[0]} after; "
            f"{m.get('source', '')}; {per_point}.")  # fmt: skip


def _when(iso: str | None) -> str:
    """Return "2026-12-06 17:46 UTC" for a saved ISO time ("at an unknown time" without one)."""
    try:
        return f"{datetime.fromisoformat(iso or '').astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    except (TypeError, ValueError):
        return "at an unknown time"


def _took(seconds: float | None) -> str:
    """Return "20 min 6 s" (or "43 s") for a duration in seconds ("? s" without one)."""
    if not isinstance(seconds, int | float):
        return "? s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
