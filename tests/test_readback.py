"""Reading a launch (or a History page) back costs a bounded number of API calls, however much
history exists."""

from __future__ import annotations

import pytest
from prefect.client.base import PrefectHttpxSyncClient

from patternlab.launch import launch, list_launches, read_launch, wait_for_launch


@pytest.fixture
def api_calls(monkeypatch):
    """Record the path of every HTTP request the Prefect client sends (observed, not mocked)."""
    seen: list[str] = []
    real_send = PrefectHttpxSyncClient.send

    def send(self, request, *args, **kwargs):
        seen.append(request.url.path)
        return real_send(self, request, *args, **kwargs)

    monkeypatch.setattr(PrefectHttpxSyncClient, "send", send)
    return seen


def test_reading_a_finished_launch_costs_three_calls(lab_backend, api_calls):
    """A finished launch reads back with runs, task runs and artifacts: three API calls."""
    launch_id = launch(["monoflow", "events"], "apache/airflow", "snapshot")
    wait_for_launch(launch_id, timeout_s=90)
    read_launch(launch_id)  # warm the per-process caches (flow names, deployment ids)
    api_calls.clear()
    report = read_launch(launch_id)
    assert report.done
    assert len(api_calls) == 3, api_calls


def test_call_count_does_not_grow_with_history(lab_backend, api_calls):
    """More launches on the server do not change what reading one launch costs."""
    first = launch(["events"], "temporalio/temporal", "snapshot")
    wait_for_launch(first, timeout_s=90)
    read_launch(first)
    api_calls.clear()
    read_launch(first)
    before = len(api_calls)
    for _ in range(3):
        wait_for_launch(launch(["monoflow"], "temporalio/temporal", "snapshot"), timeout_s=90)
    api_calls.clear()
    read_launch(first)
    assert len(api_calls) == before == 3, api_calls


def test_a_history_page_costs_three_calls_with_end_to_end_times(lab_backend, api_calls):
    """History reads entry runs, their count and the listed launches' runs: three API calls."""
    launch_id = launch(["subflows", "events"], "flyteorg/flyte", "snapshot")
    report = wait_for_launch(launch_id, timeout_s=90)
    list_launches(repo="flyteorg/flyte", limit=25)  # warm the per-process flow-name cache
    api_calls.clear()
    page = list_launches(repo="flyteorg/flyte", limit=25)
    assert len(api_calls) == 3, api_calls
    mine = {r.pattern: r.end_to_end_s for r in page.rows if r.launch_id == launch_id}
    assert mine == {p.pattern: p.timings.end_to_end_s for p in report.patterns}
    assert None not in mine.values()


def test_a_finished_launch_splits_its_queue_and_counts_a_hold_apart(lab_backend):
    """Once a launch is over its entries' queue splits into pick-up and process start, and the
    events upstream's deliberate hold is held time, not orchestration overhead."""
    report = wait_for_launch(
        launch(["monoflow", "events"], "apache/airflow", "snapshot", hold_s=1.5), timeout_s=90
    )
    assert report.done
    for p in report.patterns:
        t = p.timings
        assert t.pickup_s > 0
        assert t.process_start_s > 0
        assert t.pickup_s + t.process_start_s == pytest.approx(t.queue_s, abs=0.002)
    monoflow, events = (p.timings for p in report.patterns)
    assert monoflow.held_s == 0
    assert 1.5 <= events.held_s < 1.6
    parts = events.queue_s + events.handoff_s + events.work_s + events.held_s + events.overhead_s
    assert parts == pytest.approx(events.end_to_end_s, abs=0.005)


def test_a_running_fanout_is_read_by_counts_whatever_its_size(lab_backend, api_calls):
    """A poll of a running fan-out costs the same few calls for 3 and for 8 repositories,
    and reads neither every flow run nor any task run."""
    from flows.snapshot_synthetic import SYNTHETIC_OWNER
    from patternlab.launch import build_workload

    polls = {}
    launched = []
    for n in (3, 8):
        workload = build_workload(owner=SYNTHETIC_OWNER, limit=n, source="snapshot")
        launch_id = launch(["events"], workload=workload, hold_s=4.0)  # held: still running
        launched.append(launch_id)
        read_launch(launch_id)  # warm the per-process caches (deployment ids, flow names)
        api_calls.clear()
        report = read_launch(launch_id)
        assert not report.done
        assert report.patterns[0].progress is not None
        assert report.patterns[0].progress.expected_runs == 2 * n
        polls[n] = list(api_calls)
    assert polls[3] == polls[8], polls
    assert len(polls[8]) <= 4, polls
    assert polls[8].count("/api/flow_runs/filter") == 1  # the lead runs only
    assert not any("task_runs/filter" in path for path in polls[8])
    for launch_id in launched:
        report = wait_for_launch(launch_id, timeout_s=120)
        assert report.done
        assert report.patterns[0].aggregate.repositories == report.repos


def test_a_step_that_is_over_keeps_its_final_counts_while_the_next_runs(lab_backend, api_calls):
    """Subflows over 3 repositories, then events (held: still running). While events runs, the
    subflows step shows its counts (4 flow runs, 3 task runs, as the final read-back says);
    once over SETTLE_S and counted alike twice they are remembered: a poll then costs what one
    of the running events step alone costs."""
    import time
    from datetime import UTC, datetime, timedelta

    from flows.snapshot_synthetic import SYNTHETIC_OWNER
    from patternlab.launch import SETTLE_S, advance_launch, build_workload
    from patternlab.launch.fanout_read import read_fanout
    from patternlab.views import fanout as views_fanout

    workload = build_workload(owner=SYNTHETIC_OWNER, limit=3, source="snapshot")
    launch_id = launch(["subflows", "events"], workload=workload, hold_s=4.0)
    deadline = time.monotonic() + 90
    report = advance_launch(launch_id)  # starts events once subflows is over
    while report.patterns[1].progress is None:
        assert time.monotonic() < deadline, report
        time.sleep(0.2)
        report = advance_launch(launch_id)
    while report.patterns[0].progress.task_runs != 3:  # task runs recorded a moment late
        assert time.monotonic() < deadline, report.patterns[0]
        time.sleep(0.2)
        report = read_launch(launch_id)
    assert not report.done, "the events step ended before the polls: hold it longer"
    subflows = report.patterns[0]
    assert subflows.done
    assert subflows.progress.runs == {"completed": 4}  # the parent and 3 subflow runs
    assert views_fanout.flow_run_count(subflows) == 4
    later = datetime.now(UTC) + timedelta(seconds=SETTLE_S)  # as polls SETTLE_S from now
    for _ in range(2):  # two counts alike, once settled: remembered
        assert read_fanout(launch_id, now=later).patterns[0].progress == subflows.progress
    api_calls.clear()
    again = read_launch(launch_id)
    assert not again.done, "the events step ended before the poll: hold it longer"
    assert again.patterns[0].progress == subflows.progress
    assert api_calls.count("/api/flow_runs/history") == 2, api_calls  # events' two, no more
    final = wait_for_launch(launch_id, timeout_s=120)
    assert len(final.patterns[0].flow_runs) == 4
    assert final.patterns[0].task_runs == 3
