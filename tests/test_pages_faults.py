"""AppTest: faults on the page — GitHub failures, failure drills, the backend going away, the token.

Real embedded backend and runner; only GitHub is faked (tests/fake_github.py).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from patternlab import backend
from patternlab import launch as launches
from patternlab.backend import BackgroundStart
from patternlab.launch import PATTERNS, LaunchReport
from patternlab.ui import home_start
from patternlab.ui import page_setup as ui_page
from tests.conftest import TEST_TOKEN
from tests.helpers import gone, page_bytes, wait_for
from tests.test_pages import APP, open_page, shown, wait_done

# fake GitHub repository -> (final pattern state, words the page's message must hold)
FAULTS = {
    "faults/rate-limited": ("Failed", "rate limit used up"),
    "faults/secondary-limit": ("Failed", "secondary rate limit"),
    "faults/server-error": ("Failed", "500 Internal Server Error"),
    "faults/malformed": ("Failed", "invalid JSON"),
    "faults/slow": ("Failed", "no answer within 3 s (timeout)"),
    "faults/hang-up": ("Failed", "closed the connection without answering"),
    "faults/missing": ("Failed", "not found"),
    "faults/computing": ("Completed", "still being computed"),
}
RESTART_TIMEOUT_S = 120  # the page restarts the Prefect server (~10 s) on a loaded machine


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Start every test with empty Streamlit caches (they outlive AppTest instances)."""
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def fault_launches(lab_backend) -> dict[str, LaunchReport]:
    """Launch a monoflow per GitHub fault from the live source, and wait for all of them."""
    ids = {repo: launches.launch(["monoflow"], repo, "github") for repo in FAULTS}
    return {repo: wait_done(launch_id) for repo, launch_id in ids.items()}


def launch_from_page(**widgets: object) -> str:
    """Launch from the Launch page with the given widget values; return the new launch id."""
    at = open_page("pages/1_Launch.py")
    for key, value in widgets.items():
        getattr(at, _KINDS[key])(key=key).set_value(value)
    at.button(key="launch_go").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    return at.query_params["launch"]


_KINDS = {  # the Launch page's widgets by key: their AppTest accessor
    "launch_patterns": "multiselect",
    "launch_repo": "text_input",
    "launch_source": "radio",
    "launch_variant": "radio",
    "launch_drill": "selectbox",
    "launch_hold": "checkbox",
}


def isolation_table(at: AppTest):
    """Return the Compare page's failure-isolation table."""
    return next(t.value for t in at.table if "what the parent did" in t.value.columns)


def messages(at: AppTest) -> str:
    """Return every error and warning on the page, as the reader sees them."""
    return "\n".join(shown(m.value) for m in [*at.error, *at.warning])


@pytest.mark.parametrize("repo", list(FAULTS))
def test_each_github_fault_shows_its_message_and_what_to_do(fault_launches, repo):
    """Each GitHub failure is named in the run tree and on the page, with a specific hint."""
    state, words = FAULTS[repo]
    launch_id = fault_launches[repo].launch_id
    at = open_page("pages/1_Launch.py", launch=launch_id)
    assert at.metric[0].value == state
    tree = at.dataframe[0].value
    assert tree["state"].tolist() == [state]
    page = messages(at)
    assert words.lower() in page.lower(), page
    assert "→" in page  # the hint follows the message
    assert "Open the run in the Prefect UI" not in page  # a specific hint, not the generic one
    if state == "Failed":
        assert words.lower() in tree["message"][0].lower()


def test_a_github_server_error_shows_the_retries(fault_launches):
    """A 500 is retried twice by Prefect: the run tree says so beside the Failed state."""
    at = open_page("pages/1_Launch.py", launch=fault_launches["faults/server-error"].launch_id)
    tree = at.dataframe[0].value
    assert tree["retries"].tolist() == ["retried ×2: fetch_repo"]
    assert "2 task retries" in " ".join(c.value for c in at.caption)
    assert "server error (5xx)" in messages(at)


def test_a_child_drill_from_the_launch_page_fills_failure_isolation(lab_backend):
    """A child drill on all four patterns: four isolation rows, each as documented."""
    launch_id = launch_from_page(launch_drill="child", launch_source="snapshot")
    report = wait_done(launch_id)
    assert report.drill == "child"
    at = open_page("pages/1_Launch.py", launch=launch_id)
    assert "Failure drill" in shown(at.info[0].value)
    assert "Failure isolation" in messages(at)  # the drill's hint points at Compare
    at = open_page("pages/2_Compare.py", launch=launch_id)
    assert "Failure isolation" in [h.value for h in at.header]
    table = isolation_table(at)
    assert len(table) == 4
    assert table["matches docs"].tolist() == ["yes"] * 4, table.to_dict("records")
    assert table["what the parent did"].tolist() == [
        "failed: it held the failing step",
        "failed: its child's failure reached it",
        "failed: its child's failure reached it",
        "continued: never learned its child failed",
    ]
    assert not [w for w in at.warning if "differs from the documentation" in w.value]


def test_holding_the_events_upstream_fires_the_alert_on_the_page(lab_backend):
    """The hold option keeps the upstream past its window: the alert run shows, as documented."""
    launch_id = launch_from_page(
        launch_patterns=["events"], launch_hold=True, launch_source="snapshot"
    )
    wait_done(launch_id)
    at = open_page("pages/1_Launch.py", launch=launch_id)
    tree = at.dataframe[0].value
    assert "alert" in tree["role"].tolist()
    assert any("Proactive trigger: fired" in c.value for c in at.caption)
    at = open_page("pages/2_Compare.py", launch=launch_id)
    table = isolation_table(at)
    assert table["proactive alert"].tolist() == ["fired"]
    assert table["matches docs"].tolist() == ["yes"]


def test_a_transient_drill_shows_the_retry_in_the_run_tree(lab_backend):
    """GitHub answers 503 once: the run completes and its tree names the retried task."""
    launch_id = launch_from_page(
        launch_patterns=["monoflow"], launch_drill="transient", launch_source="snapshot"
    )
    wait_done(launch_id)
    at = open_page("pages/1_Launch.py", launch=launch_id)
    tree = at.dataframe[0].value
    assert tree["state"].tolist() == ["Completed"]
    assert tree["retries"].tolist() == ["retried ×1: fetch_contributors"]


@pytest.fixture
def server_stops(lab_backend):
    """Hand the test a way to stop the Prefect server; make sure it is up again afterwards."""

    def stop() -> None:
        pid = backend.backend_status().server_pid
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: gone(pid), timeout=30, what="the Prefect server to stop")

    yield stop
    backend.ensure_backend()  # other tests share this backend
    wait_for(lambda: (s := backend.backend_status()).server_up and s.runner_up, timeout=120)


def test_backend_down_shows_a_message_and_the_page_comes_back(server_stops, monkeypatch):
    """Server gone: a clear message, no traceback, quickly; then the page restarts it itself."""
    earlier = launches.launch(["monoflow"], "PrefectHQ/prefect", "snapshot")
    wait_done(earlier)
    # The live fragment reads without re-checking the backend; the same happens to a page whose
    # check passed just before the server went away. Pin the check to "up" to get that page.
    seen_up = backend.backend_status()
    monkeypatch.setattr(ui_page, "require_backend", lambda settings=None: seen_up)
    # Each open_page runs Home first, which starts a stopped backend in the background: the
    # server could be back before History draws. Home keeps it down here.
    monkeypatch.setattr(home_start, "start_in_background", lambda retry=False: BackgroundStart())
    server_stops()
    started = time.monotonic()
    page = open_page("pages/1_Launch.py", launch=earlier)
    assert time.monotonic() - started < 15  # no hidden retry loop behind a spinner
    text = messages(page)
    assert "not answering" in text, text
    assert "backend up" in text, text
    assert any("Trying again every second" in c.value for c in page.caption)
    history = open_page("pages/3_History.py")
    assert "not answering" in messages(history)
    assert any("reconnects by itself" in c.value for c in history.caption)

    monkeypatch.undo()  # the real check: the page finds the server down and starts it
    page.run(timeout=RESTART_TIMEOUT_S)
    assert not page.exception
    assert page.status[0].label.startswith("Backend up after")
    assert page.metric[0].value == "Completed"
    history.run(timeout=60)
    assert not history.exception
    assert earlier in history.dataframe[0].value["launch"].tolist()


@pytest.fixture(scope="module")
def live_launch(lab_backend) -> LaunchReport:
    """Launch all four patterns from the Launch page on the live source (the fake GitHub)."""
    launch_id = launch_from_page(launch_repo="PrefectHQ/prefect", launch_source="github")
    return wait_done(launch_id)


def test_the_github_token_is_on_no_page(live_launch, fault_launches):
    """Launch, Compare and History of live-source launches hold the token nowhere."""
    assert all(p.state == "Completed" for p in live_launch.patterns)
    failed = fault_launches["faults/server-error"].launch_id
    pages = [
        open_page("pages/1_Launch.py", launch=live_launch.launch_id),
        open_page("pages/1_Launch.py", launch=failed),
        open_page("pages/2_Compare.py", launch=[live_launch.launch_id, failed]),
        open_page("pages/3_History.py"),
    ]
    pages[0].toggle(key="launch_code").set_value(True).run()
    for at in pages:
        assert not at.exception
        held = page_bytes(at)
        assert b"PrefectHQ/prefect" in held or b"faults/server-error" in held  # search works
        assert TEST_TOKEN.encode() not in held


def test_a_token_in_streamlit_secrets_reaches_the_runner_the_page_starts(lab_backend, monkeypatch):
    """GITHUB_TOKEN only in st.secrets: the runner the page restarts has it; no page shows it."""
    monkeypatch.delenv("GITHUB_TOKEN")
    runner = backend.backend_status().runner_pid
    os.kill(runner, signal.SIGTERM)
    wait_for(lambda: gone(runner), timeout=30, what="the runner to stop")
    # Launch, not Home: Home answers at once and starts what is missing in the background; a
    # page that needs the backend restarts the runner before it draws.
    at = AppTest.from_file(APP, default_timeout=RESTART_TIMEOUT_S)
    at.secrets["GITHUB_TOKEN"] = TEST_TOKEN
    at.switch_page("pages/1_Launch.py").run()
    assert not at.exception
    status = backend.backend_status()
    assert status.runner_up
    assert status.runner_pid != runner
    environ = Path(f"/proc/{status.runner_pid}/environ").read_bytes().split(b"\0")
    assert f"GITHUB_TOKEN={TEST_TOKEN}".encode() in environ
    assert TEST_TOKEN.encode() not in page_bytes(at)
    assert "The runner had stopped; the lab restarted it." in [shown(i.value) for i in at.info]


def test_all_four_patterns_of_a_live_launch_render_on_compare(live_launch):
    """The live-source launch compares like a snapshot one, its source labelled as GitHub."""
    at = open_page("pages/2_Compare.py", launch=live_launch.launch_id)
    stats = next(d.value for d in at.dataframe if "Stars" in d.value.columns)
    assert stats["Source"].tolist() == ["github"] * len(PATTERNS)
