"""Say what went wrong and what to do: error hints, retries, each pattern's failure isolation.

Pure functions over the lab's reports (no Streamlit, no I/O).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import pandas as pd

from flows.catalog import CHILD_FLOWS
from patternlab.launch import (
    DRILL_LABELS,
    DrillOutcome,
    FlowRunInfo,
    LaunchReport,
    PatternReport,
    drill_outcome,
)
from patternlab.views.labels import Entry

GENERIC_HINT = "Open the run in the Prefect UI for its logs."
# First match wins: specific causes before the general words they contain ("secondary rate limit"
# before "rate limit", a drill before the GitHub status it imitates).
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(key), hint)
    for key, hint in (
        (r"failure drill",
         "On purpose: this launch ran a failure drill. Compare's Failure isolation section shows "
         "what each pattern did about it."),
        (r"secondary rate limit",
         "GitHub's secondary limit: wait the time it names, then launch fewer patterns at once, "
         "or use the offline snapshot."),
        (r"rate limit",
         "Set GITHUB_TOKEN for the runner, wait for the reset, or use the snapshot."),
        (r"answered 5\d\d|server error|service unavailable",
         "GitHub had a server error (5xx); Prefect retried the task (see the retries column). "
         "Launch again later, or use the offline snapshot."),
        (r"time ?out|timed out|no answer within",
         "GitHub or the network is slow: launch again, raise PATTERNLAB_GITHUB_TIMEOUT_S, or use "
         "the offline snapshot."),
        (r"closed the connection|connection reset|connection refused|dns lookup|tls handshake",
         "The connection to GitHub broke: check the network (proxy, VPN) and GITHUB_API_URL, then "
         "launch again."),
        (r"invalid json|not a .* as documented|malformed",
         "GitHub's answer was not what its API documents: check that GITHUB_API_URL is a GitHub "
         "API (not a proxy or login page), launch again, or use the offline snapshot."),
        (r"bad credentials|\b401\b",
         "Fix GITHUB_TOKEN or unset it, then restart the runner (`python -m patternlab backend "
         "down`, then open Home)."),
        (r"not found|not in the offline snapshot",
         "Check the repository's owner/name, or pick one from the snapshot list."),
        (r"still computing|still being computed",
         "GitHub is still computing this repository's statistics: launch again in a minute."),
        (r"died with the lab's runner|runner died",
         "The lab's runner stopped during this run and was restarted: launch again."),
        (r"not running",
         "Open Home to start the backend, or run `python -m patternlab backend up`."),
        (r"runner|automation did not start",
         "Check the runner in the sidebar; `python -m patternlab backend up` restarts it."),
    )
)  # fmt: skip
_PREFECT_PREFIX = "Flow run encountered an exception: "
_TASK_SUFFIX = re.compile(r"-[0-9a-f]{3,}$")  # Prefect names task runs <task>-<3 hex>
_NO_RUN = "—"  # the pattern has no such run (monoflow's child, an alert outside events)
ISOLATION_COLUMNS = [
    "label", "pattern", "drill", "what the parent did", "parent", "child step",
    "proactive alert", "retries", "matches docs", "documented",
]  # fmt: skip


def error_hint(message: str) -> str:
    """Return what a user can do about an error message (a generic pointer when unknown)."""
    low = message.lower()
    return next((hint for key, hint in _HINTS if key.search(low)), GENERIC_HINT)


def short_message(message: str | None) -> str:
    """Return a run's state message without Prefect's boilerplate prefix."""
    return (message or "").replace(_PREFECT_PREFIX, "").strip()


def retries_label(run: FlowRunInfo) -> str:
    """Say which tasks of a run were retried and how often, e.g. "retried ×2: fetch_repo"."""
    counts = Counter(_TASK_SUFFIX.sub("", name) for name in run.retried_tasks)
    if not counts:
        return ""
    return "retried " + ", ".join(f"×{n}: {task}" for task, n in counts.items())


def computing_note(report: PatternReport) -> str | None:
    """Say that GitHub was still computing the statistics, when it was."""
    stats = report.stats
    if stats is None or stats.stats_status != "computing":
        return None
    return (
        f"GitHub's commit statistics for {stats.repo} are still being computed (it answered "
        "202 Accepted until the lab stopped asking): weekly commits are missing, the other "
        "figures are complete."
    )


FAILED = frozenset({"failed", "crashed"})
UNPLANNED = "unplanned"


def shows_isolation(report: LaunchReport) -> bool:
    """Say whether a launch has failure isolation to show: a drill, a fired alert, a failure."""
    runs = [r for p in report.patterns for r in p.flow_runs]
    fired = any(r.role == "alert" for r in runs)
    return report.drill != "none" or fired or any(r.status in FAILED for r in runs)


def effective_drill(report: PatternReport, drill: str) -> str:
    """Return the drill whose documentation applies: the one chosen, or the step that failed.

    Without a drill, a step that failed on its own (GitHub down, a crash) is compared with what
    the documentation says about that step failing: the child step (subflow, deployment child,
    triggered flow) when it failed, else the upstream/entry step when that failed.
    """
    if drill != "none":
        return drill
    if any(r.flow in CHILD_FLOWS and r.status in FAILED for r in report.flow_runs):
        return "child"
    if any(r.status in FAILED for r in report.flow_runs):
        return "upstream"
    return drill


def expected_outcome(report: PatternReport, drill: str, window_s: float) -> DrillOutcome:
    """Compare a pattern with its documentation under a drill, counting a held upstream.

    The documented rule for the proactive trigger is "an upstream that does not complete within
    the window fires the alert" (patternlab.drills applies it), so an upstream held past its
    window (the Launch page's hold option) is expected to fire it, drill or not.
    """
    effective = effective_drill(report, drill)
    outcome = drill_outcome(report, effective, window_s)
    if effective != drill:
        outcome = outcome.model_copy(update={"drill": f"{effective} ({UNPLANNED})"})
    return outcome


def isolation_outcomes(
    items: Iterable[Entry], reports: Sequence[LaunchReport], window_s: float
) -> list[tuple[Entry, DrillOutcome]]:
    """Return each pattern's drill outcome, for the finished launches that have one to show."""
    drills = {r.launch_id: r.drill for r in reports if r.done and shows_isolation(r)}
    return [
        (e, expected_outcome(e.report, drills[e.launch_id], window_s))
        for e in items
        if e.launch_id in drills
    ]


def drill_caption(outcomes: Iterable[tuple[Entry, DrillOutcome]]) -> str:
    """Say which drills the rows ran, and that unplanned failures are compared like drills."""
    parts = []
    for drill in dict.fromkeys(o.drill for _, o in outcomes):
        if drill.endswith(f"({UNPLANNED})"):
            parts.append(
                f"none, but a step failed on its own ({drill.split()[0]}): compared with what the "
                "documentation says about that step failing"
            )
        else:
            parts.append(DRILL_LABELS.get(drill, drill))
    return "Drill: " + "; ".join(parts) + "."


def parent_story(outcome: DrillOutcome) -> str:
    """Say in a few words what the parent (entry run) did about the failure."""
    entry, child = outcome.observed_entry, outcome.observed_child
    if entry == "failed" and child == "failed":
        return "failed: its child's failure reached it"
    if entry == "failed" and outcome.drill in ("upstream", "child"):
        return "failed: it held the failing step"  # the drill failed a step of the entry run
    if entry == "completed" and child == "failed":
        return "continued: never learned its child failed"
    if entry == "completed" and child == "not run":
        return "completed; its child never ran"
    return entry


def _cell(observed: str, expected: str) -> str:
    """Show an observation, with the documented value beside it when they differ."""
    shown = _NO_RUN if observed == "-" else observed
    if observed == expected:
        return shown
    return f"{shown}  (documented {_NO_RUN if expected == '-' else expected})"


def isolation_mismatches(outcome: DrillOutcome) -> list[str]:
    """List where a pattern's observed behaviour differs from the documented one."""
    pairs = (
        ("parent", outcome.observed_entry, outcome.expected_entry),
        ("child step", outcome.observed_child, outcome.expected_child),
        ("proactive alert", outcome.observed_alert, outcome.expected_alert),
    )
    return [f"{name}: observed {got}, documented {doc}" for name, got, doc in pairs if got != doc]


def isolation_frame(outcomes: Iterable[tuple[Entry, DrillOutcome]]) -> pd.DataFrame:
    """Return one row per pattern: observed vs documented parent, child and alert; retries."""
    rows = []
    for e, o in outcomes:
        found = isolation_mismatches(o)
        rows.append(
            {"label": e.label, "pattern": e.pattern, "drill": o.drill,
             "what the parent did": parent_story(o),
             "parent": _cell(o.observed_entry, o.expected_entry),
             "child step": _cell(o.observed_child, o.expected_child),
             "proactive alert": _cell(o.observed_alert, o.expected_alert),
             "retries": o.retries,
             "matches docs": "yes" if o.matches else "NO: " + ", ".join(
                 f.split(":")[0] for f in found),
             "documented": o.documented}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=ISOLATION_COLUMNS)
