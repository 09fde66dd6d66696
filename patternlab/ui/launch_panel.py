"""The Launch page's form: patterns, workload, source, variant, drills; Launch returns an id."""

from __future__ import annotations

import streamlit as st

from patternlab import views
from patternlab.launch import DRILL_LABELS, DRILLS, HOST_FAULTS, PATTERNS
from patternlab.settings import get_settings
from patternlab.ui import launch_form, reads
from patternlab.views.glossary import help_for

SOURCES = {
    "auto": "auto: live GitHub when it answers, else the snapshot",
    "github": "live GitHub API",
    "snapshot": "offline snapshot (approximate, dated)",
}
VARIANTS = {"wait": "wait for the child", "fire-and-forget": "fire and forget"}
HOLD_PAST_WINDOW_S = 2  # the events upstream is held this much longer than the alert window


def _pick_snapshot_repo() -> None:
    """Copy the picked snapshot repository into the Repository field."""
    if st.session_state.get("launch_pick"):
        st.session_state["launch_repo"] = st.session_state["launch_pick"]


def _one_repo(where: st.delta_generator.DeltaGenerator) -> dict:
    """Ask for one repository, typed or picked from the snapshot."""
    repos = reads.snapshot_repos()
    st.session_state.setdefault("launch_repo", repos[0] if repos else "PrefectHQ/prefect")
    repo = where.text_input(
        "Repository", key="launch_repo", placeholder="owner/name or https://github.com/owner/name"
    )
    where.selectbox(
        "…or pick a snapshot repository",
        repos,
        index=None,
        key="launch_pick",
        on_change=_pick_snapshot_repo,
        placeholder="the offline snapshot's repositories",
    )
    return {"repo": repo}


def _drills(left: st.delta_generator.DeltaGenerator, right, patterns: list[str]) -> dict:
    """Ask for a failure drill, a host fault and the events hold; return launch()'s arguments."""
    settings = get_settings()
    drill = left.selectbox(
        "Failure drill", DRILLS, format_func=DRILL_LABELS.get, key="launch_drill",
        help=help_for("drill") + " Compare then shows what each pattern did about it.",
    )  # fmt: skip
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
        f"Events: hold the upstream {window + HOLD_PAST_WINDOW_S} s (window {window} s)",
        key="launch_hold",
        disabled="events" not in patterns,
        help=help_for("proactive window") + " Held past it, no Completed event arrives in "
        "time, so the proactive trigger fires its alert flow.",
    )
    hold_s = float(window + HOLD_PAST_WINDOW_S) if hold and "events" in patterns else 0.0
    return {"drill": drill, "hold_s": hold_s, "host_fault": host_fault}


def draw_form() -> str | None:
    """Draw the launch form; when Launch is clicked, launch and return the new launch id."""
    # The whole form's width: in a column, 1280 px cut the fourth chip ("Event-trig…").
    patterns = st.multiselect(
        "Patterns",
        PATTERNS,
        default=list(PATTERNS),
        format_func=views.pattern_title,
        key="launch_patterns",
        help="All four by default: the Compare page sets them side by side.",
    )
    left, right = st.columns([3, 2], gap="large")
    kind = launch_form.workload_kind(left)
    workload = _one_repo(left) if kind == "one" else launch_form.workload_inputs(left, kind)
    options = launch_form.fairness_inputs(right, patterns)
    if kind != "one":
        options |= launch_form.fanout_inputs(right, patterns)
    source = right.radio(
        "Data source",
        list(SOURCES),
        index=list(SOURCES).index(get_settings().source),
        format_func=SOURCES.get,
        key="launch_source",
    )
    right.caption(f"Active source: **{source}**. The statistics say which source each number "
                  "came from.")  # fmt: skip
    variant = right.radio(
        "Deployment variant",
        list(VARIANTS),
        format_func=VARIANTS.get,
        key="launch_variant",
        horizontal=True,
        help="Flow of deployments only: does the parent wait for its child run?",
    )
    drills = _drills(left, right, patterns)
    if not st.button("Launch", type="primary", key="launch_go", icon=":material/rocket_launch:"):
        return None
    return reads.start_launch(patterns, workload, source, variant, **drills, **options)
