"""A run's logs and traceback on demand, and the link that opens a whole launch in Prefect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from patternlab import launch
from patternlab.launch import FINAL_STATUSES, FlowRunInfo, PatternReport
from patternlab.ui.page_setup import now, show_error

FINISHED_TTL_S = 600
FAILED = ("failed", "crashed")
# A run's flow process ships its last log lines in batches (every 2 s by default) and on exit,
# after its final state is set: only a run that ended this long ago has all its logs.
LOGS_SETTLE_S = launch.SETTLE_S


def logs_settled(run: FlowRunInfo, when: datetime) -> bool:
    """Say whether a run's logs can no longer change: final, and ended LOGS_SETTLE_S ago."""
    if run.status not in FINAL_STATUSES or run.end is None:
        return False
    return (when - run.end).total_seconds() >= LOGS_SETTLE_S


@st.cache_data(ttl=FINISHED_TTL_S, max_entries=64, show_spinner=False)
def _final_logs(flow_run_id: str) -> dict:
    """Read a settled run's logs once (they no longer change) as plain data."""
    return launch.read_run_logs(flow_run_id).model_dump(mode="json")


def _read(flow_run_id: str, settled: bool) -> launch.RunLogs | None:
    """Read a run's logs (cached once they are settled); show why not and return None."""
    try:
        if settled:
            return launch.RunLogs.model_validate(_final_logs(flow_run_id))
        return launch.read_run_logs(flow_run_id)
    except Exception as exc:  # noqa: BLE001 - a missing run, the server away: shown as messages
        show_error(exc)
        return None


def _log_text(logs: launch.RunLogs) -> str:
    """Return the log lines as plain text, one per line (time, level, logger, message)."""
    return "\n".join(
        f"{line.at:%H:%M:%S.%f}"[:-3] + f" {line.level:<8} {line.logger}: {line.message}"
        for line in logs.lines
    )


def show_run_logs(report: PatternReport, *, key: str) -> None:
    """Offer each run's log lines and, for a failed run, its traceback (read when asked)."""
    runs = report.flow_runs
    if not runs:
        return
    failed = [i for i, r in enumerate(runs) if r.status in FAILED]
    with st.expander("Logs and traceback", icon=":material/article:", expanded=False):
        pick = st.selectbox(
            "Flow run",
            range(len(runs)),
            index=failed[0] if failed else 0,
            format_func=lambda i: f"{runs[i].flow} · {runs[i].state} · {runs[i].name}",
            key=f"logs-pick-{key}",
        )
        run = runs[pick]
        if not st.toggle("Read its logs from Prefect", key=f"logs-read-{key}-{run.id}"):
            return
        logs = _read(run.id, logs_settled(run, now()))
        if logs is None:
            return
        st.caption(f"Final state: {logs.state} · {len(logs.lines)} log lines"
                   + (" (cut: the Prefect UI has them all)" if logs.truncated else ""))  # fmt: skip
        if logs.traceback:
            st.markdown("**Traceback**")
            # Code text: never Markdown or HTML; a scroll box, not a page of frames.
            st.code(logs.traceback, language=None, wrap_lines=True, height=320)
        elif logs.message:
            st.code(logs.message, language=None, wrap_lines=True)
        st.code(_log_text(logs) or "(no log lines)", language=None, height=300)


def show_launch_link(launch_id: str, where: Any = st) -> None:
    """Link to the whole launch in Prefect's UI: every run filtered by the launch's tag."""
    where.link_button(
        "Whole launch in Prefect",
        launch.launch_ui_url(launch_id),
        icon=":material/open_in_new:",
        help="Prefect's runs list, filtered by this launch's tag: every flow run it made.",
    )
