"""The Launch page's "the event could come from anywhere" button: emit the refresh request.

Kept apart from the Launch page's form so the page only gains one call.
"""

from __future__ import annotations

import time

import streamlit as st

from flows.catalog import REFRESH_EVENT
from patternlab import launch, views
from patternlab.settings import get_settings
from patternlab.ui.page_setup import show_error

FIND_TIMEOUT_S = 30.0  # the automation starts the run within seconds; past this, say so


def emit_panel() -> None:
    """Offer to emit the refresh request for the form's repository; watch the run it starts."""
    repo = st.session_state.get("launch_repo") or ""
    source = st.session_state.get("launch_source") or get_settings().source
    with st.expander("The event could come from anywhere", icon=":material/bolt:"):
        st.markdown(
            f"Emit **`{REFRESH_EVENT}`** for this repository: the event-triggered pattern's "
            "downstream runs with **no upstream flow at all**, started by an automation. "
            "The CLI (`python -m patternlab emit --repo R`) or any client posting to "
            "Prefect's events API, as a webhook would, does the same."
        )
        st.caption(f"Repository: **{views.escape_md(repo) or '—'}** · source: {source}")
        if st.button("Emit the event", icon=":material/bolt:", key="launch_emit"):
            launch_id = _emit(repo, source)
            if launch_id:
                st.query_params["launch"] = launch_id  # watched below, like any launch
                st.rerun()


def _emit(repo: str, source: str) -> str | None:
    """Emit, then wait (bounded) until the run the event started is found; return its id."""
    try:
        launch_id = launch.emit_refresh(repo, source)
    except Exception as exc:  # noqa: BLE001 - bad input or backend trouble: a message
        show_error(exc)
        return None
    deadline = time.monotonic() + FIND_TIMEOUT_S
    with st.spinner(f"Emitted; waiting for the automation to start the run ({launch_id})…"):
        while time.monotonic() < deadline:
            try:
                launch.read_launch(launch_id)
                return launch_id
            except LookupError:
                time.sleep(0.5)
    st.warning(
        f"No run for {views.escape_md(launch_id)} within {FIND_TIMEOUT_S:.0f} s: is the runner "
        "serving events-downstream? The sidebar shows its health.",
        icon=":material/hourglass_empty:",
    )
    return None
