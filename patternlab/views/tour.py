"""The guided tour's steps and what each says about its real runs (pure: no Streamlit, no I/O).

Each step names what it launches; `evidence` turns the step's measured launch into plain
sentences, and `closing_card` sets the patterns' costs against what they separate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from patternlab.launch import LaunchReport, PatternReport, drill_outcome
from patternlab.views.glossary import number
from patternlab.views.labels import pattern_title


@dataclass(frozen=True)
class TourStep:
    """One step of the tour: what it launches, what to look for, and the detail behind it."""

    key: str
    title: str
    plain: str  # what to look for, in plain words
    detail: str  # the technical detail, one click away
    patterns: tuple[str, ...] = ()
    drill: str = "none"
    hold: bool = False  # the events upstream held past its window: the alert fires
    emit: bool = False  # started by the custom event, not by a launch
    repos: int = 1  # more than one: a fan-out launch
    needs: str | None = None  # "fanout": skipped (and said so) when not available


STEPS: tuple[TourStep, ...] = (
    TourStep(
        "monoflow",
        "One flow, one process",
        "The whole job is one flow: its tasks run in one process, and nothing is separated.",
        "Monoflow (flows/monoflow.py): tasks pass data in memory. One flow run, one process: "
        "the cheapest pattern, and a failing task fails the one flow.",
        patterns=("monoflow",),
    ),
    TourStep(
        "subflows",
        "Three flow runs, still one process",
        "The job is split into named flows you can see, retry and reuse; they still share one "
        "process. That is conceptual separation.",
        "Flow of subflows (flows/subflows.py): the parent calls flows as functions. Prefect "
        "records each as its own flow run with the parent's task run as its parent.",
        patterns=("subflows",),
    ),
    TourStep(
        "deployments",
        "A child run in another process",
        "The parent asks Prefect to run a deployed flow: the child starts in a process of its "
        "own (on another host, when workers on other hosts serve the pool). That is execution "
        "separation.",
        "Flow of deployments (flows/deployments.py): run_deployment creates the child run; a "
        "runner or a worker picks it up and starts a new process for it. The hand-off is the "
        "time from the child's creation to its start.",
        patterns=("deployments",),
    ),
    TourStep(
        "events",
        "Started by an automation no code names",
        "The upstream only refreshes the repository; when it completes, an automation starts "
        "the downstream. Held past its window, the upstream is late: the proactive trigger "
        "fires an alert. That is awareness separation.",
        "Event-triggered (flows/events.py): a reactive DeploymentEventTrigger on the upstream's "
        "Completed event starts events-downstream with the repository from the event; a "
        "proactive one runs events-missed-alert when no Completed event comes within the window.",
        patterns=("events",),
        hold=True,
    ),
    TourStep(
        "emit",
        "The event could come from anywhere",
        "No upstream flow at all: a refresh request posted to Prefect's events API (here by the "
        "lab; a webhook, a script or `python -m patternlab emit` do the same) starts the same "
        "downstream.",
        "The custom event patternlab.repo.refresh-requested names the repository as a related "
        "resource; the downstream deployment's second trigger matches it. The run tags itself "
        "launch:emit-<event id>, which is how the lab finds it.",
        emit=True,
    ),
    TourStep(
        "drill",
        "A failure drill: who contains a failure",
        "The child step fails on purpose in all four patterns. Watch which parents fail with "
        "it and which carry on.",
        "Drill 'child': the subflow, deployment child or triggered flow raises. Compare's "
        "failure-isolation table sets each outcome beside what the documentation says.",
        patterns=("monoflow", "subflows", "deployments", "events"),
        drill="child",
    ),
    TourStep(
        "fanout",
        "How the cost grows with repositories",
        "The same four patterns over several repositories, each fanning out its own way: "
        "mapped tasks, one subflow per repository, concurrent child runs, one triggered run "
        "per upstream.",
        "A fan-out launch (Scale page for 1 to 256 repositories): compare the cost per "
        "repository with the one-repository steps before it.",
        patterns=("monoflow", "subflows", "deployments", "events"),
        repos=4,
        needs="fanout",
    ),
)
WHEN_TO_USE = {
    "monoflow": "One team, one job, fast and cheap; failures stop everything.",
    "subflows": "Readable, reusable steps with their own retries; still one process.",
    "deployments": "A step needs other infrastructure, scaling or a team of its own.",
    "events": "Producers must not know their consumers; react to anything, alert on silence.",
}


def _seconds(value: float | None) -> str:
    """Return seconds as text, or "–" when not measured."""
    return "–" if value is None else f"{value:.1f} s"


def _pattern_line(p: PatternReport) -> str:
    """Say what one pattern's runs did, in plain words."""
    runs, procs, hosts = len(p.flow_runs), p.processes, p.hosts
    automated = sum(r.created_by == "automation" for r in p.flow_runs)
    line = (
        f"**{pattern_title(p.pattern)}**: {runs} flow run{'s' * (runs != 1)} in {procs} "
        f"process{'es' * (procs != 1)} on {hosts} host{'s' * (hosts != 1)}, "
        f"{p.task_runs} task runs, end-to-end {_seconds(p.timings.end_to_end_s)}"
    )
    if p.timings.held_s:  # a deliberate wait is not what the pattern costs
        line += f" ({_seconds(p.timings.held_s)} of it the upstream held on purpose)"
    if automated:
        line += f"; {automated} started by an automation no code names"
    if p.timings.handoff_s:
        line += f"; hand-off {_seconds(p.timings.handoff_s)}"
    return line + "."


def _drill_line(p: PatternReport, drill: str, window_s: float) -> str:
    """Say whether a pattern's parent contained the failing child step."""
    o = drill_outcome(p, drill, window_s)
    if o.observed_child == "-":
        title = pattern_title(p.pattern)
        return f"{title}: the failing task failed the one flow ({o.observed_entry})."
    kept = "contained it" if o.observed_entry == "completed" else "failed with it"
    return (
        f"{pattern_title(p.pattern)}: the child step {o.observed_child}; "
        f"the parent {o.observed_entry}: it {kept}."
    )


def step_patterns(step: TourStep, report: LaunchReport) -> list[PatternReport]:
    """Return the patterns of a launch that the step is about (a reused launch may have more)."""
    return [p for p in report.patterns if not p.queued and p.pattern in (step.patterns or
            ("events",))]  # fmt: skip


def matches(step: TourStep, report: LaunchReport, window_s: float) -> bool:
    """Say whether a finished launch shows what the step is about, so the step can reuse it."""
    if not report.done or report.launch_id.startswith("emit-") != step.emit:
        return False
    if report.drill != step.drill or (report.repos > 1) != (step.repos > 1):
        return False
    if (report.hold_s > window_s) != step.hold:
        return False
    found = {p.pattern for p in report.patterns if p.done}
    return set(step.patterns) <= found


def evidence(step: TourStep, report: LaunchReport, window_s: float) -> list[str]:
    """Return the plain sentences that point at the live evidence of a finished step."""
    shown = step_patterns(step, report)
    lines = [_pattern_line(p) for p in shown]
    for p in shown:
        if step.hold and p.alert:
            lines.append(f"Proactive trigger: {p.alert}.")
        if step.emit:
            lines.append(
                f"No upstream run: correlated by the event's id, launch `{report.launch_id}`."
            )
        if step.drill != "none" and p.done:
            lines.append(_drill_line(p, step.drill, window_s))
    if report.repos > 1:
        for p in shown:
            each = (p.timings.end_to_end_s or 0) / report.repos
            lines.append(f"{pattern_title(p.pattern)}: {each:.2f} s per repository.")
    return lines


def _paid(p: PatternReport) -> float | None:
    """Return a pattern's end-to-end seconds without the time its upstream was held on purpose."""
    t = p.timings
    return None if t.end_to_end_s is None else round(t.end_to_end_s - (t.held_s or 0.0), 2)


def closing_card(reports: Mapping[str, LaunchReport], window_s: float) -> pd.DataFrame:
    """Return the trade-off card: per pattern, what it cost against what it separated.

    Costs come from the one-repository steps; containment from the drill step, when it ran.
    """
    single = {p.pattern: p for key in ("monoflow", "subflows", "deployments", "events")
              if (r := reports.get(key)) for p in r.patterns}  # fmt: skip
    drill = reports.get("drill")
    rows = []
    for pattern, p in single.items():
        s = p.separation
        gained = [t for t, on in (("conceptual", s.conceptual), ("execution", s.execution),
                                  ("awareness", s.awareness)) if on]  # fmt: skip
        contained = "–"
        if drill is not None:
            d = next((q for q in drill.patterns if q.pattern == pattern and q.done), None)
            if d is not None:
                entry = drill_outcome(d, "child", window_s).observed_entry.lower()
                contained = "yes" if entry == "completed" else "no"
        rows.append({
            "pattern": pattern_title(pattern), "end-to-end s, hold excluded": number(_paid(p), 2),
            "flow runs": number(len(p.flow_runs)), "processes": number(p.processes),
            "separation gained": ", ".join(gained) or "none",
            "contains a child failure": contained, "use it when": WHEN_TO_USE[pattern],
        })  # fmt: skip
    return pd.DataFrame(rows)
