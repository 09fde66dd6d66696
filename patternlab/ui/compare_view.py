"""The Compare page's body: where the time goes, what ran, separations, statistics, run trees."""

from __future__ import annotations

import streamlit as st

from patternlab import views
from patternlab.launch import LaunchReport
from patternlab.settings import get_settings
from patternlab.ui import fanout_view, page_setup, reads
from patternlab.ui import runs as ui_runs
from patternlab.views import charts, swimlanes
from patternlab.views import failures as views_failures
from patternlab.views import launches as views_launches
from patternlab.views import stats as views_stats
from patternlab.views.glossary import help_for

LABEL = st.column_config.TextColumn("pattern")
TRAIT_HELP = {t: st.column_config.TextColumn(t, help=help_for(t)) for t in views.TRAITS}


def _show_time(items: list[views.Entry]) -> None:
    """Show where each pattern's time went and how much ran."""
    st.header("Where the time goes")
    timings, counts = views.timings_frame(items), views.counts_frame(items)
    grouped = len(items) > views_launches.GROUP_ABOVE  # dozens of bars would not read
    if grouped:
        timings = views_launches.per_pattern_medians(timings)
        counts = views_launches.per_pattern_medians(counts)
        st.info(
            f"{len(items)} pattern runs picked: each bar is one pattern's **median** over its "
            "runs (each part's median, so the parts need not add up); the table gives min–max.",
            icon=":material/functions:",
        )
    st.plotly_chart(charts.timings_figure(timings), key="compare-timings")
    st.caption(
        "pick-up: entry run created → Pending (waiting for the runner's poll, or a worker's in "
        "pool mode) · process start: "
        "Pending → Running (the flow's process and engine; split from the queue once the launch "
        "is over) · hand-off: deployment child or triggered run created → Running · held on "
        "purpose: the events upstream's hold · work: HTTP and arithmetic measured inside the "
        "tasks · overhead: the rest of end-to-end, what orchestration cost."
    )
    if any(e.report.repos > 1 for e in items):
        st.caption(
            "Over several repositories the runs overlap: the bar is the queue, then the runs "
            "running, work and orchestration at once. The work, summed over the runs, and per "
            "repository are in the table; a run's work also waits for a core while many run at "
            "once. The Scale page shows what each repository adds to the end-to-end time."
        )
    st.header("What ran")
    # The chart and, below it, the table at full width: its seven columns need the room.
    st.plotly_chart(charts.counts_figure(counts), key="compare-counts")
    spread = ["min_s", "max_s"] if grouped else []
    shown = ["label", "end_to_end_s", *spread, "work_total_s", "work_per_repo_ms"]
    st.dataframe(
        ui_runs.shown_numbers(
            counts.drop(columns=["pattern"]).merge(
                timings[shown],
                on="label",
            )
        ),
        hide_index=True,
        column_config={
            "label": LABEL,
            "repos": st.column_config.NumberColumn("repositories"),
            "flow_runs": st.column_config.NumberColumn("flow runs"),
            "task_runs": st.column_config.NumberColumn("task runs"),
            "end_to_end_s": st.column_config.NumberColumn(
                "end-to-end s", help=help_for("end-to-end")
            ),
            "work_total_s": st.column_config.NumberColumn(
                "work s", help="HTTP and arithmetic measured inside the tasks, summed over runs"
            ),
            "work_per_repo_ms": st.column_config.NumberColumn(
                "work ms / repo", help="The work divided by the repositories launched"
            ),
            "runs": st.column_config.NumberColumn("runs", help="Pattern runs in the median"),
            "min_s": st.column_config.NumberColumn("min s"),
            "max_s": st.column_config.NumberColumn("max s"),
        },
    )


def _show_separation(items: list[views.Entry]) -> None:
    """Show observed separation next to the documented one, with mismatches flagged."""
    st.header("Separation: observed vs documented")
    frame = views.separation_frame(items)
    st.dataframe(
        frame.drop(columns=["pattern"]),
        hide_index=True,
        column_config={"label": LABEL, **TRAIT_HELP},
    )
    # Execution separation is observed as distinct processes, and in pool mode distinct hosts.
    st.caption(
        "Where the flows ran: hosts and processes as each flow recorded them, workers as Prefect "
        "recorded them (runner: no worker)."
    )
    where = views.where_frame(items).drop(columns=["pattern", "hosts", "processes"])
    st.table(where.rename(columns={"label": "pattern"}), hide_index=True)
    for e in items:
        for line in views.mismatches(e):
            st.warning(
                f"**{e.label}** differs from the documentation — {line}", icon=":material/flag:"
            )
        for line in views.unobserved(e):  # not a difference: nothing ran that could show it
            st.info(f"**{e.label}** — {line}", icon=":material/visibility_off:")


def _show_stats(items: list[views.Entry], notes: list[str]) -> None:
    """Show the repository's statistics as each pattern computed them."""
    st.header("Repository statistics")
    if not any(e.report.stats for e in items):
        running = not all(e.report.done for e in items)
        st.info(
            "No statistics yet: the runs have not published any."
            if running
            else "No statistics: no pattern's runs got as far as publishing them (see the run "
            "trees below for why).",
            icon=":material/query_stats:",
        )
        return
    label, snapshot = views_stats.source_label(items)
    label = " · ".join([label, *dict.fromkeys(notes)])  # why `auto` fell back, or mixed
    if snapshot:
        st.warning(f"**Data source:** {views.escape_md(label)}", icon=":material/inventory_2:")
    else:
        st.info(f"**Data source:** {views.escape_md(label)}", icon=":material/public:")
    description = next((e.report.stats.description for e in items if e.report.stats), None)
    if description:
        st.text(description)  # GitHub's text: shown as text, never as Markdown or HTML
    st.dataframe(
        ui_runs.shown_numbers(views_stats.stats_frame(items).drop(columns=["pattern"])),
        hide_index=True,
        column_config={"label": LABEL},
    )
    differing = views_stats.stats_disagreements(items)
    if differing:
        st.warning("The patterns disagree on: " + ", ".join(differing), icon=":material/flag:")
    contributors, weekly = views_stats.contributors_frame(items), views_stats.weekly_frame(items)
    left, right = st.columns(2)
    if not contributors.empty:
        left.plotly_chart(charts.contributors_figure(contributors), key="compare-contributors")
    if not weekly.empty:
        right.plotly_chart(charts.weekly_figure(weekly), key="compare-weekly")


def _show_runs(items: list[views.Entry]) -> None:
    """Show each pattern's run tree beside the flow code that made it."""
    st.header("Runs and code")
    now = page_setup.now()
    for tab, e in zip(st.tabs([e.label for e in items]), items, strict=True):
        with tab:
            key = f"compare-{e.launch_id}-{e.pattern}-{e.report.round}"  # a repeat's rounds
            ui_runs.show_pattern_run(e.report, now, key=key)


def _show_spread_of_runs(reports: list[LaunchReport]) -> None:
    """Draw one launch's patterns as swimlanes: processes, hand-offs, where a failure went."""
    if len(reports) != 1 or reports[0].repos != 1:
        return  # lanes of several launches, or of hundreds of runs, would not read
    report = reports[0]
    window = get_settings().alert_window_s
    st.header("How the runs and a failure spread")
    st.caption(
        "One lane per pattern on one time axis: each run, named above its bar, waits (grey), "
        "then runs in its state's colour, inside a dotted box per process (a solid one per host "
        "in pool mode). Arrows, coloured as the legend says: subflow calls, run_deployment "
        "hand-offs, a Completed event an automation turned into a run, the alert after its "
        "window (dashed line). Beside a failed run: whether its failure reached its parent."
    )
    figure = swimlanes.swimlane_figure(report, page_setup.now(), window)
    st.plotly_chart(figure, key="compare-swimlanes")


def show_comparison(reports: list[LaunchReport]) -> None:
    """Render the comparison of the given launches."""
    running = [r.launch_id for r in reports if not r.done]
    for launch_id in running:
        st.info(f"Launch `{launch_id}` is still running: figures fill in as its runs finish.")
    items = views.entries(reports)
    if not items:
        return
    repos = ", ".join(sorted({r.repo for r in reports}))
    st.caption(f"Repository: {views.escape_md(repos)} · {len(items)} pattern runs")
    fanout_view.show_fairness(reports, items)
    ui_runs.show_isolation(items, reports, get_settings().alert_window_s)
    failure = any(views_failures.shows_isolation(r) for r in reports)
    if failure:  # where the failure went, right under what each pattern did about it
        _show_spread_of_runs(reports)
    fanout_view.show_spread(items)
    _show_time(items)
    if not failure:
        _show_spread_of_runs(reports)
    _show_separation(items)
    if any(e.report.aggregate for e in items):
        fanout_view.show_aggregates_of(items)
    else:
        _show_stats(items, [r.source_note for r in reports if r.source_note])
    _show_runs(items)


@st.fragment(run_every=2)
def live_comparison(launch_ids: list[str]) -> None:
    """Re-read running launches every two seconds; rerun the page once all are done."""
    reports = [r for i in launch_ids if (r := reads.read_report(i)) is not None]
    show_comparison(reports)
    if reports and all(r.done for r in reports):
        st.rerun()
