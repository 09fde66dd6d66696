"""The Launch page's form parts beyond one repository: the workload, fan-out and fair timings.

Widgets only; the checks happen in patternlab.launch (build_workload, launch) when the user
clicks Launch, and their messages are shown by the page.
"""

from __future__ import annotations

from typing import Any

from flows.snapshot_synthetic import SYNTHETIC_OWNER
from patternlab.launch.options import MAX_CHILD_LIMIT, MAX_REPEAT
from patternlab.launch.workload import MAX_REPOS

WORKLOADS = {
    "one": "one repository",
    "list": "a list of repositories",
    "owner": "an owner's repositories",
}


def workload_kind(where: Any) -> str:
    """Ask what the launch computes: one repository (the default), a list, or an owner's."""
    return where.radio(
        "Workload",
        list(WORKLOADS),
        format_func=WORKLOADS.get,
        key="launch_workload",
        horizontal=True,
        help="Several repositories make each pattern fan out in its own way (the Scale page).",
    )


def workload_inputs(where: Any, kind: str) -> dict[str, Any]:
    """Draw the list or owner inputs; return build_workload's arguments (not the single repo)."""
    if kind == "list":
        text = where.text_area(
            "Repositories",
            key="launch_repos",
            placeholder="owner/name, one per line or comma-separated (up to 256)",
            height=110,
        )
        return {"repos": text}
    owner = where.text_input(
        "Owner",
        key="launch_owner",
        value=SYNTHETIC_OWNER,
        help=f"A GitHub organisation or user; offline, {SYNTHETIC_OWNER} is the snapshot's "
        "generated organisation of 256 repositories (labelled synthetic everywhere).",
    )
    limit = where.number_input(
        "How many of its repositories (by name)",
        min_value=1,
        max_value=MAX_REPOS,
        value=32,
        step=1,
        key="launch_limit",
    )
    return {"owner": owner, "limit": int(limit)}


ORDERS = {
    "sequential": "one after another (fair timings)",
    "together": "all at once (contended)",
}


def fairness_inputs(where: Any, patterns: list[str]) -> dict[str, Any]:
    """Ask how the patterns share the machine, and how many times each runs."""
    order = where.radio(
        "Order",
        list(ORDERS),
        format_func=ORDERS.get,
        key="launch_order",
        horizontal=True,
        disabled=len(patterns) < 2,
        help="One after another: each pattern has the machine to itself, so their times compare. "
        "All at once: they compete for the two cores (Compare says so).",
    )
    repeat = where.number_input(
        "Runs of each pattern", min_value=1, max_value=MAX_REPEAT, value=1, step=1,
        key="launch_repeat", help="More than one: Compare shows the median with min-max.",
    )  # fmt: skip
    return {"order": order, "repeat": int(repeat)}


def fanout_inputs(where: Any, patterns: list[str]) -> dict[str, Any]:
    """Ask how each chosen pattern fans out over several repositories."""
    options: dict[str, Any] = {}
    if "monoflow" in patterns:
        options["task_runner"] = where.radio(
            "Monoflow's task runner", ["threads", "dask"], key="launch_runner", horizontal=True,
            format_func={"threads": "Prefect's thread pool", "dask": "Dask (prefect-dask)"}.get,
        )  # fmt: skip
    if "subflows" in patterns:
        options["concurrent_subflows"] = where.toggle(
            "Subflows: run them concurrently (4 threads)", key="launch_concurrent"
        )
    if "deployments" in patterns:
        options["child_limit"] = int(where.number_input(
            "Deployments: child runs at once (the child deployment's concurrency limit)",
            min_value=1, max_value=MAX_CHILD_LIMIT, value=4, step=1, key="launch_limit_children",
        ))  # fmt: skip
    return options
