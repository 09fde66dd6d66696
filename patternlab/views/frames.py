"""Turn launch reports into the rows and tables the pages show (pure: no Streamlit, no I/O)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import pandas as pd

from patternlab.launch import (
    FINAL_STATUSES,
    PATTERN_INFO,
    FlowRunInfo,
    LaunchReport,
    PatternReport,
    alert_deadline,
)
from patternlab.views.failures import retries_label, short_message
from patternlab.views.labels import Entry, pattern_title

TRAITS = ("conceptual", "execution", "awareness")
RUN_TREE_COLUMNS = [
    "run", "role", "state", "status", "retries", "message", "task runs", "waited s", "ran s",
    "started by", "process", "worker", "name", "prefect",
]  # fmt: skip
WAITING = frozenset({"scheduled", "pending"})


def flow_excerpt(source: str) -> tuple[int, str]:
    """Return the code from the first top-level def, class or decorator on, and its line number."""
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith(("@", "def ", "class "))), 0)
    return first + 1, "\n".join(lines[first:])


ALERT_STATE = "Alert fired"
ALERT_STATUS = "alert"  # its own colour (charts.STATE_COLORS): an alert, not one more Completed


def launch_state(report: LaunchReport) -> str:
    """Say how a launch as a whole is doing: Running, Completed or Failed (settled at once)."""
    if any(p.state == "Failed" for p in report.patterns):
        return "Failed" if report.done else "Failed · runs still due"
    return "Completed" if report.done else "Running"


def shown_state(run: FlowRunInfo) -> tuple[str, str]:
    """Return the state label and colour status a run is shown with: the proactive alert's
    completed run reads as an alert, every other run as Prefect's state."""
    if run.role == "alert" and run.status == "completed":
        return f"{ALERT_STATE} ({run.state})", ALERT_STATUS
    return run.state, run.status


def elapsed_s(report: LaunchReport, now: datetime) -> float | None:
    """Return seconds from the launch to now, or to its last run's end once it is done."""
    if report.created is None:
        return None
    ends = [r.end for p in report.patterns for r in p.flow_runs if r.end]
    until = max(ends) if report.done and ends else now
    return round(max((until - report.created).total_seconds(), 0.0), 1)


def _run_elapsed(run: FlowRunInfo, now: datetime) -> float | None:
    """Return how long a run has run (to its end, or to now while running)."""
    if run.start is None:
        return None
    until = run.end or (None if run.status in FINAL_STATUSES else now)
    return None if until is None else round((until - run.start).total_seconds(), 2)


def _tree_order(runs: Sequence[FlowRunInfo]) -> list[tuple[int, FlowRunInfo]]:
    """Order runs parents-first, each with its depth (runs an automation started are roots)."""
    ids = {r.id for r in runs}
    children: dict[str | None, list[FlowRunInfo]] = defaultdict(list)
    for r in sorted(runs, key=lambda r: r.created):
        children[r.parent_id if r.parent_id in ids else None].append(r)
    out: list[tuple[int, FlowRunInfo]] = []

    def walk(parent: str | None, depth: int) -> None:
        for run in children.get(parent, []):
            out.append((depth, run))
            walk(run.id, depth + 1)

    walk(None, 0)
    return out


def run_tree_frame(report: PatternReport, now: datetime) -> pd.DataFrame:
    """Return one row per flow run, parents first, indented by depth, with state and links."""
    rows = []
    counted = report.progress is not None  # read by counts: the lead's own tasks not read yet
    for depth, run in _tree_order(report.flow_runs):
        mark = "⇢ " if run.created_by == "automation" else ("↳ " if depth else "")
        waited = (run.start or now) - run.created
        state, status = shown_state(run)
        rows.append(
            {
                "run": "\u2003" * depth + mark + run.flow,
                "role": run.role,
                "state": state,
                "status": status,
                "retries": retries_label(run),
                "message": short_message(run.message),
                "task runs": None if counted else run.task_runs,
                "waited s": round(max(waited.total_seconds(), 0.0), 2),
                "ran s": _run_elapsed(run, now),
                "started by": run.created_by,
                "process": f"{run.host} · pid {run.pid}" if run.pid else "",
                "worker": run.worker or "",
                "name": run.name,
                "prefect": run.ui_url or "",
            }
        )
    return pd.DataFrame(rows, columns=RUN_TREE_COLUMNS).astype(
        {"ran s": "float64", "task runs": "Int64"}
    )


def waiting_runs(report: LaunchReport, now: datetime, limit_s: float = 30.0) -> list[str]:
    """Describe runs that have waited longer than `limit_s` for a runner to pick them up."""
    out = []
    for p in report.patterns:
        for r in p.flow_runs:
            waited = (now - r.created).total_seconds()
            if r.status in WAITING and r.start is None and waited > limit_s:
                out.append(f"{r.flow} ({pattern_title(p.pattern)}) has been {r.state} for "
                           f"{waited:.0f} s")  # fmt: skip
    return out


def timeline_frame(report: LaunchReport) -> pd.DataFrame:
    """Return one Gantt row per flow run: label, state, created, start and end."""
    # Each row names the host that ran it, so runs on other hosts stand out (pool mode).
    rows = [
        {"row": f"{pattern_title(p.pattern)} · {'↳ ' if depth else ''}{r.flow}"
                + (f" @ {r.host}" if r.host else ""),
         "pattern": p.pattern, "state": shown_state(r)[0], "status": shown_state(r)[1],
         "created": r.created, "start": r.start, "end": r.end, "host": r.host}
        for p in report.patterns
        for depth, r in _tree_order(p.flow_runs)
    ]  # fmt: skip
    columns = ["row", "pattern", "state", "status", "created", "start", "end", "host"]
    return pd.DataFrame(rows, columns=columns)


def alert_deadlines(report: LaunchReport, window_s: float) -> list[tuple[str, datetime]]:
    """Return where the timeline marks each events pattern's alert window ending."""
    marks = []
    for p in report.patterns:
        deadline = alert_deadline(p.flow_runs, window_s) if p.pattern == "events" else None
        if deadline is not None:
            label = f"alert window ends ({window_s:g} s after the upstream started)"
            # A plain datetime: Prefect's DateTime subclass is not JSON to plotly's orjson.
            marks.append((label, datetime.fromtimestamp(deadline.timestamp(), tz=UTC)))
    return marks


def timings_frame(items: Iterable[Entry]) -> pd.DataFrame:
    """Return each pattern's time split: queue (pick-up, process start), hand-off, held on
    purpose, work, overhead and end-to-end.

    A fan-out's runs overlap: its work, summed over them, is no part of its end-to-end time
    (and each run's work waits for a core while many run at once). Its bar is the queue, then
    `running_s`, the rest of end-to-end; the summed work stays in `work_total_s` with the work
    per repository, and `work_s` (the stacked part) is left empty.
    """
    rows = []
    for e in items:
        t, repos = e.report.timings, e.report.repos
        split = t.pickup_s is not None and t.process_start_s is not None
        # The queue not split yet (the split is read once the launch is over), else ~0.
        rest = (t.queue_s or 0.0) - (
            (t.pickup_s or 0.0) + (t.process_start_s or 0.0) if split else 0.0
        )
        row = {"label": e.label, "pattern": e.pattern, "launch": e.launch_id, "repos": repos}
        row |= t.model_dump()
        per_repo = None if t.work_s is None else round(1000 * t.work_s / repos, 1)
        row |= {"queue_unsplit_s": round(max(rest, 0.0), 3), "work_total_s": t.work_s,
                "work_per_repo_ms": per_repo}  # fmt: skip
        if repos > 1:
            row["work_s"] = None
            if t.end_to_end_s is not None:
                row["running_s"] = round(max(t.end_to_end_s - (t.queue_s or 0.0), 0.0), 3)
        rows.append(row)
    columns = ["label", "pattern", "launch", "repos", "end_to_end_s", "queue_s", "pickup_s",
               "process_start_s", "queue_unsplit_s", "execution_s", "running_s", "handoff_s",
               "held_s", "work_s", "overhead_s", "work_total_s", "work_per_repo_ms"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns).astype({c: "float64" for c in columns[4:]})


def counts_frame(items: Iterable[Entry]) -> pd.DataFrame:
    """Return each pattern's flow-run, task-run and process counts."""
    rows = [
        {"label": e.label, "pattern": e.pattern, "repos": e.report.repos,
         "flow_runs": len(e.report.flow_runs), "task_runs": e.report.task_runs,
         "processes": e.report.processes}
        for e in items
    ]  # fmt: skip
    columns = ["label", "pattern", "repos", "flow_runs", "task_runs", "processes"]
    return pd.DataFrame(rows, columns=columns)


NOT_OBSERVED = "not observed"
NOT_OBSERVED_WHY = "the run that would show it did not run"


def mismatches(entry: Entry) -> list[str]:
    """List the traits observed to differ from the documented separation.

    A trait that could not be observed (the runs that would show it did not run) is not a
    difference: `unobserved` lists those.
    """
    info = PATTERN_INFO.get(entry.pattern)
    if info is None:
        return []
    sep = entry.report.separation
    observed = sep.model_dump()
    return [
        f"{trait}: observed {'yes' if observed[trait] else 'no'}, "
        f"documented {'yes' if documented else 'no'}"
        for trait, documented in zip(TRAITS, info.documented, strict=True)
        if observed[trait] != documented and trait not in sep.not_observed
    ]


def unobserved(entry: Entry) -> list[str]:
    """List the documented traits a pattern could not show, with why (its other runs never ran)."""
    sep = entry.report.separation
    when = "did not run" if entry.report.done else "has not run yet"
    return [
        f"{trait}: {NOT_OBSERVED} (the run that would show it {when})" for trait in sep.not_observed
    ]


def _separation_cell(observed: bool, documented: bool, unseen: bool, done: bool) -> str:
    """Show one trait: ✓/✗, "not observed" when it could not be, the docs where they differ."""
    if unseen:
        return f"– {NOT_OBSERVED}" + ("" if done else " yet")
    cell = "✓" if observed else "✗"
    return cell if observed == documented else f"{cell}  (documented {'✓' if documented else '✗'})"


def separation_frame(items: Iterable[Entry]) -> pd.DataFrame:
    """Return observed separation per pattern (✓/✗ or not observed), the docs where they differ."""
    rows = []
    for e in items:
        sep = e.report.separation
        observed = sep.model_dump()
        row: dict[str, object] = {"label": e.label, "pattern": e.pattern}
        for trait, doc in zip(TRAITS, PATTERN_INFO[e.pattern].documented, strict=True):
            unseen = trait in sep.not_observed
            row[trait] = _separation_cell(observed[trait], doc, unseen, e.report.done)
        found = [f.split(":")[0] for f in mismatches(e)]
        verdict = "yes" if not found else "NO: " + ", ".join(found)
        if sep.not_observed:
            verdict += f" ({NOT_OBSERVED}: {', '.join(sep.not_observed)})"
        row["matches docs"] = verdict
        rows.append(row)
    return pd.DataFrame(rows, columns=["label", "pattern", *TRAITS, "matches docs"])


def documented_frame() -> pd.DataFrame:
    """Return the documented separation table of the four patterns."""
    rows = [
        {"pattern": info.title, "summary": info.summary}
        | dict(zip(TRAITS, info.documented, strict=True))
        for info in PATTERN_INFO.values()
    ]
    return pd.DataFrame(rows)
