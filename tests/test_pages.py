"""AppTest tests for every page, against the real embedded Prefect backend (snapshot source)."""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from patternlab import launch as launches
from patternlab import views
from patternlab.launch import PATTERNS, LaunchReport
from tests.helpers import free_port, wait_for

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ["pages/1_Launch.py", "pages/2_Compare.py", "pages/3_History.py", "pages/4_Scale.py",
         "pages/5_Tour.py"]  # fmt: skip
REPO = "PrefectHQ/prefect"
RUN_TIMEOUT_S = 240.0  # four patterns on a loaded machine; the event trigger adds its grace


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Start every test with empty Streamlit caches (they outlive AppTest instances)."""
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(page: str | None = None, **query: str | list[str]) -> AppTest:
    """Run the app, switch to a page with the given query string, and check it raised nothing."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    if page:
        at.query_params.update(query)
        at.switch_page(page).run()
        assert not at.exception
    return at


def wait_done(launch_id: str, *, settled: bool = False) -> LaunchReport:
    """Poll a launch, starting each next pattern, until every run is final (RUN_TIMEOUT_S);
    settled: until its task runs are all recorded too (exact counts)."""

    def over(r: LaunchReport) -> bool:
        return r.settled(datetime.now(UTC)) if settled else r.done

    return wait_for(
        lambda: over(r := launches.advance_launch(launch_id)) and r,
        timeout=RUN_TIMEOUT_S,
        interval=0.5,
        what=f"launch {launch_id} to finish",
    )


def figure(at: AppTest, index: int) -> dict:
    """Return the index-th plotly figure on the page as a dict."""
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def shown(markdown: str) -> str:
    """Return Markdown as the reader sees it (escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def values(data: list | dict) -> list:
    """Return a trace's values, decoding plotly's base64 typed arrays when present."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


@pytest.fixture(scope="module")
def page_launch(lab_backend) -> LaunchReport:
    """Launch all four patterns from the Launch page and wait until they are done."""
    at = open_page("pages/1_Launch.py")
    at.multiselect(key="launch_patterns").set_value(list(PATTERNS))
    at.text_input(key="launch_repo").set_value(REPO)
    at.radio(key="launch_source").set_value("snapshot")
    at.button(key="launch_go").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    return wait_done(at.query_params["launch"], settled=True)  # Compare's exact counts


@pytest.mark.parametrize("page", [None, *PAGES])
def test_every_page_renders_without_an_exception(lab_backend, page):
    """Home and every page render with no exception, also before any launch exists."""
    empty = launches.list_launches(limit=1).total == 0
    at = open_page(page)
    assert at.title
    assert not at.exception
    # Compare opens the newest launch, which other tests may have made fail on purpose: then its
    # failures are rightly shown as errors. With no launch at all there is nothing to fail.
    if empty or page != "pages/2_Compare.py":
        assert not at.error, [e.value for e in at.error]
    if empty and page in ("pages/2_Compare.py", "pages/3_History.py"):
        assert any("Launch" in i.value for i in at.info)  # points the user at the Launch page


@pytest.mark.parametrize("page", [None, *PAGES])
def test_the_sidebar_links_every_page_and_calls_the_entry_page_home(lab_backend, page):
    """Every page's sidebar lists Home, Launch, Compare, History, Scale, Tour (Streamlit's off)."""
    at = open_page(page)
    links = at.sidebar.get("page_link")
    names = ["Launch", "Compare", "History", "Scale", "Tour"]
    assert [link.value for link in links] == ["Home", *names]
    assert [link.proto.page for link in links] == ["", *names]
    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showSidebarNavigation"] is False


def test_home_shows_the_backend_and_the_four_patterns(lab_backend):
    """Home says the embedded backend is up, links to the Prefect UI and shows four patterns."""
    at = open_page()
    assert "Embedded backend up" in shown(at.success[0].value)
    assert [h.value for h in at.subheader][:4] == [
        "Monoflow", "Flow of subflows", "Flow of deployments", "Event-triggered flow",
    ]  # fmt: skip
    assert at.dataframe[0].value["pattern"].tolist()[0] == "Monoflow"


def test_the_sidebar_says_which_prefect_adapters_are_active(lab_backend):
    """The backend panel lists the runner's Prefect adapters with their state."""
    captions = [c.value for c in open_page().sidebar.caption]
    assert "Prefect adapters: heartbeat_exit ✓, forked_starts ✓, shared_tls ✓" in captions


def test_launching_from_the_launch_page_produces_runs(page_launch):
    """The launch id goes into the URL, every pattern runs, and the page shows it Completed."""
    assert [p.pattern for p in page_launch.patterns] == list(PATTERNS)
    assert all(p.state == "Completed" for p in page_launch.patterns), [
        p.errors for p in page_launch.patterns
    ]
    assert sum(len(p.flow_runs) for p in page_launch.patterns) >= 8
    at = open_page("pages/1_Launch.py", launch=page_launch.launch_id)  # a reload re-attaches
    assert at.metric[0].value == "Completed"
    trees = [df.value for df in at.dataframe]
    assert all(set(t["state"]) == {"Completed"} for t in trees)
    assert len(at.get("plotly_chart")) == 1  # the timeline


def test_compare_figures_hold_the_four_patterns_numbers(page_launch):
    """The stacked-time and count charts hold exactly the report's numbers for all four."""
    at = open_page("pages/2_Compare.py", launch=page_launch.launch_id)
    timings = figure(at, 0)
    bars = {
        t["name"]: t for t in timings["data"] if t["type"] == "bar" and t.get("showlegend") is False
    }
    titles = [views.pattern_title(p.pattern) for p in page_launch.patterns]
    parts = (("pickup_s", "pick-up"), ("process_start_s", "process start"),
             ("handoff_s", "hand-off"), ("work_s", "work"))  # fmt: skip
    for column, name in parts:
        trace = next(t for n, t in bars.items() if n.startswith(name))
        assert values(trace["x"]) == titles
        expected = [round(getattr(p.timings, column) or 0.0, 3) for p in page_launch.patterns]
        assert values(trace["y"]) == pytest.approx(expected)
    for p in page_launch.patterns:  # the queue, split once the launch was over
        t = p.timings
        assert t.pickup_s + t.process_start_s == pytest.approx(t.queue_s, abs=0.002)
    counts = {t["name"]: values(t["y"]) for t in figure(at, 1)["data"]}
    for title, p in zip(titles, page_launch.patterns, strict=True):
        assert counts[title] == [len(p.flow_runs), p.task_runs, p.processes]
    stats = at.dataframe[2].value
    assert stats["Stars"].tolist() == [p.stats.stars for p in page_launch.patterns]
    assert any("approximate" in shown(w.value) for w in at.warning)  # the snapshot is labelled


def test_history_lists_the_launch_and_opens_it_in_compare(page_launch):
    """History lists the launch's four entry runs; opening it switches to its Compare view."""
    at = open_page("pages/3_History.py")
    table = at.dataframe[0].value
    assert set(table.loc[table["launch"] == page_launch.launch_id, "pattern"]) == set(PATTERNS)
    at.selectbox(key="history_pattern").set_value("events").run()
    assert set(at.dataframe[0].value["pattern"]) == {"events"}
    at.multiselect(key="history_open").set_value([page_launch.launch_id]).run()
    at.button(key="history_compare").click().run()
    assert not at.exception
    assert at.query_params["launch"] in (page_launch.launch_id, [page_launch.launch_id])
    assert len(at.get("plotly_chart")) >= 2


def test_history_rejects_bad_repository_filter_text(lab_backend):
    """A repository filter that is not owner/name shows the validation message, not a crash."""
    at = open_page("pages/3_History.py")
    at.text_input(key="history_repo").set_value("../../etc").run()
    assert not at.exception
    assert any("owner/name" in shown(e.value) for e in at.error)


def test_bad_repository_input_shows_an_error_and_launches_nothing(lab_backend):
    """Text that is not owner/name or a GitHub URL is refused before any run is created."""
    before = launches.list_launches(limit=1).total
    at = open_page("pages/1_Launch.py")
    at.text_input(key="launch_repo").set_value("not a repo; rm -rf /").run()
    at.button(key="launch_go").click().run()
    assert not at.exception
    assert any("owner/name" in shown(e.value) for e in at.error)
    assert "launch" not in at.query_params
    assert launches.list_launches(limit=1).total == before


def test_two_tabs_each_get_their_own_launch(lab_backend):
    """Two sessions launching at once each keep their own launch id in their own URL."""
    tabs = [open_page("pages/1_Launch.py") for _ in range(2)]
    for at in tabs:
        at.multiselect(key="launch_patterns").set_value(["monoflow"])
        at.button(key="launch_go").click()
    for at in tabs:
        at.run()
        assert not at.exception
    ids = [at.query_params["launch"] for at in tabs]
    assert ids[0] != ids[1]
    for at, launch_id in zip(tabs, ids, strict=True):
        assert launch_id in at.subheader[0].value
    for launch_id in ids:
        wait_done(launch_id)


def _down_page(port: int) -> None:
    """Check a remote backend on a port where nothing listens (runs as an AppTest script)."""
    import streamlit as st

    from patternlab import ui
    from patternlab.settings import LabSettings

    ui.require_backend(LabSettings(prefect_api_url=f"http://127.0.0.1:{port}/api"))
    st.write("this line is never reached")


def test_backend_down_shows_a_clear_message():
    """An unreachable Prefect server stops the page with a message saying what to do."""
    at = AppTest.from_function(_down_page, args=(free_port(),), default_timeout=30).run()
    assert not at.exception
    assert "Prefect server unreachable" in at.error[0].value
    assert "PREFECT_API_URL" in shown(at.info[0].value)
    assert not at.markdown


def _blocked_page(home: str, port: int) -> None:
    """Try to start an embedded backend whose port another program holds (AppTest script)."""
    from pathlib import Path

    from patternlab import ui
    from patternlab.settings import LabSettings

    ui.require_backend(LabSettings(home=Path(home), port=port, prefect_api_url=None))


def test_embedded_backend_that_cannot_start_says_why(tmp_path):
    """A port held by another program: the start-up status turns red and says what to do."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        started = time.monotonic()
        at = AppTest.from_function(
            _blocked_page, args=(str(tmp_path), port), default_timeout=30
        ).run()
    assert not at.exception
    assert time.monotonic() - started < 20
    assert "did not start" in at.status[0].label
    assert f"Port {port} on 127.0.0.1 is in use" in shown(at.error[0].value)
    assert "PATTERNLAB_PORT" in shown(at.error[0].value)


def record(name: str, value: object) -> None:
    """Add a measurement to artifacts/measurements.json (git-ignored), for the issue's report."""
    path = Path(APP).parent / "artifacts" / "measurements.json"
    path.parent.mkdir(exist_ok=True)
    found = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(found | {name: value}, indent=2, default=str))


def test_one_poll_of_a_running_launch_costs_a_few_api_calls(lab_backend, monkeypatch):
    """A poll of a running launch makes at most 5 API calls; a full page render reads it once."""
    from patternlab import ui

    launch_id = launches.launch(PATTERNS, REPO, "snapshot", hold_s=8.0)
    sent: list[str] = []
    real_send = httpx.Client.send

    def counting_send(self, request, **kwargs):
        sent.append(f"{request.method} {request.url.path}")
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", counting_send)
    polls = []
    for _ in range(3):
        sent.clear()
        started = time.perf_counter()
        report = ui.read_report(launch_id)
        polls.append({"calls": list(sent), "ms": round((time.perf_counter() - started) * 1000, 1)})
    assert report is not None
    assert not report.done
    record("poll_of_running_launch", polls)
    assert all(len(p["calls"]) <= 5 for p in polls[1:]), polls
    monkeypatch.undo()
    # A full render of the Launch page reads the running launch once: its live fragment's
    # first tick shows the page's own read instead of reading again.
    reads: list[str] = []
    real_read = launches.advance_launch  # a page's read also continues a launch
    monkeypatch.setattr(launches, "advance_launch", lambda i: reads.append(i) or real_read(i))
    at = open_page("pages/1_Launch.py", launch=launch_id)
    assert at.subheader[0].value.startswith(f"Launch `{launch_id}`")
    assert at.metric[0].value not in ("Completed", "Failed"), "the launch ended too soon"
    assert reads == [launch_id], reads
    monkeypatch.undo()
    wait_done(launch_id)
