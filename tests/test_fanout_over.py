"""When the events fan-out is over: the rule read-back applies to its counts (no backend needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from flows.catalog import EVENTS_ALERT, EVENTS_DOWNSTREAM
from patternlab.launch import fanout_read

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
LEAD = SimpleNamespace(tags=["pattern:events", "repos:3"], created=NOW - timedelta(seconds=60))


def _run(state_type: str) -> SimpleNamespace:
    """Return a downstream run as Prefect reads it back, in a state of that type."""
    return SimpleNamespace(state=SimpleNamespace(type=SimpleNamespace(value=state_type)))


@pytest.fixture
def counts(monkeypatch):
    """Serve the tagged counts and the downstream deployment's runs the test sets."""
    seen: dict = {"ups": {"completed": 3}, "downs": {}, "downstream": [], "last_end": NOW}

    def fake_counts(client, launch_id, span, flows):
        if EVENTS_DOWNSTREAM in flows or EVENTS_ALERT in flows:
            return seen["downs"]
        return seen["ups"]

    monkeypatch.setattr(fanout_read, "_counts", fake_counts)
    monkeypatch.setattr(fanout_read, "_downstream_runs", lambda *a: seen["downstream"])
    monkeypatch.setattr(fanout_read, "_last_end", lambda *a: seen["last_end"])
    return seen


def _over() -> bool:
    """Return whether read-back says the step is over."""
    return fanout_read._progress(None, "x-n3", LEAD, fanout_read.Span(LEAD.created), NOW)[0]


def test_alert_runs_do_not_stand_in_for_downstream_runs_not_started(counts):
    """Two downstreams done plus one alert is not over while the third downstream has not run."""
    counts["downs"] = {"completed": 3}  # tagged: 2 downstream runs and 1 alert run
    counts["downstream"] = [_run("COMPLETED"), _run("COMPLETED"), _run("SCHEDULED")]
    assert _over() is False


def test_over_once_every_downstream_run_is_final(counts):
    """Every upstream, tagged run and downstream run final, one downstream per upstream: over."""
    counts["downs"] = {"completed": 4}
    counts["downstream"] = [_run("COMPLETED")] * 3
    assert _over() is True


def test_a_missing_downstream_is_awaited_for_the_grace_then_given_up(counts):
    """A downstream the automation never created is waited for, then reported missing."""
    counts["downs"] = {"completed": 2}
    counts["downstream"] = [_run("COMPLETED")] * 2
    counts["last_end"] = NOW - timedelta(seconds=5)
    assert _over() is False
    counts["last_end"] = NOW - timedelta(seconds=fanout_read.TRIGGER_GRACE_S + 1)
    assert _over() is True


def test_running_upstreams_keep_the_step_open(counts):
    """While an upstream still runs, the step is not over (no downstream read needed)."""
    counts["ups"] = {"completed": 2, "running": 1}
    counts["downstream"] = None  # would fail if read
    assert _over() is False


def _lead(pattern: str, run_id: str, start: datetime) -> SimpleNamespace:
    """Return a lead entry run of a 3-repository step expected to start at `start`."""
    return SimpleNamespace(id=run_id, tags=[f"pattern:{pattern}", "repos:3"],
                           created=start, expected_start_time=start)  # fmt: skip


def test_steps_tile_from_each_first_start_to_the_next_so_no_run_counts_twice():
    """A step's span runs from its first lead's expected start (the first step: a second before)
    to the next step's; a step of two patterns starts with the earlier of its leads."""
    t = [NOW + timedelta(seconds=s) for s in (0, 30, 31, 90)]
    spans = fanout_read._spans([[_lead("subflows", "a", t[0])],
                                [_lead("events", "c", t[2]), _lead("monoflow", "b", t[1])],
                                [_lead("deployments", "d", t[3])]])  # fmt: skip
    assert spans == [fanout_read.Span(t[0] - timedelta(seconds=1), t[1]),
                     fanout_read.Span(t[1], t[3]), fanout_read.Span(t[3], None)]  # fmt: skip
    window = fanout_read._window("x-n3", spans[0])["expected_start_time"]
    assert window["before_"] < t[1].isoformat()  # the API's before_ includes its bound


@pytest.fixture
def tallies(monkeypatch):
    """Count a step's flow runs and task runs as the test sets them, and each call made."""
    seen = {"runs": {"completed": 4}, "tasks": 2, "calls": 0}

    def step_runs(client, launch_id, lead, span):
        seen["calls"] += 1
        return dict(seen["runs"])

    def count_tasks(client, launch_id, span, patterns):
        seen["calls"] += 1
        return seen["tasks"]

    monkeypatch.setattr(fanout_read, "_step_runs", step_runs)
    monkeypatch.setattr(fanout_read, "_count_tasks", count_tasks)
    monkeypatch.setattr(fanout_read, "_OVER", {})
    monkeypatch.setattr(fanout_read, "_SEEN", {})
    return seen


def test_an_earlier_step_is_remembered_only_once_settled_and_counted_alike_twice(tallies):
    """Before SETTLE_S a step is counted at every poll; after it, the first count is compared
    with the next: a task run recorded late (2 -> 3) is caught, and only two alike are kept."""
    lead = _lead("subflows", "a", NOW)
    span = fanout_read.Span(NOW, NOW + timedelta(seconds=5))  # the next step began at +5 s
    early, late = NOW + timedelta(seconds=6), NOW + timedelta(seconds=5 + fanout_read.SETTLE_S)

    def poll(when: datetime):
        return fanout_read._earlier_counts(None, "x-n3", [([lead], span)], when)[("subflows", 0)]

    assert poll(early).task_runs == 2
    assert poll(early).task_runs == 2  # not settled: counted again, not remembered
    assert tallies["calls"] == 4
    tallies["tasks"] = 3  # recorded late
    assert poll(late).task_runs == 3  # differs from the last count: counted again next time
    assert poll(late).task_runs == 3  # alike: remembered
    tallies["tasks"] = 99
    assert poll(late + timedelta(seconds=1)) == fanout_read.Progress(
        expected_runs=4, runs={"completed": 4}, task_runs=3)  # fmt: skip
    assert tallies["calls"] == 8  # no call for the remembered step


def test_a_step_of_two_patterns_counts_their_flow_runs_each_and_their_task_runs_for_neither(
    tallies,
):
    """Task runs of patterns that ran at once are counted together: no pattern's own."""
    both = [_lead("monoflow", "a", NOW), _lead("subflows", "b", NOW)]
    span = fanout_read.Span(NOW, NOW + timedelta(seconds=5))
    found = fanout_read._earlier_counts(None, "x-n3", [(both, span)], NOW + timedelta(minutes=1))
    assert {pair: p.task_runs for pair, p in found.items()} == {("monoflow", 0): None,
                                                                ("subflows", 0): None}  # fmt: skip
    assert found[("monoflow", 0)].expected_runs == 1
    assert tallies["calls"] == 2  # one flow-run count each, no task count
