"""Tests for patternlab.views: the tables the pages show, built from hand-made reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from patternlab import views
from patternlab.models import (
    PATTERNS,
    Contributor,
    FlowRunInfo,
    HistoryRow,
    LaunchReport,
    PatternReport,
    RepoStats,
    Separation,
    Timings,
    WeekCommits,
)

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# (flow, role, parent flow, created_by) per pattern, in the shape the lab reads them back.
RUNS = {
    "monoflow": [("monoflow", "entry", None, "lab")],
    "subflows": [
        ("subflows-parent", "entry", None, "lab"),
        ("fetch-repo-data", "subflow", "subflows-parent", "parent flow"),
        ("calculate-average-commits", "subflow", "subflows-parent", "parent flow"),
    ],
    "deployments": [
        ("deployments-parent", "entry", None, "lab"),
        ("average-commits-child", "deployment-child", "deployments-parent", "parent flow"),
    ],
    "events": [
        ("events-upstream", "entry", None, "lab"),
        ("events-downstream", "triggered", None, "automation"),
    ],
}
OBSERVED = {
    "monoflow": (False, False, False),
    "subflows": (True, False, False),
    "deployments": (True, True, False),
    "events": (True, True, True),
}


def build_stats(stars: int = 100) -> RepoStats:
    """Return statistics as a flow publishes them from the snapshot."""
    return RepoStats(
        repo="PrefectHQ/prefect", source="snapshot", source_note="Offline sample (2026-11-20)",
        snapshot_date="2026-11-20", description="<b>Prefect</b> [x](javascript:1)", stars=stars,
        forks=20, open_issues=3, watchers=4, default_branch="main", contributors=2, commits=30,
        avg_commits_per_contributor=15.0,
        top_contributors=[Contributor(login="bob", contributions=10),
                          Contributor(login="alice", contributions=20)],
        weekly_commits=[WeekCommits(week=T0 - timedelta(days=7 * i), commits=i) for i in range(3)],
    )  # fmt: skip


def build_pattern(pattern: str, index: int, *, state: str = "Completed") -> PatternReport:
    """Return one finished pattern whose numbers are distinct per pattern (index 0..3)."""
    runs, ids = [], {}
    c, e, a = OBSERVED[pattern]
    for n, (flow, role, parent, by) in enumerate(RUNS[pattern]):
        ids[flow] = f"{pattern}-{n}"
        created = T0 + timedelta(seconds=n)
        runs.append(
            FlowRunInfo(
                id=ids[flow], name=f"run-{n}", flow=flow, role=role, state=state,
                status=state.lower(), pid=1000 + n * e, host="h", parent_id=ids.get(parent),
                created_by=by, created=created, start=created + timedelta(seconds=1),
                end=created + timedelta(seconds=3), ui_url=f"http://ui/runs/flow-run/{ids[flow]}",
                task_runs=2,
            )
        )  # fmt: skip
    return PatternReport(
        pattern=pattern, state=state, status=state.lower(), done=True, stats=build_stats(),
        flow_runs=runs, task_runs=2 * len(runs), processes=len({r.pid for r in runs}),
        separation=Separation(conceptual=c, execution=e, awareness=a),
        timings=Timings(end_to_end_s=10.0 + index, queue_s=1.0 + index, execution_s=5.0,
                        handoff_s=0.5 * index, work_s=2.0, overhead_s=3.0),
    )  # fmt: skip


def build_report(launch_id: str = "abc123def456", patterns=PATTERNS) -> LaunchReport:
    """Return a finished launch of the given patterns."""
    return LaunchReport(
        launch_id=launch_id, repo="PrefectHQ/prefect", source="snapshot", created=T0, done=True,
        patterns=[build_pattern(p, i) for i, p in enumerate(patterns)],
    )  # fmt: skip


def test_entries_label_each_pattern_once_and_add_the_launch_when_repeated():
    """A pattern appearing in two launches gets the launch id in its label, others do not."""
    items = views.entries([build_report("aaaaaa111111"), build_report("bbbbbb222222", ["events"])])
    labels = [e.label for e in items]
    assert labels[:3] == ["Monoflow", "Flow of subflows", "Flow of deployments"]
    assert labels[3:] == ["Event-triggered flow · aaaaaa", "Event-triggered flow · bbbbbb"]


def test_run_tree_puts_children_under_their_parent():
    """Subflow runs follow their parent, indented, and keep Prefect's state names and links."""
    frame = views.run_tree_frame(build_pattern("subflows", 1), T0 + timedelta(seconds=10))
    assert frame["run"].tolist() == [
        "subflows-parent", "\u2003↳ fetch-repo-data", "\u2003↳ calculate-average-commits",
    ]  # fmt: skip
    assert set(frame["state"]) == {"Completed"}
    assert frame["prefect"][0] == "http://ui/runs/flow-run/subflows-0"
    assert frame["task runs"].tolist() == [2, 2, 2]
    assert frame["ran s"].tolist() == [2.0, 2.0, 2.0]


def test_run_tree_marks_runs_an_automation_started():
    """A triggered run is a root (nothing names it) marked as started by the automation."""
    frame = views.run_tree_frame(build_pattern("events", 3), T0)
    assert frame["run"].tolist() == ["events-upstream", "⇢ events-downstream"]
    assert frame["started by"].tolist() == ["lab", "automation"]


def test_running_runs_measure_elapsed_time_up_to_now():
    """A run still running counts its time to now; one not started has no running time."""
    report = build_pattern("deployments", 2)
    report.flow_runs[0].status, report.flow_runs[0].end = "running", None
    report.flow_runs[1].status, report.flow_runs[1].start = "scheduled", None
    report.flow_runs[1].end = None
    frame = views.run_tree_frame(report, T0 + timedelta(seconds=11))
    assert frame["ran s"][0] == 10.0
    assert pd.isna(frame["ran s"][1])
    assert frame["waited s"][1] == 10.0


def test_waiting_runs_are_reported_after_the_limit():
    """A run that sat Scheduled past the limit is named, so the page can point at the runner."""
    report = build_report(patterns=["monoflow"])
    run = report.patterns[0].flow_runs[0]
    run.status, run.state, run.start, run.end = "scheduled", "Late", None, None
    assert views.waiting_runs(report, T0 + timedelta(seconds=10)) == []
    assert views.waiting_runs(report, T0 + timedelta(seconds=45)) == [
        "monoflow (Monoflow) has been Late for 45 s"
    ]


def test_timings_frame_holds_every_part_per_pattern():
    """The timings table has one row per pattern with the report's seconds."""
    frame = views.timings_frame(views.entries([build_report()]))
    assert frame["pattern"].tolist() == list(PATTERNS)
    assert frame["end_to_end_s"].tolist() == [10.0, 11.0, 12.0, 13.0]
    assert frame["handoff_s"].tolist() == [0.0, 0.5, 1.0, 1.5]


def test_counts_frame_counts_runs_tasks_and_processes():
    """Counts come from the report: flow runs listed, task runs and processes as observed."""
    frame = views.counts_frame(views.entries([build_report()]))
    assert frame["flow_runs"].tolist() == [1, 3, 2, 2]
    assert frame["task_runs"].tolist() == [2, 6, 4, 4]


def test_separation_frame_flags_an_observation_that_differs_from_the_docs():
    """A pattern observed running in one process, documented as separate, is flagged."""
    report = build_report()
    report.patterns[2].separation.execution = False  # deployments: documented as separate
    items = views.entries([report])
    frame = views.separation_frame(items).set_index("pattern")
    assert frame.loc["monoflow", "matches docs"] == "yes"
    assert frame.loc["deployments", "matches docs"] == "NO: execution"
    assert frame.loc["deployments", "execution"] == "✗  (documented ✓)"
    assert views.mismatches(items[2]) == ["execution: observed no, documented yes"]


def test_stats_disagreements_name_the_differing_figures():
    """Patterns that computed different star counts are reported; identical figures are not."""
    report = build_report()
    assert views.stats_disagreements(views.entries([report])) == []
    report.patterns[1].stats = build_stats(stars=101)
    assert views.stats_disagreements(views.entries([report])) == ["Stars"]


def test_identical_contributors_are_shown_once():
    """When every pattern computed the same contributors, one shared series is returned."""
    frame = views.contributors_frame(views.entries([build_report()]))
    assert frame["pattern"].unique().tolist() == [views.ALL_AGREE]
    assert frame["login"].tolist() == ["alice", "bob"]  # most commits first


def test_differing_weekly_commits_are_shown_per_pattern():
    """When one pattern's weekly commits differ, every pattern keeps its own series."""
    report = build_report()
    report.patterns[0].stats.weekly_commits[0].commits = 99
    frame = views.weekly_frame(views.entries([report]))
    assert frame["pattern"].unique().tolist() == list(PATTERNS)


def test_source_label_says_snapshot_figures_are_approximate_and_dated():
    """Snapshot statistics are labelled with the snapshot's note and flagged as snapshot."""
    label, snapshot = views.source_label(views.entries([build_report()]))
    assert snapshot
    assert "2026-11-20" in label


def test_escape_md_shows_outside_text_literally():
    """Markdown links, emphasis, HTML and $-LaTeX in outside text are escaped."""
    escaped = views.escape_md("<b>x</b> [a](javascript:1) *b* $x$")
    assert "\\<b\\>" in escaped
    assert "\\[a\\]\\(javascript\\:1\\)" in escaped
    assert "\\*b\\*" in escaped
    assert "\\$x\\$" in escaped


@pytest.mark.parametrize(
    ("message", "hint_word"),
    [
        ("GitHub rate limit exceeded; resets at 12:00", "GITHUB_TOKEN"),
        ("Repository x/y not found (404)", "owner/name"),
        ("something odd", "Prefect UI"),
    ],
)
def test_error_hint_says_what_to_do(message, hint_word):
    """Each known failure gets an action; anything else points at the run's logs."""
    assert hint_word in views.error_hint(message)


def test_history_frame_links_each_row_to_its_compare_view():
    """History rows become a table with a relative Compare link and the Prefect UI link."""
    row = HistoryRow(
        launch_id="abc", pattern="monoflow", repo="a/b", source="snapshot", state="Completed",
        status="completed", created=T0, duration_s=1.5, flow_run_id="r1", ui_url="http://ui/r1",
    )  # fmt: skip
    frame = views.history_frame([row, row])
    assert frame["compare"].tolist() == ["Compare?launch=abc"] * 2
    assert frame["prefect"][0] == "http://ui/r1"
    assert "launch,pattern,repository" in frame.to_csv(index=False)
    assert views.unique_launches([row, row]) == ["abc"]


def test_launch_state_and_elapsed_follow_the_runs():
    """A done launch is Completed and its elapsed time stops at its last run's end."""
    report = build_report()
    assert views.launch_state(report) == "Completed"
    assert views.elapsed_s(report, T0 + timedelta(hours=1)) == 5.0
    report.patterns[0].state = "Failed"
    assert views.launch_state(report) == "Failed"


def test_flow_excerpt_starts_at_the_first_definition():
    """The shown code skips the docstring and imports and says which line it starts at."""
    source = (
        '"""Doc."""\n\nfrom prefect import flow\n\n\n@flow(name="x")\ndef x() -> None:\n    pass\n'
    )
    assert views.flow_excerpt(source) == (6, '@flow(name="x")\ndef x() -> None:\n    pass')
