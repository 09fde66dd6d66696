"""The command line: exit codes, JSON report shape, and bad input that launches nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from patternlab.launch import list_launches

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `python -m patternlab` with the test's environment (the lab's own backend)."""
    return subprocess.run(
        [sys.executable, "-m", "patternlab", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_launch_all_prints_the_json_report(lab_backend):
    """`launch --pattern all --json` exits 0 with the documented report shape."""
    done = _cli("launch", "--pattern", "all", "--repo", "PrefectHQ/prefect",
                "--source", "snapshot", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"launch_id", "repo", "source", "patterns"}
    assert [p["pattern"] for p in report["patterns"]] == [
        "monoflow", "subflows", "deployments", "events",
    ]  # fmt: skip
    for p in report["patterns"]:
        assert set(p) >= {"pattern", "state", "stats", "flow_runs", "task_runs", "processes",
                          "separation", "timings"}  # fmt: skip
        assert set(p["stats"]) >= {"stars", "forks", "contributors", "commits",
                                   "avg_commits_per_contributor"}  # fmt: skip
        assert set(p["timings"]) == {"end_to_end_s", "queue_s", "pickup_s", "process_start_s",
                                     "execution_s", "handoff_s", "held_s", "work_s",
                                     "overhead_s"}  # fmt: skip
        for run in p["flow_runs"]:
            assert set(run) >= {"id", "name", "flow", "role", "state", "pid", "host", "parent_id",
                                "created_by", "created", "start", "end", "ui_url"}  # fmt: skip


@pytest.mark.parametrize(
    "repo", ["../etc/passwd", "owner/name?x=1", "https://evil.example/a/b", ""]
)
def test_bad_repository_exits_2_and_launches_nothing(lab_backend, repo):
    """Bad repository input exits 2 with a message on stderr, and no run is created."""
    before = list_launches(limit=1).total
    done = _cli("launch", "--pattern", "all", "--repo", repo)
    assert done.returncode == 2
    assert "owner/name" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert list_launches(limit=1).total == before


def test_failed_run_exits_1_and_says_why(lab_backend):
    """A run that fails makes the CLI exit 1 with the failing run and its reason in the report."""
    done = _cli("launch", "--pattern", "monoflow", "--repo", "PrefectHQ/prefect",
                "--source", "snapshot", "--fail", "upstream")  # fmt: skip
    assert done.returncode == 1
    assert "Failure drill: the upstream step failed on purpose" in done.stdout


def test_backend_status_reports_urls_and_runner(lab_backend):
    """`backend status` prints the server URL, the UI URL, the runner and health."""
    done = _cli("backend", "status")
    assert done.returncode == 0, done.stderr
    for word in ("api_url", "ui_url", "runner_pid", "server_up"):
        assert word in done.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--repos", "PrefectHQ/prefect,../../etc/passwd"], "Repository 2 of 2"),
        (["--owner", "nobody-at-all", "--source", "snapshot"], "no owner named nobody-at-all"),
        (["--owner", "empty-owner", "--source", "github"], "has no public repositories"),
        (["--owner", "patternlab-synthetic", "--limit", "0", "--source", "snapshot"], "1 to 256"),
        (["--owner", "patternlab-synthetic", "--limit", "257", "--source", "snapshot"], "1 to 256"),
        (["--repos", "o/a,o/b", "--repeat", "11"], "from 1 to 10"),
        (["--repos", "o/a,o/b", "--fail", "child"], "one repository"),
        (["--repos", "o/a,o/b", "--child-limit", "0"], "from 1 to 16"),
    ],
)
def test_bad_workloads_exit_2_and_launch_nothing(lab_backend, fake_github, args, words):
    """A hostile list, an unknown or empty owner, N or K out of range: exit 2, no run created."""
    before = list_launches(limit=1).total
    done = _cli("launch", "--pattern", "all", *args)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert list_launches(limit=1).total == before


def test_a_fanout_launch_reports_the_aggregate(lab_backend):
    """Monoflow over three synthetic repositories: exit 0, a report with the launch aggregate."""
    done = _cli("launch", "--pattern", "monoflow", "--owner", "patternlab-synthetic",
                "--limit", "3", "--source", "snapshot", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["repos"], report["synthetic"]) == (3, True)
    aggregate = report["patterns"][0]["aggregate"]
    assert aggregate["repositories"] == 3
    assert aggregate["synthetic"] is True
    assert "Synthetic" in aggregate["source_note"]


def test_the_text_report_shows_an_unknown_figure_as_a_dash(capsys):
    """A timing not measured (a fan-out's hand-off) prints as "-", never as "Nones"."""
    from patternlab.cli import _print_report
    from tests.helpers import build_report

    report = build_report(patterns=["deployments"])
    report.patterns[0].timings.handoff_s = None
    report.patterns[0].timings.pickup_s = None
    _print_report(report)
    out = capsys.readouterr().out
    assert "None" not in out
    assert "hand-off -  " in out
    assert "(pick-up -, process start -)" in out
    assert "end-to-end 10.0s" in out


def test_launch_runs_every_pattern_asked_once_in_the_order_asked():
    """--pattern repeats: two asked run both (not the last one only); "all" or none runs all."""
    from patternlab.cli import _parser, launch_patterns
    from patternlab.launch import PATTERNS

    def asked(*argv: str) -> list[str]:
        args = _parser().parse_args(["launch", *argv, "--repo", "PrefectHQ/prefect"])
        return launch_patterns(args.pattern)

    assert asked("--pattern", "events", "--pattern", "monoflow") == ["events", "monoflow"]
    assert asked("--pattern", "subflows", "--pattern", "subflows") == ["subflows"]
    assert asked("--pattern", "monoflow", "--pattern", "all") == list(PATTERNS)
    assert asked() == list(PATTERNS)
