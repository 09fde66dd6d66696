"""AppTest tests for reading a launch at a glance: logs on demand, a launch kept across pages,
Compare with nothing picked, History by drill and any-case repository (real embedded backend)."""

from __future__ import annotations

import pytest

from patternlab.launch import launch, wait_for_launch
from tests.conftest import TEST_TOKEN
from tests.test_pages import _fresh_caches, open_page  # noqa: F401 - the autouse fixture

REPO = "apache/airflow"


@pytest.fixture(scope="module")
def failed(lab_backend) -> str:
    """Run monoflow under the upstream drill (it fails on purpose); return the launch id."""
    launch_id = launch(["monoflow"], REPO, "snapshot", drill="upstream")
    assert wait_for_launch(launch_id, timeout_s=120).done
    return launch_id


def test_a_failed_runs_traceback_is_shown_when_asked(failed):
    """Reading a failed run's logs shows its traceback as code text, and no token."""
    at = open_page("pages/1_Launch.py", launch=failed)
    toggle = next(t for t in at.toggle if t.key.startswith("logs-read-"))
    assert not [c for c in at.code if "Traceback" in c.value]  # read only when asked
    toggle.set_value(True).run()
    assert not at.exception
    texts = [c.value for c in at.code]
    assert any(t.startswith("Traceback (most recent call last)") for t in texts)
    assert all(TEST_TOKEN not in t for t in texts)


def test_the_launch_is_still_there_after_compare_and_back(failed):
    """Back on Launch through a link without the id, the session's launch is shown again."""
    at = open_page("pages/1_Launch.py", launch=failed)
    at.switch_page("pages/2_Compare.py").run()
    at.query_params.clear()
    at.switch_page("pages/1_Launch.py").run()
    assert not at.exception
    assert failed in at.subheader[0].value
    assert failed in str(at.query_params["launch"])


def test_compare_with_nothing_picked_says_what_to_do(failed):
    """Clearing Compare's picker leaves one message saying what to pick."""
    at = open_page("pages/2_Compare.py", launch=failed)
    at.multiselect(key="compare_launches").set_value([]).run()
    assert not at.exception
    assert any("Pick a launch above" in i.value for i in at.info)


def test_history_finds_a_launch_by_drill_and_any_case_repository(failed):
    """History's drill filter and an upper-case repository find the drill's row, labelled."""
    at = open_page("pages/3_History.py")
    at.selectbox(key="history_drill").set_value("upstream").run()
    at.text_input(key="history_repo").set_value(REPO.upper()).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert failed in table["launch"].tolist()
    assert set(table["drill"]) == {"upstream"}
    labels = at.multiselect(key="history_open").options  # as shown: formatted
    assert any("drill: upstream" in label and REPO in label for label in labels), labels
