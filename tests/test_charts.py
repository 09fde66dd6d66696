"""Tests for patternlab.charts: figures built from the views' tables of hand-made reports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patternlab import views
from patternlab.launch import PATTERNS
from patternlab.views import charts
from patternlab.views import stats as views_stats
from tests.helpers import T0, build_report, build_stats


def _traces(fig, **match):
    """Return the figure's traces whose attributes equal `match`."""
    return [t for t in fig.data if all(getattr(t, k) == v for k, v in match.items())]


def test_every_pattern_has_its_own_colour():
    """The four patterns have four distinct colours, none of them a Prefect state colour."""
    colours = [charts.pattern_color(p) for p in PATTERNS]
    assert len(set(colours)) == 4
    assert not set(colours) & set(charts.STATE_COLORS.values())


def test_timings_figure_stacks_the_parts_of_end_to_end_per_pattern():
    """Each part is a trace over the four patterns, coloured by pattern, summing to end-to-end."""
    fig = charts.timings_figure(views.timings_frame(views.entries([build_report()])))
    assert fig.layout.barmode == "stack"
    parts = _traces(fig, type="bar", showlegend=False)
    # Parts no pattern has (no hold; the queue not split in these reports) are left out.
    shown = {"queue_unsplit_s", "handoff_s", "work_s", "overhead_s"}
    assert [t.name for t in parts] == [n for c, n, _, _ in charts.TIME_PARTS if c in shown]
    queue = parts[0]
    assert list(queue.x) == ["Monoflow", "Flow of subflows", "Flow of deployments",
                             "Event-triggered flow"]  # fmt: skip
    assert list(queue.y) == [1.0, 2.0, 3.0, 4.0]
    assert list(queue.marker.color) == [charts.pattern_color(p) for p in PATTERNS]
    totals = [sum(t.y[i] for t in parts) for i in range(4)]
    assert totals == [1.0 + 0.0 + 2.0 + 3.0, 2.0 + 0.5 + 5.0, 3.0 + 1.0 + 5.0, 4.0 + 1.5 + 5.0]


def test_timings_figure_shows_pick_up_process_start_and_the_hold_as_their_own_parts():
    """Once the queue is split and a flow was held, the stack has pick-up, process start and
    "held on purpose" segments, and a split queue adds no plain queue segment."""
    report = build_report(patterns=["events"])
    t = report.patterns[0].timings
    t.pickup_s, t.process_start_s, t.held_s, t.overhead_s = 0.4, 0.6, 12.0, 1.0
    parts = _traces(charts.timings_figure(views.timings_frame(views.entries([report]))),
                    type="bar", showlegend=False)  # fmt: skip
    by_name = {trace.name: list(trace.y) for trace in parts}
    assert by_name == {
        "pick-up (Scheduled → Pending)": [0.4], "process start (Pending → Running)": [0.6],
        "held on purpose (not orchestration)": [12.0],
        "work (HTTP + arithmetic)": [2.0], "orchestration overhead": [1.0],
    }  # fmt: skip


def test_a_fanouts_bar_is_its_queue_then_its_runs_running_and_its_summed_work_is_apart():
    """Over 128 repositories the runs overlap: the bar is the queue, then the rest of
    end-to-end as "runs running"; the work summed over the runs (more than the end-to-end when
    many runs wait for a core) is no stacked part but a column, with the work per repository."""
    report = build_report(patterns=["monoflow", "events"])
    events = report.patterns[1]
    events.repos = 128
    t = events.timings
    t.end_to_end_s, t.queue_s, t.work_s, t.handoff_s, t.overhead_s = 86.2, 0.8, 90.0, None, None
    frame = views.timings_frame(views.entries([report]))
    parts = _traces(charts.timings_figure(frame), type="bar", showlegend=False)
    by_name = {trace.name: list(trace.y) for trace in parts}
    assert by_name["runs running, many at once (work and orchestration overlap)"] == [0.0, 85.4]
    assert by_name["work (HTTP + arithmetic)"] == [2.0, 0.0]  # monoflow's one repository only
    assert sum(t.y[1] for t in parts) == pytest.approx(86.2)  # the parts add up to end-to-end
    assert frame["work_total_s"].tolist() == [2.0, 90.0]
    assert frame["work_per_repo_ms"].tolist() == [2000.0, 703.1]


def test_counts_figure_has_one_trace_per_pattern_in_its_colour():
    """Counts are grouped bars: one trace per pattern, in that pattern's colour."""
    fig = charts.counts_figure(views.counts_frame(views.entries([build_report()])))
    assert [t.marker.color for t in fig.data] == [charts.pattern_color(p) for p in PATTERNS]
    assert list(fig.data[1].y) == [3, 6, 1]  # subflows: 3 flow runs, 6 task runs, 1 process


def test_timeline_figure_colours_runs_by_prefect_state_and_grows_to_now():
    """Running bars end at `now`; finished ones at their end; colours are Prefect's."""
    report = build_report(patterns=["deployments"])
    child = report.patterns[0].flow_runs[1]
    child.status, child.state, child.end = "running", "Running", None
    now = T0 + timedelta(seconds=20)
    fig = charts.timeline_figure(views.timeline_frame(report), now)
    ran = fig.data[1]
    assert list(ran.marker.color) == [
        charts.STATE_COLORS["completed"],
        charts.STATE_COLORS["running"],
    ]
    assert list(ran.x) == [2000.0, 18000.0]  # ms: 2 s finished; running from T0+2 s until now


def test_timeline_figure_of_no_runs_is_empty():
    """A launch with no runs yet draws an empty timeline rather than failing."""
    report = build_report(patterns=["monoflow"])
    report.patterns[0].flow_runs = []
    fig = charts.timeline_figure(views.timeline_frame(report), T0)
    assert len(fig.data) == 0


def test_contributor_logins_are_escaped_for_plotly():
    """A login is shown as text: plotly would otherwise read tags in it as HTML."""
    report = build_report(patterns=["monoflow"])
    report.patterns[0].stats.top_contributors[0].login = "<a href='x'>evil</a>"
    fig = charts.contributors_figure(views_stats.contributors_frame(views.entries([report])))
    assert "&lt;a href='x'&gt;evil&lt;/a&gt;" in list(fig.data[0].y)


def test_weekly_figure_draws_one_line_per_differing_pattern():
    """Weekly commits that differ between two patterns give two lines in their colours."""
    report = build_report(patterns=["monoflow", "events"])
    report.patterns[1].stats = build_stats()
    report.patterns[1].stats.weekly_commits[0].commits = 7
    fig = charts.weekly_figure(views_stats.weekly_frame(views.entries([report])))
    assert [t.line.color for t in fig.data] == [
        charts.pattern_color("monoflow"), charts.pattern_color("events"),
    ]  # fmt: skip


def test_run_tree_diagram_draws_one_box_per_process():
    """The Home diagrams put each OS process in its own cluster and name the automation."""
    assert charts.run_tree_dot("subflows").count("subgraph cluster_") == 1
    assert charts.run_tree_dot("deployments").count("subgraph cluster_") == 2
    events = charts.run_tree_dot("events")
    assert '"automation" -> "events-downstream"' in events


def test_the_alert_window_mark_serialises_with_prefect_s_own_datetimes():
    """A live events launch (Prefect's DateTime timestamps) draws its alert mark as JSON."""
    from datetime import UTC, datetime

    import plotly.io as pio
    from prefect.types._datetime import now as prefect_now

    from patternlab.views import frames

    report = build_report(patterns=["events"])
    for run in report.patterns[0].flow_runs:
        run.created, run.start, run.end = prefect_now("UTC"), prefect_now("UTC"), None
    report.done = False
    marks = frames.alert_deadlines(report, 10)
    figure = charts.timeline_figure(frames.timeline_frame(report), datetime.now(UTC), marks)
    assert "alert window ends" in pio.to_json(figure)


def test_every_chart_is_readable_from_the_back_of_a_room():
    """Every figure's text is at least 13 px (plotly's default is 12) and titles larger."""
    from datetime import UTC, datetime

    from patternlab.views import frames, swimlanes

    report = build_report()
    entries = views.entries([report])
    figures = [
        charts.timings_figure(views.timings_frame(entries)),
        charts.counts_figure(views.counts_frame(entries)),
        charts.timeline_figure(frames.timeline_frame(report), datetime.now(UTC)),
        charts.contributors_figure(views_stats.contributors_frame(entries)),
        charts.weekly_figure(views_stats.weekly_frame(entries)),
    ]
    figures.append(swimlanes.swimlane_figure(report, datetime.now(UTC), 10.0))
    for fig in figures:
        assert fig.layout.font.size >= 14, fig.layout.title.text
        assert fig.layout.title.font.size > fig.layout.font.size
        for note in fig.layout.annotations:
            assert (note.font.size or fig.layout.font.size) >= 13, note.text
        # Streamlit's theme draws ticks and the legend at 12 px unless each names its size.
        axes = [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
        assert axes
        assert all(a.tickfont.size >= 14 for a in axes), fig.layout.title.text
        assert fig.layout.legend.font.size >= 14, fig.layout.title.text


def test_a_dozen_bars_are_drawn_across_with_their_labels_in_full():
    """Three launches of four patterns: the bars lie across, each label whole on the left (no
    tilted, overlapping ticks), the first row on top, and room for the longest total."""
    reports = [build_report(f"{i}" * 6 + "abcdef") for i in range(3)]
    reports[2].patterns[3].timings.end_to_end_s = 92.5
    frame = views.timings_frame(views.entries(reports))
    fig = charts.timings_figure(frame)
    parts = _traces(fig, type="bar", showlegend=False)
    assert {t.orientation for t in parts} == {"h"}
    assert list(parts[0].y) == frame["label"].tolist()  # whole labels, in the table's order
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.range[1] > 92.5
    few = charts.timings_figure(views.timings_frame(views.entries([build_report()])))
    assert {t.orientation for t in _traces(few, type="bar", showlegend=False)} == {None}
