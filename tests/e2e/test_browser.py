"""Real-browser test: launch all four patterns from the Launch page, watch them, compare them."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from patternlab.launch import PATTERNS
from patternlab.launch.drills import DRILL_LABELS
from tests.e2e.conftest import ARTIFACTS, App
from tests.helpers import wait_for

REPO = "apache/airflow"  # a snapshot repository other than the default, so picking it matters
TITLES = ["Monoflow", "Flow of subflows", "Flow of deployments", "Event-triggered flow"]
RUN_TIMEOUT_MS = 240_000


def record(name: str, value: object) -> None:
    """Add a measurement to artifacts/measurements.json (git-ignored), for the issue's report."""
    path = ARTIFACTS / "measurements.json"
    found = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(found | {name: value}, indent=2))


def shoot(page: Page, name: str) -> None:
    """Save a screenshot of the whole (tall) viewport to artifacts/."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


STALE = '[data-testid="stElementContainer"][data-stale="true"]'  # left from the previous run


def run_states(page: Page, expected: set[str], count: int = 8) -> list[str]:
    """Return the Prefect state cell of every run-tree row once all `count` show `expected`."""
    cells = page.locator('[data-testid="stDataFrame"] td[role="gridcell"][aria-colindex="2"]')
    # The live fragment's grids are replaced by the final page's after the launch finishes:
    # poll until that script run is over (nothing stale left) and the final grids are drawn.
    seen: list[str] = []

    def drawn() -> list[str] | None:
        seen[:] = cells.all_inner_texts()
        final = len(seen) >= count and set(seen) <= expected
        return list(seen) if final and page.locator(STALE).count() == 0 else None

    try:
        return wait_for(drawn, timeout=30, what="the run trees' state cells")
    except AssertionError as exc:
        raise AssertionError(f"run-tree states {seen}, expected only {expected}") from exc


@pytest.fixture
def launch_page(page: Page, streamlit_app: App) -> Page:
    """Open the Launch page and wait until it is usable (backend checked, form drawn)."""
    page.goto(f"{streamlit_app.url}/Launch")
    expect(page.get_by_role("button", name="Launch")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stSidebar").get_by_text("Prefect server")).to_be_visible()
    record(
        "streamlit_run_to_usable_launch_page_s", round(time.monotonic() - streamlit_app.started, 2)
    )
    return page


def test_launch_all_four_watch_them_complete_and_compare(launch_page: Page):
    """Pick four patterns and a snapshot repo, launch, see every run Completed, then compare."""
    page = launch_page
    for title in TITLES:  # all four are preselected; the chips show them
        expect(page.get_by_test_id("stMultiSelect").get_by_text(title, exact=True)).to_be_visible()
    page.get_by_role("combobox", name="…or pick a snapshot repository").click()
    page.get_by_role("option", name=REPO, exact=True).click()
    expect(page.get_by_label("Repository", exact=True)).to_have_value(REPO)
    page.get_by_text("offline snapshot (approximate, dated)").click()
    page.get_by_role("button", name="Launch").click()

    expect(page).to_have_url(re.compile(r"[?&]launch=[0-9a-f]{12}"), timeout=30_000)
    # .first: when the launch ends, the live fragment's elements stay (dimmed, stale) until the
    # page's full rerun has drawn the final ones, so each text can briefly be there twice.
    expect(page.get_by_text("Timeline of the launch's flow runs").first).to_be_visible(
        timeout=30_000
    )
    shoot(page, "launch-running")
    state = page.get_by_test_id("stMetricValue").first
    expect(state).to_have_text("Completed", timeout=RUN_TIMEOUT_MS)
    for title in TITLES:
        expect(page.get_by_role("heading", name=f"{title} — Completed").first).to_be_visible()
    run_states(page, {"Completed"})  # 1 + 3 + 2 + 2 flow runs (a fired alert would add one)
    shoot(page, "launch-completed")

    page.get_by_text("Compare these patterns side by side").click()
    expect(page).to_have_url(re.compile(r"/Compare\?launch="), timeout=30_000)
    charts = page.get_by_test_id("stPlotlyChart")  # timings, counts, swimlanes, statistics
    expect(charts.first.locator(".main-svg").first).to_be_visible(timeout=30_000)
    expect(charts.nth(4).locator(".main-svg").first).to_be_visible(timeout=30_000)
    timings = charts.first
    for title in TITLES:  # the stacked-time chart's x axis names all four patterns
        expect(timings.locator("g.xtick text", has_text=title)).to_be_visible()
    counts = charts.nth(1)
    for title in TITLES:  # the counts chart's legend has one entry per pattern
        expect(counts.locator("g.legend text", has_text=title)).to_be_visible()
    assert charts.count() == 5
    shoot(page, "compare")


def test_a_drill_launch_shows_failure_isolation_on_compare(launch_page: Page):
    """Launch a child drill on all four; Compare shows four isolation rows, as documented."""
    page = launch_page
    page.get_by_role("combobox", name="Failure drill").click()
    page.get_by_role("option", name=DRILL_LABELS["child"], exact=True).click()
    page.get_by_text("offline snapshot (approximate, dated)").click()
    page.get_by_role("button", name="Launch").click()
    expect(page).to_have_url(re.compile(r"[?&]launch=[0-9a-f]{12}"), timeout=30_000)
    expect(page.get_by_text("Failure drill: Child step fails").first).to_be_visible(timeout=30_000)
    state = page.get_by_test_id("stMetricValue").first
    expect(state).to_have_text("Failed", timeout=RUN_TIMEOUT_MS)  # on purpose: the drill
    run_states(page, {"Completed", "Failed"})  # 1 + 3 + 2 + 2 flow runs, some failed on purpose
    shoot(page, "launch-drill")

    page.get_by_text("Compare these patterns side by side").click()
    section = page.locator(".st-key-compare-isolation")
    expect(section.get_by_role("heading", name="Failure isolation")).to_be_visible(timeout=30_000)
    cells = section.get_by_test_id("stTable").locator("td")
    expect(cells.filter(has_text=re.compile("^yes$"))).to_have_count(4, timeout=30_000)
    expect(cells.filter(has_text="never learned its child failed")).to_have_count(1)
    section.screenshot(path=str(ARTIFACTS / "compare-isolation.png"))
    shoot(page, "compare-drill")


def test_a_github_fault_shows_its_message_retries_and_isolation(launch_page: Page):
    """GitHub answers 500: every pattern fails with GitHub's message, Prefect's retries, a hint."""
    page = launch_page
    page.get_by_label("Repository", exact=True).fill("faults/server-error")
    page.get_by_label("Repository", exact=True).press("Enter")
    page.get_by_text("live GitHub API").click()
    page.get_by_role("button", name="Launch").click()
    expect(page).to_have_url(re.compile(r"[?&]launch=[0-9a-f]{12}"), timeout=30_000)
    state = page.get_by_test_id("stMetricValue").first
    expect(state).to_have_text("Failed", timeout=RUN_TIMEOUT_MS)
    # 1 + 2 + 1 + 2 runs: each parent fails fetching the repository; the events alert fires,
    # shown as an alert, not as one more green "Completed"
    states = run_states(page, {"Completed", "Failed", "Alert fired (Completed)"}, count=6)
    assert states.count("Alert fired (Completed)") == 1, states
    cells = page.locator('[data-testid="stDataFrame"] td[role="gridcell"]')  # the grids' a11y
    expect(cells.filter(has_text="retried ×2: fetch_repo").first).to_be_attached()
    expect(page.get_by_text("GitHub had a server error (5xx)").first).to_be_visible()
    shoot(page, "launch-fault")
    page.get_by_text("Compare these patterns side by side").click()
    section = page.locator(".st-key-compare-isolation")
    expect(section.get_by_text("failed on its own")).to_be_visible(timeout=30_000)
    isolated = section.get_by_test_id("stTable").locator("td")
    expect(isolated.filter(has_text=re.compile("^yes$"))).to_have_count(4, timeout=30_000)
    section.screenshot(path=str(ARTIFACTS / "compare-fault-isolation.png"))


def test_the_sidebar_calls_the_entry_page_home(page: Page, streamlit_app: App):
    """The sidebar links Home, Launch, Compare and History; Streamlit's "app" entry is gone."""
    page.goto(f"{streamlit_app.url}/History")
    sidebar = page.get_by_test_id("stSidebar")
    for name in ("Home", "Launch", "Compare", "History"):
        expect(sidebar.get_by_role("link", name=name, exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    sidebar.get_by_role("link", name="Home", exact=True).click()
    expect(page.get_by_text("Embedded backend up")).to_be_visible(timeout=60_000)
    sidebar.screenshot(path=str(ARTIFACTS / "sidebar.png"))


def test_history_lists_past_launches(page: Page, streamlit_app: App):
    """History shows the launches of this session's server, with filters and an export."""
    page.goto(f"{streamlit_app.url}/History")
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible(timeout=60_000)
    cells = page.get_by_test_id("stDataFrame").first.locator('td[role="gridcell"]')
    for pattern in PATTERNS:  # the browser test's own launch ran all four
        expect(cells.filter(has_text=re.compile(f"^{pattern}$")).first).to_be_attached()
    shoot(page, "history")


def test_home_shows_the_patterns_and_backend(page: Page, streamlit_app: App):
    """Home draws the four run-tree diagrams and says the backend is up; the browser asks no
    host but the lab's for anything (no font or icon CDN), on Home and on Launch."""
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or urlsplit(r.url).scheme))
    page.goto(f"{streamlit_app.url}/Launch")
    expect(page.get_by_role("button", name="Launch")).to_be_visible(timeout=60_000)
    page.goto(streamlit_app.url)
    expect(page.get_by_text("Embedded backend up")).to_be_visible(timeout=60_000)
    diagrams = page.get_by_test_id("stGraphVizChart")
    expect(diagrams.nth(3).locator("svg")).to_be_visible(timeout=30_000)
    table = page.get_by_test_id("stDataFrame").locator('td[role="gridcell"]')
    expect(table.filter(has_text="Monoflow").first).to_be_attached(timeout=30_000)
    expect(page.locator(STALE)).to_have_count(0, timeout=30_000)
    shoot(page, "home")
    assert hosts <= {"127.0.0.1", "data", "blob"}, hosts


def test_the_scale_page_draws_six_curves(page: Page, streamlit_app: App):
    """The Scale page draws a saved scale result up to 128 repositories on log axes."""
    from patternlab.bench import scale, scale_report

    sizes, rows = (1, 8, 32, 128), []
    for i, (variant, (pattern, _)) in enumerate(scale_report.VARIANTS.items()):
        for n in sizes:  # made-up figures: this test looks at the drawing, not at the numbers
            rows.append({"variant": variant, "pattern": pattern, "repos": n, "completed": True,
                         "state": "Completed", "end_to_end_s": 1.5 + (0.02 + 0.1 * i) * n,
                         "wall_s": 2.0, "flow_runs": scale_report.expected_runs(pattern, n),
                         "task_runs": 4 * n, "processes": 1 + i % 3, "api_calls": 20 + 8 * n,
                         "peak_running": 1 + i % 4, "poll_ms": 40.0, "poll_calls": 3})  # fmt: skip
    quiet = {"repos": 128, "running": True, "poll_ms": 60.0, "poll_ms_max": 90.0, "poll_calls": 4}
    limits = {"cpus": 2, "runner_process_limit": 5}
    path = scale.result_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scale.assemble(rows, quiet, limits, {"sizes": list(sizes)})))
    page.goto(f"{streamlit_app.url}/Scale")
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts.nth(5).locator(".main-svg").first).to_be_visible(timeout=60_000)
    assert charts.count() == 6
    expect(page.get_by_text("Where each pattern saturates")).to_be_visible()
    expect(page.get_by_text("Synthetic data").first).to_be_visible()
    shoot(page, "scale")
