"""Where the runs ran, on the pages: the execution mode in the sidebar, hosts and processes."""

from __future__ import annotations

import socket

import pytest

from patternlab import launch as launches
from patternlab.launch import LaunchReport
from tests.test_pages import _fresh_caches, open_page, wait_done  # noqa: F401 - autouse fixture

HOST = socket.gethostname()


@pytest.fixture(scope="module")
def deployments_launch(lab_backend) -> LaunchReport:
    """Launch the deployments pattern on the session's (serve) backend and wait for it."""
    return wait_done(launches.launch(["deployments"], "PrefectHQ/prefect", "snapshot"))


def test_sidebar_says_how_the_flows_are_executed(lab_backend):
    """Every page's backend panel names the execution mode (serve: the runner)."""
    at = open_page("pages/3_History.py")
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Execution: serve (runner)" in captions


def test_compare_shows_hosts_and_processes_per_pattern(deployments_launch):
    """Compare's where-table says the deployments pattern ran on 1 host in 2 processes."""
    at = open_page("pages/2_Compare.py", launch=deployments_launch.launch_id)
    where = next(t.value for t in at.table if "ran on" in t.value.columns)
    row = where.iloc[0]
    assert row["ran on"] == "1 host / 2 processes"
    assert (row["workers"], row["host names"]) == ("runner", HOST)


def test_launch_page_run_tree_names_host_and_process(deployments_launch):
    """The run tree's process column shows host · pid for each run."""
    at = open_page("pages/1_Launch.py", launch=deployments_launch.launch_id)
    tree = at.dataframe[0].value
    pids = {r.pid for r in deployments_launch.patterns[0].flow_runs}
    assert set(tree["process"]) == {f"{HOST} · pid {pid}" for pid in pids}


def test_a_run_trees_caption_says_one_process_in_the_singular():
    """Under a run tree, one run and one process read in the singular, two in the plural."""
    from patternlab.ui.runs import _caption
    from tests.helpers import build_pattern

    assert _caption(build_pattern("monoflow", 0)).startswith("1 flow run · 2 task runs · ")
    assert "· 1 host / 1 process ·" in _caption(build_pattern("monoflow", 0)) + " ·"
    assert "· 1 host / 2 processes" in _caption(build_pattern("deployments", 2))
