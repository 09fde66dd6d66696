"""A launch's plan (steps, fair order, options) and when the next step starts (no backend)."""

from __future__ import annotations

import pytest

from patternlab.launch.launches import make_plan, next_step
from patternlab.launch.plan import LaunchPlan, _entries, is_fanout, new_launch_id
from patternlab.launch.workload import InvalidWorkload, Workload
from tests.helpers import build_report

ONE = Workload(repos=["PrefectHQ/prefect"], source="snapshot")
MANY = Workload(repos=["o/a", "o/b", "o/c"], source="snapshot")
ALL = ["monoflow", "subflows", "deployments", "events"]


def test_sequential_steps_run_one_pattern_at_a_time_round_after_round():
    """Sequential: every (pattern, round) is its own step, rounds interleaving the patterns."""
    plan = LaunchPlan(launch_id="x", patterns=["monoflow", "events"], repos=["a/b"], repeat=2)
    assert plan.steps() == [[("monoflow", 0)], [("events", 0)], [("monoflow", 1)], [("events", 1)]]


def test_together_starts_a_rounds_patterns_at_once():
    """All at once: one step per round holding every pattern."""
    plan = LaunchPlan(launch_id="x", patterns=["monoflow", "events"], repos=["a/b"],
                      order="together", repeat=2)  # fmt: skip
    assert plan.steps() == [[("monoflow", 0), ("events", 0)], [("monoflow", 1), ("events", 1)]]


def test_the_default_order_is_sequential():
    """A launch of several patterns is fair by default."""
    assert make_plan(ALL, ONE).order == "sequential"


def test_only_an_events_fanout_tells_its_upstreams_they_are_one_of_many():
    """The events upstreams of a fan-out carry fanout=True (their downstreams read it)."""
    many = LaunchPlan(launch_id="x-n3", patterns=ALL, repos=MANY.repos)
    one = LaunchPlan(launch_id="x", patterns=ALL, repos=ONE.repos)
    ups = _entries(many, "events")
    assert [params["repo"] for _, params in ups] == MANY.repos
    assert all(params["fanout"] is True for _, params in ups)
    assert all("fanout" not in params for _, params in _entries(one, "events"))
    for pattern in ("monoflow", "subflows", "deployments"):
        assert all("fanout" not in params for _, params in _entries(many, pattern)), pattern


def test_a_fanout_launch_id_says_how_many_repositories():
    """Readers know from the id alone that a launch is read by counts while it runs."""
    assert not is_fanout(new_launch_id(1))
    assert is_fanout(new_launch_id(128))
    assert new_launch_id(128).endswith("-n128")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"order": "sideways"}, r"sequential \(fair timings\) or together"),
        ({"repeat": 0}, "repeat must be a whole number from 1 to 10"),
        ({"repeat": 11}, "repeat must be a whole number from 1 to 10"),
        ({"child_limit": 17}, "child limit must be a whole number from 1 to 16"),
        ({"task_runner": "spark"}, "threads or dask"),
        ({"drill": "sometimes"}, "Failure drill must be one of"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(options, words):
    """Every option out of its range is refused before anything is created."""
    with pytest.raises(ValueError, match=words):
        make_plan(ALL, ONE, **options)


def test_a_mistyped_option_is_an_error_not_ignored():
    """An unknown option name is refused rather than silently dropped."""
    with pytest.raises(ValueError, match="repeats"):
        make_plan(ALL, ONE, repeats=3)


def test_drills_run_on_one_repository_only():
    """A failure drill over several repositories is refused."""
    with pytest.raises(InvalidWorkload, match="one repository"):
        make_plan(ALL, MANY, drill="child")


def _queued(report, *pairs):
    """Mark (pattern, round) pairs of a hand-built report as queued (not started)."""
    for p in report.patterns:
        if (p.pattern, p.round) in pairs:
            p.queued, p.done, p.state = True, False, "Queued"
    return report


def test_the_next_step_starts_only_when_everything_before_is_over():
    """Sequential: the first queued pattern, once every started one is done."""
    report = _queued(build_report(patterns=["monoflow", "subflows", "events"]), ("subflows", 0),
                     ("events", 0))  # fmt: skip
    report.order = "sequential"
    assert next_step(report) == [("subflows", 0)]
    report.patterns[0].done = False
    assert next_step(report) is None


def test_together_starts_the_next_rounds_patterns_at_once():
    """All at once, repeated: the next round's patterns start together."""
    report = build_report(patterns=["monoflow", "events", "monoflow", "events"])
    for p, round_ in zip(report.patterns, [0, 0, 1, 1], strict=True):
        p.round = round_
    report = _queued(report, ("monoflow", 1), ("events", 1))
    report.order = "together"
    assert next_step(report) == [("monoflow", 1), ("events", 1)]


def test_nothing_to_start_when_nothing_is_queued():
    """A launch whose steps all started has no next step."""
    assert next_step(build_report()) is None
