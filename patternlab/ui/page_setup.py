"""Streamlit helpers every page uses: page set-up, backend check, cached reads, error display.

Prefect loads on the first read of a launch (patternlab.launch loads it lazily): Home never
needs it. The lab's Prefect client finds its server by itself (patternlab.backend.client).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import httpx
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from flows.github_errors import GitHubError
from patternlab import backend, views
from patternlab.settings import LabSettings, get_settings
from patternlab.ui import backend_panel

NAVIGATION = (  # the sidebar's links: Streamlit's own would call the entry page "app"
    ("app.py", "Home", ":material/science:"),
    ("pages/1_Launch.py", "Launch", ":material/rocket_launch:"),
    ("pages/2_Compare.py", "Compare", ":material/bar_chart:"),
    ("pages/3_History.py", "History", ":material/history:"),
    ("pages/4_Scale.py", "Scale", ":material/trending_up:"),
    ("pages/5_Tour.py", "Tour", ":material/tour:"),
)


def now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


# The browser tab's icon: an emoji, which Streamlit draws as an inline SVG. A ":material/...:"
# page icon would make the browser fetch it from a font CDN: the lab contacts no other host.
TAB_ICONS = {
    "Home": "🧪", "Launch": "🚀", "Compare": "📊", "History": "🕘", "Scale": "📈", "Tour": "🧭",
}  # fmt: skip


def page_at_once(title: str) -> None:
    """Set a page up without touching the backend: config, token, navigation."""
    tab_icon = TAB_ICONS.get(title, TAB_ICONS["Home"])
    st.set_page_config(page_title=f"{title} · Pattern Lab", page_icon=tab_icon, layout="wide")
    share_secret_token()
    show_navigation()  # first: the links work even when the page stops for a missing backend


def page(title: str) -> backend.BackendStatus:
    """Set up a page: config, a running backend (or a clear stop), and the sidebar."""
    page_at_once(title)
    status = require_backend()
    show_sidebar(status)
    return status


def share_secret_token() -> bool:
    """Put st.secrets' GITHUB_TOKEN in the environment the lab's runner inherits when started.

    `streamlit run` already does this when it loads secrets.toml (top-level strings become
    environment variables); this covers any other way the app is run. The token goes to the
    runner's environment only: never a flow parameter, never on a page.
    """
    try:
        token = st.secrets.get("GITHUB_TOKEN")
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        return False  # no secrets.toml: the environment (or no token) it is
    if not isinstance(token, str) or not token or LabSettings().github_token is not None:
        return False  # an explicit GITHUB_TOKEN in the environment wins
    os.environ["GITHUB_TOKEN"] = token
    return True


def require_backend(settings: LabSettings | None = None) -> backend.BackendStatus:
    """Return a running backend: start the embedded one with visible progress, else stop here."""
    status = backend.backend_status(settings)
    if status.server_up and status.runner_up is not False:
        return status
    if status.mode == "remote":
        backend_panel.show_backend_down(status)
        backend_panel.stop_until_backend_answers(settings)
    started, notes = time.monotonic(), []
    with st.status("Starting the lab's Prefect backend…", expanded=True) as box:
        try:
            if status.server_up and settings is None:
                box.write("Restarting the runner, and ending the runs it left behind…")
                notes = backend.recover()  # like ensure_backend, plus the orphaned runs
            status = backend.ensure_backend(settings, progress=box.write)
        except backend.BackendError as exc:
            box.update(label="The lab's Prefect backend did not start", state="error")
            show_error(exc)
            st.stop()
        took = time.monotonic() - started
        box.update(label=f"Backend up after {took:.1f} s", state="complete", expanded=False)
    for line in notes:
        st.info(views.escape_md(line), icon=":material/build:")
    return status


def _dot(up: bool | None) -> str:
    """Return a green or red dot (text, not emoji: it renders with any font)."""
    return ":green[●]" if up else ":red[●]"


def show_navigation() -> None:
    """Link the lab's pages in the sidebar (Streamlit's own links would call Home "app")."""
    with st.sidebar:
        for path, label, icon in NAVIGATION:
            st.page_link(path, label=label, icon=icon)
        st.divider()


def show_sidebar(status: backend.BackendStatus) -> None:
    """Show the backend's health and the Prefect UI link in the sidebar."""
    with st.sidebar:
        st.subheader("Backend")
        where = "embedded (this machine)" if status.mode == "embedded" else "remote"
        st.caption(f"{where} · database: {status.db}")
        st.markdown(f"{_dot(status.server_up)} Prefect server")
        execution = f"pool `{status.pool}`" if status.execution == "pool" else "serve (runner)"
        if status.mode == "remote" and status.execution == "serve":
            execution = "as that server's deployments say (each run shows its worker)"
        st.caption(f"Execution: {execution}" + (" · basic auth" if status.auth else ""))
        for worker in status.workers:  # pool mode: the lab's own workers on this machine
            st.markdown(f"{_dot(worker['up'])} worker `{worker['name']}`")
        if status.execution == "serve" and status.runner_up is not None:
            st.markdown(f"{_dot(status.runner_up)} runner (serves the deployments)")
        elif status.runner_up is None:
            st.markdown(":gray[●] workers: managed outside the lab")
        show_adapters(status.adapters)
        st.link_button("Open the Prefect UI", status.ui_url, icon=":material/open_in_new:")
        st.caption(f"Default data source: {get_settings().source}")


def show_adapters(adapters: dict[str, str] | None) -> None:
    """Say which Prefect adapters the runner has active, and why any is off."""
    if not adapters:
        return
    marks = ", ".join(
        f"{name} {'✓' if state == 'active' else '✗'}" for name, state in adapters.items()
    )
    st.caption(f"Prefect adapters: {marks}")
    for name, state in adapters.items():
        if state != "active":
            st.caption(f":orange[{name}: {views.escape_md(state)}]")


def show_error(exc: BaseException) -> None:
    """Show an exception as a message with what to do, never as a traceback."""
    text = views.escape_md(exc)
    if isinstance(exc, GitHubError):
        st.error(f"{text}", icon=":material/warning:")
    elif isinstance(exc, backend.BackendError):
        st.error(f"**Backend problem.** {text}", icon=":material/error:")
        st.caption("Check the sidebar, or run `python -m patternlab backend status`.")
    elif isinstance(exc, httpx.HTTPError):
        st.error(
            f"**The Prefect server at {backend.api_url()} did not answer** ({text}). "
            "Open Home to start the lab's backend, or check the server PREFECT_API_URL names.",
            icon=":material/cloud_off:",
        )
    elif isinstance(exc, ValueError):  # bad input the lab refused before launching anything
        st.error(text, icon=":material/warning:")
    elif isinstance(exc, LookupError):
        st.warning(
            f"{text}. It may belong to another Prefect server, or its runs were deleted.",
            icon=":material/search_off:",
        )
    else:
        st.error(
            f"**{type(exc).__name__}**: {text}. Is the Prefect server still up? "
            "The sidebar shows its health.",
            icon=":material/error:",
        )


def show_error_or_wait(exc: BaseException) -> None:
    """Show an error; when it means the server is down, stop here and reconnect by itself."""
    show_error(exc)
    if backend_panel.is_backend_down(exc):
        backend_panel.stop_until_backend_answers()
