"""Streamlit helpers every page uses: page set-up, backend check, cached reads, error display.

Import this module before anything that imports prefect: it points Prefect at the lab's server,
and Prefect reads PREFECT_API_URL when it is first imported.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from types import ModuleType

from patternlab import backend

backend.activate()

import httpx  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit.errors import StreamlitSecretNotFoundError  # noqa: E402

from flows.github import GitHubError  # noqa: E402
from patternlab import ui_backend, views  # noqa: E402
from patternlab.models import HistoryPage, LaunchReport  # noqa: E402
from patternlab.settings import LabSettings, get_settings  # noqa: E402

FINISHED_TTL_S = 600  # a finished launch no longer changes; keep it for ten minutes
HISTORY_TTL_S = 5  # History lists running launches too: keep it fresh
NOTICES_KEY = "launch_notices-{}"  # session: what the lab repaired while watching a launch
NAVIGATION = (  # the sidebar's links: Streamlit's own would call the entry page "app"
    ("app.py", "Home", ":material/science:"),
    ("pages/1_Launch.py", "Launch", ":material/rocket_launch:"),
    ("pages/2_Compare.py", "Compare", ":material/bar_chart:"),
    ("pages/3_History.py", "History", ":material/history:"),
)


class _NotDone(Exception):
    """A launch still running: raised so st.cache_data does not keep it (errors are not cached)."""

    def __init__(self, report: LaunchReport) -> None:
        super().__init__(report.launch_id)
        self.report = report


def _launches() -> ModuleType:
    """Import patternlab.launches on first use: it loads prefect (~2 s), which Home never needs."""
    from patternlab import launches

    return launches


def _recovery() -> ModuleType:
    """Import patternlab.recovery on first use (it loads prefect too)."""
    from patternlab import recovery

    return recovery


def now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def page(title: str, icon: str) -> backend.BackendStatus:
    """Set up a page: config, a running backend (or a clear stop), and the sidebar."""
    st.set_page_config(page_title=f"{title} · Pattern Lab", page_icon=icon, layout="wide")
    share_secret_token()
    show_navigation()  # first: the links work even when the page stops for a missing backend
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
        ui_backend.show_backend_down(status)
        ui_backend.stop_until_backend_answers(settings)
    started, notes = time.monotonic(), []
    with st.status("Starting the lab's Prefect backend…", expanded=True) as box:
        try:
            if status.server_up and settings is None:
                box.write("Restarting the runner, and ending the runs it left behind…")
                notes = _recovery().recover()  # like ensure_backend, plus the orphaned runs
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
        if status.runner_up is not None:
            st.markdown(f"{_dot(status.runner_up)} runner (serves the deployments)")
        else:
            st.markdown(":gray[●] workers: managed outside the lab")
        st.link_button("Open the Prefect UI", status.ui_url, icon=":material/open_in_new:")
        st.caption(f"Default data source: {get_settings().source}")


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


@st.cache_data(ttl=FINISHED_TTL_S, max_entries=256, show_spinner=False)
def _finished_report(launch_id: str) -> dict:
    """Read a launch and cache it as plain data, but only once it is done."""
    report = _launches().read_launch(launch_id)
    if not report.done:
        raise _NotDone(report)
    # Plain data, not the model: a class reloaded by Streamlit's file watcher would not unpickle.
    return report.model_dump(mode="json")


def try_read_report(launch_id: str) -> tuple[LaunchReport | None, Exception | None]:
    """Read a launch (cached once done, fresh while running): the report, or why not."""
    try:
        return LaunchReport.model_validate(_finished_report(launch_id)), None
    except _NotDone as running:
        return running.report, None
    except Exception as exc:  # noqa: BLE001 - a page shows every failure as a message
        return None, exc


def read_report(launch_id: str) -> LaunchReport | None:
    """Read a launch (cached once done, fresh while running); show an error and return None."""
    report, error = try_read_report(launch_id)
    if error is not None:
        show_error(error)
    return report


def launch_notices(launch_id: str) -> list[str]:
    """Return what the lab repaired (runner restarts, crashed runs) while watching a launch."""
    return list(st.session_state.get(NOTICES_KEY.format(launch_id), []))


def recover_runner(launch_id: str) -> list[str]:
    """Restart a dead embedded runner and end its orphaned runs; return this launch's notices."""
    try:
        found = _recovery().recover()
    except backend.BackendError:
        found = []  # the server is down: the launch read that follows says so
    if found:
        key = NOTICES_KEY.format(launch_id)
        st.session_state[key] = [*st.session_state.get(key, []), *found]
    return launch_notices(launch_id)


@st.cache_data(ttl=HISTORY_TTL_S, max_entries=64, show_spinner=False)
def _history(filters: tuple[str | None, ...], limit: int, offset: int) -> dict:
    """List one page of History as plain data (cached for a few seconds)."""
    pattern, repo, source, status = filters
    found = _launches().list_launches(
        pattern=pattern, repo=repo, source=source, status=status, limit=limit, offset=offset
    )
    return found.model_dump(mode="json")


def history(
    pattern: str | None = None,
    repo: str | None = None,
    source: str | None = None,
    status: str | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> HistoryPage:
    """List past launches' entry runs, newest first (raises InvalidRepository for bad repo text)."""
    return HistoryPage.model_validate(_history((pattern, repo, source, status), limit, offset))


@st.cache_data(ttl=3600, show_spinner=False)
def snapshot_repos() -> list[str]:
    """Return the bundled snapshot's repositories (empty when the snapshot is missing)."""
    try:
        from flows.snapshot import snapshot_repos as listed

        return listed()
    except (ImportError, OSError, KeyError, ValueError):
        return []


def start_launch(
    patterns: list[str], repo: str, source: str, variant: str, *, drill: str, hold_s: float
) -> str | None:
    """Launch patterns; return the launch id, or show why not (nothing is created) and None."""
    if not patterns:
        st.warning("Choose at least one pattern to launch.", icon=":material/touch_app:")
        return None
    try:
        return _launches().launch(
            patterns, repo, source, variant=variant, drill=drill, hold_s=hold_s
        )
    except Exception as exc:  # noqa: BLE001 - bad input, backend trouble: all shown as messages
        show_error(exc)
        return None
