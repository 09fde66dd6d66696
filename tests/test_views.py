"""Tests for patternlab.views: the tables the pages show, built from hand-made reports."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from patternlab import views
from patternlab.launch import PATTERNS, FlowRunInfo, HistoryRow, LaunchReport, Progress
from patternlab.launch.metrics import build_pattern_report
from patternlab.launch.models import Aggregate, RepoRank
from patternlab.views import charts
from patternlab.views import failures as views_failures
from patternlab.views import fanout as views_fanout
from patternlab.views import launches as views_launches
from patternlab.views import stats as views_stats
from tests.helpers import (
    T0,
    add_alert_run,
    build_pattern,
    build_report,
    build_stats,
    fail_run,
)


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


def _deployments_report(*, child_ran: bool) -> LaunchReport:
    """Return a finished deployments launch whose parent failed (the upstream drill), with or
    without a child run that ran in the parent's own process."""
    parent = FlowRunInfo(
        id="p", name="p", flow="deployments-parent", state="Failed", status="failed", pid=7,
        host="h", created=T0, start=T0 + timedelta(seconds=1), end=T0 + timedelta(seconds=2),
    )  # fmt: skip
    runs = [parent]
    if child_ran:
        runs.append(parent.model_copy(update={
            "id": "c", "flow": "average-commits-child", "role": "deployment-child",
            "parent_id": "p", "state": "Completed", "status": "completed"}))  # fmt: skip
    now = T0 + timedelta(seconds=60)
    pattern = build_pattern_report("deployments", runs, None, now=now, variant="wait")
    return LaunchReport(launch_id="drill0000001", repo="o/r", source="snapshot", done=True,
                        drill="upstream", patterns=[pattern])  # fmt: skip


def test_a_trait_whose_runs_never_ran_is_not_observed_rather_than_different():
    """Under the upstream drill the deployments child never runs: conceptual and execution are
    "not observed (the run that would show it did not run)", not flagged as differing."""
    report = _deployments_report(child_ran=False)
    (entry,) = views.entries([report])
    assert report.patterns[0].separation.not_observed == ["conceptual", "execution"]
    frame = views.separation_frame([entry]).iloc[0]
    assert frame["matches docs"] == "yes (not observed: conceptual, execution)"
    assert frame["conceptual"] == frame["execution"] == "– not observed"
    assert frame["awareness"] == "✗"
    assert views.mismatches(entry) == []
    assert views.unobserved(entry) == [
        "conceptual: not observed (the run that would show it did not run)",
        "execution: not observed (the run that would show it did not run)",
    ]


def test_a_trait_observed_and_different_is_still_flagged():
    """A child that ran in its parent's process is observed, and differs from the docs."""
    (entry,) = views.entries([_deployments_report(child_ran=True)])
    assert entry.report.separation.not_observed == []
    assert views.separation_frame([entry]).iloc[0]["matches docs"] == "NO: execution"
    assert views.mismatches(entry) == ["execution: observed no, documented yes"]


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
    assert views_stats.stats_disagreements(views.entries([report])) == []
    report.patterns[1].stats = build_stats(stars=101)
    assert views_stats.stats_disagreements(views.entries([report])) == ["Stars"]


def test_identical_contributors_are_shown_once():
    """When every pattern computed the same contributors, one shared series is returned."""
    frame = views_stats.contributors_frame(views.entries([build_report()]))
    assert frame["pattern"].unique().tolist() == [views_stats.ALL_AGREE]
    assert frame["login"].tolist() == ["alice", "bob"]  # most commits first


def test_differing_weekly_commits_are_shown_per_pattern():
    """When one pattern's weekly commits differ, every pattern keeps its own series."""
    report = build_report()
    report.patterns[0].stats.weekly_commits[0].commits = 99
    frame = views_stats.weekly_frame(views.entries([report]))
    assert frame["pattern"].unique().tolist() == list(PATTERNS)


def test_source_label_says_snapshot_figures_are_approximate_and_dated():
    """Snapshot statistics are labelled with the snapshot's note and flagged as snapshot."""
    label, snapshot = views_stats.source_label(views.entries([build_report()]))
    assert snapshot
    assert "2026-11-20" in label


def test_escape_md_shows_outside_text_literally():
    """Markdown links, emphasis, HTML and $-LaTeX in outside text are escaped."""
    escaped = views.escape_md("<b>x</b> [a](javascript:1) *b* $x$")
    assert "\\<b\\>" in escaped
    assert "\\[a\\]\\(javascript\\:1\\)" in escaped
    assert "\\*b\\*" in escaped
    assert "\\$x\\$" in escaped


# The state messages the runner's flows really end with (seen on the fake GitHub's faults).
FAULT_MESSAGES = {
    "rate-limited": (
        "RateLimited: GitHub API rate limit used up (60 requests per hour); it resets at "
        "2026-11-25 16:53:36 UTC: wait for the reset", "GITHUB_TOKEN"),
    "secondary-limit": (
        "RateLimited: GitHub's secondary rate limit was hit; retry after 60 seconds",
        "secondary limit"),
    "server-error": (
        "GitHubUnavailable: GitHub answered 500 Internal Server Error to GET "
        "/repos/faults/server-error: 'Server Error'; try again later", "server error (5xx)"),
    "slow": (
        "GitHubUnavailable: GitHub API at http://127.0.0.1:1 unreachable: no answer within 3 s "
        "(timeout); try again later", "PATTERNLAB_GITHUB_TIMEOUT_S"),
    "malformed": (
        "UnexpectedResponse: GitHub answered GET /repos/faults/malformed with invalid JSON",
        "GITHUB_API_URL is a GitHub API"),
    "hang-up": (
        "GitHubUnavailable: GitHub API at http://127.0.0.1:1 unreachable: the server closed the "
        "connection without answering; try again later", "connection to GitHub broke"),
    "missing": (
        "RepositoryNotFound: Repository faults/missing not found on http://127.0.0.1:1, or it "
        "is private and the token in GITHUB_TOKEN cannot read it", "owner/name"),
    "computing": ("statistics for a/b are still being computed", "in a minute"),
    "drill": (
        "DrillFailure: Failure drill: the child step failed on purpose", "Failure isolation"),
    "crashed": (
        "Crashed: its process (pid 12) died with the lab's runner", "launch again"),
}  # fmt: skip


@pytest.mark.parametrize("fault", list(FAULT_MESSAGES))
def test_error_hint_says_what_to_do_for_each_fault(fault):
    """Each GitHub fault, a drill and a crash get their own action, not the generic pointer."""
    message, hint_word = FAULT_MESSAGES[fault]
    hint = views_failures.error_hint(f"run-1 (monoflow) ended Failed: {message}")
    assert hint_word in hint
    assert hint != views_failures.GENERIC_HINT


def test_error_hints_are_distinct_per_fault():
    """No two faults share a hint: each message says something specific."""
    hints = [views_failures.error_hint(m) for m, _ in FAULT_MESSAGES.values()]
    assert len(set(hints)) == len(hints)


def test_unknown_errors_point_at_the_logs():
    """Anything unrecognised points at the run's logs in the Prefect UI."""
    assert "Prefect UI" in views_failures.error_hint("something odd")


def test_run_tree_shows_retries_and_the_state_message():
    """A retried task and a failed run's message (without Prefect's prefix) are in the tree."""
    report = build_pattern("monoflow", 0)
    run = fail_run(report, "monoflow", "Flow run encountered an exception: GitHubUnavailable: 500")
    run.retried_tasks = ["fetch_repo-8cc", "fetch_repo-8cc", "fetch_contributors-bbf"]
    frame = views.run_tree_frame(report, T0)
    assert frame["retries"][0] == "retried ×2: fetch_repo, ×1: fetch_contributors"
    assert frame["message"][0] == "GitHubUnavailable: 500"
    assert views.run_tree_frame(build_pattern("monoflow", 0), T0)["retries"][0] == ""


def test_statistics_still_computing_are_named():
    """Statistics GitHub was still computing get a note; complete ones none."""
    report = build_pattern("monoflow", 0)
    assert views_failures.computing_note(report) is None
    report.stats.stats_status = "computing"
    assert "still being computed" in views_failures.computing_note(report)


def _isolation(report: LaunchReport, window_s: float = 10.0) -> pd.DataFrame:
    """Return the failure-isolation table of one launch, indexed by pattern."""
    outcomes = views_failures.isolation_outcomes(views.entries([report]), [report], window_s)
    return views_failures.isolation_frame(outcomes).set_index("pattern")


def _child_drill() -> LaunchReport:
    """Return a finished child drill in which every pattern did what it is documented to do."""
    report = build_report(drill="child")
    report.patterns[2].variant = "wait"  # as read back: the parent waits for its child
    fail_run(report.patterns[0], "monoflow")
    for pattern, flows in ((1, ("subflows-parent", "calculate-average-commits")),
                           (2, ("deployments-parent", "average-commits-child")),
                           (3, ("events-downstream",))):  # fmt: skip
        for flow in flows:
            fail_run(report.patterns[pattern], flow)
    return report


def test_isolation_is_shown_for_drills_fired_alerts_and_failures_only():
    """A plain launch that completed has no failure isolation; a drill, alert or failure has."""
    report = build_report()
    assert not views_failures.shows_isolation(report)
    assert _isolation(report).empty
    add_alert_run(report.patterns[3])
    assert views_failures.shows_isolation(report)
    assert views_failures.shows_isolation(build_report(drill="child"))
    failed = build_report(patterns=["monoflow"])
    fail_run(failed.patterns[0], "monoflow")
    assert views_failures.shows_isolation(failed)


def test_an_unplanned_failure_is_compared_with_the_docs_for_the_step_that_failed():
    """Without a drill, a failed child is held to the child drill's documentation, and so on."""
    report = build_report(patterns=["monoflow", "events"])
    fail_run(report.patterns[0], "monoflow", "GitHubUnavailable: GitHub answered 500")
    fail_run(report.patterns[1], "events-downstream", "GitHubUnavailable: GitHub answered 500")
    frame = _isolation(report)
    assert frame["drill"].tolist() == ["upstream (unplanned)", "child (unplanned)"]
    assert frame["matches docs"].tolist() == ["yes", "yes"]
    assert frame.loc["events", "what the parent did"] == "continued: never learned its child failed"
    outcomes = views_failures.isolation_outcomes(views.entries([report]), [report], 10.0)
    assert "failed on its own" in views_failures.drill_caption(outcomes)


def test_isolation_rows_match_the_documentation_under_a_child_drill():
    """Each pattern's parent, child and alert are set against the docs, with the reason."""
    frame = _isolation(_child_drill())
    assert frame["matches docs"].tolist() == ["yes"] * 4
    assert (
        frame.loc["deployments", "what the parent did"] == "failed: its child's failure reached it"
    )
    assert frame.loc["events", "what the parent did"] == "continued: never learned its child failed"
    assert frame.loc["monoflow", "child step"] == "—"
    assert frame.loc["events", "proactive alert"] == "not fired"
    assert "never learns" in frame.loc["events", "documented"]


def test_isolation_flags_a_pattern_that_differs_from_the_docs():
    """A waiting deployments parent that completed although its child failed is flagged."""
    report = _child_drill()
    parent = report.patterns[2].flow_runs[0]
    parent.state, parent.status = "Completed", "completed"
    frame = _isolation(report)
    assert frame.loc["deployments", "matches docs"] == "NO: parent"
    assert frame.loc["deployments", "parent"] == "completed  (documented failed)"
    outcomes = views_failures.isolation_outcomes(views.entries([report]), [report], 10.0)
    assert views_failures.isolation_mismatches(outcomes[2][1]) == [
        "parent: observed completed, documented failed"
    ]


def test_an_upstream_held_past_its_window_is_expected_to_fire_the_alert():
    """With no drill, an upstream that ran past the window fires the alert, as documented."""
    report = build_report(patterns=["events"])
    upstream = report.patterns[0].flow_runs[0]
    upstream.end = upstream.start + timedelta(seconds=12)
    add_alert_run(report.patterns[0])
    frame = _isolation(report)
    assert frame.loc["events", "proactive alert"] == "fired"
    assert frame.loc["events", "matches docs"] == "yes"
    assert "past its 10 s window" in frame.loc["events", "documented"]
    assert _isolation(report, window_s=60.0).loc["events", "matches docs"] == "NO: proactive alert"


def test_isolation_waits_for_a_running_launch():
    """A drill still running has no isolation rows yet (the outcome is not known)."""
    report = _child_drill()
    report.done = False
    assert _isolation(report).empty


def test_history_frame_links_each_row_to_its_compare_view():
    """History rows become a table with a relative Compare link and the Prefect UI link."""
    row = HistoryRow(
        launch_id="abc", pattern="monoflow", repo="a/b", source="snapshot", state="Completed",
        status="completed", created=T0, duration_s=1.5, end_to_end_s=2.25, flow_run_id="r1",
        ui_url="http://ui/r1",
    )  # fmt: skip
    frame = views.history_frame([row, row])
    assert frame[views.ENTRY_RUN_S].tolist() == [1.5, 1.5]  # labelled as what it is
    assert frame[views.END_TO_END_S].tolist() == [2.25, 2.25]
    assert frame["compare"].tolist() == ["Compare?launch=abc"] * 2
    assert frame["prefect"][0] == "http://ui/r1"
    assert "launch,created,repository,patterns,pattern,drill,variant,hold s" in frame.to_csv(
        index=False
    )
    assert views.unique_launches([row, row]) == ["abc"]


def test_exported_history_links_open_compare_from_anywhere():
    """With the app's address, each row's Compare link is absolute (the CSV opens anywhere)."""
    row = HistoryRow(
        launch_id="abc", pattern="events", repo="a/b", source="snapshot", state="Completed",
        status="completed", created=T0, flow_run_id="r1", patterns=list(PATTERNS),
        drill="child", variant="fire-and-forget", hold_s=12.0,
    )  # fmt: skip
    frame = views.history_frame([row], base_url="http://127.0.0.1:8501/")
    assert frame["compare"][0] == "http://127.0.0.1:8501/Compare?launch=abc"
    assert frame[["patterns", "drill", "variant", "hold s"]].iloc[0].tolist() == [
        "all 4", "child", "fire-and-forget", 12.0,
    ]  # fmt: skip


def test_a_launch_is_named_by_what_it_was_not_by_its_id():
    """A picker's label gives time, repository, patterns, drill, variant and hold."""
    row = HistoryRow(
        launch_id="abcdef0123456789", pattern="events", repo="a/b", source="snapshot",
        state="Completed", status="completed", created=T0, flow_run_id="r1",
        patterns=["deployments", "events"], drill="child", variant="fire-and-forget", hold_s=12,
    )  # fmt: skip
    assert views.launch_labels([row, row]) == {
        "abcdef0123456789": (
            f"{T0:%Y-%m-%d %H:%M} · a/b · deploy+events · drill: child · fire-and-forget"
            " · hold 12 s · abcdef01"
        )
    }


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


def test_the_proactive_alert_run_is_shown_as_an_alert():
    """The alert's Completed run reads "Alert fired" in its own colour, not as a green Completed,
    in the run tree and on the timeline."""
    report = build_report(patterns=["events"])
    add_alert_run(report.patterns[0])
    tree = views.run_tree_frame(report.patterns[0], T0 + timedelta(seconds=20))
    alert = tree[tree["role"] == "alert"].iloc[0]
    assert (alert["state"], alert["status"]) == ("Alert fired (Completed)", "alert")
    timeline = views.timeline_frame(report)
    assert timeline["status"].tolist() == ["completed", "completed", "alert"]


def test_the_timeline_marks_the_alert_windows_end():
    """The events upstream's window end (its start plus the window) is marked on the timeline."""
    report = build_report(patterns=["monoflow", "events"])
    marks = views.alert_deadlines(report, 10)
    assert marks == [("alert window ends (10 s after the upstream started)",
                      T0 + timedelta(seconds=11))]  # fmt: skip
    fig = charts.timeline_figure(views.timeline_frame(report), T0, marks)
    assert [s.x0 for s in fig.layout.shapes] == [T0 + timedelta(seconds=11)]
    assert fig.layout.annotations[0].text == "alert window ends (10 s after the upstream started)"


def test_the_alert_marks_label_sits_inside_the_plot_clear_of_the_legend():
    """The legend sits on top of the timeline at the right; the mark's label hangs below it."""
    report = build_report(patterns=["events"])
    marks = views.alert_deadlines(report, 10)
    fig = charts.timeline_figure(views.timeline_frame(report), T0, marks)
    assert (fig.layout.legend.yanchor, fig.layout.legend.y) == ("bottom", 1.0)
    (label,) = fig.layout.annotations
    assert (label.yref, label.y, label.yanchor) == ("paper", 1, "top")


def test_a_launch_with_a_failed_pattern_says_failed_before_its_last_run():
    """A launch whose outcome is settled (a pattern failed) says so while runs are still due."""
    report = build_report(patterns=["events"])
    report.done = False
    report.patterns[0].state = "Failed"
    assert views.launch_state(report) == "Failed · runs still due"


def test_many_launches_read_as_one_median_bar_per_pattern():
    """Six launches of four patterns become four rows: each part's median, the spread and n."""
    reports = [build_report(f"launch{i:06d}") for i in range(6)]
    reports[0].patterns[0].timings.end_to_end_s = 40.0  # one slow monoflow run
    items = views.entries(reports)
    assert len(items) == 24
    grouped = views_launches.per_pattern_medians(views.timings_frame(items))
    assert grouped["pattern"].tolist() == list(PATTERNS)
    monoflow = grouped.iloc[0]
    assert monoflow["label"] == "Monoflow (median of 6)"
    assert monoflow["end_to_end_s"] == 10.0  # the median shrugs off the slow run
    assert (monoflow["min_s"], monoflow["max_s"]) == (10.0, 40.0)


def test_top_repositories_show_stars_as_whole_numbers_and_ratios_as_they_are():
    """Stars are a count (2,335, not 2,335.00); commits per contributor keep their fraction."""
    pattern = build_report(patterns=["monoflow"]).patterns[0]
    pattern.aggregate = Aggregate(
        repositories=2, stars=2435, forks=0, open_issues=0, contributors=3, commits=9,
        avg_commits_per_contributor=3.0,
        top_by_stars=[RepoRank(repo="o/a", value=2335.0), RepoRank(repo="o/b", value=100.0)],
        top_by_commits_per_contributor=[RepoRank(repo="o/b", value=43.68)],
    )  # fmt: skip
    stars = views_fanout.top_frame(pattern, "stars")
    assert stars["stars"].tolist() == [2335, 100]
    assert pd.api.types.is_integer_dtype(stars["stars"])
    ratio = views_fanout.top_frame(pattern, "commits per contributor")
    assert ratio["commits per contributor"].tolist() == [43.68]


def test_a_fanout_read_by_counts_is_summed_by_its_counts_not_by_the_lead_runs_read():
    """While a launch runs a fan-out's report holds its lead run only: its totals are the
    counts (all 129 flow runs), and task runs counted with other patterns at once are None."""
    pattern = build_report(patterns=["subflows"]).patterns[0]
    read = (len(pattern.flow_runs), pattern.task_runs)
    assert (views_fanout.flow_run_count(pattern), views_fanout.task_run_count(pattern)) == read
    pattern.progress = Progress(expected_runs=129, runs={"completed": 120, "running": 9},
                                task_runs=125)  # fmt: skip
    assert views_fanout.flow_run_count(pattern) == 129
    assert views_fanout.task_run_count(pattern) == 125
    tree = views.run_tree_frame(pattern, pattern.flow_runs[0].created)
    assert tree["task runs"].isna().all()  # the lead's own tasks are not read yet: no 0 shown
    pattern.progress.task_runs = None
    assert views_fanout.task_run_count(pattern) is None


def test_launches_of_different_sizes_are_named_and_their_medians_kept_apart():
    """One launch of 1 repository beside two of 128: Compare names the sizes, and the medians
    are per pattern and size (a time grows with the repositories computed)."""
    reports = [build_report(f"{i}" * 6 + "abcdef") for i in range(3)]
    for r in reports[1:]:
        r.repos = 128
        for p in r.patterns:
            p.repos = 128
            p.timings.end_to_end_s = 90.0
    assert views_fanout.sizes_differ(reports) == (
        "1 repository (000000); 128 repositories (111111, 222222)"
    )
    assert views_fanout.sizes_differ(reports[1:]) is None
    grouped = views_launches.per_pattern_medians(views.timings_frame(views.entries(reports)))
    monoflow = grouped[grouped["pattern"] == "monoflow"].set_index("repos")
    assert monoflow.loc[1, "label"] == "Monoflow · 1 repository (median of 1)"
    assert monoflow.loc[128, "label"] == "Monoflow · 128 repositories (median of 2)"
    assert (monoflow.loc[1, "end_to_end_s"], monoflow.loc[128, "end_to_end_s"]) == (10.0, 90.0)
