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
