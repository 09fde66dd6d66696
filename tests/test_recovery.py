"""Faults the lab survives: its runner killed in the middle of a deployment child's run."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from patternlab import backend
from patternlab.launch import launch, read_launch, wait_for_launch
from tests.helpers import restart_runner, wait_for


def _descendants(pid: int) -> list[int]:
    """Return every descendant process of pid (children first found via /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.fixture
def slow_runner(lab_backend, monkeypatch):
    """Restart the runner so every GitHub answer takes 1.5 s; restore it afterwards."""
    monkeypatch.setenv("PATTERNLAB_SNAPSHOT_LATENCY_MS", "1500")
    restart_runner()
    yield
    monkeypatch.delenv("PATTERNLAB_SNAPSHOT_LATENCY_MS")
    restart_runner()


def _child_running(launch_id: str) -> bool:
    """Say whether the launch's deployment child is Running and has recorded its process."""
    runs = read_launch(launch_id).patterns[0].flow_runs
    return any(r.role == "deployment-child" and r.status == "running" and r.pid for r in runs)


def test_killed_runner_is_restarted_and_its_runs_end_crashed(slow_runner):
    """Killing the runner and its flows mid-child ends those runs Crashed; the next launch works."""
    launch_id = launch(["deployments"], "PrefectHQ/prefect", "snapshot")
    assert wait_for(lambda: _child_running(launch_id), timeout=60)
    runner_pid = backend.backend_status().runner_pid
    victims = [runner_pid, *_descendants(runner_pid)]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)

    report = wait_for_launch(launch_id, timeout_s=60)
    assert report.done
    runs = {r.role: r for r in report.patterns[0].flow_runs}
    assert runs["deployment-child"].state == "Crashed"
    assert runs["entry"].state == "Crashed"
    assert "died" in runs["deployment-child"].message
    assert any("restarted" in n for n in report.notices)
    assert backend.backend_status().runner_up

    after = wait_for_launch(launch(["monoflow"], "PrefectHQ/prefect", "snapshot"), timeout_s=90)
    assert after.patterns[0].state == "Completed"
