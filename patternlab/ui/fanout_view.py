"""Streamlit parts for launches of several repositories, repeated launches and fair timings."""

from __future__ import annotations

import streamlit as st

from patternlab import views
from patternlab.launch import LaunchReport, PatternReport
from patternlab.ui import runs
from patternlab.views import fanout, scale_charts


def show_workload(report: LaunchReport) -> None:
    """Say what the launch computes and in which order its patterns run."""
    order = ("one pattern after another (fair timings)" if report.order == "sequential"
             else "all patterns at once (**contended**: they share the cores)")  # fmt: skip
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
    show_aggregates_of(views.entries([report]))


def show_aggregates_of(entries: list[views.Entry]) -> None:
    """Show the totals over the repositories of the patterns that have them."""
    items = [e for e in entries if e.report.aggregate is not None]
    if not items:
        return
    st.markdown("#### Statistics over the repositories (computed by the lab)")
    frame = fanout.aggregate_frame(items).drop(columns=["pattern"])
    st.dataframe(runs.shown_numbers(frame), hide_index=True)
    first = items[0].report
    left, right = st.columns(2)
    left.caption("Top repositories by stars")
    left.dataframe(runs.shown_numbers(fanout.top_frame(first, "stars")), hide_index=True)
    right.caption("Top repositories by commits per contributor")
    right.dataframe(
        runs.shown_numbers(fanout.top_frame(first, "commits per contributor")), hide_index=True
    )
    note = first.aggregate.source_note if first.aggregate else ""
    st.caption(f"Source: {views.escape_md(note)}")


def show_fairness(reports: list[LaunchReport], items: list[views.Entry]) -> None:
    """Say whether the times set side by side compare: launches of different sizes, contended
    launches, runs that overlapped."""
    sizes = fanout.sizes_differ(reports)
    if sizes:
        st.warning(
            f"**Different sizes:** {views.escape_md(sizes)}. A pattern's time grows with the "
            "repositories it computes, so these times do not compare across sizes; medians are "
            "taken per size. The Scale page sets sizes side by side.",
            icon=":material/straighten:",
        )
    for launch_id in fanout.contended(reports):
        st.warning(
            f"**Contended:** launch `{launch_id}` started its patterns all at once, so they "
            "shared the machine's cores and each one's times are inflated. Launch them one "
            "after another (the default) for times that compare.",
            icon=":material/group_work:",
        )
    for line in fanout.overlaps(items):
        st.warning(f"**Overlapped:** {views.escape_md(line)}.", icon=":material/call_merge:")


def show_spread(items: list[views.Entry]) -> bool:
    """Show medians with min-max when a pattern ran more than once; say whether it did."""
    spread = fanout.spread_frame(items)
    if spread.empty or spread["runs"].max() < 2:
        return False
    st.header("Repeated runs: median and spread")
    st.plotly_chart(scale_charts.spread_figure(spread), key="compare-spread")
    st.dataframe(
        runs.shown_numbers(spread.drop(columns=["pattern"])),
        hide_index=True,
        column_config={
            "median_s": st.column_config.NumberColumn("median s", format="%.2f"),
            "min_s": st.column_config.NumberColumn("min s", format="%.2f"),
            "max_s": st.column_config.NumberColumn("max s", format="%.2f"),
        },
    )
    return True
