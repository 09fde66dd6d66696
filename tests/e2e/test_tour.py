"""Real-browser test: every step of the guided tour, backed by real runs, then the closing card."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Page, expect

from patternlab.views.tour import STEPS
from tests.e2e.conftest import App
from tests.e2e.test_browser import STALE, record, shoot

STEP_TIMEOUT_S = 180


def test_every_tour_step_shows_its_runs_and_the_tour_ends_on_the_card(
    page: Page, streamlit_app: App
):
    """Each step runs (or reuses) real runs and shows plain evidence; the card follows."""
    page.goto(f"{streamlit_app.url}/Tour")
    waits: dict[str, float] = {}
    for n, step in enumerate(STEPS, 1):
        expect(page.get_by_role("heading", name=f"{n}. {step.title}")).to_be_visible(timeout=60_000)
        # The previous step's elements stay (dimmed) until this step's script run is over: its
        # "Backed by launch" must not be taken for this step's.
        expect(page.locator(STALE)).to_have_count(0, timeout=30_000)
        run = page.get_by_role("button", name="Run this step")
        backed = page.get_by_text("Backed by launch")
        started = time.monotonic()
        expect(run.or_(backed).first).to_be_visible(timeout=60_000)
        if run.is_visible():
            run.click()
        expect(backed).to_be_visible(timeout=STEP_TIMEOUT_S * 1000)
        waits[step.key] = round(time.monotonic() - started, 1)
        expect(page.locator(STALE)).to_have_count(0, timeout=30_000)
        expect(page.get_by_text("flow run").first).to_be_visible()  # the plain evidence
        expect(backed).not_to_contain_text("\\")  # a launch id as it is, no markdown escape
        if step.emit:
            expect(page.get_by_text("No upstream run")).to_be_visible()
        expect(page.get_by_role("button", name="Replay this step")).to_be_visible()
        shoot(page, f"tour-{n}-{step.key}")
        page.get_by_role("button", name="→").click()
    expect(page.get_by_role("heading", name="The trade-off card")).to_be_visible(timeout=60_000)
    card = page.get_by_test_id("stTable").first
    expect(card).to_be_visible()
    for pattern in ("Monoflow", "Flow of subflows", "Flow of deployments", "Event-triggered flow"):
        expect(card.get_by_text(pattern, exact=True)).to_be_visible()
    expect(card.get_by_text("conceptual, execution, awareness")).to_be_visible()
    expect(page.get_by_role("button", name="Download the report (HTML)")).to_be_visible()
    shoot(page, "tour-card")
    record("tour_waits_s", waits)
    record("tour_total_wait_s", round(sum(waits.values()), 1))
    record("tour_loadavg", Path("/proc/loadavg").read_text().split()[:3])
