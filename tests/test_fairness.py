"""Fair comparisons: sequential by default, repeats as medians with min-max, overlap warnings.

Pure checks on hand-built reports, then the Compare and Launch pages (AppTest) on real
launches of the embedded backend.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import streamlit as st

from patternlab import views
from patternlab.launch import launch, wait_for_launch
from patternlab.views import fanout
from tests.helpers import build_report
from tests.test_pages import open_page, shown, wait_done


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Start every test with empty Streamlit caches (they outlive AppTest instances)."""
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    st.cache_data.clear()


def _shift(report, pattern: str, seconds: float) -> None:
    """Move every run of one pattern of a hand-built report later by some seconds."""
    p = next(p for p in report.patterns if p.pattern == pattern)
    for r in p.flow_runs:
        r.created += timedelta(seconds=seconds)
        r.start += timedelta(seconds=seconds)
        r.end += timedelta(seconds=seconds)


def test_overlapping_patterns_are_named_with_how_long():
    """Two patterns whose runs shared 2 s of a 3 s span: named, with seconds and share."""
    report = build_report(patterns=["monoflow", "deployments"])
    _shift(report, "deployments", 1.0)  # monoflow T0..T0+3 s; deployments T0+1..T0+5 s
    lines = fanout.overlaps(views.entries([report]))
    assert lines == [
        "Monoflow and Flow of deployments ran at the same time for 2.0 s (67 % of the shorter one)"
    ]


def test_patterns_one_after_another_do_not_overlap():
    """No warning when each pattern starts after the previous one ended."""
    report = build_report(patterns=["monoflow", "deployments"])
    _shift(report, "deployments", 10.0)
    assert fanout.overlaps(views.entries([report])) == []


def test_a_launch_of_patterns_all_at_once_is_contended():
    """Order "together" with more than one pattern is contended; sequential is not."""
    together, fair = build_report("aaa"), build_report("bbb")
    together.order, fair.order = "together", "sequential"
    assert fanout.contended([together, fair]) == ["aaa"]


def test_repeated_runs_give_median_min_and_max():
    """Three rounds of one pattern: their median end-to-end with its min and max."""
    report = build_report(patterns=["monoflow", "monoflow", "monoflow"])
    report.repeat = 3
    for i, (p, e2e) in enumerate(zip(report.patterns, [4.0, 1.0, 2.0], strict=True)):
        p.round, p.timings.end_to_end_s = i, e2e
    spread = fanout.spread_frame(views.entries([report]))
    row = spread.iloc[0]
    assert (row["runs"], row["median_s"], row["min_s"], row["max_s"]) == (3, 2.0, 1.0, 4.0)
    assert [e.label for e in views.entries([report])] == ["Monoflow #1", "Monoflow #2",
                                                          "Monoflow #3"]  # fmt: skip


def test_queued_patterns_are_not_set_side_by_side():
    """A pattern still waiting for its turn is not compared (it has no runs yet)."""
    report = build_report(patterns=["monoflow", "events"])
    report.patterns[1].queued = True
    assert [e.pattern for e in views.entries([report])] == ["monoflow"]


@pytest.fixture(scope="module")
def repeated(lab_backend):
    """Monoflow twice, one round after the other (the default order)."""
    return wait_for_launch(launch(["monoflow"], "apache/airflow", "snapshot", repeat=2),
                           timeout_s=180)  # fmt: skip


@pytest.fixture(scope="module")
def together(lab_backend):
    """Monoflow and subflows started at once (contended)."""
    return wait_for_launch(launch(["monoflow", "subflows"], "apache/airflow", "snapshot",
                                  order="together"), timeout_s=180)  # fmt: skip


def test_compare_shows_medians_with_min_max_for_a_repeated_launch(repeated):
    """Two rounds of monoflow: a median with min-max, and no contended or overlap warning."""
    assert [p.round for p in repeated.patterns] == [0, 1]
    first, second = repeated.patterns
    assert second.flow_runs[0].created >= first.flow_runs[0].end  # round after round
    at = open_page("pages/2_Compare.py", launch=repeated.launch_id)
    table = next(t.value for t in at.dataframe if "median_s" in t.value.columns)
    assert table["runs"].tolist() == [2]
    times = sorted(p.timings.end_to_end_s for p in repeated.patterns)
    assert table["min_s"].tolist() == [times[0]]
    assert table["max_s"].tolist() == [times[1]]
    words = " ".join(shown(w.value) for w in at.warning)
    assert "Contended" not in words
    assert "Overlapped" not in words


def test_compare_labels_an_all_at_once_launch_contended_and_says_the_overlap(together):
    """All at once: a contended warning, and exactly the overlaps the runs' times show."""
    assert together.order == "together"
    at = open_page("pages/2_Compare.py", launch=together.launch_id)
    words = [shown(w.value) for w in at.warning]
    assert any("Contended" in w and together.launch_id in w for w in words), words
    expected = fanout.overlaps(views.entries([together]))
    assert [w for w in words if "Overlapped" in w] == [f"**Overlapped:** {line}."
                                                        for line in expected]  # fmt: skip


def test_the_launch_page_fans_out_over_an_owners_repositories(lab_backend):
    """Owner and limit on the Launch page: a fan-out launch whose aggregate the page shows."""
    at = open_page("pages/1_Launch.py")
    at.multiselect(key="launch_patterns").set_value(["monoflow"])
    at.radio(key="launch_workload").set_value("owner").run()
    at.text_input(key="launch_owner").set_value("patternlab-synthetic")
    at.number_input(key="launch_limit").set_value(3)
    at.radio(key="launch_source").set_value("snapshot")
    at.button(key="launch_go").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    launch_id = at.query_params["launch"]
    assert launch_id.endswith("-n3")
    assert wait_done(launch_id).patterns[0].aggregate.repositories == 3
    at = open_page("pages/1_Launch.py", launch=launch_id)
    totals = next(t.value for t in at.dataframe if "repositories" in t.value.columns)
    assert totals["repositories"].tolist() == [3]
    assert totals["synthetic"].tolist() == ["yes"]
    assert any("Synthetic data" in shown(w.value) for w in at.warning)


def test_a_hostile_name_in_the_pages_list_launches_nothing(lab_backend):
    """One bad name in a list: the page names it and its position; no launch is created."""
    at = open_page("pages/1_Launch.py")
    at.radio(key="launch_workload").set_value("list").run()
    at.text_area(key="launch_repos").set_value("PrefectHQ/prefect\n../../etc/passwd")
    at.button(key="launch_go").click().run()
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1, errors
    assert "Repository 2 of 2" in errors[0]
    assert "path traversal" in errors[0]
    assert "launch" not in at.query_params
