"""A launch told in sentences: what Prefect does while runs wait, what a drill did."""

from __future__ import annotations

from datetime import timedelta

from patternlab.views import story
from tests.helpers import T0, build_report, child_drill_report


def test_a_scheduled_run_says_it_waits_for_the_runners_poll() -> None:
    """A run not yet claimed reads as waiting for the runner's poll, with the poll interval."""
    report = build_report(patterns=["monoflow"])
    run = report.patterns[0].flow_runs[0]
    run.state, run.status, run.start, run.end = "Scheduled", "scheduled", None, None
    (line,) = story.waiting_story(report, T0 + timedelta(seconds=3), poll_s=0.2)
    assert "monoflow (Monoflow) Scheduled for 3.0 s" in line
    assert "waiting for the runner to claim it (it polls every 0.2 s)" in line


def test_a_pending_run_in_pool_mode_says_a_worker_starts_its_process() -> None:
    """A Pending run reads as its process being started, by a worker in pool mode."""
    report = build_report(patterns=["deployments"])
    child = report.patterns[0].flow_runs[1]
    child.state, child.status, child.start, child.end = "Pending", "pending", None, None
    (line,) = story.waiting_story(report, T0 + timedelta(seconds=5), execution="pool")
    assert "a worker of the work pool has claimed it and is starting a Python process" in line


def test_running_and_finished_runs_need_no_explanation() -> None:
    """Runs that started are not described as waiting."""
    assert story.waiting_story(build_report(), T0 + timedelta(seconds=30)) == []


def test_a_child_drill_reads_as_one_headline_and_a_sentence_per_pattern() -> None:
    """The drill's headline says the failures are on purpose; each pattern gets one sentence."""
    report = child_drill_report()
    headline, lines = story.drill_story(report, window_s=10.0)
    assert headline.startswith("Failure drill: Child step fails")
    assert "on purpose" in headline
    assert lines[1] == (
        "Flow of subflows: parent failed: its child's failure reached it; child step failed."
    )
    assert lines[3].startswith("Event-triggered flow: parent continued: never learned")
    assert all("Differs" not in line for line in lines)
