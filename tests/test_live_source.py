"""The live-GitHub path through the real runner, against a fake GitHub answering as GitHub does."""

from __future__ import annotations

from pathlib import Path

import pytest

from patternlab.launch import launch, wait_for_launch
from patternlab.settings import get_settings
from tests.conftest import TEST_TOKEN
from tests.leaks import backend_log_files, find_secret

FAULTS = {
    "faults/rate-limited": "rate limit",
    "faults/secondary-limit": "secondary rate limit",
    "faults/server-error": "500",
    "faults/malformed": "JSON",
    "faults/slow": "no answer within 3 s",
    "faults/hang-up": "closed the connection without answering",
    "faults/missing": "not found",
}


@pytest.fixture(scope="module")
def live_launch(lab_backend, fake_github):
    """Launch all four patterns with source=github (the fake) and wait for them."""
    fake_github.requests.clear()
    launch_id = launch(
        ["monoflow", "subflows", "deployments", "events"], "PrefectHQ/prefect", "github"
    )
    return wait_for_launch(launch_id, timeout_s=120)


@pytest.fixture(scope="module")
def fault_launches(lab_backend, fake_github):
    """Launch one monoflow per GitHub fault, concurrently, and wait for all of them."""
    ids = {repo: launch(["monoflow"], repo, "github") for repo in [*FAULTS, "faults/computing"]}
    return {repo: wait_for_launch(i, timeout_s=150) for repo, i in ids.items()}


@pytest.fixture(scope="module")
def fault_reports(fault_launches):
    """Return each fault launch's monoflow pattern report."""
    return {repo: report.patterns[0] for repo, report in fault_launches.items()}


def test_live_source_computes_and_labels_the_statistics(live_launch, fake_github):
    """With source=github every pattern completes and its numbers say they came from GitHub."""
    assert all(p.state == "Completed" for p in live_launch.patterns), live_launch
    for p in live_launch.patterns:
        assert p.stats.source == "github"
        assert p.stats.snapshot_date is None
    contributor_pages = [r for r in fake_github.requests if "/contributors?" in r.path]
    assert any("page=5" in r.path for r in contributor_pages)  # Link followed to the last page


def test_token_is_sent_to_github_as_a_header(live_launch, fake_github):
    """The runner's GITHUB_TOKEN reaches GitHub as a bearer header, on every request."""
    assert fake_github.requests
    assert all(r.authorization == f"Bearer {TEST_TOKEN}" for r in fake_github.requests)


@pytest.mark.parametrize("repo", list(FAULTS))
def test_each_github_fault_fails_with_a_specific_message(fault_reports, repo):
    """Each kind of GitHub failure ends the run Failed with a message naming what went wrong."""
    p = fault_reports[repo]
    assert p.state == "Failed"
    assert FAULTS[repo].lower() in " ".join(p.errors).lower(), p.errors
    assert TEST_TOKEN not in " ".join(p.errors)


def test_transient_failures_are_retried_and_4xx_are_not(fault_reports):
    """5xx and network failures are retried by Prefect task retries; 4xx fail at once."""
    retried = {repo: sum(len(r.retried_tasks) for r in p.flow_runs)
               for repo, p in fault_reports.items()}  # fmt: skip
    assert retried["faults/server-error"] == 2
    assert retried["faults/hang-up"] == 2
    assert retried["faults/missing"] == 0
    assert retried["faults/rate-limited"] == 0


def test_statistics_still_computing_is_a_result_not_a_failure(fault_reports):
    """A statistics endpoint that answers 202 for too long completes, marked as still computing."""
    p = fault_reports["faults/computing"]
    assert p.state == "Completed", p.errors
    assert p.stats.stats_status == "computing"
    assert p.stats.weekly_commits == []
    assert p.stats.contributors > 0


def test_token_never_leaks_into_prefect_or_reports(live_launch, fault_launches):
    """The token is nowhere in what these launches left: no flow or task run (parameters, state
    messages, histories), log line, artifact, report, or backend log file — all of it read."""
    launch_ids = [live_launch.launch_id, *(r.launch_id for r in fault_launches.values())]
    files = backend_log_files(Path(get_settings().home).expanduser())
    sweep = find_secret(TEST_TOKEN, launch_ids, files)
    assert sweep.found == []
    # The sweep read real things of every kind (an empty read would pass vacuously).
    assert {"flow run", "flow-run state", "task run", "task-run state", "log", "artifact",
            "report", "file"} <= set(sweep.read), sweep.read  # fmt: skip
    assert sweep.read["report"] == len(launch_ids)
    assert {"server.log", "runner.log"} <= {f.name for f in files}


def test_only_the_runner_gets_the_token(lab_backend):
    """GITHUB_TOKEN is in the runner's environment, not the Prefect server's."""
    from patternlab import backend

    status = backend.backend_status()

    def environ(pid: int) -> str:
        return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")

    assert TEST_TOKEN in environ(status.runner_pid)
    assert TEST_TOKEN not in environ(status.server_pid)
