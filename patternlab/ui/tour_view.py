"""The guided tour's body: one step at a time, each backed by real runs, replayable.

A step reuses a recent launch that shows what it is about (History, newest first), or launches
its own. The session keeps only launch ids (Prefect holds the rest). Every screen has a visible
next action: run the step, wait with progress, or go on.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from patternlab import launch, views
from patternlab.launch import LaunchReport
from patternlab.settings import get_settings
from patternlab.ui import reads
from patternlab.ui import runs as ui_runs
from patternlab.ui.page_setup import now, show_error
from patternlab.ui.report_download import report_download
from patternlab.views import tour

LAUNCHES = "tour_launches"  # session: step key -> launch id
REUSE_WITHIN = timedelta(minutes=30)
REUSE_READS = 4  # at most this many recent launches read to find one to reuse


def step_launch(step: tour.TourStep) -> str | None:
    """Return the launch backing a step: this session's, else a recent matching one."""
    found = st.session_state.setdefault(LAUNCHES, {})
    if step.key not in found:
        reused = _recent(step)
        if reused:
            found[step.key] = reused
    return found.get(step.key)


def _recent(step: tour.TourStep) -> str | None:
    """Find a recent finished launch that shows what the step is about (bounded reads)."""
    pattern = "events" if step.emit else step.patterns[0]
    try:
        rows = reads.history(pattern=pattern, limit=20).rows
    except Exception:  # noqa: BLE001 - no reuse then: the step launches its own
        return None
    ids = [r.launch_id for r in rows if now() - r.created < REUSE_WITHIN]
    window = get_settings().alert_window_s
    for launch_id in list(dict.fromkeys(ids))[:REUSE_READS]:
        report, _ = reads.try_read_report(launch_id)
        if report is not None and tour.matches(step, report, window):
            return launch_id
    return None


def run_step(step: tour.TourStep) -> None:
    """Launch what the step needs (or emit its event) and remember the launch id."""
    repos = reads.snapshot_repos() or ["PrefectHQ/prefect"]
    if step.emit:
        try:
            launch_id: str | None = launch.emit_refresh(repos[0], "snapshot")
        except Exception as exc:  # noqa: BLE001 - shown as a message
            show_error(exc)
            return
    else:
        workload = {"repos": ",".join(repos[: step.repos])} if step.repos > 1 else {
            "repo": repos[0]}  # fmt: skip
        hold = float(get_settings().alert_window_s + 2) if step.hold else 0.0
        launch_id = reads.start_launch(
            list(step.patterns), workload, "snapshot", "wait", drill=step.drill, hold_s=hold
        )
    if launch_id:
        st.session_state.setdefault(LAUNCHES, {})[step.key] = launch_id


def show_evidence(step: tour.TourStep, report: LaunchReport) -> None:
    """Show the step's evidence in plain words, and the technical detail one click away."""
    for line in tour.evidence(step, report, get_settings().alert_window_s):
        st.markdown(f"- {line}")
    with st.expander("Technical detail: the runs, the code, Prefect's own view"):
        st.markdown(step.detail)
        when = now()
        for p in tour.step_patterns(step, report):
            st.subheader(views.pattern_title(p.pattern))
            ui_runs.show_pattern_run(p, when, key=f"tour-{step.key}-{p.pattern}")
        st.page_link(
            "pages/2_Compare.py", label="Open this launch on Compare",
            query_params={"launch": report.launch_id}, icon=":material/bar_chart:",
        )  # fmt: skip


@st.fragment(run_every=1)
def watch_step(step: tour.TourStep, launch_id: str) -> None:
    """Follow the step's launch live (continuing it step by step); rerun the page when done."""
    report, error = reads.try_read_report(launch_id)
    if report is None:
        if isinstance(error, LookupError) and step.emit:
            st.info("Event posted: waiting for the automation to start the downstream…")
            return
        show_error(error or LookupError(launch_id))
        return
    if report.done:
        st.rerun()
    running = [p for p in report.patterns if not p.done]
    label = ", ".join(views.pattern_title(p.pattern) for p in running[:2])
    st.info(f"Running: {label or 'starting'}… (launch `{launch_id}`)", icon=":material/sync:")
    for line in tour.evidence(step, report, get_settings().alert_window_s):
        st.caption(line)


def show_card(reports: dict[str, LaunchReport]) -> None:
    """Show the closing trade-off card and offer it, with the tour's runs, as the report."""
    card = tour.closing_card(reports, get_settings().alert_window_s)
    if card.empty:
        st.info("Run the first four steps: the card is built from their measured runs.")
        return
    st.table(card.set_index("pattern"))  # a table wraps "use it when" instead of cutting it
    st.caption(
        "Seconds and processes are what these runs paid, on this machine, one pattern at a "
        "time; separation is what was observed; containment is from the failure drill."
    )
    card_html = "<h2>The trade-off card</h2>" + card.to_html(index=False, escape=True, border=0)
    report_download(list(reports.values()), extra=card_html, key="tour")
