"""Real-browser test: the report downloaded from Compare opens offline, charts drawn, no errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import Browser, Page, expect

from patternlab import launch
from tests.e2e.conftest import ARTIFACTS, ROOT, App
from tests.helpers import in_fresh_thread

REPO = "PrefectHQ/prefect"


@pytest.fixture(scope="session")  # session: pytest runs this module's browser test apart from
def finished_launch(lab_backend) -> str:  # its CLI test, and module scope would launch twice
    """Launch monoflow and the event-triggered pattern, one after the other, and wait for both."""
    launch_id = in_fresh_thread(launch.launch, ["monoflow", "events"], REPO, "snapshot")
    report = in_fresh_thread(launch.wait_for_launch, launch_id, timeout_s=240)
    assert report.done, [p.pending for p in report.patterns]
    return launch_id


def test_the_compare_report_opens_offline_with_its_charts(
    page: Page, browser: Browser, streamlit_app: App, finished_launch: str
):
    """Compare's download is one HTML file that draws its charts with the network off."""
    page.goto(f"{streamlit_app.url}/Compare?launch={finished_launch}")
    button = page.get_by_role("button", name="Download the report (HTML)")
    expect(button).to_be_visible(timeout=60_000)
    with page.expect_download(timeout=60_000) as download:
        button.click()
    saved = ARTIFACTS / "report.html"
    download.value.save_as(saved)
    offline = browser.new_context(offline=True, viewport={"width": 1300, "height": 5200})
    try:
        requests, errors = [], []
        report = offline.new_page()
        report.on("request", lambda r: requests.append(r.url))
        report.on("pageerror", lambda e: errors.append(str(e)))
        report.goto(saved.as_uri())
        charts = report.locator(".js-plotly-plot .main-svg")
        expect(charts.nth(4)).to_be_visible(timeout=30_000)  # five figures at least
        expect(report.locator(".modebar").first).to_be_attached()  # plotly's interactive tools
        expect(report.get_by_text(finished_launch).first).to_be_visible()
        report.screenshot(path=str(ARTIFACTS / "report-offline.png"))
        assert errors == []
        assert [u for u in requests if not u.startswith("file://")] == []
    finally:
        offline.close()


def test_the_cli_writes_the_html_report_and_refuses_a_bad_id(finished_launch: str, tmp_path):
    """`report ID --html FILE` writes the file; an unknown id exits 2 and writes nothing."""
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "patternlab", "report", *a], cwd=ROOT, env=dict(os.environ),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    good = run(finished_launch, "--html", str(tmp_path / "r.html"))
    assert good.returncode == 0, good.stderr[-2000:]
    assert finished_launch in (tmp_path / "r.html").read_text()
    bad = run("nosuchlaunch", "--html", str(tmp_path / "bad.html"))
    assert bad.returncode == 2
    assert "No launch nosuchlaunch" in bad.stderr
    assert not (tmp_path / "bad.html").exists()
