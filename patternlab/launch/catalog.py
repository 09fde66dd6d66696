"""What the lab knows of its four patterns: titles, summaries, code, documented separations.

The names it shares with the flows (flows, deployments, roles) come from flows/catalog.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.catalog import ENTRY_DEPLOYMENTS, FLOW_ROLES, Pattern

__all__ = ["FLOW_ROLES", "PATTERN_INFO", "PatternInfo"]


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
        ENTRY_DEPLOYMENTS["monoflow"], "flows/monoflow.py", (False, False, False),
    ),
    "subflows": PatternInfo(
        "subflows", "Flow of subflows", "A flow calls other flows in the same process.",
        ENTRY_DEPLOYMENTS["subflows"], "flows/subflows.py", (True, False, False),
    ),
    "deployments": PatternInfo(
        "deployments", "Flow of deployments",
        "A flow starts a deployed flow (run_deployment) that runs on its own infrastructure.",
        ENTRY_DEPLOYMENTS["deployments"], "flows/deployments.py", (True, True, False),
    ),
    "events": PatternInfo(
        "events", "Event-triggered flow",
        "A flow's Completed event makes an automation start a flow that knows nothing of it.",
        ENTRY_DEPLOYMENTS["events"], "flows/events.py", (True, True, True),
    ),
}  # fmt: skip
