"""Launch patterns through their deployments, and wait for a launch to end."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from flows.catalog import DRILLS, ENTRY_DEPLOYMENTS, SOURCES, TAGS, launch_tag
from patternlab.backend import deployment_id, prefect_client, recover
from patternlab.launch.models import PATTERNS, LaunchReport
from patternlab.launch.readback import ENTRY_TAG, read_launch
from patternlab.launch.workload import InvalidWorkload, Workload, build_workload

Variant = str  # "wait" | "fire-and-forget"


def launch(
    patterns: Iterable[str],
    repo: str | None = None,
    source: str = "auto",
    *,
    workload: Workload | None = None,
    variant: Variant = "wait",
    hold_s: float = 0.0,
    drill: str = "none",
) -> str:
    """Validate the input, create one flow run per pattern from its deployment; return the id."""
    # Raises InvalidRepository / InvalidWorkload before anything is created.
    workload = workload or build_workload(repo=repo, source=source)
    if workload.size > 1:
        raise InvalidWorkload("Launching several repositories is not available yet")
    repo, source = workload.repos[0], workload.source
    chosen = [p for p in PATTERNS if p in set(patterns)]
    if not chosen or source not in SOURCES:
        raise ValueError("Choose at least one pattern and a source of auto, github or snapshot")
    if drill not in DRILLS:
        raise ValueError(f"Failure drill must be one of {', '.join(DRILLS)}")
    launch_id = uuid.uuid4().hex[:12]
    tags = [*TAGS, ENTRY_TAG, launch_tag(launch_id), f"source:{source}", f"repo:{repo}"]
    with prefect_client() as client:
        for pattern in chosen:
            params: dict[str, Any] = {"repo": repo, "source": source, "drill": drill}
            if pattern == "deployments":
                params["wait_for_child"] = variant != "fire-and-forget"
            if pattern == "events" and hold_s > 0:
                params["hold_s"] = hold_s
            client.create_flow_run_from_deployment(
                deployment_id(ENTRY_DEPLOYMENTS[pattern]),
                parameters=params,
                tags=[*tags, f"pattern:{pattern}"],
            )
    return launch_id


def wait_for_launch(
    launch_id: str,
    *,
    timeout_s: float = 180.0,
    poll_s: float = 0.5,
    on_poll: Callable[[LaunchReport], None] | None = None,
) -> LaunchReport:
    """Poll a launch until every expected run is final, or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    notices: list[str] = []
    while True:
        notices += recover()
        report = read_launch(launch_id)
        report.notices = notices
        if on_poll:
            on_poll(report)
        if report.done or time.monotonic() > deadline:
            return report
        time.sleep(poll_s)
