"""Streamlit helpers that read launches through the lab: cached once final, fresh while running."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st

from patternlab import backend, launch, views
from patternlab.launch import HistoryPage, LaunchReport
from patternlab.ui.page_setup import show_error

FINISHED_TTL_S = 600  # a finished launch no longer changes; keep it for ten minutes
HISTORY_TTL_S = 5  # History lists running launches too: keep it fresh
NOTICES_KEY = "launch_notices-{}"  # session: what the lab repaired while watching a launch


class _NotDone(Exception):
    """A launch still running or settling: raised so st.cache_data does not keep it (errors are
    not cached)."""

    def __init__(self, report: LaunchReport) -> None:
        super().__init__(report.launch_id)
        self.report = report


@st.cache_data(ttl=FINISHED_TTL_S, max_entries=256, show_spinner=False)
def _finished_report(launch_id: str) -> dict:
    """Read a launch and cache it as plain data, but only once it is settled (done, and its
    task runs all recorded: LaunchReport.settled).

    A running launch is also continued: when its running step is over the next one starts
    (fair timings), so any page that watches it, in any browser, keeps it going.
    """
    report = launch.advance_launch(launch_id)
    if not report.settled(datetime.now(UTC)):  # running, or its last task runs still arriving
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
        found = backend.recover()
    except backend.BackendError:
        found = []  # the server is down: the launch read that follows says so
    if found:
        key = NOTICES_KEY.format(launch_id)
        st.session_state[key] = [*st.session_state.get(key, []), *found]
    return launch_notices(launch_id)


@st.cache_data(ttl=HISTORY_TTL_S, max_entries=64, show_spinner=False)
def _history(filters: tuple[tuple[str, str | None], ...], limit: int, offset: int) -> dict:
    """List one page of History as plain data (cached for a few seconds)."""
    found = launch.list_launches(**dict(filters), limit=limit, offset=offset)
    return found.model_dump(mode="json")


def history(*, limit: int = 50, offset: int = 0, **filters: str | None) -> HistoryPage:
    """List past launches' entry runs, newest first (raises InvalidRepository for bad repo text).

    filters: list_launches' (pattern, repo, source, status, drill, variant).
    """
    key = tuple(sorted(filters.items()))
    return HistoryPage.model_validate(_history(key, limit, offset))


@st.cache_data(ttl=HISTORY_TTL_S, max_entries=4, show_spinner=False)
def launch_choices(limit: int = 200) -> dict[str, str]:
    """Return recent launches, newest first, each labelled by what it was (for pickers).

    One call for the entry runs and one count, none for the launches' other runs: a picker
    needs no end-to-end times (reading them made Compare slow while a launch ran).
    """
    return views.launch_labels(launch.list_launches(limit=limit, end_to_end=False).rows)


@st.cache_data(ttl=3600, show_spinner=False)
def snapshot_repos() -> list[str]:
    """Return the bundled snapshot's repositories (empty when the snapshot is missing)."""
    try:
        from flows.snapshot import snapshot_repos as listed

        return listed()
    except (ImportError, OSError, KeyError, ValueError):
        return []


def start_launch(
    patterns: list[str],
    workload: dict[str, Any],
    source: str,
    variant: str,
    *,
    drill: str,
    hold_s: float,
    host_fault: str = "none",
    **options: Any,
) -> str | None:
    """Launch patterns; return the launch id, or show why not (nothing is created) and None.

    workload: build_workload's arguments (repo, or repos, or owner and limit).
    """
    if not patterns:
        st.warning("Choose at least one pattern to launch.", icon=":material/touch_app:")
        return None
    try:
        if host_fault != "none":
            backend.check_faults_possible()  # before anything is launched
        checked = launch.build_workload(**workload, source=source)
        launch_id = launch.launch(
            patterns, workload=checked, variant=variant, drill=drill, hold_s=hold_s, **options
        )
        launch.start_host_fault(launch_id, host_fault)  # watches from a background thread
        return launch_id
    except Exception as exc:  # noqa: BLE001 - bad input, backend trouble: all shown as messages
        show_error(exc)
        return None


@st.cache_data(ttl=60, show_spinner=False)
def scale_result() -> dict | None:
    """Return the latest scale benchmark's result (None before the first one), its notes on
    where each pattern saturates drawn by this version from the run's own figures (the file
    keeps the notes of the version that ran it)."""
    from patternlab.bench.scale import latest_scale
    from patternlab.bench.scale_report import saturation

    result = latest_scale()
    try:
        if result and result.get("curves"):
            result["saturation"] = saturation(result["curves"], result.get("limits", {}))
    except (KeyError, TypeError, ValueError):  # a file of another shape: its own notes stand
        pass
    return result


def history_csv(max_rows: int, base_url: str, **filters: str | None) -> str:
    """Return every History row that matches the filters (up to max_rows) as CSV, its Compare
    links absolute (base_url: the app's address)."""
    rows = launch.list_all_launches(max_rows, **filters)
    return views.history_frame(rows, base_url).to_csv(index=False)


def app_url() -> str:
    """Return the app's address as the browser sees it, ending in "/" ("" when unknown)."""
    url = (st.context.url or "").split("?")[0]
    return url.rsplit("/", 1)[0] + "/" if url.count("/") >= 3 else ""
