"""Streamlit helpers every page uses: page set-up, backend check, cached reads, error display.

Import this module before anything that imports prefect: it points Prefect at the lab's server,
and Prefect reads PREFECT_API_URL when it is first imported.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from patternlab import backend

backend.activate()

import httpx  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402
from pandas.io.formats.style import Styler  # noqa: E402

from flows.github import GitHubError  # noqa: E402
from patternlab import views  # noqa: E402
from patternlab.catalog import PATTERN_INFO  # noqa: E402
from patternlab.charts import state_color  # noqa: E402
from patternlab.models import HistoryPage, LaunchReport, PatternReport  # noqa: E402
from patternlab.settings import LabSettings, get_settings  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FINISHED_TTL_S = 600  # a finished launch no longer changes; keep it for ten minutes
HISTORY_TTL_S = 5  # History lists running launches too: keep it fresh


class _NotDone(Exception):
    """A launch still running: raised so st.cache_data does not keep it (errors are not cached)."""

    def __init__(self, report: LaunchReport) -> None:
        super().__init__(report.launch_id)
        self.report = report


def _launches() -> ModuleType:
    """Import patternlab.launches on first use: it loads prefect (~2 s), which Home never needs."""
    from patternlab import launches

    return launches


def now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def page(title: str, icon: str) -> backend.BackendStatus:
    """Set up a page: config, a running backend (or a clear stop), and the sidebar."""
    st.set_page_config(page_title=f"{title} · Pattern Lab", page_icon=icon, layout="wide")
    status = require_backend()
    show_sidebar(status)
    return status


def require_backend(settings: LabSettings | None = None) -> backend.BackendStatus:
    """Return a running backend: start the embedded one with visible progress, else stop here."""
    status = backend.backend_status(settings)
    if status.server_up and status.runner_up is not False:
        return status
    if status.mode == "remote":
        show_backend_down(status)
        st.stop()
    started = time.monotonic()
    with st.status("Starting the lab's Prefect backend…", expanded=True) as box:
        try:
            status = backend.ensure_backend(settings, progress=box.write)
        except backend.BackendError as exc:
            box.update(label="The lab's Prefect backend did not start", state="error")
            show_error(exc)
            st.stop()
        took = time.monotonic() - started
        box.update(label=f"Backend up after {took:.1f} s", state="complete", expanded=False)
    return status


def show_backend_down(status: backend.BackendStatus) -> None:
    """Explain that the Prefect server cannot be reached, and what to do about it."""
    st.error(
        f"**Prefect server unreachable.** {views.escape_md(status.message)}",
        icon=":material/error:",
    )
    st.info(
        "Nothing can be launched or read until it answers. Start that server, or unset "
        "`PREFECT_API_URL` and restart the app so the lab runs its own embedded backend."
    )


def _dot(up: bool | None) -> str:
    """Return a green or red dot (text, not emoji: it renders with any font)."""
    return ":green[●]" if up else ":red[●]"


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


def read_report(launch_id: str) -> LaunchReport | None:
    """Read a launch (cached once done, fresh while running); show an error and return None."""
    try:
        return LaunchReport.model_validate(_finished_report(launch_id))
    except _NotDone as running:
        return running.report
    except Exception as exc:  # noqa: BLE001 - a page shows every failure as a message
        show_error(exc)
        return None


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


@st.cache_data(show_spinner=False)
def flow_code(pattern: str) -> str:
    """Return the source of a pattern's flow module."""
    path = PROJECT_ROOT / PATTERN_INFO[pattern].module
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        return f"# could not read {PATTERN_INFO[pattern].module}: {exc}"


def _paint_state(row: pd.Series) -> list[str]:
    """Colour a run's Prefect state cell the way Prefect's UI does."""
    paint = f"color: white; background-color: {state_color(row['status'])}"
    return [paint if column == "state" else "" for column in row.index]


def paint_states(frame: pd.DataFrame) -> Styler:
    """Style a frame's `state` column in Prefect's colours (it needs a `status` column)."""
    return frame.style.apply(_paint_state, axis=1).format(precision=2, na_rep="")


TREE_COLUMNS = {
    "run": st.column_config.TextColumn("flow run", width=200),
    "state": st.column_config.TextColumn("Prefect state", width=100),
    "prefect": st.column_config.LinkColumn("UI", display_text="open ↗", width=60),
    "task runs": st.column_config.NumberColumn("tasks", width=50),
    "ran s": st.column_config.NumberColumn("ran s", width=60, format="%.2f"),
    "started by": st.column_config.TextColumn("started by", width=90),
    "waited s": st.column_config.NumberColumn("waited s", width=70, format="%.2f"),
    "process": st.column_config.TextColumn("process", width=80),
}
NARROW_TREE = 5  # columns kept when the code sits beside the tree (they fit in half the page)
CODE_HEIGHT_PX = 420


def show_pattern_run(
    report: PatternReport, when: datetime, *, key: str, with_code: bool = True
) -> None:
    """Show one pattern's run tree (Prefect state colours, UI links), errors, and its flow code."""
    tree, code = st.columns(2) if with_code else (st.container(), None)
    columns = list(TREE_COLUMNS)[:NARROW_TREE] if with_code else list(TREE_COLUMNS)
    with tree:
        st.dataframe(
            paint_states(views.run_tree_frame(report, when)),
            hide_index=True,
            column_order=columns,
            column_config=TREE_COLUMNS,
            key=f"tree-{key}",
        )
        caption = f"{len(report.flow_runs)} flow runs · {report.task_runs} task runs · "
        caption += f"{report.processes} processes"
        if report.variant:
            caption += f" · variant: {report.variant}"
        st.caption(caption)
        if report.alert:
            st.caption(f"Proactive trigger: {report.alert}")
        for line in report.errors:
            hint = views.error_hint(line)
            st.error(f"{views.escape_md(line)}  \n→ {hint}", icon=":material/warning:")
    if code is not None:
        # From the first flow or task definition: what makes the pattern, not its imports.
        first, excerpt = views.flow_excerpt(flow_code(report.pattern))
        module = PATTERN_INFO[report.pattern].module
        code.caption(f"Flow code: `{module}` from line {first}")
        code.code(excerpt, line_numbers=True, wrap_lines=True, height=CODE_HEIGHT_PX)


def start_launch(patterns: list[str], repo: str, source: str, variant: str) -> str | None:
    """Launch patterns; return the launch id, or show why not (nothing is created) and None."""
    if not patterns:
        st.warning("Choose at least one pattern to launch.", icon=":material/touch_app:")
        return None
    try:
        return _launches().launch(patterns, repo, source, variant=variant)
    except Exception as exc:  # noqa: BLE001 - bad input, backend trouble: all shown as messages
        show_error(exc)
        return None
