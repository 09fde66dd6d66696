"""Names the flows and the lab share: flows, deployments, roles, artifact keys, tags, parameters.

Defined here, in flows/, because a worker host runs flows/ alone; the lab imports them from here.
"""

from __future__ import annotations

from typing import Literal

Pattern = Literal["monoflow", "subflows", "deployments", "events"]
PATTERNS: tuple[Pattern, ...] = ("monoflow", "subflows", "deployments", "events")
Role = Literal["entry", "subflow", "deployment-child", "triggered", "alert"]

DEPLOYMENT = "lab"  # every lab deployment is "<flow name>/lab"
DASK_DEPLOYMENT = "lab-dask"  # monoflow's second deployment: its tasks on Dask, not threads
TAGS = ["patternlab"]  # every lab deployment, and every run the lab starts, carries it
LAUNCH_PREFIX = "launch:"  # a launch's runs carry "launch:<id>", handed on to the runs they start
ENTRY_TAG = "lab-entry"  # one run per pattern and round: the one History lists

# The custom event anything may emit (the lab, the CLI, a webhook posting to Prefect's events
# API): it starts events-downstream with no upstream flow. Its own resource is the request
# ("patternlab.refresh-request.<event id>"); the repository is a related resource in the role
# "repository" ("patternlab.repo.<owner/name>", its name label the repository).
REFRESH_EVENT = "patternlab.repo.refresh-requested"
REFRESH_RESOURCE = "patternlab.refresh-request"
REPO_RESOURCE = "patternlab.repo"
REPO_ROLE = "repository"
EMIT_PREFIX = "emit-"  # the launch id of the run an event starts: "emit-<event id>"

# The stable @flow(name=...) of every flow: deployments and the dashboard refer to them.
MONOFLOW = "monoflow"
SUBFLOWS_PARENT = "subflows-parent"
FETCH_REPO_DATA = "fetch-repo-data"
CALCULATE_AVERAGES = "calculate-average-commits"
REPOSITORY_STATS = "repository-stats"  # the subflows pattern's one subflow per repository
DEPLOYMENTS_PARENT = "deployments-parent"
AVERAGE_CHILD = "average-commits-child"
EVENTS_UPSTREAM = "events-upstream"
EVENTS_DOWNSTREAM = "events-downstream"
EVENTS_ALERT = "events-missed-alert"

# Every flow by name: the pattern it belongs to and its role in that pattern.
FLOW_ROLES: dict[str, tuple[Pattern, Role]] = {
    MONOFLOW: ("monoflow", "entry"),
    SUBFLOWS_PARENT: ("subflows", "entry"),
    FETCH_REPO_DATA: ("subflows", "subflow"),
    CALCULATE_AVERAGES: ("subflows", "subflow"),
    REPOSITORY_STATS: ("subflows", "subflow"),
    DEPLOYMENTS_PARENT: ("deployments", "entry"),
    AVERAGE_CHILD: ("deployments", "deployment-child"),
    EVENTS_UPSTREAM: ("events", "entry"),
    EVENTS_DOWNSTREAM: ("events", "triggered"),
    EVENTS_ALERT: ("events", "alert"),
}
ENTRY_FLOWS: dict[Pattern, str] = {
    pattern: name for name, (pattern, role) in FLOW_ROLES.items() if role == "entry"
}
# The flows whose failure is the "child step" of their pattern (failure drills).
CHILD_FLOWS = frozenset({CALCULATE_AVERAGES, AVERAGE_CHILD, EVENTS_DOWNSTREAM})


def deployment_name(flow: str) -> str:
    """Return the lab deployment of a flow, as `run_deployment` and the client name it."""
    return f"{flow}/{DEPLOYMENT}"


ENTRY_DEPLOYMENTS: dict[Pattern, str] = {p: deployment_name(f) for p, f in ENTRY_FLOWS.items()}
MONOFLOW_DASK_DEPLOYMENT = f"{MONOFLOW}/{DASK_DEPLOYMENT}"
CHILD_DEPLOYMENT = deployment_name(AVERAGE_CHILD)
TRIGGERED_DEPLOYMENTS = (deployment_name(EVENTS_DOWNSTREAM), deployment_name(EVENTS_ALERT))

# Keys of the artifacts the flows publish and the lab reads back.
PROCESS_KEY = "lab-process"  # table: pid, host and work seconds of the run
STATS_KEY = "repo-stats"
CONTRIBUTORS_KEY = "top-contributors"
WEEKLY_KEY = "weekly-commits"
ALERT_KEY = "missed-upstream-alert"

# The parameters a launch passes to an entry flow (each entry flow takes the ones it needs).
Source = Literal["auto", "github", "snapshot"]
SOURCES: tuple[Source, ...] = ("auto", "github", "snapshot")
DRILLS = ("none", "upstream", "child", "transient")
TASK_RUNNERS = ("threads", "dask")  # monoflow's fan-out: Prefect's thread pool, or Dask


def launch_tag(launch_id: str) -> str:
    """Return the tag every flow run of a launch carries."""
    return f"{LAUNCH_PREFIX}{launch_id}"


def launch_tags(tags: list[str] | tuple[str, ...]) -> list[str]:
    """Return the `launch:<id>` tags among a run's tags."""
    return [t for t in tags if t.startswith(LAUNCH_PREFIX)]
