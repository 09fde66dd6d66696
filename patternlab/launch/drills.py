"""Failure drills: what each pattern is documented to do when a step fails, and what it did."""

from __future__ import annotations

from pydantic import BaseModel

from flows.catalog import CHILD_FLOWS, DRILLS
from patternlab.launch.models import PatternReport
from patternlab.settings import get_settings

__all__ = ["CHILD_FLOWS", "DRILLS", "DRILL_LABELS", "DrillOutcome", "documented", "drill_outcome"]
DRILL_LABELS = {
    "none": "No failure",
    "upstream": "Upstream/entry step fails",
    "child": "Child step fails (subflow, deployment child, triggered flow)",
    "transient": "GitHub answers 503 once (a task retry recovers)",
}

# (pattern, drill, variant) -> (entry, child, alert, why); "-" = the pattern has no such run.
_DOCUMENTED: dict[tuple[str, str, str], tuple[str, str, str, str]] = {
    ("monoflow", "upstream", ""): ("failed", "-", "-", "A failing task fails its flow."),
    ("monoflow", "child", ""): ("failed", "-", "-", "A failing task fails its flow."),
    ("subflows", "upstream", ""): (
        "failed", "not run", "-", "The parent fails before it calls its subflows."),
    ("subflows", "child", ""): (
        "failed", "failed", "-", "A failing subflow raises in its parent, which fails too."),
    ("deployments", "upstream", "wait"): (
        "failed", "not run", "-", "The parent fails before it starts the child deployment."),
    ("deployments", "upstream", "fire-and-forget"): (
        "failed", "not run", "-", "The parent fails before it starts the child deployment."),
    ("deployments", "child", "wait"): (
        "failed", "failed", "-",
        "run_deployment returns a failed child without raising: a waiting parent fails only "
        "because it checks the child's state (this one does)."),
    ("deployments", "child", "fire-and-forget"): (
        "completed", "failed", "-", "A parent that does not wait never learns its child failed."),
    ("events", "upstream", ""): (
        "failed", "not run", "fired",
        "No Completed event, so no downstream run; the proactive trigger fires the alert."),
    ("events", "child", ""): (
        "completed", "failed", "not fired",
        "The upstream completed and never learns that the flow its event triggered failed."),
}  # fmt: skip


class DrillOutcome(BaseModel):
    """One pattern's documented and observed behaviour under a drill."""

    pattern: str
    drill: str
    expected_entry: str
    expected_child: str
    expected_alert: str
    documented: str
    observed_entry: str
    observed_child: str
    observed_alert: str
    retries: int
    matches: bool


def documented(pattern: str, drill: str, variant: str | None) -> tuple[str, str, str, str]:
    """Return what the pattern is documented to do under the drill: entry, child, alert, why."""
    key = (pattern, drill, variant or "") if pattern == "deployments" else (pattern, drill, "")
    if key in _DOCUMENTED:
        return _DOCUMENTED[key]
    child = "-" if pattern == "monoflow" else "completed"
    alert = "not fired" if pattern == "events" else "-"
    why = "Every run completes." if drill == "none" else "The retried task succeeds; all complete."
    if pattern == "deployments" and variant == "fire-and-forget":
        why += " The parent does not wait for its child."
    return "completed", child, alert, why


def _observed_child(report: PatternReport) -> str:
    """Return the child step's status, or 'not run' / '-' when it has none."""
    if report.pattern == "monoflow":
        return "-"
    child = next((r for r in report.flow_runs if r.flow in CHILD_FLOWS), None)
    return child.status if child else "not run"


def _observed_alert(report: PatternReport) -> str:
    """Return whether the proactive alert fired ('-' outside the events pattern)."""
    if report.pattern != "events":
        return "-"
    return "fired" if any(r.role == "alert" for r in report.flow_runs) else "not fired"


def _upstream_ran_s(report: PatternReport) -> float | None:
    """Return how long the events upstream ran (None while unknown)."""
    entry = next((r for r in report.flow_runs if r.role == "entry"), None)
    if entry is None or entry.start is None or entry.end is None:
        return None
    return (entry.end - entry.start).total_seconds()


def drill_outcome(report: PatternReport, drill: str, window_s: float | None = None) -> DrillOutcome:
    """Compare what a pattern did under a drill with what it is documented to do.

    The proactive trigger's documented rule is "an upstream that does not complete within the
    window fires the alert", so an upstream that ran past the window (held on purpose, or slowed
    by a loaded machine) is expected to fire it, whatever the drill.
    """
    entry_exp, child_exp, alert_exp, why = documented(report.pattern, drill, report.variant)
    window = window_s if window_s is not None else get_settings().alert_window_s
    ran = _upstream_ran_s(report) if report.pattern == "events" else None
    if alert_exp == "not fired" and ran is not None and ran > window:
        alert_exp = "fired"
        why += f" The upstream ran {ran:.0f} s, past its {window:.0f} s window: the alert fires."
    entry = next((r for r in report.flow_runs if r.role == "entry"), None)
    observed = (entry.status if entry else "not run", _observed_child(report),
                _observed_alert(report))  # fmt: skip
    return DrillOutcome(
        pattern=report.pattern,
        drill=drill,
        expected_entry=entry_exp,
        expected_child=child_exp,
        expected_alert=alert_exp,
        documented=why,
        observed_entry=observed[0],
        observed_child=observed[1],
        observed_alert=observed[2],
        retries=sum(len(r.retried_tasks) for r in report.flow_runs),
        matches=observed == (entry_exp, child_exp, alert_exp),
    )
