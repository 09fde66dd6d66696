"""History: every past launch read back from the Prefect server, filtered, paginated, exportable."""

from __future__ import annotations

import math

import streamlit as st

from patternlab import ui, ui_backend, ui_runs, views
from patternlab.models import PATTERNS

ALL = "all"
STATES = ["completed", "failed", "crashed", "cancelled", "running", "pending", "scheduled"]
PAGE_SIZES = [25, 50, 100, 200]  # 200 is the Prefect API's largest page
EXPORT_MAX_ROWS = 10_000

ui.page("History", ":material/history:")
st.title("History")
st.caption(
    "Each row is one pattern of one launch (its entry flow run), read from the Prefect server: "
    "the same in every browser, and still there after the app restarts. *end-to-end s* is the "
    "pattern's whole time, as on Compare; *entry run s* is the entry run's own running time."
)


cols = st.columns([2, 3, 2, 2, 1])
pattern = cols[0].selectbox(
    "Pattern",
    [ALL, *PATTERNS],
    key="history_pattern",
    format_func=lambda p: p if p == ALL else views.pattern_title(p),
)
repo = cols[1].text_input("Repository", key="history_repo", placeholder="owner/name (exact)")
source = cols[2].selectbox("Source", [ALL, "auto", "github", "snapshot"], key="history_source")
state = cols[3].selectbox("State", [ALL, *STATES], key="history_state")
size = cols[4].selectbox("Rows", PAGE_SIZES, key="history_size")
filters = {
    "pattern": None if pattern == ALL else pattern,
    "repo": repo.strip() or None,
    "source": None if source == ALL else source,
    "status": None if state == ALL else state,
}
# One pager per filter set: changing a filter starts again at page 1, with no state to reset.
pager = "history_page-" + "-".join(str(v) for v in [*filters.values(), size])
number = st.session_state.get(pager, 1)
try:
    found = ui.history(**filters, limit=size, offset=(number - 1) * size)
except Exception as exc:  # noqa: BLE001 - bad repository text, server trouble: shown as messages
    ui.show_error(exc)
    if ui_backend.is_backend_down(exc):
        ui_backend.stop_until_backend_answers()
    st.stop()

if found.total == 0:
    st.info(
        "No launches match these filters. Start one on the Launch page.",
        icon=":material/search_off:",
    )
    st.page_link("pages/1_Launch.py", label="Launch patterns", icon=":material/rocket_launch:")
    st.stop()

pages = max(math.ceil(found.total / size), 1)
first_row = (number - 1) * size + 1
st.caption(f"{found.total} runs match · rows {first_row}–{first_row + len(found.rows) - 1}")
st.dataframe(
    ui_runs.paint_states(views.history_frame(found.rows)),
    hide_index=True,
    column_order=[
        "launch",
        "pattern",
        "repository",
        "source",
        "state",
        "created",
        views.END_TO_END_S,
        views.ENTRY_RUN_S,
        "compare",
        "prefect",
    ],
    column_config={
        "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm:ss"),
        views.END_TO_END_S: st.column_config.NumberColumn(
            format="%.2f",
            help="From the entry run's creation to the end of the pattern's last run (subflows, "
            "deployment child, triggered run; not the proactive alert), as on Compare. "
            "Empty while any of them is still to come or running.",
        ),
        views.ENTRY_RUN_S: st.column_config.NumberColumn(
            format="%.2f",
            help="How long the entry flow run itself ran (Prefect's run time), without its "
            "subflows, child or triggered runs.",
        ),
        "compare": st.column_config.LinkColumn("compare", display_text="open ↗"),
        "prefect": st.column_config.LinkColumn("Prefect UI", display_text="open run ↗"),
    },
    key="history_table",
    height="content",  # the whole page of rows: the pager below is the only scrolling
)
st.pagination(pages, key=pager)


def _export() -> str:
    """Return every row that matches the filters as CSV (read page by page when clicked)."""
    rows, offset = [], 0
    while offset < min(found.total, EXPORT_MAX_ROWS):
        chunk = ui.history(**filters, limit=200, offset=offset).rows
        if not chunk:
            break
        rows += chunk
        offset += len(chunk)
    return views.history_frame(rows).to_csv(index=False)


open_cols = st.columns([3, 1, 1], vertical_alignment="bottom")
picked = open_cols[0].multiselect(
    "Open in Compare",
    views.unique_launches(found.rows),
    key="history_open",
    placeholder="launches on this page",
)
if open_cols[1].button(
    "Compare", disabled=not picked, key="history_compare", icon=":material/bar_chart:"
):
    st.switch_page("pages/2_Compare.py", query_params={"launch": picked})
open_cols[2].download_button(
    "Export CSV",
    _export,
    file_name="pattern-lab-history.csv",
    mime="text/csv",
    key="history_csv",
    icon=":material/download:",
    help=f"All matching rows (up to {EXPORT_MAX_ROWS:,})",
)
