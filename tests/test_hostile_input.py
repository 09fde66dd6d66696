"""AppTest: hostile input in the dashboard — repository text from users, and text from GitHub.

Real embedded backend and runner; only GitHub is faked (tests/fake_github.py, and a proxy in
front of it here that puts markup into GitHub's answers).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import streamlit as st

from flows.github import EXPECTED_FORM
from patternlab import launch as launches
from tests.conftest import FAKE_GITHUB
from tests.helpers import page_nodes, restart_runner
from tests.test_pages import figure, open_page, shown, wait_done

# name -> (repository text, words of the specific reason the page must give)
HOSTILE = {
    "path traversal": ("../../etc/passwd", "path traversal"),
    "extra segments": ("a/b/c", "extra path segments"),
    "query string": ("PrefectHQ/prefect?ref=main", "query string"),
    "fragment": ("PrefectHQ/prefect#readme", "fragment"),
    "another host": ("https://gitlab.com/a/b", "Only https://github.com/owner/name URLs"),
    "unicode look-alike": ("PrefectHQ/pr\u0435fect", "CYRILLIC SMALL LETTER IE"),
    "control characters": ("PrefectHQ/pre\x1b[31mfect", "control character"),
    "empty": ("", "No repository was given"),
    "10 000 characters": ("a/" + "b" * 9998, "too long"),
    "name GitHub forbids": ("-bad/x", "hyphen"),
}
DESCRIPTION = '<script>alert("d")</script> <b>bold</b> **md** [x](javascript:alert(1)) $x^2$'
LOGIN = "<img src=x onerror=alert(1)>"
_UNESCAPED_TAG = re.compile(r"(?<!\\)<(script|img|b>)")
_HOP_HEADERS = ("content-length", "content-encoding", "transfer-encoding", "connection")


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Start every test with empty Streamlit caches (they outlive AppTest instances)."""
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_repository_text_is_refused_before_anything_happens(lab_backend, fake_github, case):
    """Each hostile input: a specific error naming the expected form; no run, no request."""
    text, reason = HOSTILE[case]
    runs_before = launches.list_launches(limit=1).total
    requests_before = len(fake_github.requests)
    at = open_page("pages/1_Launch.py")
    at.radio(key="launch_source").set_value("github")  # anything let through would reach GitHub
    at.text_input(key="launch_repo").set_value(text)
    at.button(key="launch_go").click().run()
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1, errors
    assert EXPECTED_FORM in errors[0]
    assert reason in errors[0]
    assert len(errors[0]) < 600  # a preview of the input, not 10,000 characters of it
    assert "launch" not in at.query_params
    assert launches.list_launches(limit=1).total == runs_before
    assert len(fake_github.requests) == requests_before


def _markup(path: str, body: bytes) -> bytes:
    """Put markup into GitHub's description and top contributor's login for a repository."""
    data = json.loads(body)
    if re.fullmatch(r"/repos/[^/]+/[^/]+", path) and isinstance(data, dict):
        data["description"] = DESCRIPTION
    elif "/contributors" in path and "/stats/" not in path and isinstance(data, list) and data:
        data[0]["login"] = LOGIN
    return json.dumps(data).encode()


def _proxy_handler(upstream: str, own: list[str]) -> type[BaseHTTPRequestHandler]:
    """Build a handler that forwards to the fake GitHub and edits its answers."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            answer = httpx.get(upstream + self.path, headers=dict(self.headers), timeout=10)
            path = self.path.split("?")[0]
            body = _markup(path, answer.content) if answer.status_code == 200 else answer.content
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in _HOP_HEADERS:
                    self.send_header(key, value.replace(upstream, own[0]))
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def marked_up_github(lab_backend, monkeypatch) -> Iterator[str]:
    """Point the runner at a GitHub whose description and a login hold markup; restore after."""
    own: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(FAKE_GITHUB.url, own))
    own.append(f"http://127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("GITHUB_API_URL", own[0])
    restart_runner()
    try:
        yield own[0]
    finally:
        monkeypatch.setenv("GITHUB_API_URL", FAKE_GITHUB.url)
        restart_runner()
        server.shutdown()


def test_text_from_github_is_shown_as_text_never_html(marked_up_github):
    """Markup in a description and a login reaches the page literally, never as HTML."""
    launch_id = launches.launch(["monoflow", "subflows"], "PrefectHQ/prefect", "github")
    report = wait_done(launch_id)
    assert report.patterns[0].stats.description == DESCRIPTION  # the markup went all the way
    at = open_page("pages/2_Compare.py", launch=launch_id)
    assert DESCRIPTION in [t.value for t in at.text]  # st.text: shown exactly, as text
    rendered = [n for n in page_nodes(at) if n.type != "text"]  # st.text shows no markup at all
    for node in rendered:
        assert not getattr(node.proto, "allow_html", False)
        body = getattr(node.proto, "body", "")
        assert not _UNESCAPED_TAG.search(body), body
    contributors = next(
        figure(at, i) for i in range(len(at.get("plotly_chart")))
        if "contributors" in json.dumps(figure(at, i)["layout"]["title"])
    )  # fmt: skip
    labels = [y for trace in contributors["data"] for y in trace["y"]]
    assert "&lt;img src=x onerror=alert(1)&gt;" in labels
    assert not any("<img" in str(label) for label in labels)
