"""The custom event: whoever posts `patternlab.repo.refresh-requested` starts the downstream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import httpx

from patternlab import backend
from patternlab.launch import list_launches, read_launch
from tests.conftest import TEST_TOKEN
from tests.helpers import ROOT, wait_for

REPO = "apache/airflow"


def _cli(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m patternlab` with the test's environment (the lab's own backend)."""
    return subprocess.run(
        [sys.executable, "-m", "patternlab", *args],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_an_event_posted_by_a_plain_http_client_starts_the_downstream_and_the_lab_finds_it(
    lab_backend,
):
    """A webhook-like POST to Prefect's events API starts events-downstream; the lab reads it."""
    event_id = uuid.uuid4()
    event = {  # written by hand, as a webhook sender would: nothing of the lab's code
        "id": str(event_id),
        "occurred": datetime.now(UTC).isoformat(),
        "event": "patternlab.repo.refresh-requested",
        "resource": {"prefect.resource.id": f"patternlab.refresh-request.{event_id}"},
        "related": [{"prefect.resource.id": f"patternlab.repo.{REPO}",
                     "prefect.resource.role": "repository", "prefect.resource.name": REPO}],
        "payload": {"source": "snapshot"},
    }  # fmt: skip
    answer = httpx.post(f"{backend.api_url()}/events", json=[event], timeout=10)
    assert answer.status_code == 204, answer.text
    launch_id = f"emit-{event_id}"

    def finished():
        try:
            report = read_launch(launch_id)
        except LookupError:
            return None
        return report if report.done else None

    report = wait_for(finished, timeout=120, interval=0.5, what="the emitted run to finish")
    [events] = report.patterns
    assert events.pattern == "events"
    assert events.state == "Completed", events.errors
    [run] = events.flow_runs
    assert (run.flow, run.role, run.created_by) == ("events-downstream", "entry", "automation")
    assert events.separation.awareness  # started by an automation that no code names
    assert events.stats is not None
    assert events.stats.repo == REPO
    assert events.timings.end_to_end_s is not None
    assert "refresh request" in (events.alert or "")
    assert report.repo == REPO
    rows = list_launches(pattern="events", limit=20).rows
    assert launch_id in [r.launch_id for r in rows]  # History lists it like any launch


def test_the_cli_emits_the_event_and_reports_the_run_it_started(lab_backend):
    """`emit --repo R --json` posts the event, waits for the run and prints its report."""
    done = _cli("emit", "--repo", f"https://github.com/{REPO}", "--source", "snapshot", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["launch_id"].startswith("emit-")
    assert report["repo"] == REPO
    [run] = report["patterns"][0]["flow_runs"]
    assert (run["flow"], run["created_by"], run["state"]) == (
        "events-downstream",
        "automation",
        "Completed",
    )
    assert TEST_TOKEN not in done.stdout + done.stderr


def test_emit_refuses_a_bad_repository_with_exit_2():
    """A repository that is not owner/name is refused before anything is posted."""
    done = _cli("emit", "--repo", "../../etc/passwd")
    assert done.returncode == 2
    assert "error:" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_launch_page_button_emits_like_the_cli(lab_backend):
    """The Launch page's "Emit the event" button posts the event and watches the run it starts."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/1_Launch.py").run()
    at.text_input(key="launch_repo").set_value(REPO)
    at.radio(key="launch_source").set_value("snapshot")
    at.button(key="launch_emit").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    launch_id = at.query_params["launch"]
    launch_id = launch_id[0] if isinstance(launch_id, list) else launch_id
    assert launch_id.startswith("emit-")

    def finished():
        report = read_launch(launch_id)
        return report if report.done else None

    report = wait_for(finished, timeout=120, interval=0.5, what="the emitted run to finish")
    assert report.repo == REPO
    assert report.patterns[0].flow_runs[0].created_by == "automation"
