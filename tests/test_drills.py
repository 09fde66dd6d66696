"""Failure drills on the real backend: each pattern's isolation, observed next to the docs."""

from __future__ import annotations

import pytest

from patternlab import views
from patternlab.launch import PATTERNS, launch, wait_for_launch
from patternlab.launch.drills import documented, drill_outcome


@pytest.fixture(scope="module", params=["upstream", "child", "transient"])
def drilled(request, lab_backend):
    """Launch all four patterns under one drill and wait for every run."""
    launch_id = launch(PATTERNS, "PrefectHQ/prefect", "snapshot", drill=request.param)
    return wait_for_launch(launch_id, timeout_s=120)


def test_every_pattern_behaves_as_documented_under_the_drill(drilled):
    """Under each drill, every pattern's parent, child and alert do what the docs say."""
    assert drilled.done
    for p in drilled.patterns:
        outcome = drill_outcome(p, drilled.drill)
        assert outcome.matches, outcome


def test_no_drill_raises_a_false_separation_flag(drilled):
    """Under each drill the separation table flags no pattern: a trait whose runs never ran
    (the upstream drill's children) is "not observed", not "observed and different"."""
    for entry in views.entries([drilled]):
        assert views.mismatches(entry) == [], (entry.pattern, entry.report.separation)
    if drilled.drill == "upstream":
        unseen = {p.pattern: p.separation.not_observed for p in drilled.patterns}
        assert unseen["subflows"] == ["conceptual"]
        assert unseen["deployments"] == ["conceptual", "execution"]


def test_transient_failure_shows_a_retry_in_every_pattern(lab_backend):
    """A GitHub 503 on the first attempt is retried once by Prefect, visible in the run tree."""
    report = wait_for_launch(
        launch(PATTERNS, "apache/airflow", "snapshot", drill="transient"), timeout_s=120
    )
    for p in report.patterns:
        assert p.state == "Completed"
        retried = [t for r in p.flow_runs for t in r.retried_tasks]
        assert len(retried) == 1
        assert retried[0].startswith("fetch_contributors")


def test_fire_and_forget_parent_never_learns_its_child_failed(lab_backend):
    """With fire-and-forget, the parent completes while its child fails, as documented."""
    report = wait_for_launch(
        launch(["deployments"], "apache/airflow", "snapshot", variant="fire-and-forget",
               drill="child"),
        timeout_s=90,
    )  # fmt: skip
    outcome = drill_outcome(report.patterns[0], "child")
    assert (outcome.observed_entry, outcome.observed_child) == ("completed", "failed")
    assert outcome.matches


def test_documented_expectations_cover_every_pattern_and_drill():
    """Every pattern has a documented expectation under every drill, with a reason."""
    for pattern in PATTERNS:
        for drill in ("none", "upstream", "child", "transient"):
            for variant in ("wait", "fire-and-forget"):
                entry, child, alert, why = documented(pattern, drill, variant)
                assert entry in {"completed", "failed"}
                assert why
