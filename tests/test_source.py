"""The source a launch shows is the source it used: `auto` is resolved once, in the lab."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from patternlab.launch import launch, list_launches, resolve_source, wait_for_launch
from patternlab.launch import source as launch_source
from patternlab.settings import LabSettings
from tests.conftest import TEST_TOKEN
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


def _all_sources(report) -> set[str]:
    """Return every source a launch's flow runs were given, and its statistics came from."""
    given = {r.parameters.get("source") for p in report.patterns for r in p.flow_runs}
    return given | {p.stats.source for p in report.patterns if p.stats}


def test_auto_resolves_to_the_live_api_when_it_answers(fake_github):
    """With GitHub answering, `auto` resolves to github, with no fallback note."""
    resolved = resolve_source("auto")
    assert (resolved.requested, resolved.used, resolved.note) == ("auto", "github", "")


def test_auto_falls_back_with_the_reason_when_github_is_unreachable():
    """With GitHub unreachable, `auto` resolves to the snapshot and keeps the reason."""
    dead = LabSettings(github_api_url=f"http://127.0.0.1:{free_port()}")
    resolved = resolve_source("auto", dead)
    assert resolved.used == "snapshot"
    assert resolved.note == (
        "GitHub API unreachable: connection refused; fell back to the offline snapshot"
    )


def test_sources_that_differ_between_patterns_are_reported_as_mixed():
    """A launch whose patterns used different sources says "mixed" and which used which."""
    used, note = launch_source.source_used(
        "auto", "", {"monoflow": ["github"], "events": ["github", "snapshot"]}
    )
    assert used == "mixed"
    assert note == (
        "the patterns used different sources (monoflow: github; events: github and snapshot)"
    )
    assert launch_source.source_used("auto", "why", {"monoflow": ["snapshot"]}) == (
        "snapshot", "why",
    )  # fmt: skip


def test_every_run_of_an_auto_launch_gets_the_source_the_lab_resolved(lab_backend, fake_github):
    """A deployments child and an events downstream get the concrete source, as their parents
    do; the report and History show it, not "auto"."""
    report = wait_for_launch(
        launch(["deployments", "events"], "PrefectHQ/prefect", "auto"), timeout_s=120
    )
    assert all(p.state == "Completed" for p in report.patterns), report
    assert {r.role for p in report.patterns for r in p.flow_runs} >= {
        "deployment-child", "triggered",
    }  # fmt: skip
    assert _all_sources(report) == {"github"}
    assert (report.source, report.source_requested, report.source_note) == ("github", "auto", "")
    rows = list_launches(limit=10).rows
    assert {r.source for r in rows if r.launch_id == report.launch_id} == {"github"}


def test_a_fallback_reaches_every_flow_and_its_reason_the_report(lab_backend, monkeypatch):
    """When the lab finds GitHub unreachable, every flow uses the snapshot (though the runner
    could reach GitHub) and the report says why."""
    dead = LabSettings(github_api_url=f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(launch_source, "get_settings", lambda: dead)
    report = wait_for_launch(launch(["deployments"], "PrefectHQ/prefect", "auto"), timeout_s=120)
    assert report.patterns[0].state == "Completed", report.patterns[0].errors
    assert _all_sources(report) == {"snapshot"}
    assert report.source == "snapshot"
    assert report.source_note.endswith("connection refused; fell back to the offline snapshot")


def test_cli_refuses_a_token_over_plain_http_before_starting_anything(tmp_path):
    """`launch --source github` with an http:// API on another host and a token exits 2 with a
    clear message, sends nothing and starts no backend."""
    env = dict(os.environ, GITHUB_API_URL="http://ghe.example/api/v3",
               PATTERNLAB_HOME=str(tmp_path / "home"))  # fmt: skip
    argv = [sys.executable, "-m", "patternlab", "launch", "--repo", "PrefectHQ/prefect",
            "--source", "github"]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "plain http:// to ghe.example" in done.stderr
    assert TEST_TOKEN not in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "home").exists()
