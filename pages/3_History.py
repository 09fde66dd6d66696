"""History: every past launch read back from the Prefect server, filtered, paginated, exportable."""

from __future__ import annotations

import math

import streamlit as st

from patternlab import ui, views
from patternlab.launch import PATTERNS
from patternlab.ui.runs import show_history_table

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
# The source each launch used (the lab resolves `auto` before launching).
source = cols[2].selectbox("Source", [ALL, "github", "snapshot"], key="history_source")
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
    ui.show_error_or_wait(exc)
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
show_history_table(found.rows)
st.pagination(pages, key=pager)


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
    lambda: ui.history_csv(EXPORT_MAX_ROWS, **filters),
    file_name="pattern-lab-history.csv",
    mime="text/csv",
    key="history_csv",
    icon=":material/download:",
    help=f"All matching rows (up to {EXPORT_MAX_ROWS:,})",
)
