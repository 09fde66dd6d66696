"""Launch patterns through their deployments, continue a launch step by step, wait for it.

Fair timings by default: a launch of several patterns starts the next pattern only when the
previous one is over (`order="sequential"`); `order="together"` starts a round's patterns at once
(contended: Compare says so). The step that follows is started by whoever reads the launch next
through `advance_launch` (the CLI's wait, the Launch and Compare pages' live views): the plan is
in Prefect (patternlab/launch/plan.py), so a reloaded page or a second browser continues it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from flows.catalog import DRILLS, SOURCES, TASK_RUNNERS
from patternlab.backend import prefect_client, recover
from patternlab.launch.models import PATTERNS, LaunchReport
from patternlab.launch.plan import (
    MAX_CHILD_LIMIT,
    MAX_REPEAT,
    ORDERS,
    LaunchPlan,
    create_step,
    new_launch_id,
    read_plan,
    store_plan,
)
from patternlab.launch.readback import read_launch
from patternlab.launch.source import check_source, resolve_source
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
    **options: Any,
) -> str:
    """Check the input, keep the plan, start the first step; return the launch id.

    options: order ("sequential" | "together"), repeat (1-10), task_runner ("threads" |
    "dask", monoflow), concurrent_subflows (bool), child_limit (1-16, deployments).
    Nothing is created when any of it is wrong (ValueError / InvalidRepository).
    """
    # Raises InvalidRepository / InvalidWorkload before anything is created.
    workload = workload or build_workload(repo=repo, source=source)
    plan = make_plan(patterns, workload, variant=variant, hold_s=hold_s, drill=drill, **options)
    # Once per launch, here: every flow gets the same concrete source (never "auto").
    resolved = resolve_source(plan.source)
    plan = plan.model_copy(
        update={"source": resolved.used, "source_requested": resolved.requested,
                "source_note": resolved.note}
    )  # fmt: skip
    with prefect_client() as client:
        if len(plan.steps()) > 1:
            store_plan(client, plan)
        create_step(client, plan, plan.steps()[0])
    return plan.launch_id


def make_plan(patterns: Iterable[str], workload: Workload, **settings: Any) -> LaunchPlan:
    """Check a launch's settings and return its plan (raises ValueError with a clear message)."""
    chosen = [p for p in PATTERNS if p in set(patterns)]
    if not chosen or workload.source not in SOURCES:
        raise ValueError("Choose at least one pattern and a source of auto, github or snapshot")
    check_source(workload.source)  # e.g. a token that would go over plain http://
    if settings.get("drill", "none") not in DRILLS:
        raise ValueError(f"Failure drill must be one of {', '.join(DRILLS)}")
    if settings.get("drill", "none") != "none" and workload.size > 1:
        raise InvalidWorkload("Failure drills run on one repository: choose one, or no drill")
    checks = (
        ("order", ORDERS, "The order must be sequential (fair timings) or together"),
        ("task_runner", TASK_RUNNERS, "Monoflow's task runner must be threads or dask"),
    )
    for key, allowed, message in checks:
        if key in settings and settings[key] not in allowed:
            raise ValueError(message)
    for key, top in (("repeat", MAX_REPEAT), ("child_limit", MAX_CHILD_LIMIT)):
        value = settings.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise ValueError(f"{key.replace('_', ' ')} must be a whole number from 1 to {top}")
    return LaunchPlan(
        launch_id=new_launch_id(workload.size), patterns=chosen, repos=workload.repos,
        owner=workload.owner, synthetic=workload.synthetic, source=workload.source, **settings,
    )  # fmt: skip


def next_step(report: LaunchReport) -> list[tuple[str, int]] | None:
    """Return the step to start now: the first not started, once every earlier one is over."""
    queued = [(p.pattern, p.round) for p in report.patterns if p.queued]
    if not queued or any(not p.done for p in report.patterns if not p.queued):
        return None
    if report.order == "together":  # a round's patterns start together
        return [pair for pair in queued if pair[1] == queued[0][1]]
    return queued[:1]


def advance_launch(launch_id: str) -> LaunchReport:
    """Read a launch and, when its running step is over, start the next one; return the report.

    Idempotent: two readers continuing the same launch at once create each run once.
    """
    report = read_launch(launch_id)
    step = next_step(report)
    if step is None:
        return report
    with prefect_client() as client:
        plan = read_plan(client, launch_id)
        if plan is None:  # a launch of one step, or made before plans were kept
            return report
        create_step(client, plan, step)
    return read_launch(launch_id)


def wait_for_launch(
    launch_id: str,
    *,
    timeout_s: float = 180.0,
    poll_s: float = 0.5,
    on_poll: Callable[[LaunchReport], None] | None = None,
    settled: bool = False,
) -> LaunchReport:
    """Poll a launch, starting each next step, until every run is final or the deadline passes.

    settled: wait on until the report can no longer change (LaunchReport.settled), for exact
    task-run counts.
    """
    deadline = time.monotonic() + timeout_s
    notices: list[str] = []
    while True:
        notices += recover()
        report = advance_launch(launch_id)
        report.notices = notices
        if on_poll:
            on_poll(report)
        over = report.settled(datetime.now(UTC)) if settled else report.done
        if over or time.monotonic() > deadline:
            return report
        time.sleep(poll_s)
