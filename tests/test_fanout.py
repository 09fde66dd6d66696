"""Each pattern fans out over several repositories in its own idiom, on the real backend.

Small N (3 repositories of the snapshot's synthetic organisation): the shape of every fan-out,
its counts, its launch-level aggregate (checked against the statistics computed without
Prefect), fair timings (one pattern after another), and Dask on a real LocalCluster.
"""

from __future__ import annotations

from uuid import UUID

import pytest
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    TaskRunFilter,
    TaskRunFilterFlowRunId,
)

from flows.catalog import PROCESS_KEY, STATS_KEY
from flows.snapshot_synthetic import SYNTHETIC_OWNER
from flows.tasks import fetch_commit_activity, fetch_contributors, fetch_repo, summarise_stats
from patternlab.backend import prefect_client, table_rows
from patternlab.launch import LaunchReport, PatternReport, build_workload, launch, wait_for_launch
from patternlab.launch.aggregate import aggregate
from patternlab.launch.models import RepoStats

N = 3
TIMEOUT_S = 240


def _pattern(report: LaunchReport, name: str) -> PatternReport:
    """Return one pattern's report from a launch report."""
    return next(p for p in report.patterns if p.pattern == name)


@pytest.fixture(scope="module")
def workload():
    """Three repositories of the synthetic organisation, listed offline."""
    return build_workload(owner=SYNTHETIC_OWNER, limit=N, source="snapshot")


@pytest.fixture(scope="module")
def fair(lab_backend, workload) -> LaunchReport:
    """All four patterns over three repositories, one after another (the default order)."""
    launch_id = launch(
        ["monoflow", "subflows", "deployments", "events"], workload=workload, child_limit=2
    )
    return wait_for_launch(launch_id, timeout_s=TIMEOUT_S, settled=True)  # exact task counts


@pytest.fixture(scope="module")
def variants(lab_backend, workload) -> LaunchReport:
    """Monoflow on Dask and subflows run concurrently, started together."""
    launch_id = launch(["monoflow", "subflows"], workload=workload, order="together",
                       task_runner="dask", concurrent_subflows=True)  # fmt: skip
    return wait_for_launch(launch_id, timeout_s=TIMEOUT_S, settled=True)


def _plain(repo: str) -> dict:
    """Return a repository's statistics from the four step functions, without Prefect (not the
    fan-out's own `repository_stats`, which every fan-out child now runs)."""
    info = fetch_repo.fn(repo, "snapshot")
    people, activity = (
        fetch_contributors.fn(repo, "snapshot"),
        fetch_commit_activity.fn(repo, "snapshot"),
    )
    return summarise_stats.fn(repo, "snapshot", info, people, activity)


@pytest.fixture(scope="module")
def expected(workload) -> RepoStats:
    """The launch-level figures computed without Prefect, step by step."""
    stats = [RepoStats.model_validate(_plain(r)) for r in workload.repos]
    return aggregate(stats, workload.repos)


def test_every_pattern_completes_over_every_repository(fair, workload):
    """Each pattern completes and its aggregate covers all three repositories, synthetic."""
    assert fair.done
    assert fair.repos == N
    assert fair.synthetic
    for p in fair.patterns:
        assert p.state == "Completed", (p.pattern, p.errors)
        assert p.aggregate is not None
        assert p.aggregate.repositories == N
        assert p.aggregate.missing == []
        assert p.aggregate.synthetic
        assert sorted(s.repo for s in p.repo_stats) == sorted(workload.repos)


def test_the_aggregate_matches_the_statistics_computed_without_prefect(fair, expected):
    """Totals and top repositories equal those of the plain task functions, in every pattern."""
    for p in fair.patterns:
        got = p.aggregate.model_dump(exclude={"source_note"})
        assert got == expected.model_dump(exclude={"source_note"}), p.pattern


# (flow runs, task runs, processes, observed separation) for three repositories: one task per
# repository in every pattern (monoflow adds its one publishing task, events its upstreams' fetch)
SHAPES = {
    "monoflow": (1, N + 1, 1, (False, False, False)),
    "subflows": (1 + N, N, 1, (True, False, False)),
    "deployments": (1 + N, N, 1 + N, (True, True, False)),
    "events": (2 * N, N + N, 2 * N, (True, True, True)),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_pattern_fans_out_in_its_own_idiom(fair, name):
    """Flow runs, task runs (stand-ins excluded), processes and separations per pattern."""
    p = _pattern(fair, name)
    runs, tasks, processes, separation = SHAPES[name]
    assert len(p.flow_runs) == runs
    assert p.task_runs == tasks
    assert p.processes == processes
    s = p.separation
    assert (s.conceptual, s.execution, s.awareness) == separation


def test_monoflow_maps_one_task_per_repository_on_threads(fair):
    """Monoflow is one flow run whose N mapped tasks ran on Prefect's thread pool."""
    p = _pattern(fair, "monoflow")
    assert p.variant == "threads"
    assert [r.role for r in p.flow_runs] == ["entry"]


def test_subflows_are_one_subflow_per_repository(fair, workload):
    """The parent calls repository-stats once per repository, one after another."""
    p = _pattern(fair, "subflows")
    subs = sorted((r for r in p.flow_runs if r.role == "subflow"), key=lambda r: r.created)
    assert {r.flow for r in subs} == {"repository-stats"}
    assert sorted(r.parameters["repo"] for r in subs) == sorted(workload.repos)
    for before, after in zip(subs, subs[1:], strict=False):
        assert before.end <= after.start  # sequential: none starts before the previous ends
    assert p.variant == "one after another"


def test_deployments_children_run_under_the_concurrency_limit(fair):
    """One child run per repository; never more Running at once than the limit of 2."""
    p = _pattern(fair, "deployments")
    assert p.concurrency_limit == 2
    children = [r for r in p.flow_runs if r.role == "deployment-child"]
    assert len(children) == N
    assert all(r.parent_id == next(e.id for e in p.flow_runs if e.role == "entry")
               for r in children)  # fmt: skip
    moments = sorted([(r.start, 1) for r in children] + [(r.end, -1) for r in children])
    running = peak = 0
    for _, step in moments:
        running += step
        peak = max(peak, running)
    assert peak <= 2


def test_deployments_parent_holds_the_limit_so_no_child_waits_for_a_slot(fair):
    """The parent keeps at most the limit's children in flight and starts the next as one ends:
    with 3 children under a limit of 2, the third is created only after one has ended, and no
    child is ever refused a slot (Prefect's AwaitingConcurrencySlot, re-proposed every second)."""
    p = _pattern(fair, "deployments")
    children = sorted((r for r in p.flow_runs if r.role == "deployment-child"),
                      key=lambda r: r.created)  # fmt: skip
    assert children[2].created >= min(r.end for r in children[:2])
    with prefect_client() as client:
        seen = {s.name for r in children for s in client.read_flow_run_states(UUID(r.id))}
    assert {"Scheduled", "Pending", "Running", "Completed"} <= seen
    assert "AwaitingConcurrencySlot" not in seen


def test_every_fanout_publishes_one_row_per_repository_and_no_series(fair, workload):
    """Every pattern's fan-out child runs one task and publishes one `repo-stats` row, no series;
    monoflow's one run publishes the same rows together, as one table of N rows."""
    children = {p.pattern: [r.id for r in p.flow_runs if r.role in ("subflow", "deployment-child",
                                                                   "triggered")]
                for p in fair.patterns}  # fmt: skip
    assert {p: len(ids) for p, ids in children.items()} == {
        "monoflow": 0, "subflows": N, "deployments": N, "events": N}  # fmt: skip
    ids = [UUID(i) for mine in children.values() for i in mine]
    mono = UUID(_pattern(fair, "monoflow").flow_runs[0].id)
    flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[*ids, mono]))
    with prefect_client() as client:
        arts = client.read_artifacts(artifact_filter=flt)
        tasks = client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=ids))
        )
    for run_id in map(str, ids):
        mine = sorted(a.key for a in arts if str(a.flow_run_id) == run_id)
        assert mine == sorted([PROCESS_KEY, STATS_KEY]), mine
    assert {t.name.split("-")[0] for t in tasks} == {"repository_stats"}
    assert len(tasks) == 3 * N
    mono_arts = {a.key: a for a in arts if a.flow_run_id == mono}
    assert sorted(mono_arts) == sorted([PROCESS_KEY, STATS_KEY])
    rows = table_rows(mono_arts[STATS_KEY])
    assert sorted(r["repo"] for r in rows) == sorted(workload.repos)
    assert not {"top_contributors", "weekly_commits"} & {k for r in rows for k in r}


def test_events_trigger_one_downstream_per_upstream(fair, workload):
    """The lab starts one upstream per repository; the automation one downstream for each."""
    p = _pattern(fair, "events")
    ups = [r for r in p.flow_runs if r.role == "entry"]
    downs = [r for r in p.flow_runs if r.role == "triggered"]
    assert sorted(r.parameters["repo"] for r in ups) == sorted(workload.repos)
    assert sorted(r.parameters["repo"] for r in downs) == sorted(workload.repos)
    assert all(r.created_by == "automation" for r in downs)


def test_fair_timings_run_the_patterns_one_after_another(fair):
    """Sequential by default: each pattern's first run is created after the previous ended."""
    assert fair.order == "sequential"
    assert [p.pattern for p in fair.patterns] == ["monoflow", "subflows", "deployments", "events"]
    for before, after in zip(fair.patterns, fair.patterns[1:], strict=False):
        ended = max(r.end for r in before.flow_runs)
        assert min(r.created for r in after.flow_runs) >= ended, (before.pattern, after.pattern)


def test_monoflow_runs_on_dask_and_subflows_concurrently(variants, expected):
    """The Dask variant is the same flow on another deployment; concurrent subflows overlap."""
    assert variants.order == "together"
    mono, subs = _pattern(variants, "monoflow"), _pattern(variants, "subflows")
    assert mono.state == "Completed", mono.errors
    assert subs.state == "Completed", subs.errors
    assert mono.variant == "dask"
    assert [r.flow for r in mono.flow_runs] == ["monoflow"]
    assert mono.task_runs == N + 1
    assert mono.aggregate.commits == expected.commits
    assert subs.variant == "concurrent"
    runs = [r for r in subs.flow_runs if r.role == "subflow"]
    assert any(a.start < b.end and b.start < a.end for a in runs for b in runs if a is not b)
