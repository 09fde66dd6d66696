"""The four patterns, end to end on a real Prefect server with a real runner (snapshot data)."""

from __future__ import annotations

import pytest

from patternlab.launch import (
    LaunchReport,
    PatternReport,
    launch,
    list_launches,
    read_launch,
    wait_for_launch,
)

REPO = "PrefectHQ/prefect"

EXPECTED_FLOWS = {
    "monoflow": {"monoflow": "entry"},
    "subflows": {
        "subflows-parent": "entry",
        "fetch-repo-data": "subflow",
        "calculate-average-commits": "subflow",
    },
    "deployments": {"deployments-parent": "entry", "average-commits-child": "deployment-child"},
    "events": {"events-upstream": "entry", "events-downstream": "triggered"},
}
# Tasks that do the job in each pattern (Prefect's placeholder task runs excluded).
EXPECTED_TASKS = {"monoflow": 5, "subflows": 5, "deployments": 5, "events": 6}
EXPECTED_SEPARATION = {
    "monoflow": (False, False, False),
    "subflows": (True, False, False),
    "deployments": (True, True, False),
    "events": (True, True, True),
}


def _pattern(report: LaunchReport, name: str) -> PatternReport:
    """Return one pattern's report from a launch report."""
    return next(p for p in report.patterns if p.pattern == name)


@pytest.fixture(scope="module")
def all_four(lab_backend) -> LaunchReport:
    """Launch all four patterns once on the snapshot and wait for every run."""
    launch_id = launch(["monoflow", "subflows", "deployments", "events"], REPO, "snapshot")
    return wait_for_launch(launch_id, timeout_s=120, settled=True)  # exact task counts


def test_every_pattern_completes(all_four):
    """Every pattern of an all-four launch ends Completed with no errors."""
    assert all_four.done
    assert [p.pattern for p in all_four.patterns] == list(EXPECTED_FLOWS)
    for p in all_four.patterns:
        assert p.state == "Completed", (p.pattern, p.errors)
        assert p.errors == []


@pytest.mark.parametrize("pattern", list(EXPECTED_FLOWS))
def test_run_tree_has_the_patterns_flows_and_roles(all_four, pattern):
    """Each pattern's runs are exactly its flows, in their roles, all Completed."""
    p = _pattern(all_four, pattern)
    assert {r.flow: r.role for r in p.flow_runs} == EXPECTED_FLOWS[pattern]
    assert all(r.state == "Completed" for r in p.flow_runs)
    assert all(r.ui_url and r.ui_url.endswith(r.id) for r in p.flow_runs)


def test_subflows_and_children_point_at_their_parent(all_four):
    """Subflow and deployment-child runs name the run that started them."""
    for pattern in ("subflows", "deployments"):
        p = _pattern(all_four, pattern)
        entry = next(r for r in p.flow_runs if r.role == "entry")
        for run in p.flow_runs:
            if run.role != "entry":
                assert run.parent_id == entry.id
                assert run.created_by == "parent flow"


@pytest.mark.parametrize("pattern", list(EXPECTED_FLOWS))
def test_observed_separation_matches_the_documentation(all_four, pattern):
    """The separations observed in what ran match the Prefect docs' table."""
    sep = _pattern(all_four, pattern).separation
    assert (sep.conceptual, sep.execution, sep.awareness) == EXPECTED_SEPARATION[pattern]


@pytest.mark.parametrize("pattern", list(EXPECTED_FLOWS))
def test_task_counts_exclude_placeholder_task_runs(all_four, pattern):
    """Task-run counts hold the real tasks only, not Prefect's subflow/run_deployment stand-ins."""
    assert _pattern(all_four, pattern).task_runs == EXPECTED_TASKS[pattern]


def test_processes_are_observed_from_recorded_pids(all_four):
    """Same-process patterns show one process; deployments and events show two."""
    counts = {p.pattern: p.processes for p in all_four.patterns}
    assert counts == {"monoflow": 1, "subflows": 1, "deployments": 2, "events": 2}
    for p in all_four.patterns:
        assert all(r.pid and r.host for r in p.flow_runs)


def test_all_patterns_compute_the_same_statistics(all_four):
    """The four patterns agree on every statistic, computed from the snapshot."""
    stats = [p.stats for p in all_four.patterns]
    assert all(s is not None for s in stats)
    first = stats[0]
    assert first.repo == REPO
    assert first.source == "snapshot"
    assert first.snapshot_date
    assert first.contributors > 100  # more than one page of 100: pagination was followed
    assert first.avg_commits_per_contributor == round(first.commits / first.contributors, 2)
    keys = ("stars", "forks", "contributors", "commits", "avg_commits_per_contributor")
    for s in stats[1:]:
        assert {k: getattr(s, k) for k in keys} == {k: getattr(first, k) for k in keys}
        assert s.top_contributors == first.top_contributors


def test_timings_add_up(all_four):
    """Queue, hand-off, work and overhead add up to the end-to-end time."""
    for p in all_four.patterns:
        t = p.timings
        assert t.end_to_end_s > 0
        parts = t.queue_s + t.handoff_s + t.work_s + t.overhead_s
        assert parts == pytest.approx(t.end_to_end_s, abs=0.01)
        assert t.work_s > 0


def test_downstream_was_created_by_the_automation(all_four):
    """The events downstream run was created by an automation, not by code that names it."""
    from prefect.client.orchestration import get_client

    p = _pattern(all_four, "events")
    downstream = next(r for r in p.flow_runs if r.role == "triggered")
    with get_client(sync_client=True) as client:
        raw = client.read_flow_run(downstream.id)
    assert raw.created_by is not None
    assert str(raw.created_by.type).upper().endswith("AUTOMATION")
    assert raw.parameters["repo"] == REPO
    assert p.alert.startswith("not fired")


def test_launch_is_listed_in_history(all_four):
    """History lists the launch's four entry runs, filterable by repository."""
    page = list_launches(repo=REPO, limit=200)
    mine = [row for row in page.rows if row.launch_id == all_four.launch_id]
    assert sorted(row.pattern for row in mine) == sorted(EXPECTED_FLOWS)
    # Each row's end-to-end time is its pattern's, as Compare computes it from the whole launch
    compare = {p.pattern: p.timings.end_to_end_s for p in all_four.patterns}
    assert {row.pattern: row.end_to_end_s for row in mine} == compare
    assert all(row.end_to_end_s > row.duration_s for row in mine if row.pattern != "monoflow")


def test_proactive_alert_fires_when_upstream_misses_its_window(lab_backend):
    """Holding the upstream past the 10 s window makes the proactive trigger run the alert."""
    launch_id = launch(["events"], "flyteorg/flyte", "snapshot", hold_s=12)
    report = wait_for_launch(launch_id, timeout_s=90)
    p = report.patterns[0]
    roles = {r.role: r for r in p.flow_runs}
    assert "alert" in roles, p
    assert roles["alert"].created_by == "automation"
    assert roles["alert"].state == "Completed"
    assert p.alert.startswith("fired")
    assert roles["triggered"].state == "Completed"  # it still completed, late


def test_fire_and_forget_parent_does_not_wait_for_the_child(lab_backend):
    """With timeout=0 the parent ends before its child and the lab still follows the child."""
    launch_id = launch(["deployments"], "dagster-io/dagster", "snapshot", variant="fire-and-forget")
    p = wait_for_launch(launch_id, timeout_s=90).patterns[0]
    assert p.variant == "fire-and-forget"
    runs = {r.role: r for r in p.flow_runs}
    assert runs["entry"].state == "Completed"
    assert runs["deployment-child"].state == "Completed"
    assert runs["entry"].end < runs["deployment-child"].end
    assert p.stats is not None


def test_waiting_parent_fails_clearly_when_its_child_fails(lab_backend):
    """A waiting parent checks its child's final state and fails naming the child."""
    launch_id = launch(["deployments"], "kestra-io/kestra", "snapshot", drill="child")
    p = wait_for_launch(launch_id, timeout_s=90).patterns[0]
    runs = {r.role: r for r in p.flow_runs}
    assert runs["deployment-child"].state == "Failed"
    assert runs["entry"].state == "Failed"
    assert runs["deployment-child"].name in (runs["entry"].message or "")
    assert p.state == "Failed"


def test_unknown_launch_is_a_clear_lookup_error(lab_backend):
    """Reading a launch id that does not exist raises LookupError naming it."""
    with pytest.raises(LookupError, match="nope123"):
        read_launch("nope123")
