"""Streamlit helpers that draw runs: run trees in Prefect's colours, errors, failure isolation.

Nothing here talks to Prefect: these helpers draw the plain reports patternlab hands over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from patternlab import views
from patternlab.launch import (
    HOST_FAULTS,
    PATTERN_INFO,
    HistoryRow,
    LaunchReport,
    PatternReport,
)
from patternlab.ui import logs_view
from patternlab.views import failures as views_failures
from patternlab.views.charts import state_color
from patternlab.views.glossary import MISSING, help_for, number

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the folder holding flows/
TREE_COLUMNS = {
    "run": st.column_config.TextColumn("flow run", width=200),
    "state": st.column_config.TextColumn("Prefect state", width=100),
    "message": st.column_config.TextColumn("state message", width=320),
    "retries": st.column_config.TextColumn(
        "retries", width=150, help="Prefect task retries in this run (task: how many)"
    ),
    "prefect": st.column_config.LinkColumn("UI", display_text="open ↗", width=60),
    "ran s": st.column_config.NumberColumn(
        "ran s", width=60, format="%.2f", help=help_for("ran s")
    ),
    "role": st.column_config.TextColumn(
        "role", width=110, help=help_for("entry") + " Other roles name the run's part in the job."
    ),
    "task runs": st.column_config.NumberColumn("tasks", width=50),
    "started by": st.column_config.TextColumn("started by", width=90, help=help_for("started by")),
    "waited s": st.column_config.NumberColumn(
        "waited s", width=70, format="%.2f", help=help_for("waited s", "pick-up", "process start")
    ),
    "process": st.column_config.TextColumn("host · process", width=130, help=help_for("host")),
    "worker": st.column_config.TextColumn("worker", width=110, help=help_for("worker")),
}
OPTIONAL_TREE = ("message", "retries", "worker")  # shown only when some run has one
NARROW_TREE = 5  # columns kept when the code sits beside the tree (they fit in half the page)
CODE_HEIGHT_PX = 420
ISOLATION_NAMES = {
    "label": "pattern", "parent": "parent (entry run)", "documented": "documented behaviour",
}  # fmt: skip
ISOLATION_FLAG = "background-color: #FDE2E4; color: #9F1239; font-weight: 600"


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
    return shown_numbers(frame.style.apply(_paint_state, axis=1))


def shown_numbers(frame: pd.DataFrame | Styler) -> Styler:
    """Format a table's numbers as every page does: 22,400 and 1.25; `–` where none."""
    style = frame if isinstance(frame, Styler) else frame.style
    return style.format(precision=2, thousands=",", na_rep=MISSING)


def _tree_columns(frame: pd.DataFrame, narrow: bool) -> list[str]:
    """Return the run tree's columns: optional ones only when some run fills them."""
    columns = [c for c in TREE_COLUMNS if c not in OPTIONAL_TREE or frame[c].astype(bool).any()]
    if frame["task runs"].isna().all():  # a lead read by counts: its own tasks not read yet
        columns.remove("task runs")
    if narrow:  # half a page: the messages are in full in the errors under the tree
        return [c for c in columns if c != "message"][:NARROW_TREE]
    return columns


def show_errors(report: PatternReport, *, folded: bool = False) -> None:
    """Show each of a pattern's errors (escaped) with what to do about it (folded: in an
    expander, for a drill whose failures are on purpose and summed up above)."""
    if folded and report.errors:
        count = len(report.errors)
        with st.expander(f"{count} error{'s' * (count != 1)} (details)", icon=":material/warning:"):
            show_errors(report)
        return
    for line in report.errors:
        hint = views_failures.error_hint(line)
        st.error(f"{views.escape_md(line)}  \n→ {hint}", icon=":material/warning:")


def _caption(report: PatternReport) -> str:
    """Sum a pattern's runs up in one line."""
    if report.progress is not None:  # a fan-out while its launch runs: its lead run only
        caption = ("Its lead run; all its runs, their hosts and processes are read one by one "
                   "once the whole launch is over")  # fmt: skip
        return caption + (f" · variant: {report.variant}" if report.variant else "")
    flows, tasks = len(report.flow_runs), report.task_runs
    caption = (f"{number(flows)} flow run{'s' * (flows != 1)} · "
               f"{number(tasks)} task run{'s' * (tasks != 1)} · ")  # fmt: skip
    caption += views.where_label(report)
    retries = sum(len(r.retried_tasks) for r in report.flow_runs)
    caption += f" · {retries} task retries" if retries else ""
    return caption + (f" · variant: {report.variant}" if report.variant else "")


def show_pattern_run(
    report: PatternReport,
    when: datetime,
    *,
    key: str,
    with_code: bool = True,
    fold_errors: bool = False,
) -> None:
    """Show one pattern's run tree (Prefect state colours, UI links), errors, and its flow code."""
    tree, code = st.columns(2) if with_code else (st.container(), None)
    frame = views.run_tree_frame(report, when)
    with tree:
        st.dataframe(
            paint_states(frame),
            hide_index=True,
            column_order=_tree_columns(frame, narrow=with_code),
            column_config=TREE_COLUMNS,
            key=f"tree-{key}",
        )
        st.caption(_caption(report))
        if report.alert:
            st.caption(f"Proactive trigger: {report.alert}")
        show_errors(report, folded=fold_errors)
        logs_view.show_run_logs(report, key=key)
        note = views_failures.computing_note(report)
        if note:
            hint = views_failures.error_hint(note)
            st.warning(f"{views.escape_md(note)}  \n→ {hint}", icon=":material/hourglass_top:")
    if code is not None:
        # From the first flow or task definition: what makes the pattern, not its imports.
        first, excerpt = views.flow_excerpt(flow_code(report.pattern))
        module = PATTERN_INFO[report.pattern].module
        code.caption(f"Flow code: `{module}` from line {first}")
        code.code(excerpt, line_numbers=True, wrap_lines=True, height=CODE_HEIGHT_PX)


def show_host_fault(report: LaunchReport) -> None:
    """Say what a host-fault drill killed (which worker, which host) and what became of its run."""
    from patternlab.launch import host_fault

    outcome = host_fault(report.launch_id)
    if outcome is None:
        return
    text = "  \n".join(views.escape_md(line) for line in views.host_fault_lines(outcome, report))
    st.warning(f"**Host fault: {HOST_FAULTS[outcome.fault]}.**  \n{text}", icon=":material/dns:")


def _flag_mismatches(frame: pd.DataFrame) -> Styler:
    """Paint the cells that differ from the documentation, so no mismatch goes unseen."""

    def paint(value: object) -> str:
        text = str(value)
        return ISOLATION_FLAG if "documented" in text or text.startswith("NO") else ""

    return frame.style.map(paint, subset=[c for c in frame.columns if c != "documented behaviour"])


def show_isolation(
    items: Sequence[views.Entry], reports: Sequence[LaunchReport], window_s: float
) -> None:
    """Show each pattern's failure isolation, documented vs observed, mismatches flagged."""
    outcomes = views_failures.isolation_outcomes(items, reports, window_s)
    if not outcomes:
        if any(not r.done and r.drill != "none" for r in reports):
            st.info("Failure isolation appears here once the drill's runs have finished.")
        return
    with st.container(key="compare-isolation"):
        st.header("Failure isolation")
        st.caption(
            views.escape_md(views_failures.drill_caption(outcomes))
            + " Each cell is what Prefect reported; where the documentation says otherwise it "
            "is shown beside it, and the row is flagged."
        )
        frame = views_failures.isolation_frame(outcomes).drop(columns=["pattern", "drill"])
        # A table, not a grid: four rows whose documented reasons must be read in full.
        st.table(_flag_mismatches(frame.rename(columns=ISOLATION_NAMES)), hide_index=True)
        for e, o in outcomes:
            for line in views_failures.isolation_mismatches(o):
                st.warning(
                    f"**{e.label}** differs from the documentation — {line}. "
                    f"Documented: {views.escape_md(o.documented)}",
                    icon=":material/flag:",
                )


def show_history_table(rows: Sequence[HistoryRow]) -> None:
    """Show History's rows: states in Prefect's colours, both durations explained, links."""
    st.dataframe(
        paint_states(views.history_frame(rows)),
        hide_index=True,
        column_order=[
            "created",
            "repository",
            "patterns",
            "pattern",
            "drill",
            "variant",
            "hold s",
            "state",
            views.END_TO_END_S,
            views.ENTRY_RUN_S,
            "compare",
            "prefect",
            "source",
            "launch",
        ],  # fmt: skip
        column_config={
            "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm:ss"),
            "patterns": st.column_config.TextColumn(
                "launch's patterns", help="Every pattern the launch ran (all 4, or which)"
            ),
            "drill": st.column_config.TextColumn(help=help_for("drill")),
            "variant": st.column_config.TextColumn(
                "deployment variant",  # the launch's, on every pattern's row: not monoflow's own
                help="The deployment variant the launch was made with: the parent waits for its "
                "child, or fires and forgets",
            ),
            "hold s": st.column_config.NumberColumn(help=help_for("proactive window")),
            views.END_TO_END_S: st.column_config.NumberColumn(
                format="%.2f",
                help="From the entry run's creation to the end of the pattern's last run "
                "(subflows, deployment child, triggered run; not the proactive alert), as on "
                "Compare. "
                "Empty while any of them is still to come or running.",
            ),
            views.ENTRY_RUN_S: st.column_config.NumberColumn(
                format="%.2f",
                help="How long the entry flow run itself ran (Prefect's run time), without its "
                "subflows, child or triggered runs.",
            ),
            "compare": st.column_config.LinkColumn("compare", display_text="open ↗"),
            "prefect": st.column_config.LinkColumn("Prefect UI", display_text="open run ↗"),
        },
        key="history_table",
        height="content",  # the whole page of rows: the pager below is the only scrolling
    )
