"""Streamlit parts for launches of several repositories, repeated launches and fair timings."""

from __future__ import annotations

import streamlit as st

from patternlab import views
from patternlab.launch import LaunchReport, PatternReport
from patternlab.views import fanout


def show_workload(report: LaunchReport) -> None:
    """Say what the launch computes and in which order its patterns run."""
    order = ("one pattern after another (fair timings)" if report.order == "sequential"
             else "all patterns at once (contended: they share the machine's cores)")  # fmt: skip
    rounds = f" · each pattern {report.repeat} times" if report.repeat > 1 else ""
    st.caption(f"Workload: {views.escape_md(report.repo)} · {order}{rounds}")
    if report.synthetic:
        st.warning(
            "**Synthetic data:** the offline snapshot's generated organisation, not real "
            "repositories. Its figures show how the patterns scale, nothing about GitHub.",
            icon=":material/science:",
        )


def show_step(p: PatternReport) -> bool:
    """Show a queued pattern or a running fan-out's progress; say whether the run tree follows."""
    if p.queued:
        st.caption("Queued: starts when the pattern before it is over (fair timings).")
        return False
    if p.progress is not None:
        share = p.progress.final / max(p.progress.expected_runs, 1)
        st.progress(min(share, 1.0), text=fanout.progress_line(p))
    elif p.repos > 1 and not p.aggregate:
        st.caption("Over: its runs are read one by one once the whole launch is.")
    return True


def show_aggregates(report: LaunchReport) -> None:
    """Show each pattern's totals over its repositories and its top repositories."""
    items = [e for e in views.entries([report]) if e.report.aggregate is not None]
    if not items:
        return
    st.markdown("#### Statistics over the repositories (computed by the lab)")
    st.dataframe(fanout.aggregate_frame(items).drop(columns=["pattern"]), hide_index=True)
    first = items[0].report
    left, right = st.columns(2)
    left.caption("Top repositories by stars")
    left.dataframe(fanout.top_frame(first, "stars"), hide_index=True)
    right.caption("Top repositories by commits per contributor")
    right.dataframe(fanout.top_frame(first, "commits per contributor"), hide_index=True)
    note = first.aggregate.source_note if first.aggregate else ""
    st.caption(f"Source: {views.escape_md(note)}")
