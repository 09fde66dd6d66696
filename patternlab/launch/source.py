"""A launch's data source: `auto` resolved once, in the lab, before any flow run exists.

Every flow of the launch then gets the same concrete source ("github" or "snapshot"), so a
deployments parent and its child, or an events upstream and its downstream, can never mix
live and snapshot data. What was asked for and why it fell back ride on the entry runs as
Prefect labels, so the report and History show the source used and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flows.catalog import SOURCES
from flows.github_http import check_api_url, probe_live
from flows.settings import FlowSettings
from patternlab.settings import get_settings

REQUESTED_LABEL = "patternlab.source_requested"  # what the user asked for: auto/github/snapshot
NOTE_LABEL = "patternlab.source_note"  # why `auto` fell back to the snapshot ("" when it did not)
MIXED = "mixed"
FELL_BACK = "fell back to the offline snapshot"


@dataclass(frozen=True)
class LaunchSource:
    """The source a launch uses, what was asked for, and why (when it fell back)."""

    requested: str
    used: str  # "github" or "snapshot"
    note: str = ""

    def labels(self) -> dict[str, str]:
        """Return the Prefect labels that record the resolution on the entry runs."""
        return {REQUESTED_LABEL: self.requested, NOTE_LABEL: self.note}


def check_source(source: str, settings: FlowSettings | None = None) -> None:
    """Refuse a source that cannot be used as configured (raises ValueError, GitHubError)."""
    if source not in SOURCES:
        raise ValueError("Choose a source of auto, github or snapshot")
    if source == "github":
        s = settings or get_settings()
        check_api_url(s.github_api_url, token=s.token())  # InvalidConfiguration: a clear refusal


def resolve_source(source: str, settings: FlowSettings | None = None) -> LaunchSource:
    """Resolve the requested source to the one every flow of the launch will use."""
    check_source(source, settings)
    if source != "auto":
        return LaunchSource(source, source)
    s = settings or get_settings()
    reason = probe_live(s.github_api_url, s.token())
    if reason is None:
        return LaunchSource("auto", "github")
    return LaunchSource("auto", "snapshot", f"{reason}; {FELL_BACK}")


def source_used(
    requested: str, note: str, by_pattern: Mapping[str, Iterable[str]]
) -> tuple[str, str]:
    """Return the source a launch used and the note to show, from what each pattern used.

    `by_pattern` holds, per pattern, the sources its runs used (the statistics it published,
    else the concrete source its runs were given). More than one source is "mixed", with
    which pattern used which.
    """
    used = {
        p: sorted({s for s in sources if s and s != "auto"}) for p, sources in by_pattern.items()
    }
    found = sorted({s for sources in used.values() for s in sources})
    if len(found) == 1:
        return found[0], note
    if not found:
        return requested, note
    parts = "; ".join(f"{p}: {' and '.join(s)}" for p, s in used.items() if s)
    why = f"the patterns used different sources ({parts})"
    return MIXED, f"{why}. {note}" if note else why
