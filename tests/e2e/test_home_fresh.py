"""Real-browser test: Home on a fresh lab home answers at once and starts the backend in place."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, App, serve_app
from tests.e2e.test_browser import record, shoot
from tests.helpers import free_port


@pytest.fixture
def fresh_home_app(tmp_path: Path) -> App:
    """Start `streamlit run app.py` on a lab home where nothing has ever run; stop all after."""
    drop = ("PREFECT_API_URL", "PREFECT_HOME")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env |= {"PATTERNLAB_HOME": str(tmp_path / "home"), "PATTERNLAB_PORT": str(free_port())}
    try:
        yield from serve_app(env, "streamlit-fresh-home.log")
    finally:
        # The backend the app started outlives it (detached): stop it, or it idles on for the
        # rest of the session, a Prefect server and a polling runner taking CPU from every test.
        down = [sys.executable, "-m", "patternlab", "backend", "down"]
        stopped = subprocess.run(down, cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=120, check=False)  # fmt: skip
        assert stopped.returncode == 0, stopped.stderr[-2000:]


def test_home_on_a_fresh_home_shows_the_patterns_at_once_then_a_working_launch(
    page: Page, fresh_home_app: App
):
    """On a fresh home Home draws the patterns while the backend starts; Launch enables itself."""
    page.goto(fresh_home_app.url)
    diagrams = page.get_by_test_id("stGraphVizChart")
    expect(diagrams.nth(3).locator("svg")).to_be_visible(timeout=30_000)
    patterns_s = time.monotonic() - fresh_home_app.answered
    starting = page.get_by_role("button", name="Launch all four — starting…")
    expect(starting).to_be_disabled(timeout=10_000)  # a fresh backend takes seconds: not yet
    expect(page.get_by_text("Starting the lab's Prefect backend")).to_be_visible()
    shoot(page, "home-starting")
    ready = page.get_by_role("button", name="Launch all four on")
    expect(ready).to_be_enabled(timeout=180_000)
    launch_s = time.monotonic() - fresh_home_app.answered
    expect(page.get_by_text("Embedded backend up")).to_be_visible()
    shoot(page, "home-ready")
    ready.click()
    expect(page).to_have_url(re.compile(r"/Launch\?launch=\w+"), timeout=60_000)
    expect(page.get_by_role("heading", name="Launch", exact=True)).to_be_visible()
    # The launch's own lanes, not the folded form's pattern chips (hidden, and first in the page).
    expect(page.locator("text=Monoflow >> visible=true").first).to_be_visible(timeout=60_000)
    load = Path("/proc/loadavg").read_text().split()[:3]
    record("fresh_home_patterns_visible_s", round(patterns_s, 2))
    record("fresh_home_working_launch_button_s", round(launch_s, 2))
    record("fresh_home_loadavg", load)
