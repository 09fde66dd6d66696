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

    def fake_counts(client, launch_id, lead, flows, until=None):
        if EVENTS_DOWNSTREAM in flows or EVENTS_ALERT in flows:
            return seen["downs"]
        return seen["ups"]

    monkeypatch.setattr(fanout_read, "_counts", fake_counts)
    monkeypatch.setattr(fanout_read, "_downstream_runs", lambda *a: seen["downstream"])
    monkeypatch.setattr(fanout_read, "_last_end", lambda *a: seen["last_end"])
    return seen


def _over() -> bool:
    """Return whether read-back says the step is over."""
    return fanout_read._progress(None, "x-n3", LEAD, NOW)[0]


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
