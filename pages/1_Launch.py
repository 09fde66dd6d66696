"""Launch: pick patterns, a repository, a source and a variant; then watch the runs live."""

from __future__ import annotations

import streamlit as st

from patternlab import charts, ui, ui_backend, ui_runs, views
from patternlab.drills import DRILL_LABELS, DRILLS
from patternlab.models import PATTERNS, LaunchReport
from patternlab.settings import get_settings

SOURCES = {
    "auto": "auto: live GitHub when it answers, else the snapshot",
    "github": "live GitHub API",
    "snapshot": "offline snapshot (approximate, dated)",
}
VARIANTS = {"wait": "wait for the child", "fire-and-forget": "fire and forget"}
HOLD_PAST_WINDOW_S = 2  # the events upstream is held this much longer than the alert window

ui.page("Launch", ":material/rocket_launch:")
st.title("Launch")
repos = ui.snapshot_repos()
st.session_state.setdefault("launch_repo", repos[0] if repos else "PrefectHQ/prefect")


def _pick_snapshot_repo() -> None:
    """Copy the picked snapshot repository into the Repository field."""
    if st.session_state.get("launch_pick"):
        st.session_state["launch_repo"] = st.session_state["launch_pick"]


with st.container(border=True):
    left, right = st.columns([3, 2], gap="large")
    patterns = left.multiselect(
        "Patterns",
        PATTERNS,
        default=list(PATTERNS),
        format_func=views.pattern_title,
        key="launch_patterns",
        help="All four by default: the Compare page sets them side by side.",
    )
    repo = left.text_input(
        "Repository", key="launch_repo", placeholder="owner/name or https://github.com/owner/name"
    )
    left.selectbox(
        "…or pick a snapshot repository",
        repos,
        index=None,
        key="launch_pick",
        on_change=_pick_snapshot_repo,
        placeholder="the offline snapshot's repositories",
    )
    default_source = list(SOURCES).index(get_settings().source)
    source = right.radio(
        "Data source",
        list(SOURCES),
        index=default_source,
        format_func=SOURCES.get,
        key="launch_source",
    )
    right.caption(
        f"Active source: **{source}**. The statistics say which source each number came from."
    )
    variant = right.radio(
        "Deployment variant",
        list(VARIANTS),
        format_func=VARIANTS.get,
        key="launch_variant",
        horizontal=True,
        help="Flow of deployments only: does the parent wait for its child run?",
    )
    drill = left.selectbox(
        "Failure drill",
        DRILLS,
        format_func=DRILL_LABELS.get,
        key="launch_drill",
        help="Make one step fail on purpose; Compare then shows what each pattern did about it.",
    )
    window = get_settings().alert_window_s
    hold = right.checkbox(
        f"Events: hold the upstream {window + HOLD_PAST_WINDOW_S} s, past its {window} s window",
        key="launch_hold",
        disabled="events" not in patterns,
        help="No Completed event arrives in time, so the proactive trigger fires its alert flow.",
    )
    if st.button("Launch", type="primary", key="launch_go", icon=":material/rocket_launch:"):
        hold_s = float(window + HOLD_PAST_WINDOW_S) if hold and "events" in patterns else 0.0
        launch_id = ui.start_launch(patterns, repo, source, variant, drill=drill, hold_s=hold_s)
        if launch_id:
            # In the URL, not only in the session: a reload or a shared link re-attaches.
            st.query_params["launch"] = launch_id


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
        col.metric(label, f"{value:,}")
    st.caption(f"Source: {views.escape_md(stats.source_note or stats.source)}")


def _show(report: LaunchReport) -> None:
    """Render a launch: summary, each pattern's run tree beside its code, the timeline."""
    now = ui.now()
    notices = list(dict.fromkeys([*report.notices, *ui.launch_notices(report.launch_id)]))
    state = views.launch_state(report)
    st.subheader(f"Launch `{report.launch_id}` · {views.escape_md(report.repo)}")
    cols = st.columns(4)
    cols[0].metric("State", state)
    cols[1].metric("Elapsed", f"{views.elapsed_s(report, now) or 0:.1f} s")
    cols[2].metric("Flow runs", sum(len(p.flow_runs) for p in report.patterns))
    cols[3].metric("Task runs", sum(p.task_runs for p in report.patterns))
    ui_runs.show_drill(report)
    for line in notices:
        st.info(views.escape_md(line), icon=":material/build:")
    for line in views.waiting_runs(report, now):
        st.warning(f"{line}: is the runner up? See the sidebar.", icon=":material/hourglass_top:")
    for p in report.patterns:
        st.markdown(f"#### {views.pattern_title(p.pattern)} — {p.state}")
        ui_runs.show_pattern_run(
            p, now, key=f"launch-{p.pattern}", with_code=st.session_state.get("launch_code", False)
        )
    figure = charts.timeline_figure(views.timeline_frame(report), now)
    st.plotly_chart(figure, key="launch-timeline")
    _show_stats(report)
    if report.done:
        st.page_link(
            "pages/2_Compare.py",
            label="Compare these patterns side by side",
            icon=":material/bar_chart:",
            query_params={"launch": report.launch_id},
        )


READ_KEY = "launch_read"  # the page's read of a running launch, for the fragment's 1st tick


@st.fragment(run_every=1)
def _live(launch_id: str) -> None:
    """Re-read a running launch about once a second; rerun the page when it is done.

    A failed read (the server went away) is shown and retried at the next tick, so the page
    reconnects by itself. Each tick also lets the lab restart a runner it finds dead.
    """
    ui.recover_runner(launch_id)
    # The page read the launch a moment ago to decide to come here: the first tick shows that.
    handed = st.session_state.pop(READ_KEY, None)
    report = handed if handed is not None and handed.launch_id == launch_id else None
    report = report or ui.read_report(launch_id)
    if report is None:
        st.caption(f"Trying again every second (last try {ui.now():%H:%M:%S} UTC).")
        return
    _show(report)
    if report.done:
        st.rerun()  # the whole page then shows the final state, without the timer


current = st.query_params.get("launch")
if current:
    st.toggle("Show each pattern's flow code beside its runs", key="launch_code")
    first, error = ui.try_read_report(current)
    if first is not None and first.done:
        _show(first)
    elif first is not None or ui_backend.is_backend_down(error):
        st.session_state[READ_KEY] = first
        _live(current)  # running, or the server is away: keep asking
    else:
        ui.show_error(error)
