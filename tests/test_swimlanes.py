"""The swimlane view: the patterns on one time axis, processes, hand-offs, where failures went."""

from __future__ import annotations

from datetime import datetime, timedelta

import pendulum

from patternlab.launch import LaunchReport
from patternlab.views import swimlanes
from tests.helpers import T0, add_alert_run, build_report, child_drill_report, fail_run

NOW = T0 + timedelta(minutes=1)


def _texts(fig) -> list[str]:
    """Return every annotation's text."""
    return [a.text for a in fig.layout.annotations]


def test_each_pattern_is_a_lane_on_one_time_axis():
    """Four lanes named after the patterns, one date axis for all of them."""
    fig = swimlanes.swimlane_figure(build_report(), NOW, 10.0)
    assert [t.replace("<b>", "").replace("</b>", "") for t in fig.layout.yaxis.ticktext] == [
        "Monoflow", "Flow of subflows", "Flow of deployments", "Event-triggered flow",
    ]  # fmt: skip
    assert fig.layout.xaxis.type == "date"


def _arrows(fig, kind: str) -> int:
    """Count the arrows of one kind (by their colour)."""
    color = swimlanes.ARROW[kind]
    return sum(1 for a in fig.layout.annotations if a.showarrow and a.arrowcolor == color)


def test_hand_offs_are_arrows_across_processes_and_the_event_named_in_the_legend():
    """Subflow calls, the run_deployment hand-off and event → automation → run are arrows, each
    kind in its colour and named once in the legend (not on every arrow: they collided)."""
    fig = swimlanes.swimlane_figure(build_report(), NOW, 10.0)
    assert (_arrows(fig, "subflow"), _arrows(fig, "deployment-child"), _arrows(fig, "triggered")) \
        == (2, 1, 1)  # fmt: skip
    assert [t.name for t in fig.data if t.showlegend is not False] == [
        "subflow call", "run_deployment", "Completed event → automation → run",
    ]  # fmt: skip
    mono = swimlanes.swimlane_figure(build_report(patterns=["monoflow"]), NOW, 10.0)
    assert [t.name for t in mono.data if t.showlegend is not False] == []  # no arrow, no entry


def _bands(fig) -> tuple[list, list, list]:
    """Return the bars' vertical extents, the run names' rows and the box labels' rows."""
    bars = [(s.y0, s.y1) for s in fig.layout.shapes if s.type == "rect" and s.fillcolor]
    names = list(fig.data[0].y)
    labels = [a.y for a in fig.layout.annotations if not a.showarrow and a.yanchor == "bottom"]
    return bars, names, labels


def test_no_name_or_label_is_written_on_a_bar_or_on_another_label():
    """Run names sit on their own line above their bar, box labels on theirs above the box:
    no text shares a line with a bar or with other text (a text line is ~0.6 rows tall)."""
    report = build_report()
    for p in report.patterns:
        for r in p.flow_runs:
            r.work_pool = "lab-process"  # host boxes too
    bars, names, labels = _bands(swimlanes.swimlane_figure(report, NOW, 10.0))
    assert len(names) == sum(len(p.flow_runs) for p in report.patterns)
    assert len(labels) == 4 + 6  # a host per lane; 1 process + 1 + 2 + 2
    half = 0.3
    for y in names:
        assert all(y + half <= y0 or y - half >= y1 for y0, y1 in bars), y
        assert all(abs(y - label_bottom + half) >= 2 * half for label_bottom in labels), y
    for a, b in zip(sorted(labels), sorted(labels)[1:], strict=False):
        assert b - a >= 2 * half  # two box labels never share a line


def test_runs_sit_in_process_boxes_and_host_boxes_in_pool_mode():
    """Every process gets a labelled box; a pool launch adds one box per host."""
    report = build_report()
    texts = _texts(swimlanes.swimlane_figure(report, NOW, 10.0))
    assert "process 1000 @ h" in texts
    assert not any(t.startswith("host ") for t in texts)
    for p in report.patterns:
        for r in p.flow_runs:
            r.work_pool = "lab-process"
    texts = _texts(swimlanes.swimlane_figure(report, NOW, 10.0))
    assert "host h" in texts


def test_a_drill_shows_where_each_failure_went():
    """A child failure reaches a waiting parent and a subflow's parent; it stops at the event."""
    texts = _texts(swimlanes.swimlane_figure(child_drill_report(), NOW, 10.0))
    assert texts.count(f"↑ {swimlanes.REACHED}") == 2  # subflows, deployments (wait)
    assert texts.count(f"✕ {swimlanes.STOPPED}") == 1  # the triggered flow's failure


def test_the_alert_deadline_is_marked_and_the_fired_alert_linked_to_it():
    """The proactive window's end is a dashed line in the events lane, an arrow to the alert."""
    report = build_report()
    add_alert_run(report.patterns[3])
    fig = swimlanes.swimlane_figure(report, NOW, 10.0)
    assert "alert window ends (10 s)" in _texts(fig)
    assert "no Completed in time → alert" in _texts(fig)
    assert any(s.line.dash == "dash" for s in fig.layout.shapes)


def test_outside_text_is_escaped_in_the_figure():
    """A run's message reaches the hover text escaped (plotly reads HTML in labels)."""
    report = build_report(patterns=["monoflow"])
    fail_run(report.patterns[0], "monoflow", "<img src=x onerror=alert(1)>")
    fig = swimlanes.swimlane_figure(report, NOW, 10.0)
    assert "<img" not in str(fig.data[0].hovertext)
    assert "&lt;img" in str(fig.data[0].hovertext)


def test_times_read_from_prefect_are_plain_datetimes_and_the_figure_serialises():
    """Prefect hands out pendulum's datetime subclass, which plotly's orjson encoder (the one
    Streamlit uses) refuses: the lab's models keep standard-library datetimes whatever they get."""
    data = build_report().model_dump()
    for pattern in data["patterns"]:
        for run in pattern["flow_runs"]:
            for key in ("created", "start", "end"):
                if run[key] is not None:
                    run[key] = pendulum.instance(run[key])
    report = LaunchReport.model_validate(data)
    run = report.patterns[0].flow_runs[0]
    assert type(run.created) is datetime
    assert run.created == data["patterns"][0]["flow_runs"][0]["created"]
    fig = swimlanes.swimlane_figure(report, NOW, 10.0)
    assert '"type":"date"' in fig.to_json(engine="orjson")


def test_the_time_axis_reaches_the_alert_deadline_after_every_run():
    """A deadline later than every run (the usual case: the events pattern is over in seconds,
    its window is longer) stays on the axis: plotly hides what lies outside its range."""
    report = build_report()
    fig = swimlanes.swimlane_figure(report, NOW, 30.0)
    events_entry = next(r for r in report.patterns[3].flow_runs if r.role == "entry")
    deadline = events_entry.start + timedelta(seconds=30)
    assert all(r.end < deadline for p in report.patterns for r in p.flow_runs)
    first, last = fig.layout.xaxis.range
    assert first < T0 < deadline < last
