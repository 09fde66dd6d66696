"""Tour: a presenter clicks through the patterns, each step backed by real runs."""

from __future__ import annotations

import streamlit as st

from patternlab import ui
from patternlab.settings import get_settings
from patternlab.ui import reads, tour_view
from patternlab.ui.glossary_view import page_intro
from patternlab.views.tour import STEPS

ui.page("Tour")
st.title("Guided tour")
page_intro(
    "Walk an audience through the four patterns, one step at a time, on real runs.",
    key="tour_glossary",
)
st.caption(
    "Seven steps, each backed by real runs on this Prefect server (launched by the step, or a "
    "recent launch reused), then a card that sets what each pattern cost against what it "
    "separated. Replay any step."
)


def _go(step: int) -> None:
    """Move the tour to a step (1-based; one past the last is the closing card)."""
    st.query_params["step"] = str(step)


raw = st.query_params.get("step", "1")
index = int(raw) if raw.isdigit() and 1 <= int(raw) <= len(STEPS) + 1 else 1
st.progress(index / (len(STEPS) + 1), text=f"Step {index} of {len(STEPS) + 1}")
back, _, forward = st.columns([1, 3, 1])
back.button("← Back", on_click=_go, args=(index - 1,), disabled=index == 1, key="tour_back")
if index <= len(STEPS):
    forward.button(
        "Next step →" if index < len(STEPS) else "The closing card →",
        on_click=_go, args=(index + 1,), key="tour_next", type="primary",
    )  # fmt: skip

if index > len(STEPS):
    st.header("The trade-off card")
    launches = st.session_state.get(tour_view.LAUNCHES, {})
    reports = {k: r for k, i in launches.items() if (r := reads.read_report(i)) and r.done}
    tour_view.show_card(reports)
    st.button("Start the tour again", on_click=_go, args=(1,), key="tour_restart")
    st.stop()

step = STEPS[index - 1]
st.header(f"{index}. {step.title}")
st.markdown(step.plain)
if step.key == "deployments":
    if get_settings().execution == "pool":
        st.success("Pool mode: the child runs on a worker's host; see the hosts below.")
    else:
        st.info(
            "Serve mode: one runner on this machine serves every deployment, so the child's "
            "process is on this host. The “another host” part needs pool mode "
            "(`PATTERNLAB_EXECUTION=pool`): skipped here.",
            icon=":material/dns:",
        )

launch_id = tour_view.step_launch(step)
if launch_id is None:
    if st.button("Run this step", icon=":material/play_arrow:", key="tour_run", type="primary"):
        tour_view.run_step(step)
        st.rerun()
    st.stop()

report, _ = reads.try_read_report(launch_id)
if report is not None and report.done:
    shown = launch_id.replace("`", "'")  # in a code span: markdown escapes would show as "\"
    st.success(f"Backed by launch `{shown}`.", icon=":material/verified:")
    tour_view.show_evidence(step, report)
    if st.button("Replay this step", icon=":material/replay:", key="tour_replay"):
        tour_view.run_step(step)
        st.rerun()
else:
    tour_view.watch_step(step, launch_id)
