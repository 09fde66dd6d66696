"""Real-browser test in pool mode: a launch of all four shows where each run ran, and Compare
sets the patterns' hosts, processes and workers side by side."""

from __future__ import annotations

import re
import socket

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, App
from tests.e2e.test_browser import RUN_TIMEOUT_MS, TITLES, run_states, shoot

HOST = socket.gethostname()
WORKER = re.compile(rf"^{re.escape(HOST)}-[12]$")  # the pool backend's two local workers


def test_a_pool_launch_shows_hosts_and_workers_and_compare_shows_the_separation(
    page: Page, pool_app: App
):
    """Launch all four in pool mode: the run trees name each run's host and worker; Compare's
    where-table says "1 host / 2 processes" for deployments and events and names the workers."""
    page.goto(f"{pool_app.url}/Launch")
    expect(page.get_by_role("button", name="Launch")).to_be_visible(timeout=60_000)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Execution: pool lab-process")).to_be_visible()
    page.get_by_text("offline snapshot (approximate, dated)").click()
    page.get_by_role("button", name="Launch").click()
    expect(page).to_have_url(re.compile(r"[?&]launch=[0-9a-f]{12}"), timeout=30_000)
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(
        "Completed", timeout=RUN_TIMEOUT_MS
    )
    for title in TITLES:
        expect(page.get_by_role("heading", name=f"{title} — Completed").first).to_be_visible()
    run_states(page, {"Completed"})
    cells = page.locator('[data-testid="stDataFrame"] td[role="gridcell"]')
    # four entry runs, the deployment child and the triggered run: six runs a worker started
    expect(cells.filter(has_text=WORKER)).to_have_count(6)
    process = re.compile(rf"^{re.escape(HOST)} · pid \d+$")  # the "host · process" column
    expect(cells.filter(has_text=process).first).to_be_attached()
    shoot(page, "pool-launch-completed")

    page.get_by_text("Compare these patterns side by side").click()
    expect(page).to_have_url(re.compile(r"/Compare\?launch="), timeout=30_000)
    where = page.get_by_test_id("stTable").filter(has_text="ran on")
    expect(where).to_be_visible(timeout=60_000)
    rows = where.locator("tbody tr")
    expect(rows).to_have_count(4)
    ran = ["1 host / 1 process"] * 2 + ["1 host / 2 processes"] * 2
    for title, ran_on in zip(TITLES, ran, strict=True):
        row = rows.filter(has_text=title)
        expect(row.locator("td", has_text=re.compile(f"^{ran_on}$"))).to_have_count(1)
        workers = re.compile(rf"^{re.escape(HOST)}-[12](, {re.escape(HOST)}-[12])?$")
        expect(row.locator("td", has_text=workers)).to_have_count(1)
    where.screenshot(path=str(ARTIFACTS / "pool-compare-where.png"))
    shoot(page, "pool-compare")
