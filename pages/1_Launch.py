"""Launch: pick patterns, a repository, a source and a variant; then watch the runs live."""

from __future__ import annotations

import streamlit as st

from patternlab import ui
from patternlab.ui.emit_panel import emit_panel
from patternlab.ui.glossary_view import page_intro
from patternlab.ui.launch_panel import draw_form
from patternlab.ui.launch_view import watch_launch

LAST = "launch_last"  # the launch this session last watched: the sidebar link comes back to it

ui.page("Launch")
st.title("Launch")
page_intro(
    "Run the same job in the patterns you pick, on a real Prefect server, and watch their runs "
    "live; Compare then sets them side by side.",
    key="launch_glossary",
)
current = st.query_params.get("launch") or st.session_state.get(LAST)
if current and st.query_params.get("launch") != current:
    st.query_params["launch"] = current  # back through the sidebar: the same launch, linkable

with st.expander("New launch", icon=":material/tune:", expanded=not current):
    launch_id = draw_form()
emit_panel()  # the event-triggered downstream, started by a custom event with no upstream
if launch_id:
    # In the URL, not only in the session: a reload or a shared link re-attaches.
    st.query_params["launch"] = st.session_state[LAST] = launch_id
    st.rerun()
if current:
    st.session_state[LAST] = current
    watch_launch(current)
