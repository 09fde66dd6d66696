"""Tables for launches of several repositories and for repeated launches (pure: no Streamlit).

- `aggregate_frame`: each pattern's launch-level figures (totals, the top repositories);
- `progress_line`: a running fan-out by counts;
- `overlaps`: which patterns set side by side ran at the same time, and for how long;
- `spread_frame`: medians with min-max when a pattern ran more than once.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

import pandas as pd

from patternlab.launch import LaunchReport, PatternReport
from patternlab.views.labels import Entry, pattern_title, repositories


def progress_line(report: PatternReport) -> str:
    """Say how far a running fan-out is: runs final of expected, and what the rest are doing."""
    p = report.progress
    if p is None:
        return ""
    others = ", ".join(f"{n} {s}" for s, n in sorted(p.runs.items()) if s not in
                       ("completed", "failed", "crashed", "cancelled") and n)  # fmt: skip
    line = f"{p.final} of {p.expected_runs} flow runs final" + (f" ({others})" if others else "")
    return line + (f" · {p.task_runs} task runs" if p.task_runs is not None else "")


def flow_run_count(report: PatternReport) -> int:
    """Return a pattern's flow runs: counted while its launch runs, else the runs read."""
    p = report.progress
    return sum(p.runs.values()) if p is not None else len(report.flow_runs)


def task_run_count(report: PatternReport) -> int | None:
    """Return a pattern's task runs (None: counted with other patterns' running at once)."""
    return report.progress.task_runs if report.progress is not None else report.task_runs


def aggregate_frame(items: Iterable[Entry]) -> pd.DataFrame:
    """Return each pattern's totals over its repositories (the lab computes them)."""
    rows = []
    for e in items:
        a = e.report.aggregate
        if a is None:
            continue
        rows.append({
            "label": e.label, "pattern": e.pattern, "repositories": a.repositories,
            "missing": len(a.missing), "stars": a.stars, "forks": a.forks,
            "contributors": a.contributors, "commits": a.commits,
            "avg commits / contributor": a.avg_commits_per_contributor,
            "synthetic": "yes" if a.synthetic else "no",
        })  # fmt: skip
    columns = ["label", "pattern", "repositories", "missing", "stars", "forks", "contributors",
               "commits", "avg commits / contributor", "synthetic"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def top_frame(report: PatternReport, which: str) -> pd.DataFrame:
    """Return a pattern's top repositories by stars or by commits per contributor."""
    a = report.aggregate
    ranks = [] if a is None else (
        a.top_by_stars if which == "stars" else a.top_by_commits_per_contributor)  # fmt: skip
    whole = which == "stars"  # a count: 2,335, not 2,335.00
    return pd.DataFrame([{"repository": r.repo, which: int(r.value) if whole else r.value}
                         for r in ranks], columns=["repository", which])  # fmt: skip


def _span(report: PatternReport) -> tuple[datetime, datetime] | None:
    """Return when a pattern's runs began (first created) and ended (last end)."""
    runs = report.flow_runs
    ends = [r.end for r in runs if r.end]
    if not runs or not ends:
        return None
    return min(r.created for r in runs), max(ends)


def overlaps(items: Sequence[Entry]) -> list[str]:
    """Say which of the patterns set side by side ran at the same time, and for how long."""
    spans = [(e, s) for e in items if (s := _span(e.report)) is not None]
    found = []
    for i, (a, (a0, a1)) in enumerate(spans):
        for b, (b0, b1) in spans[i + 1 :]:
            shared = (min(a1, b1) - max(a0, b0)).total_seconds()
            if shared > 0:
                shorter = min((a1 - a0).total_seconds(), (b1 - b0).total_seconds()) or shared
                found.append(f"{a.label} and {b.label} ran at the same time for {shared:.1f} s "
                             f"({100 * shared / shorter:.0f} % of the shorter one)")  # fmt: skip
    return found


def sizes_differ(reports: Iterable[LaunchReport]) -> str | None:
    """Say which launches set side by side computed how many repositories, when that differs:
    a pattern's time grows with it, so their times do not compare (None when alike)."""
    by_size: dict[int, list[str]] = defaultdict(list)
    for r in reports:
        by_size[r.repos].append(r.launch_id[:6])
    if len(by_size) < 2:
        return None
    return "; ".join(f"{repositories(n)} ({', '.join(ids)})" for n, ids in sorted(by_size.items()))


def contended(reports: Iterable[LaunchReport]) -> list[str]:
    """Return the launches whose patterns were started all at once (they compete for the CPU)."""
    return [r.launch_id for r in reports if r.order == "together" and len(r.patterns) > 1]


def spread_frame(items: Iterable[Entry]) -> pd.DataFrame:
    """Return per pattern (and launch) the median end-to-end time with its min and max, and n."""
    grouped: dict[tuple[str, str], list[float]] = defaultdict(list)
    for e in items:
        value = e.report.timings.end_to_end_s
        if value is not None:
            grouped[(e.pattern, e.launch_id)].append(value)
    rows = [{"label": pattern_title(p), "pattern": p, "launch": lid, "runs": len(v),
             "median_s": round(statistics.median(v), 3), "min_s": min(v), "max_s": max(v)}
            for (p, lid), v in grouped.items()]  # fmt: skip
    return pd.DataFrame(rows, columns=["label", "pattern", "launch", "runs", "median_s",
                                       "min_s", "max_s"])  # fmt: skip
