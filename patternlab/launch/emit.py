"""Emit the custom event that starts events-downstream with no upstream flow at all.

The lab posts `patternlab.repo.refresh-requested` to Prefect's events API, exactly as any other
client (a webhook, a script) could: the downstream deployment's second trigger (flows/events.py)
starts the run. Correlation: the lab picks the event's id, and the run the automation starts
tags itself `launch:emit-<event id>` as the lead of its own launch, so `read_launch` reads it
back like any launch and History lists it.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flows.catalog import (
    EMIT_PREFIX,
    REFRESH_EVENT,
    REFRESH_RESOURCE,
    REPO_RESOURCE,
    REPO_ROLE,
    SOURCES,
)
from flows.repo_input import parse_repo
from patternlab.backend import prefect_client
from patternlab.launch.models import LaunchReport
from patternlab.launch.source import resolve_source

__all__ = ["emit_refresh", "refresh_event", "wait_for_emitted"]


def refresh_event(repo: str, source: str, event_id: uuid.UUID) -> dict[str, Any]:
    """Return the refresh request for a repository in the shape of Prefect's events API."""
    return {
        "id": str(event_id),
        "occurred": datetime.now(UTC).isoformat(),
        "event": REFRESH_EVENT,
        "resource": {
            "prefect.resource.id": f"{REFRESH_RESOURCE}.{event_id}",
            "prefect.resource.name": f"refresh {repo}",
        },
        "related": [
            {
                "prefect.resource.id": f"{REPO_RESOURCE}.{repo}",
                "prefect.resource.role": REPO_ROLE,
                "prefect.resource.name": repo,
            }
        ],
        "payload": {"source": source},
    }


def emit_refresh(repo: str, source: str = "auto") -> str:
    """Check the input, post a refresh request for the repository; return its launch id.

    Raises InvalidRepository or ValueError before anything is posted.
    """
    name = parse_repo(repo)
    if source not in SOURCES:
        raise ValueError("The source must be auto, github or snapshot")
    used = resolve_source(source).used  # once, here: the run gets a concrete source
    event_id = uuid.uuid4()
    with prefect_client() as client:
        answer = client.request("POST", "/events", json=[refresh_event(name, used, event_id)])
        answer.raise_for_status()
    return f"{EMIT_PREFIX}{event_id}"


def wait_for_emitted(launch_id: str, *, timeout_s: float = 120.0) -> LaunchReport:
    """Poll an emitted launch until its run is found and final, or the deadline passes."""
    from patternlab.launch.readback import read_launch

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            report = read_launch(launch_id)
        except LookupError:  # not started yet: the run tags itself when it starts
            if time.monotonic() > deadline:
                raise
        else:
            if report.done or time.monotonic() > deadline:
                return report
        time.sleep(0.5)
