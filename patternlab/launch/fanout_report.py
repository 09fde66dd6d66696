"""One pattern's report in a launch of several repositories: from counts while it runs, from all
its runs once it is over. Pure functions of what fanout_read read from Prefect."""

from __future__ import annotations

from typing import Any

from patternlab.launch.aggregate import aggregate
from patternlab.launch.metrics import _secs, _union_s, observe_separation
from patternlab.launch.models import (
    FlowRunInfo,
    PatternReport,
    Progress,
    RepoStats,
    Timings,
)
from patternlab.launch.plan import tag_value
from patternlab.launch.readback import run_info

SHOWN_ERRORS = 5  # a fan-out can fail 128 times: name a few, count the rest


def fanout_timings(runs: list[FlowRunInfo]) -> Timings:
    """Return a fan-out's end-to-end, queue, execution and summed work time.

    Hand-off and overhead are left out: summed over runs that overlap they no longer add up to
    the end-to-end time, and the Scale page's per-repository cost says more.
    """
    entries = sorted((r for r in runs if r.role == "entry"), key=lambda r: r.created)
    if not entries:
        return Timings()
    main = [r for r in runs if r.role != "alert"]
    ends = [r.end for r in main if r.end]
    spans = [(r.start, r.end) for r in main if r.start and r.end]
    return Timings(
        end_to_end_s=_secs(entries[0].created, max(ends)) if ends and all(r.final for r in main)
        else None,
        queue_s=_secs(entries[0].created, entries[0].start),
        execution_s=_union_s(spans) if spans else None,
        work_s=round(sum(r.work_s or 0.0 for r in runs), 3),
    )  # fmt: skip


def _details(lead: Any) -> dict[str, Any]:
    """Return what a lead run's tags say about its pattern's fan-out."""
    limit = tag_value(lead.tags, "limit")
    return {
        "repos": int(tag_value(lead.tags, "repos", "1")),
        "variant": tag_value(lead.tags, "variant") or None,
        "concurrency_limit": int(limit) if limit else None,
    }


def lead_report(
    lead: Any, pair: tuple[str, int], state: tuple[bool, Progress] | None
) -> PatternReport:
    """Report a pattern by its lead run and counts: running (counts), or over (read later)."""
    info = run_info(lead)
    over, progress = state if state is not None else (True, None)
    status = info.status if over else "running"
    return PatternReport(
        pattern=pair[0], round=pair[1], state=info.state if over else "Running", status=status,
        done=over, flow_runs=[info], progress=progress, separation=observe_separation([info]),
        timings=Timings(), **_details(lead),
    )  # fmt: skip


def _launched(runs: list[Any], lead: Any) -> list[str]:
    """Return the repositories a pattern was asked to compute (from its entry runs)."""
    asked = (lead.parameters or {}).get("repos") if lead is not None else None
    if asked:
        return list(asked)
    return [r.parameters["repo"] for r in runs if run_info(r).role == "entry" and r.parameters]


def _errors(pattern: str, infos: list[FlowRunInfo]) -> list[str]:
    """List the runs that failed (a few by name, the rest counted) and runs that never came."""
    bad = [r for r in infos if r.status in {"failed", "crashed", "cancelled"}]
    errors = [f"{r.name} ({r.flow}) ended {r.state}: {r.message or 'no message'}"
              for r in bad[:SHOWN_ERRORS]]  # fmt: skip
    if len(bad) > SHOWN_ERRORS:
        errors.append(f"… and {len(bad) - SHOWN_ERRORS} more runs did not complete")
    if pattern == "events":
        ups = sum(1 for r in infos if r.role == "entry" and r.status == "completed")
        downs = sum(1 for r in infos if r.role == "triggered")
        if downs < ups:
            errors.append(f"The automation started {downs} downstream runs for {ups} completed "
                          "upstream runs")  # fmt: skip
    return errors


def fanout_report(
    pair: tuple[str, int],
    lead: Any,
    runs: list[Any],
    tasks: dict[str, int],
    process: dict[str, dict],
    stats: list[RepoStats],
    ui: str,
) -> PatternReport:
    """Report a finished fan-out from all its runs, their task counts, processes and stats."""
    infos = []
    for run in sorted(runs, key=lambda r: r.created):
        rec = process.get(str(run.id), {})
        infos.append(run_info(
            run, parent_id=str(lead.id) if run.parent_task_run_id and lead else None,
            pid=rec.get("pid"), host=rec.get("host"), work_s=rec.get("work_s"),
            task_runs=int(tasks.get(str(run.id), 0)), ui_url=f"{ui}/runs/flow-run/{run.id}",
        ))  # fmt: skip
    errors = _errors(pair[0], infos)
    return PatternReport(
        pattern=pair[0], round=pair[1], state="Failed" if errors else "Completed",
        status="failed" if errors else "completed", done=True, flow_runs=infos,
        task_runs=sum(r.task_runs for r in infos),
        processes=len({(r.host, r.pid) for r in infos if r.pid is not None}),
        separation=observe_separation(infos), timings=fanout_timings(infos), errors=errors,
        repo_stats=stats, aggregate=aggregate(stats, _launched(runs, lead)),
        **(_details(lead) if lead is not None else {}),
    )  # fmt: skip
