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


def test_hand_offs_are_arrows_across_processes_and_the_event():
    """Subflow calls, the run_deployment hand-off and event → automation → run are arrows."""
    texts = _texts(swimlanes.swimlane_figure(build_report(), NOW, 10.0))
    assert texts.count("subflow call") == 2
    assert "run_deployment" in texts
    assert "Completed event → automation → run" in texts


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
    assert texts.count(swimlanes.REACHED) == 2  # subflows, deployments (wait)
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
