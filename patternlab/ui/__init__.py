"""Streamlit helpers: the only modules besides app.py and pages/ that import Streamlit.

`page` sets a page up (backend check, sidebar, errors), `reads` reads launches for a page,
`runs` draws run trees and failure isolation, `launch_view` and `compare_view` are the bodies
of the Launch and Compare pages, `backend_panel` what a page shows while the server is away.
"""

from patternlab.ui.page_setup import (
    now,
    page,
    require_backend,
    share_secret_token,
    show_error,
    show_error_or_wait,
)
from patternlab.ui.reads import (
    app_url,
    history,
    history_csv,
    launch_choices,
    launch_notices,
    read_report,
    recover_runner,
    scale_result,
    snapshot_repos,
    start_launch,
    try_read_report,
)

__all__ = [
    "app_url", "history", "history_csv", "launch_choices", "launch_notices", "now", "page",
    "read_report", "recover_runner",
    "require_backend", "scale_result", "share_secret_token", "show_error",
    "show_error_or_wait", "snapshot_repos", "start_launch", "try_read_report",
]  # fmt: skip
