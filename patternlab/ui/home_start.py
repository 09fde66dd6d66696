"""Home at once: the backend's start shown in place, never waited for.

Other pages need the backend before they draw (`page_setup.page`); Home sets itself up with
`page_setup.page_at_once` and does not. It starts the
embedded backend in a background thread (patternlab.backend.background, guarded by the
backend's own lock) and a fragment shows that start's progress where the health bar will be;
the quick Launch button says "starting…" until the backend can take a launch.
"""

from __future__ import annotations

import streamlit as st

from patternlab import backend, views
from patternlab.backend import BackgroundStart, is_ready, last_start, start_in_background
from patternlab.ui.page_setup import show_sidebar
from patternlab.ui.reads import snapshot_repos, start_launch

POLL_S = 1.0  # how often the progress fragment looks at the background start
QUICK_PATTERNS = ["monoflow", "subflows", "deployments", "events"]


def backend_in_place(slot: st.delta_generator.DeltaGenerator) -> None:
    """Fill `slot` with the backend's health and the quick launch; start the backend if needed."""
    status = backend.backend_status()
    if is_ready(status):
        with slot:
            _ready(status)
        show_sidebar(status)
        return
    job = start_in_background()
    with slot:
        if job.done and job.error:
            _failed(job)
        else:
            _starting(job)


def _failed(job: BackgroundStart) -> None:
    """Say why the start failed and offer to try again (never retried in a loop)."""
    st.error(
        f"**The lab's Prefect backend did not start** ({job.took_s:.0f} s): "
        f"{views.escape_md(job.error)}",
        icon=":material/error:",
    )
    st.caption("`python -m patternlab backend status` says what runs.")
    if st.button("Try again", icon=":material/refresh:", key="home_retry"):
        start_in_background(retry=True)
        st.rerun()
    _quick_launch(enabled=False)


@st.fragment(run_every=POLL_S)
def _starting(job: BackgroundStart) -> None:
    """Show the background start's progress; rerun the page once it has finished."""
    if job.done:
        st.rerun()  # the whole page: the sidebar and the enabled Launch button come with it
    step = job.lines[-1] if job.lines else "checking what runs…"
    with st.status(f"Starting the lab's Prefect backend… {views.escape_md(step)}", expanded=False):
        for line in job.lines:
            st.write(views.escape_md(line))
    _quick_launch(enabled=False)


def _ready(status: backend.BackendStatus) -> None:
    """Show the backend's health, the Prefect UI link and the enabled quick launch."""
    job = last_start()
    if job is not None and job.done and job.lines:
        st.caption(f"Backend started in the background in {job.took_s:.1f} s.")
    health, link = st.columns([4, 1], vertical_alignment="center")
    health.success(views.escape_md(status.message), icon=":material/check_circle:")
    link.link_button("Prefect UI", status.ui_url, icon=":material/open_in_new:", width="stretch")
    _quick_launch(enabled=True)


def _quick_launch(*, enabled: bool) -> None:
    """Offer one click to launch all four patterns on a snapshot repository."""
    repos = snapshot_repos()
    repo = repos[0] if repos else "PrefectHQ/prefect"
    label = f"Launch all four on {repo}" if enabled else "Launch all four — starting…"
    clicked = st.button(
        label,
        type="primary",
        key="home_launch",
        icon=":material/rocket_launch:",
        disabled=not enabled,
        help="One after another (fair timings), on the offline snapshot; then watch them live.",
    )
    if clicked:
        launch_id = start_launch(
            QUICK_PATTERNS, {"repo": repo}, "snapshot", "wait", drill="none", hold_s=0.0
        )
        if launch_id:
            st.switch_page("pages/1_Launch.py", query_params={"launch": launch_id})
