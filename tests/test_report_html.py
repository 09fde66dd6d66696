"""The report to send: one self-contained HTML file, escaped, with what a reader needs."""

from __future__ import annotations

import re

import pytest

from patternlab.views.report_html import build_html_report, report_facts
from tests.conftest import TEST_TOKEN
from tests.helpers import build_report, fail_run


def test_the_report_inlines_plotly_and_requests_nothing():
    """plotly.js is inside the file; no script, stylesheet or image is loaded from elsewhere."""
    page = build_html_report([build_report()], report_facts())
    assert "Plotly" in page
    assert len(page) > 3_000_000  # plotly.js itself, not a link to it
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"<img[^>]+src=['\"]?https?:", page)
    assert page.count("Plotly.newPlot") >= 4  # time, counts, contributors, weekly, timeline


def test_the_report_names_its_context():
    """Execution mode, data source label, versions, machine and date are all in the file."""
    page = build_html_report([build_report()], report_facts())
    for words in ("Execution mode", "serve (one runner)", "Offline sample (2026-11-20)",
                  "Prefect", "3.9.1", "Pattern Lab", "Machine", "Report made",
                  "Where the time goes", "Separation: observed vs documented",
                  "Repository statistics", "Runs", "events-downstream"):  # fmt: skip
        assert words in page, words


def test_outside_text_is_escaped_and_secrets_stay_out():
    """A run message or repository description cannot inject HTML; no token is in the file."""
    report = build_report()
    fail_run(report.patterns[0], "monoflow", "<script>alert(1)</script>")
    page = build_html_report([report], report_facts())
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Prefect</b>" not in page
    assert "&lt;b&gt;Prefect&lt;/b&gt;" in page
    assert TEST_TOKEN not in page


def test_an_empty_report_is_refused():
    """Nothing to report is a clear error, not an empty file."""
    with pytest.raises(ValueError, match="at least one launch"):
        build_html_report([], report_facts())


def test_only_a_fanout_report_explains_its_overlapping_runs():
    """The note on runs that overlap is for launches of several repositories only."""
    one = build_report()
    assert "Over several repositories" not in build_html_report([one], report_facts())
    many = build_report()
    many.patterns[0].repos = 128
    page = build_html_report([many], report_facts())
    assert "Over several repositories the runs overlap" in page
    assert "work_per_repo_ms" in page
