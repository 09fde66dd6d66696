"""A run's logs and traceback read back from Prefect on demand; a launch in Prefect's UI."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patternlab import backend
from patternlab.launch import (
    SETTLE_S,
    FlowRunInfo,
    launch,
    launch_ui_url,
    read_run_logs,
    wait_for_launch,
)
from patternlab.launch.logs import MASK, mask_secrets
from patternlab.settings import get_settings
from patternlab.ui.logs_view import LOGS_SETTLE_S, logs_settled
from tests.conftest import TEST_TOKEN
from tests.helpers import T0, build_report, wait_for


def test_the_github_token_is_masked_in_any_text():
    """The lab's GitHub token never survives in log text it hands over."""
    assert mask_secrets(f"header Authorization: Bearer {TEST_TOKEN}.") == (
        f"header Authorization: Bearer {MASK}."
    )


def test_the_launch_link_lists_the_launchs_runs_by_tag_in_prefects_ui():
    """The whole launch opens as Prefect UI's runs list filtered by its `launch:` tag."""
    assert launch_ui_url("abc123") == f"{backend.ui_url()}/v2/runs/?tags=launch%3Aabc123"


@pytest.fixture(scope="module")
def failed_monoflow(lab_backend):
    """Run monoflow under the upstream drill (its flow fails) and wait for it."""
    report = wait_for_launch(
        launch(["monoflow"], "PrefectHQ/prefect", "snapshot", drill="upstream"), timeout_s=120
    )
    return report.patterns[0].flow_runs[0]


def test_a_failed_runs_logs_hold_its_traceback_and_no_secret(failed_monoflow):
    """A failed run's logs come in order with its traceback, and no token or auth string."""
    # The flow process ships its last lines just after its final state: wait for them to arrive.
    logs = wait_for(lambda: (found := read_run_logs(failed_monoflow.id)).lines and found,
                    timeout=30, interval=0.5, what="the failed run's log lines")  # fmt: skip
    assert logs.state == "Failed"
    assert logs.lines == sorted(logs.lines, key=lambda line: line.at)
    assert logs.traceback.startswith("Traceback (most recent call last)")
    assert "drill" in logs.traceback.lower()
    text = " ".join(line.message for line in logs.lines) + logs.message + logs.traceback
    assert TEST_TOKEN not in text
    auth = get_settings().auth_string()
    assert not auth or auth not in text


def test_a_final_runs_logs_are_cached_only_once_they_have_settled():
    """Logs arrive a moment after the final state: a run that just ended is read again."""
    ended = T0 + timedelta(seconds=5)
    run = FlowRunInfo(id="r", name="r", flow="monoflow", role="entry", state="Failed",
                      status="failed", created=T0, start=T0, end=ended)  # fmt: skip
    assert not logs_settled(run, ended + timedelta(seconds=1))
    assert logs_settled(run, ended + timedelta(seconds=LOGS_SETTLE_S))
    running = run.model_copy(update={"status": "running", "state": "Running", "end": None})
    assert not logs_settled(running, ended + timedelta(hours=1))


def test_an_unknown_run_id_is_a_clear_error(lab_backend):
    """Text that is not a run id, or an id no run has, raises LookupError with what was asked."""
    with pytest.raises(LookupError, match="not a flow run id"):
        read_run_logs("../etc/passwd")
    with pytest.raises(LookupError, match="No flow run"):
        read_run_logs("00000000-0000-0000-0000-000000000000")


def test_a_launch_is_settled_only_once_its_last_run_ended_settle_s_ago():
    """Prefect records task runs a moment after the final state: until SETTLE_S, not settled."""
    report = build_report()
    last = max(r.end for p in report.patterns for r in p.flow_runs)
    assert not report.settled(last + timedelta(seconds=1))
    assert report.settled(last + timedelta(seconds=SETTLE_S))
    running = report.model_copy(update={"done": False})
    assert not running.settled(last + timedelta(hours=1))
