"""Launches named by what they were (time, repository, patterns, drill, variant, hold), not by
hex id, and History as a table and CSV (pure: no Streamlit, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from patternlab.launch import PATTERNS, HistoryRow
from patternlab.views.labels import pattern_title, repositories

END_TO_END_S = "end-to-end s"
ENTRY_RUN_S = "entry run s"
HISTORY_COLUMNS = [
    "launch", "created", "repository", "patterns", "pattern", "drill", "variant", "hold s",
    "source", "state", END_TO_END_S, ENTRY_RUN_S, "round", "repos", "synthetic", "status",
    "compare", "prefect", "flow run id",
]  # fmt: skip
SHORT = {"monoflow": "mono", "subflows": "subflows", "deployments": "deploy", "events": "events"}


def patterns_label(patterns: Sequence[str]) -> str:
    """Name a launch's patterns briefly: "all 4", or their short names joined by "+"."""
    if set(patterns) >= set(PATTERNS):
        return "all 4"
    return "+".join(SHORT.get(p, p) for p in patterns)


def launch_label(rows: Sequence[HistoryRow]) -> str:
    """Name one launch by what it was, from its History rows: when, what, which patterns, how."""
    first = min(rows, key=lambda r: r.created)
    patterns = first.patterns or list(dict.fromkeys(r.pattern for r in rows))
    parts = [f"{first.created:%Y-%m-%d %H:%M}", first.repo, patterns_label(patterns)]
    parts += [f"drill: {first.drill}"] if first.drill not in ("", "none") else []
    parts += [first.variant] if first.variant and "deployments" in patterns else []
    parts += [f"hold {first.hold_s:g} s"] if first.hold_s else []
    return " · ".join([*parts, first.launch_id[:8]])


def launch_labels(rows: Sequence[HistoryRow]) -> dict[str, str]:
    """Return each launch's label by launch id, newest first as the rows come."""
    by_launch: dict[str, list[HistoryRow]] = {}
    for r in rows:
        if r.launch_id:
            by_launch.setdefault(r.launch_id, []).append(r)
    return {launch_id: launch_label(found) for launch_id, found in by_launch.items()}


def history_frame(rows: Sequence[HistoryRow], base_url: str = "") -> pd.DataFrame:
    """Return History rows as a table (and CSV), each with a link to its launch's Compare view.

    base_url: the app's address ("http://host:port/"), so an exported link opens from anywhere;
    empty, the link is relative to the page (the table in the app).
    """
    frame = pd.DataFrame([r.model_dump() for r in rows], columns=list(HistoryRow.model_fields))
    frame["compare"] = f"{base_url}Compare?launch=" + frame["launch_id"].astype(str)
    frame["ui_url"] = frame["ui_url"].fillna("")
    frame["patterns"] = [patterns_label(p) if p else "" for p in frame["patterns"]]
    names = {"launch_id": "launch", "repo": "repository", "duration_s": ENTRY_RUN_S,
             "end_to_end_s": END_TO_END_S, "ui_url": "prefect", "hold_s": "hold s",
             "flow_run_id": "flow run id"}  # fmt: skip
    return frame.rename(columns=names)[HISTORY_COLUMNS]


def unique_launches(rows: Sequence[HistoryRow]) -> list[str]:
    """Return the launch ids of History rows, in order, each once."""
    return list(dict.fromkeys(r.launch_id for r in rows if r.launch_id))


GROUP_ABOVE = 8  # more pattern runs than this on Compare: one bar per pattern, the median


def per_pattern_medians(frame: pd.DataFrame) -> pd.DataFrame:
    """Group a per-run frame (timings or counts) by pattern, and by size when the runs computed
    different numbers of repositories (a time grows with it): each number column's median, the
    end-to-end spread (min, max when present) and n; labelled "Pattern (median of n)", with
    "· N repositories" when sizes differ."""
    by_size = "repos" in frame and frame["repos"].nunique() > 1
    keys = ["pattern", "repos"] if by_size else ["pattern"]
    numbers = [c for c in frame.columns if c not in ("label", "launch", *keys)]
    grouped = frame.groupby(keys, sort=False)
    out = grouped[numbers].median().reset_index()
    out.insert(0, "runs", grouped.size().to_numpy())
    if "end_to_end_s" in frame:
        out["min_s"] = grouped["end_to_end_s"].min().to_numpy()
        out["max_s"] = grouped["end_to_end_s"].max().to_numpy()
    if by_size:  # the smallest first, each size's patterns in their order
        out = out.sort_values("repos", kind="stable").reset_index(drop=True)
    sizes = out["repos"] if by_size else [None] * len(out)
    out.insert(0, "label", [
        pattern_title(p) + ("" if size is None else f" · {repositories(size)}")
        + f" (median of {n})" for p, n, size in zip(out["pattern"], out["runs"], sizes, strict=True)
    ])  # fmt: skip
    return out
