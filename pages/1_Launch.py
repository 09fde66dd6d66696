"""Launch: pick patterns, a repository, a source and a variant; then watch the runs live."""

from __future__ import annotations

import streamlit as st

from patternlab import ui, views
from patternlab.launch import DRILL_LABELS, DRILLS, HOST_FAULTS, PATTERNS
from patternlab.settings import get_settings
from patternlab.ui import launch_form
from patternlab.ui.launch_view import watch_launch

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
    kind = launch_form.workload_kind(left)
    if kind == "one":
        workload = {"repo": left.text_input(
            "Repository", key="launch_repo", placeholder="owner/name or https://github.com/owner/name"
        )}  # fmt: skip
        left.selectbox(
            "…or pick a snapshot repository",
            repos,
            index=None,
            key="launch_pick",
            on_change=_pick_snapshot_repo,
            placeholder="the offline snapshot's repositories",
        )
    else:
        workload = launch_form.workload_inputs(left, kind)
    options = launch_form.fairness_inputs(right, patterns)
    if kind != "one":
        options |= launch_form.fanout_inputs(right, patterns)
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
    settings = get_settings()
    host_fault = left.selectbox(
        "Host fault (pool mode)",
        list(HOST_FAULTS),
        format_func=HOST_FAULTS.get,
        key="launch_host_fault",
        disabled=not (settings.embedded and settings.execution == "pool"),
        help="Kill one of the lab's workers, with its flow processes, while it runs the child.",
    )
    window = settings.alert_window_s
    hold = right.checkbox(
        f"Events: hold the upstream {window + HOLD_PAST_WINDOW_S} s, past its {window} s window",
        key="launch_hold",
        disabled="events" not in patterns,
        help="No Completed event arrives in time, so the proactive trigger fires its alert flow.",
    )
    if st.button("Launch", type="primary", key="launch_go", icon=":material/rocket_launch:"):
        hold_s = float(window + HOLD_PAST_WINDOW_S) if hold and "events" in patterns else 0.0
        launch_id = ui.start_launch(
            patterns,
            workload,
            source,
            variant,
            drill=drill,
            hold_s=hold_s,
            host_fault=host_fault,
            **options,
        )
        if launch_id:
            # In the URL, not only in the session: a reload or a shared link re-attaches.
            st.query_params["launch"] = launch_id


current = st.query_params.get("launch")
if current:
    watch_launch(current)
