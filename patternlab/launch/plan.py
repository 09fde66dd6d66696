"""A launch's plan: which patterns, over which repositories, in which order, how many times.

The plan is kept in Prefect, so any reader can continue a launch (a reloaded page, a second
browser, the CLI): every lead entry run carries the plan's shape in its tags (`plan:`, `order:`,
`repeat:`, `round:`), and a launch of more than one step stores the whole plan (repositories and
options) as a one-row table artifact `lab-plan-<launch id>`. A step's runs are created with
idempotency keys, so two readers continuing the same launch create them once.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import ArtifactCreate, DeploymentUpdate
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from pydantic import BaseModel, ConfigDict, Field

from flows.catalog import (
    CHILD_DEPLOYMENT,
    ENTRY_DEPLOYMENTS,
    ENTRY_TAG,
    MONOFLOW_DASK_DEPLOYMENT,
    PATTERNS,
    TAGS,
    launch_tag,
)
from patternlab.backend import deployment_id, table_rows
from patternlab.launch.options import MAX_CHILD_LIMIT, MAX_REPEAT, ORDERS, Order
from patternlab.launch.source import NOTE_LABEL, REQUESTED_LABEL

__all__ = ["MAX_CHILD_LIMIT", "MAX_REPEAT", "ORDERS", "LaunchPlan", "Order"]  # and below

LAUNCH_VARIANT = "launch-variant"  # the deployment variant the launch was made with (History)
REPO_ANY_CASE = "repo-ci"  # the repository lower-cased: History matches it without regard to case
FANOUT_MARK = "-n"  # a launch id of several repositories ends "-n<N>": readers know at once
Step = list[tuple[str, int]]  # (pattern, round) pairs started together


class LaunchPlan(BaseModel):
    """Everything needed to start each step of a launch."""

    model_config = ConfigDict(extra="forbid")  # a mistyped option is an error, not ignored

    launch_id: str
    patterns: list[str]
    repos: list[str]
    owner: str | None = None
    synthetic: bool = False
    source: str = "auto"  # once launched: the source every flow uses ("github" or "snapshot")
    source_requested: str = ""  # what was asked for (auto, github, snapshot)
    source_note: str = ""  # why `auto` fell back to the snapshot
    order: Order = "sequential"
    repeat: int = Field(default=1, ge=1, le=MAX_REPEAT)
    variant: str = "wait"  # deployments: wait for the child, or fire and forget
    task_runner: str = "threads"  # monoflow's fan-out: threads or dask
    concurrent_subflows: bool = False  # subflows' fan-out: one after another, or at once
    child_limit: int = Field(default=4, ge=1, le=MAX_CHILD_LIMIT)  # deployments' fan-out
    drill: str = "none"
    hold_s: float = 0.0

    @property
    def fanout(self) -> bool:
        """Say whether the launch computes more than one repository."""
        return len(self.repos) > 1

    def steps(self) -> list[Step]:
        """Return the steps: one pattern at a time (sequential), or a round's patterns at once."""
        rounds = range(self.repeat)
        if self.order == "together":
            return [[(p, k) for p in self.patterns] for k in rounds]
        return [[(p, k)] for k in rounds for p in self.patterns]


def new_launch_id(repos: int) -> str:
    """Return a new launch id; one of several repositories says so (readers then count runs)."""
    base = uuid.uuid4().hex[:12]
    return f"{base}{FANOUT_MARK}{repos}" if repos > 1 else base


def is_fanout(launch_id: str) -> bool:
    """Say whether a launch id is one of several repositories."""
    return FANOUT_MARK in launch_id


def fanout_runs(pattern: str, n: int) -> int:
    """Return the flow runs a pattern makes when it fans out over n repositories."""
    return {"monoflow": 1, "subflows": 1 + n, "deployments": 1 + n, "events": 2 * n}[pattern]


def tag_value(tags: list[str], prefix: str, default: str = "") -> str:
    """Return the value of the first `prefix:value` tag, or default."""
    return next((t.split(":", 1)[1] for t in tags if t.startswith(prefix + ":")), default)


def shape_of(leads: list[Any]) -> tuple[list[str], Order, int]:
    """Return a launch's patterns, order and repeat from its lead runs' tags.

    Launches made before plans existed had their patterns all started at once: "together".
    """
    tags = leads[0].tags if leads else []
    planned = tag_value(tags, "plan")
    patterns = planned.split("+") if planned else [
        p for p in PATTERNS if any(f"pattern:{p}" in r.tags for r in leads)]  # fmt: skip
    order = "sequential" if tag_value(tags, "order") == "sequential" else "together"
    return patterns, order, int(tag_value(tags, "repeat", "1") or 1)


def _tags(plan: LaunchPlan, pattern: str, round_: int, lead: bool) -> list[str]:
    """Return the tags of an entry run the lab creates."""
    tags = [*TAGS, launch_tag(plan.launch_id), f"source:{plan.source}", f"pattern:{pattern}",
            f"plan:{'+'.join(plan.patterns)}", f"order:{plan.order}", f"repeat:{plan.repeat}",
            f"round:{round_}", f"drill:{plan.drill}"]  # fmt: skip
    tags.append(f"{LAUNCH_VARIANT}:{plan.variant}")
    tags += [f"hold:{plan.hold_s:g}"] if plan.hold_s else []
    if plan.fanout:
        tags += [f"repos:{len(plan.repos)}"] + ([f"owner:{plan.owner}"] if plan.owner else [])
        tags += ["workload:synthetic"] if plan.synthetic else []
        tags += [f"variant:{v}" for v in [_variant(plan, pattern)] if v]
        tags += [f"limit:{plan.child_limit}"] if pattern == "deployments" else []
    else:  # the repository as typed, and lower-cased: GitHub's names ignore case
        tags += [f"repo:{plan.repos[0]}", f"{REPO_ANY_CASE}:{plan.repos[0].lower()}"]
    return [ENTRY_TAG, *tags] if lead else tags


def _variant(plan: LaunchPlan, pattern: str) -> str | None:
    """Return how a pattern fans out in this plan (None where there is no choice)."""
    return {
        "monoflow": plan.task_runner,
        "subflows": "concurrent" if plan.concurrent_subflows else "one after another",
        "deployments": plan.variant,
    }.get(pattern)


def _entries(plan: LaunchPlan, pattern: str) -> list[tuple[str, dict[str, Any]]]:
    """Return (deployment, parameters) of each entry run a pattern's step starts."""
    common: dict[str, Any] = {"source": plan.source, "drill": plan.drill}
    deployment = ENTRY_DEPLOYMENTS[pattern]
    if pattern == "deployments":
        common["wait_for_child"] = plan.variant != "fire-and-forget"
    if pattern == "events" and plan.hold_s > 0:
        common["hold_s"] = plan.hold_s
    if pattern == "events" and plan.fanout:  # each downstream then works as a fan-out's child
        common["fanout"] = True
    if not plan.fanout or pattern == "events":  # events: one upstream run per repository
        return [(deployment, {**common, "repo": r}) for r in plan.repos]
    if pattern == "monoflow" and plan.task_runner == "dask":
        deployment = MONOFLOW_DASK_DEPLOYMENT
    if pattern == "subflows":
        common["concurrent"] = plan.concurrent_subflows
    return [(deployment, {**common, "repos": plan.repos})]


def create_step(client: SyncPrefectClient, plan: LaunchPlan, step: Step) -> None:
    """Create a step's entry runs (idempotent: a second caller gets the same runs)."""
    for pattern, round_ in step:
        if pattern == "deployments" and plan.fanout:
            set_child_limit(client, plan.child_limit)
        for i, (name, params) in enumerate(_entries(plan, pattern)):
            client.create_flow_run_from_deployment(
                deployment_id(name),
                parameters=params,
                tags=_tags(plan, pattern, round_, lead=i == 0),
                idempotency_key=f"{plan.launch_id}/{round_}/{pattern}/{i}",
                labels={REQUESTED_LABEL: plan.source_requested or plan.source,
                        NOTE_LABEL: plan.source_note},
            )  # fmt: skip


def set_child_limit(client: SyncPrefectClient, limit: int) -> int | None:
    """Set the child deployment's concurrency limit; return the limit Prefect now holds."""
    child = deployment_id(CHILD_DEPLOYMENT)
    client.update_deployment(child, DeploymentUpdate(concurrency_limit=limit))
    held = client.read_deployment(child).global_concurrency_limit
    return held.limit if held else None


def _plan_key(launch_id: str) -> str:
    """Return the key of a launch's plan artifact."""
    return f"lab-plan-{launch_id}"


def store_plan(client: SyncPrefectClient, plan: LaunchPlan) -> None:
    """Keep the plan in Prefect, as a one-row table artifact readable in Prefect's UI too."""
    row = plan.model_dump() | {"repos": ",".join(plan.repos), "patterns": "+".join(plan.patterns)}
    client.create_artifact(
        ArtifactCreate(
            key=_plan_key(plan.launch_id),
            type="table",
            data=json.dumps([row]),
            description=f"Pattern Lab launch plan {plan.launch_id}: {len(plan.steps())} steps",
        )
    )


def read_plan(client: SyncPrefectClient, launch_id: str) -> LaunchPlan | None:
    """Read a launch's plan back from Prefect (None for a launch of one step)."""
    key = ArtifactFilter(key=ArtifactFilterKey(any_=[_plan_key(launch_id)]))
    found = client.read_artifacts(artifact_filter=key, limit=1)
    if not found:
        return None
    row = dict(table_rows(found[0])[0])
    row["repos"] = [r for r in str(row["repos"]).split(",") if r]
    row["patterns"] = str(row["patterns"]).split("+")
    return LaunchPlan.model_validate(row)
