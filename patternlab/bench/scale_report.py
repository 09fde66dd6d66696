"""The scale benchmark's result: curves against N, targets, where each pattern saturates, a table.

Pure functions of the worker's rows (one per run), so the Scale page and the CLI show the same.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from patternlab.launch.plan import fanout_runs

# name -> (pattern, launch options): each pattern's fan-out, and the variants the issue names
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "monoflow threads": ("monoflow", {"task_runner": "threads"}),
    "monoflow dask": ("monoflow", {"task_runner": "dask"}),
    "subflows": ("subflows", {}),
    "subflows concurrent": ("subflows", {"concurrent_subflows": True}),
    "deployments limit 4": ("deployments", {"child_limit": 4}),
    "events": ("events", {}),
}
MEASURES = ("end_to_end_s", "wall_s", "flow_runs", "task_runs", "processes", "api_calls",
            "peak_running", "poll_ms", "poll_calls")  # fmt: skip


def expected_runs(pattern: str, n: int) -> int:
    """Return the flow runs a pattern makes for n repositories (one repository: today's)."""
    if n == 1:
        return {"monoflow": 1, "subflows": 3, "deployments": 2, "events": 2}[pattern]
    return fanout_runs(pattern, n)


def _median(values: list[Any]) -> float | None:
    """Return the median of the known values (None when there are none)."""
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def curves(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return one point per variant and N: medians, runs lost, and the marginal cost per repo.

    marginal_ms: (end-to-end at N - end-to-end at the previous N) / (N - previous N), in ms:
    what one more repository costs there.
    """
    grouped: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for row in rows:
        grouped[(row["variant"], row["repos"])].append(row)
    points = []
    order = list(VARIANTS)
    for (variant, n), runs in sorted(
        grouped.items(), key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order else 99, kv[0])
    ):
        pattern = runs[0]["pattern"]
        # A launch still going at the deadline is read run by run only once over: its runs
        # are not known yet, so they count as not completed, not as lost.
        done = [r["flow_runs"] for r in runs if r["completed"]]
        lost = max(expected_runs(pattern, n) - min(done), 0) if done else None
        point = {"variant": variant, "pattern": pattern, "repos": n, "runs": len(runs),
                 "completed": len(done), "lost_runs": lost,
                 "unfinished_states": sorted({r["state"] for r in runs if not r["completed"]}),
                 "lock_retries": sum(r.get("lock_retries") or 0 for r in runs)}  # fmt: skip
        point |= {m: _median([r.get(m) for r in runs]) for m in MEASURES}
        e2e = point["end_to_end_s"]
        point["per_repo_ms"] = round(1000 * e2e / n, 1) if e2e is not None else None
        points.append(point)
    previous: dict[str, dict] = {}
    for point in points:
        before = previous.get(point["variant"])
        a = before and before["end_to_end_s"]
        b = point["end_to_end_s"]
        point["marginal_ms"] = (round(1000 * (b - a) / (point["repos"] - before["repos"]), 1)
                                if a is not None and b is not None else None)  # fmt: skip
        previous[point["variant"]] = point
    return points


def _at_largest(points: list[dict], variant: str, key: str) -> Any:
    """Return a measure of a variant at its largest N."""
    mine = [p for p in points if p["variant"] == variant]
    return max(mine, key=lambda p: p["repos"])[key] if mine else None


def _sum_known(values: Iterable[int | None]) -> int | None:
    """Return the sum of the known values (None when none is known)."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def targets(points: list[dict], quiet: dict[str, Any]) -> list[dict[str, Any]]:
    """Check the issue's targets: value, limit, met (None when not measured)."""
    largest = max((p["repos"] for p in points), default=0)
    top = [p for p in points if p["repos"] == largest]
    checks = [
        (f"{largest} repositories: launches that did not complete",
         sum(p["runs"] - p["completed"] for p in top) if top else None, "<=", 0),
        (f"{largest} repositories: runs lost", _sum_known(p["lost_runs"] for p in top), "<=", 0),
        ("lock retries (all runs)", sum(p["lock_retries"] for p in points) if points else None,
         "<=", 0),
        ("monoflow threads: marginal cost per repository (ms)",
         _at_largest(points, "monoflow threads", "marginal_ms"), "<=", 20),
        ("deployments at concurrency 4: marginal cost per repository (ms)",
         _at_largest(points, "deployments limit 4", "marginal_ms"), "<=", 500),
        (f"one dashboard poll of a running {quiet.get('repos')}-repository launch (ms)",
         quiet.get("poll_ms"), "<=", 100),
    ]  # fmt: skip
    out = []
    for name, value, op, limit in checks:
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        out.append({"target": name, "value": value, "limit": f"{op} {limit}", "met": met})
    return out


def format_table(result: dict[str, Any]) -> str:
    """Render the curves, the targets and where each pattern saturates as plain text."""
    head = ("variant", "N", "ok", "e2e s", "marginal ms", "per repo ms", "flow runs",
            "task runs", "procs", "API calls", "peak", "poll ms")  # fmt: skip
    lines = [" | ".join(head)]
    for p in result["curves"]:
        cells = (p["variant"], p["repos"], f"{p['completed']}/{p['runs']}", p["end_to_end_s"],
                 p["marginal_ms"], p["per_repo_ms"], p["flow_runs"], p["task_runs"],
                 p["processes"], p["api_calls"], p["peak_running"], p["poll_ms"])  # fmt: skip
        lines.append(" | ".join("-" if c is None else str(c) for c in cells))
    q = result.get("quiet_poll", {})
    lines.append(f"\npoll of a running {q.get('repos')}-repository launch ({q.get('launch')}): "
                 f"{q.get('poll_ms')} ms median, {q.get('poll_ms_max')} ms max, "
                 f"{q.get('poll_calls')} API calls")  # fmt: skip
    lines.append("\nwhere each pattern saturates:")
    lines += [f"  {v}: {note}" for v, note in result.get("saturation", {}).items()]
    lines.append("\ntargets:")
    for t in result["targets"]:
        mark = {True: "met   ", False: "MISSED", None: "n/a   "}[t["met"]]
        lines.append(f"  {mark} {t['target']}: {t['value']} (target {t['limit']})")
    return "\n".join(lines)


def saturation(points: list[dict], limits: dict[str, Any]) -> dict[str, str]:
    """Say, per variant at its largest N, what bounds it (from what ran, and the known limits)."""
    limit, cpus = limits.get("runner_process_limit"), limits.get("cpus", "?")
    notes = {}
    for variant in dict.fromkeys(p["variant"] for p in points):
        mine = [p for p in points if p["variant"] == variant]
        # Read the largest N that completed; say first if a larger one did not.
        last = max([p for p in mine if p["completed"]] or mine, key=lambda p: p["repos"])
        e2e, peak, n = last["end_to_end_s"], last["peak_running"], last["repos"]
        rate = f"{n / e2e:.1f} repositories/s at N={n}" if e2e else f"N={n}"
        per = last["api_calls"] / n if last["api_calls"] else 0
        calls = f"{per:.0f} API requests per repository"
        at_once = f"at most {peak} flow run{'s' * (peak != 1)} at once"
        # The runner's limit is the bound only where the peak is at it (above: it was not in force).
        runner = (f" (the runner's limit of {limit} processes)" if limit and peak == limit
                  else "" if limit else " (the runner has no limit)")  # fmt: skip
        why = {
            "monoflow threads": "one flow process: its 8 threads share one core (Python's GIL), "
            "and the work and Prefect's per-task cost are CPU",
            "monoflow dask": "each Dask task runs Prefect's task engine in the Dask worker, "
            f"its settings and API client its own: {_marginal(points, variant)} per repository "
            f"against {_marginal(points, 'monoflow threads')} on threads, on {cpus} cores; "
            "batch work per task for Dask to pay",
            "subflows": "one subflow after another in one process: N times a subflow's server "
            "round trips",
            "subflows concurrent": f"4 threads in one process: the GIL, and one Prefect server, "
            f"on {cpus} cores",
            "deployments limit 4": f"{at_once}: the child deployment's "
            f"concurrency limit of 4, plus the parent, which starts the next child as one ends; "
            f"each child is a pick-up, a process start and {calls}, on {cpus} cores",
            "events": f"{at_once}{runner}: each repository is two "
            f"process starts and an automation, {calls}, on {cpus} cores",
        }.get(variant, at_once)
        notes[variant] = _unfinished(mine) + f"{rate}; {why}"
    return notes


def _marginal(points: list[dict], variant: str) -> str:
    """Say a variant's marginal cost per repository at its largest N, naming that N."""
    cost, n = _at_largest(points, variant, "marginal_ms"), _at_largest(points, variant, "repos")
    return f"{'?' if cost is None else cost} ms at N={'?' if n is None else n}"


def _unfinished(points: list[dict]) -> str:
    """Say at which N a variant's launches did not complete, and in which state they were."""
    top = max(points, key=lambda p: p["repos"])
    if top["completed"] == top["runs"]:
        return ""
    states = "/".join(top.get("unfinished_states") or ["unfinished"])
    runs = "" if top["runs"] == 1 else f"{top['runs'] - top['completed']} of {top['runs']} runs "
    return f"did not complete at N={top['repos']} ({runs}{states} after {top['wall_s']} s); "
