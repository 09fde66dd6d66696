"""The repository statistics each pattern computed, as tables (pure: no Streamlit, no I/O).

When every pattern computed the same series it is shown once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from patternlab.launch import RepoStats
from patternlab.views.labels import Entry

ALL_AGREE = "all"  # the pattern name of a series every pattern computed identically
STAT_FIELDS = (
    ("stars", "Stars"), ("forks", "Forks"), ("open_issues", "Open issues"),
    ("watchers", "Watchers"), ("contributors", "Contributors"), ("commits", "Commits"),
    ("avg_commits_per_contributor", "Avg commits / contributor"),
)  # fmt: skip


def stats_frame(items: Iterable[Entry]) -> pd.DataFrame:
    """Return the repository statistics each pattern computed, one row per pattern."""
    rows = []
    for e in items:
        s = e.report.stats
        row: dict[str, object] = {"label": e.label, "pattern": e.pattern}
        for field, title in STAT_FIELDS:
            row[title] = getattr(s, field) if s else None
        row["Source"] = s.source if s else ""
        row["Statistics"] = s.stats_status if s else "missing"
        rows.append(row)
    columns = ["label", "pattern", *(t for _, t in STAT_FIELDS), "Source", "Statistics"]
    return pd.DataFrame(rows, columns=columns)


def stats_disagreements(items: Iterable[Entry]) -> list[str]:
    """List the statistics on which the patterns that produced statistics disagree."""
    found = [e.report.stats for e in items if e.report.stats is not None]
    return [title for field, title in STAT_FIELDS if len({getattr(s, field) for s in found}) > 1]


def _series(items: Iterable[Entry], pick: Callable[[RepoStats], list]) -> list[tuple]:
    """Return (label, pattern, values) per pattern, or one shared series when all are identical."""
    found = [(e.label, e.pattern, pick(e.report.stats)) for e in items if e.report.stats]
    if len(found) > 1 and all(values == found[0][2] for _, _, values in found):
        return [(f"all {len(found)} patterns (identical)", ALL_AGREE, found[0][2])]
    return found


def contributors_frame(items: Iterable[Entry], top: int = 10) -> pd.DataFrame:
    """Return the top contributors per pattern (or once, when every pattern agrees), long format."""

    def pick(stats: RepoStats) -> list:
        ranked = sorted(stats.top_contributors, key=lambda c: -c.contributions)[:top]
        return [(c.login, c.contributions) for c in ranked]

    rows = [
        {"label": label, "pattern": pattern, "login": login, "contributions": n}
        for label, pattern, values in _series(items, pick)
        for login, n in values
    ]
    return pd.DataFrame(rows, columns=["label", "pattern", "login", "contributions"])


def weekly_frame(items: Iterable[Entry]) -> pd.DataFrame:
    """Return weekly commit counts per pattern (or once, when every pattern agrees), long format."""
    rows = [
        {"label": label, "pattern": pattern, "week": week, "commits": n}
        for label, pattern, values in _series(
            items, lambda s: [(w.week, w.commits) for w in s.weekly_commits]
        )
        for week, n in values
    ]
    return pd.DataFrame(rows, columns=["label", "pattern", "week", "commits"])


def source_label(items: Iterable[Entry]) -> tuple[str, bool]:
    """Say where the statistics came from, and whether that is the (approximate) snapshot."""
    notes = {(s.source, s.source_note, s.snapshot_date) for e in items if (s := e.report.stats)}
    if not notes:
        return "No statistics yet: the runs have not published any.", False
    snapshot = any(src == "snapshot" for src, _, _ in notes)
    parts = []
    for src, note, date in sorted(notes, key=lambda n: (n[0], n[1], n[2] or "")):
        if src == "snapshot":
            parts.append(note or f"Offline snapshot dated {date}: approximate figures")
        else:
            parts.append(note or "Live GitHub API")
    return " | ".join(parts), snapshot
