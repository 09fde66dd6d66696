"""Compare's "report to send" button: the comparison as one self-contained HTML file.

Kept apart from the Compare page's body so the page only gains one call. The file is built
when the button is clicked (Streamlit's deferred download data), not on every rerun.
"""

from __future__ import annotations

import streamlit as st

from patternlab.launch import LaunchReport
from patternlab.views.report_html import build_html_report, report_facts


def report_download(reports: list[LaunchReport], *, extra: str = "", key: str = "report") -> None:
    """Offer the launches' comparison as a self-contained HTML report (opens offline)."""
    if not reports:
        return
    ids = "-".join(r.launch_id[:12] for r in reports)
    st.download_button(
        "Download the report (HTML)",
        data=lambda: build_html_report(reports, report_facts(), extra=extra),
        file_name=f"patternlab-{ids}.html",
        mime="text/html",
        icon=":material/download:",
        key=f"{key}_download",
        on_click="ignore",
        help="One file to send: charts, run trees, separations, statistics with their source, "
        "execution mode, versions, machine and date. It opens offline.",
    )
