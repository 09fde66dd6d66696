"""The Launch page's view of one launch: summary, run trees, timeline, statistics, live updates."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from patternlab import views
from patternlab.launch import LaunchReport
from patternlab.settings import get_settings
from patternlab.ui import backend_panel, fanout_view, logs_view, reads, runs
from patternlab.ui.page_setup import now, show_error
from patternlab.views import charts, glossary
from patternlab.views import fanout as views_fanout
from patternlab.views import story as views_story

READ_KEY = "launch_read"  # the page's read of a running launch, for the fragment's 1st tick

TOGETHER_HELP = (
    "Patterns running at once: their task runs are counted together, not each, until the "
    "launch is over."
)


def _show_stats(report: LaunchReport) -> None:
    """Show the repository's statistics from the first pattern that published them."""
    stats = next((p.stats for p in report.patterns if p.stats), None)
    if stats is None:
        return
    figures = {
        "Stars": stats.stars,
        "Forks": stats.forks,
        "Contributors": stats.contributors,
        "Commits": stats.commits,
        "Avg commits / contributor": stats.avg_commits_per_contributor,
    }
    for col, (label, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        col.metric(label, glossary.number(value, 2 if isinstance(value, float) else 0))
    source = stats.source_note or stats.source
    if report.source_note:  # why `auto` fell back, or why the patterns' sources differ
        source = f"{source} · {report.source_note}"
    st.caption(f"Source: {views.escape_md(source)}")


def _show_story(report: LaunchReport, when: datetime) -> None:
    """Say what Prefect is doing for runs not yet running, and what a drill did, in sentences.

    Drawn into a container that is always there, so the sentences coming and going between two
    ticks never move the live lanes below them (a moved chart is redrawn from blank)."""
    settings = get_settings()
    waiting = views_story.waiting_story(
        report, when, execution=report.execution, poll_s=settings.runner_poll_s
    )
    if waiting and not report.done:
        text = "  \n".join(views.escape_md(line) for line in waiting)
        st.info(text, icon=":material/hourglass_top:")
    if report.drill != "none":
        headline, lines = views_story.drill_story(report, settings.alert_window_s)
        body = "  \n".join(f"- {views.escape_md(line)}" for line in lines)
        st.info(f"**{views.escape_md(headline)}**  \n{body}", icon=":material/science:")


def _show_timeline(report: LaunchReport, when: datetime) -> None:
    """Draw the launch's runs as lanes on one time axis (one repository: one bar per run)."""
    if report.repos != 1:  # a fan-out's hundreds of bars would not read
        return
    marks = views.alert_deadlines(report, get_settings().alert_window_s)
    figure = charts.timeline_figure(views.timeline_frame(report), when, marks)
    st.plotly_chart(figure, key="launch-timeline")


def show_launch(report: LaunchReport) -> None:
    """Render a launch: summary, the live lanes, each pattern's run tree, statistics."""
    when = now()
    notices = list(dict.fromkeys([*report.notices, *reads.launch_notices(report.launch_id)]))
    head, link = st.columns([2, 1], vertical_alignment="bottom")
    head.subheader(f"Launch `{report.launch_id}` · {views.escape_md(report.repo)}")
    logs_view.show_launch_link(report.launch_id, link)
    cols = st.columns(4)
    cols[0].metric("State", views.launch_state(report))
    cols[1].metric("Elapsed", f"{views.elapsed_s(report, when) or 0:.1f} s")
    flows = sum(views_fanout.flow_run_count(p) for p in report.patterns)
    tasks = [views_fanout.task_run_count(p) for p in report.patterns]
    cols[2].metric("Flow runs", glossary.number(flows))
    together = None in tasks  # counted for the patterns running at once, not for each
    cols[3].metric(
        "Task runs",
        glossary.MISSING if together else glossary.number(sum(tasks)),
        help=TOGETHER_HELP if together else None,
    )
    with st.container():
        _show_story(report, when)
    with st.container():
        _show_timeline(report, when)  # the live lanes first: where the eye is after Launch
    if report.repos > 1 or len(report.patterns) > 1:
        fanout_view.show_workload(report)
    runs.show_host_fault(report)
    for line in notices:
        st.info(views.escape_md(line), icon=":material/build:")
    for line in views.waiting_runs(report, when):
        st.warning(f"{line}: is the runner up? See the sidebar.", icon=":material/hourglass_top:")
    for p in report.patterns:
        rounds = f" #{p.round + 1}" if report.repeat > 1 else ""
        still = f" · {views.escape_md(p.pending)}" if p.pending and not p.done else ""
        st.markdown(f"#### {views.pattern_title(p.pattern)}{rounds} — {p.state}{still}")
        if fanout_view.show_step(p):
            code = st.session_state.get("launch_code", False)
            runs.show_pattern_run(
                p, when, key=f"launch-{p.pattern}-{p.round}", with_code=code,
                fold_errors=report.drill != "none",
            )  # fmt: skip
    _show_stats(report)
    fanout_view.show_aggregates(report)
    if report.done:
        st.page_link(
            "pages/2_Compare.py",
            label="Compare these patterns side by side",
            icon=":material/bar_chart:",
            query_params={"launch": report.launch_id},
        )


@st.fragment(run_every=1)
def _live(launch_id: str) -> None:
    """Re-read a running launch about once a second; rerun the page when it is done.

    A failed read (the server went away) is shown and retried at the next tick, so the page
    reconnects by itself. Each tick also lets the lab restart a runner it finds dead.
    """
    reads.recover_runner(launch_id)
    # The page read the launch a moment ago to decide to come here: the first tick shows that.
    handed = st.session_state.pop(READ_KEY, None)
    report = handed if handed is not None and handed.launch_id == launch_id else None
    report = report or reads.read_report(launch_id)
    if report is None:
        st.caption(f"Trying again every second (last try {now():%H:%M:%S} UTC).")
        return
    show_launch(report)
    if report.done:
        st.rerun()  # the whole page then shows the final state, without the timer


def watch_launch(launch_id: str) -> None:
    """Show a launch: once if it is over, live while it runs or while the server is away."""
    st.toggle("Show each pattern's flow code beside its runs", key="launch_code")
    first, error = reads.try_read_report(launch_id)
    if first is not None and first.done:
        show_launch(first)
    elif first is not None or backend_panel.is_backend_down(error):
        st.session_state[READ_KEY] = first
        _live(launch_id)  # running, or the server is away: keep asking
    else:
        show_error(error)
