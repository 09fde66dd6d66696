"""The namespace hosts themselves (no Prefect, seconds): wiring, names, link faults, teardown."""

from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import gone
from tests.netns import list_netns, netns_unavailable_reason
from tests.netns_lab import NetnsLab


@pytest.fixture
def lab(tmp_path: Path):
    """An empty lab (a switch); hosts are added by the test; everything is removed after."""
    if reason := netns_unavailable_reason():
        pytest.skip(f"no hosts made of network namespaces here: {reason}")
    with NetnsLab(tmp_path / "lab") as made:
        yield made


def _get(url: str, timeout: float = 2.0) -> int:
    """GET without any proxy from the environment (a lab address must never leave the lab)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return opener.open(url, timeout=timeout).status


def _wait_get(url: str, timeout: float = 20.0) -> int:
    """GET until the server answers (it is starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _get(url)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_hosts_reach_each_other_and_cutting_a_link_partitions_until_healed(lab: NetnsLab):
    """b reaches a's server through the switch; with b's port down it cannot, then it can again."""
    a = lab.add_host("a")
    lab.add_host("b")
    lab.spawn("a", [sys.executable, "-m", "http.server", "--bind", a.address, "8000"])
    url = f"http://{a.address}:8000/"
    assert lab.call_in("b", _wait_get, url) == 200
    assert lab.run("b", ["hostname"]).stdout.strip() == "b"
    lab.link_down("b")
    with pytest.raises(OSError, match="timed out"):  # silence: packets are lost
        lab.call_in("b", _get, url, 1.0)
    lab.link_up("b")
    assert lab.call_in("b", _wait_get, url) == 200


def test_teardown_kills_processes_that_left_the_group_and_removes_every_namespace(tmp_path):
    """A process that escaped its process group (setsid) dies with the lab; no namespace stays."""
    if reason := netns_unavailable_reason():
        pytest.skip(f"no hosts made of network namespaces here: {reason}")
    with NetnsLab(tmp_path / "lab") as lab:
        lab.add_host("a")
        lab.spawn("a", ["/bin/sh", "-c", "setsid sleep 300 & exec sleep 300"])
        deadline = time.monotonic() + 5
        while len(lab.pids("a")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = lab.pids("a")
        prefix = f"{lab.prefix}{lab.run_id}-"
        assert len([n for n in list_netns() if n.startswith(prefix)]) == 2  # switch + a
    assert len(pids) == 2
    assert not [p for p in pids if not gone(p)]
    assert not [n for n in list_netns() if n.startswith(prefix)]
