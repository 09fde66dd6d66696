"""Pure tests of how a pattern's runs become a report: roles, separations, timings, completion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patternlab.launch import FlowRunInfo
from patternlab.launch.metrics import build_pattern_report, compute_timings, observe_separation

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    """Return T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def _run(flow: str, created: float, start: float | None, end: float | None, **kw) -> FlowRunInfo:
    """Build a run view with timestamps given as seconds after T0."""
    state = kw.pop("state", "Completed" if end is not None else "Running")
    return FlowRunInfo(
        id=kw.pop("id", flow),
        name=kw.pop("name", flow),
        flow=flow,
        state=state,
        status=kw.pop("status", state.lower()),
        created=_at(created),
        start=_at(start) if start is not None else None,
        end=_at(end) if end is not None else None,
        **kw,
    )


def test_monoflow_observes_no_separation():
    """One flow in one process shows none of the three separations."""
    runs = [_run("monoflow", 0, 1, 2, pid=10, host="h")]
    sep = observe_separation(runs)
    assert (sep.conceptual, sep.execution, sep.awareness) == (False, False, False)


def test_subflows_in_one_process_are_conceptual_only():
    """Two flows sharing a pid are conceptually but not execution-separated."""
    runs = [
        _run("subflows-parent", 0, 1, 3, pid=10, host="h"),
        _run("fetch-repo-data", 1.1, 1.1, 2, pid=10, host="h", created_by="parent flow"),
    ]
    sep = observe_separation(runs)
    assert (sep.conceptual, sep.execution, sep.awareness) == (True, False, False)


def test_triggered_run_counts_as_awareness_separation():
    """A run created by an automation in another process shows all three separations."""
    runs = [
        _run("events-upstream", 0, 1, 2, pid=10, host="h"),
        _run("events-downstream", 2.2, 3, 4, pid=11, host="h", created_by="automation"),
    ]
    sep = observe_separation(runs)
    assert (sep.conceptual, sep.execution, sep.awareness) == (True, True, True)


def test_timings_split_end_to_end_into_queue_handoff_work_and_overhead():
    """Queue, hand-off, work and overhead add up to the end-to-end time."""
    runs = [
        _run("deployments-parent", 0, 1.5, 6, work_s=0.2),
        _run("average-commits-child", 2, 3.5, 5.5, work_s=0.8),
    ]
    t = compute_timings(runs)
    assert t.end_to_end_s == 6.0
    assert t.queue_s == 1.5
    assert t.handoff_s == 1.5
    assert t.work_s == 1.0
    assert t.overhead_s == 2.0
    assert t.execution_s == 4.5


def test_event_handoff_runs_from_upstream_end_to_downstream_start():
    """The events hand-off is upstream ended -> downstream Running."""
    runs = [
        _run("events-upstream", 0, 1, 2),
        _run("events-downstream", 2.3, 4, 5, created_by="automation"),
    ]
    assert compute_timings(runs).handoff_s == 2.0


def test_events_pattern_waits_for_the_automation_after_upstream_completes():
    """A completed upstream with no downstream yet is not done within the grace period."""
    runs = [_run("events-upstream", 0, 1, 2)]
    report = build_pattern_report("events", runs, None, now=_at(5))
    assert not report.done
    assert report.state == "Running"


def test_events_pattern_reports_a_missing_trigger_after_the_grace_period():
    """If the automation never starts the downstream, the pattern fails with a clear reason."""
    runs = [_run("events-upstream", 0, 1, 2)]
    report = build_pattern_report("events", runs, None, now=_at(60))
    assert report.done
    assert report.state == "Failed"
    assert "did not start events-downstream" in report.errors[0]


def test_failed_upstream_waits_for_the_proactive_alert():
    """A failed upstream is expected to fire the alert; the pattern waits for it."""
    runs = [_run("events-upstream", 0, 1, 2, state="Failed", message="boom")]
    waiting = build_pattern_report("events", runs, None, now=_at(5), window_s=10)
    assert not waiting.done
    alert = _run("events-missed-alert", 12, 13, 14, created_by="automation")
    fired = build_pattern_report("events", [*runs, alert], None, now=_at(15), window_s=10)
    assert fired.done
    assert fired.alert.startswith("fired")
    assert fired.state == "Failed"


def test_fire_and_forget_child_failure_fails_the_pattern():
    """A completed parent does not hide a failed fire-and-forget child."""
    runs = [
        _run("deployments-parent", 0, 1, 1.5),
        _run("average-commits-child", 1.2, 2, 3, state="Failed", message="HTTP 500"),
    ]
    report = build_pattern_report("deployments", runs, None, now=_at(4))
    assert report.done
    assert report.state == "Failed"
    assert "HTTP 500" in report.errors[0]


def test_running_runs_keep_the_pattern_running():
    """A pattern is not done while any of its runs is not final."""
    runs = [_run("subflows-parent", 0, 1, None)]
    report = build_pattern_report("subflows", runs, None, now=_at(2))
    assert not report.done
    assert report.timings.end_to_end_s is None


def test_a_deliberate_hold_is_its_own_segment_not_overhead():
    """The events upstream held 12 s on purpose: that is held time, and overhead is only the
    rest (the issue's 29.2 s launch showed ~14 s of "overhead" while the upstream ran 14 s)."""
    runs = [
        _run("events-upstream", 0, 1, 15, work_s=0.1, held_s=12.0),
        _run("events-downstream", 15.2, 16, 17, work_s=0.4, created_by="automation"),
    ]
    t = compute_timings(runs)
    assert t.held_s == 12.0
    assert t.handoff_s == 1.0
    assert t.overhead_s == pytest.approx(17 - 1 - 1 - 0.5 - 12)


def test_queue_splits_into_pick_up_and_process_start():
    """With the entry's Pending time known, queue = pick-up (-> Pending) + process start."""
    run = _run("monoflow", 0, 1.5, 3, pending_at=_at(0.4))
    t = compute_timings([run])
    assert (t.queue_s, t.pickup_s, t.process_start_s) == (1.5, 0.4, 1.1)
    assert compute_timings([_run("monoflow", 0, 1.5, 3)]).pickup_s is None


def test_a_failed_upstream_settles_the_pattern_at_once():
    """After the events upstream failed the pattern says Failed at once, with the alert it still
    waits for as pending detail, and the trigger note says when the alert is due."""
    runs = [_run("events-upstream", 0, 1, 2, state="Failed", message="boom")]
    report = build_pattern_report("events", runs, None, now=_at(5), window_s=10)
    assert (report.state, report.status, report.done) == ("Failed", "failed", False)
    assert report.pending == "waiting for the proactive alert"
    assert report.alert == (
        "due: the upstream ended Failed, so no Completed event will come; the alert fires when "
        "its 10 s window ends at 12:00:11 UTC"
    )


def test_a_running_upstream_is_watched_until_its_deadline():
    """While the upstream runs, the trigger note names the moment its window ends."""
    runs = [_run("events-upstream", 0, 1, None)]
    report = build_pattern_report("events", runs, None, now=_at(3), window_s=10)
    assert report.state == "Running"
    assert report.alert == "watching: the upstream must complete within 10 s (by 12:00:11 UTC)"
