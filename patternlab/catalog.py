"""What the lab knows about its four patterns: flows, roles, deployments, documented separations."""

from __future__ import annotations

from dataclasses import dataclass

from patternlab.models import Pattern, Role


@dataclass(frozen=True)
class PatternInfo:
    """One pattern as the Prefect docs describe it, and where its code lives."""

    name: Pattern
    title: str
    summary: str
    entry_deployment: str
    module: str  # file under flows/ holding the pattern's code
    documented: tuple[bool, bool, bool]  # conceptual, execution, awareness


PATTERN_INFO: dict[str, PatternInfo] = {
    "monoflow": PatternInfo(
        "monoflow", "Monoflow", "One flow; tasks pass data to each other.",
        "monoflow/lab", "flows/monoflow.py", (False, False, False),
    ),
    "subflows": PatternInfo(
        "subflows", "Flow of subflows", "A flow calls other flows in the same process.",
        "subflows-parent/lab", "flows/subflows.py", (True, False, False),
    ),
    "deployments": PatternInfo(
        "deployments", "Flow of deployments",
        "A flow starts a deployed flow (run_deployment) that runs on its own infrastructure.",
        "deployments-parent/lab", "flows/deployments.py", (True, True, False),
    ),
    "events": PatternInfo(
        "events", "Event-triggered flow",
        "A flow's Completed event makes an automation start a flow that knows nothing of it.",
        "events-upstream/lab", "flows/events.py", (True, True, True),
    ),
}  # fmt: skip

# Every flow the lab runs, by its stable @flow(name=...): the pattern it belongs to and its role.
FLOW_ROLES: dict[str, tuple[Pattern, Role]] = {
    "monoflow": ("monoflow", "entry"),
    "subflows-parent": ("subflows", "entry"),
    "fetch-repo-data": ("subflows", "subflow"),
    "calculate-average-commits": ("subflows", "subflow"),
    "deployments-parent": ("deployments", "entry"),
    "average-commits-child": ("deployments", "deployment-child"),
    "events-upstream": ("events", "entry"),
    "events-downstream": ("events", "triggered"),
    "events-missed-alert": ("events", "alert"),
}
TRIGGERED_DEPLOYMENTS = ("events-downstream/lab", "events-missed-alert/lab")
EXPECTED_FLOWS: dict[str, int] = {"monoflow": 1, "subflows": 3, "deployments": 2, "events": 2}
