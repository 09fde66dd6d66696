"""A launch told in sentences: what Prefect is doing while runs wait, what a drill did.

Pure: no Streamlit, no I/O. The Launch page shows these above the run trees, so the first
seconds read "waiting for the runner's poll" rather than a bare "Pending", and a failure drill
reads as one summary rather than a wall of red.
"""

from __future__ import annotations

from datetime import datetime

from patternlab.launch import DRILL_LABELS, FlowRunInfo, LaunchReport
from patternlab.views.failures import expected_outcome, parent_story
from patternlab.views.labels import pattern_title

_WHO = {"serve": "the runner", "pool": "a worker of the work pool"}


def _waiting_line(run: FlowRunInfo, title: str, waited: float, who: str, poll_s: float) -> str:
    """Say what Prefect is doing for one run that has not started yet."""
    head = f"{run.flow} ({title}) {run.state} for {waited:.1f} s: "
    if run.role == "subflow":
        return head + "a subflow runs in its parent's process, when the parent calls it."
    if run.status == "pending":
        return head + (
            f"{who} has claimed it and is starting a Python process for the flow "
            "(importing the code, starting Prefect's engine)."
        )
    if run.created_by == "automation" or run.role in ("triggered", "alert"):
        return head + f"the automation created it; {who} picks it up at its next poll."
    return head + f"created, waiting for {who} to claim it (it polls every {poll_s:g} s)."


def waiting_story(
    report: LaunchReport, now: datetime, *, execution: str = "serve", poll_s: float = 0.2
) -> list[str]:
    """Describe what Prefect is doing for each run not yet running (pick-up, process start)."""
    who = _WHO.get(execution, "the runner")
    out = []
    for p in report.patterns:
        for r in p.flow_runs:
            if r.start is None and r.status in ("scheduled", "pending"):
                waited = max((now - r.created).total_seconds(), 0.0)
                out.append(_waiting_line(r, pattern_title(p.pattern), waited, who, poll_s))
    return out


def _pattern_line(outcome_parent: str, child: str, alert: str, pattern: str) -> str:
    """Say what one pattern's runs did under the drill, in one clause."""
    parts = [f"parent {outcome_parent}"]
    if child not in ("-", "not run"):
        parts.append(f"child step {child}")
    elif child == "not run":
        parts.append("child step never ran")
    if alert != "-":
        parts.append(f"proactive alert {alert}")
    return f"{pattern_title(pattern)}: " + "; ".join(parts) + "."


def drill_story(report: LaunchReport, window_s: float) -> tuple[str, list[str]]:
    """Return a drill's headline (what failed on purpose) and one sentence per pattern."""
    label = DRILL_LABELS.get(report.drill, report.drill)
    headline = f"Failure drill: {label}. The failures below are on purpose."
    lines = []
    for p in report.patterns:
        if p.queued:
            lines.append(f"{pattern_title(p.pattern)}: waits for its turn.")
        elif not p.done:
            lines.append(f"{pattern_title(p.pattern)}: {p.state.lower()}, not over yet.")
        else:
            o = expected_outcome(p, report.drill, window_s)
            line = _pattern_line(parent_story(o), o.observed_child, o.observed_alert, p.pattern)
            if o.retries:
                line = line[:-1] + f"; {o.retries} task retries."
            lines.append(line + ("" if o.matches else " Differs from the documentation."))
    return headline, lines
