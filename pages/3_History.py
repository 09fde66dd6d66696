"""History: every past launch read back from the Prefect server, filtered, paginated, exportable."""

from __future__ import annotations

import math

import streamlit as st

from patternlab import ui, views
from patternlab.launch import DRILLS, PATTERNS
from patternlab.ui.glossary_view import page_intro
from patternlab.ui.runs import show_history_table

ALL = "all"
STATES = ["completed", "failed", "crashed", "cancelled", "running", "pending", "scheduled"]
VARIANTS = ["wait", "fire-and-forget"]
PAGE_SIZES = [25, 50, 100, 200]  # 200 is the Prefect API's largest page
EXPORT_MAX_ROWS = 10_000
FILTERS = [  # (widget key, label, choices); each kept in the URL under its key (bind)
    ("history_source", "Source", [ALL, "github", "snapshot"]),
    ("history_state", "State", [ALL, *STATES]),
    ("history_drill", "Drill", [ALL, *DRILLS]),
    ("history_variant", "Variant", [ALL, *VARIANTS]),
    ("history_size", "Rows", PAGE_SIZES),
]

ui.page("History")
st.title("History")
page_intro(
    "Find any past launch by what it was (repository, patterns, drill, variant, state) and open "
    "it in Compare; every row is read from the Prefect server.",
    key="history_glossary",
    terms=["entry", "end-to-end", "drill"],
)
# Every filter is bound to the URL (Streamlit's bind="query-params"): a copied link opens the
# same rows in another browser; values a link gets wrong are dropped by Streamlit.
cols = st.columns([2, 3, 2, 2, 2, 2, 1.4])
pattern = cols[0].selectbox(
    "Pattern", [ALL, *PATTERNS], key="history_pattern", bind="query-params",
    format_func=lambda p: p if p == ALL else views.pattern_title(p),
)  # fmt: skip
repo = cols[1].text_input("Repository", key="history_repo", placeholder="owner/name (any case)",
                          bind="query-params")  # fmt: skip
source, state, drill, variant, size = (
    col.selectbox(label, choices, key=key, bind="query-params")
    for col, (key, label, choices) in zip(cols[2:], FILTERS, strict=True)
)
filters = {
    "pattern": None if pattern == ALL else pattern,
    "repo": repo.strip() or None,
    "source": None if source == ALL else source,
    "status": None if state == ALL else state,
    "drill": None if drill == ALL else drill,
    "variant": None if variant == ALL else variant,
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
st.caption(f"{found.total:,} runs match · rows {first_row}–{first_row + len(found.rows) - 1}")
show_history_table(found.rows)
st.pagination(pages, key=pager)

labels = views.launch_labels(found.rows)
open_cols = st.columns([3, 1, 1], vertical_alignment="bottom")
picked = open_cols[0].multiselect(
    "Open in Compare", list(labels), format_func=labels.get, key="history_open",
    placeholder="launches on this page, by what they were",
)  # fmt: skip
if open_cols[1].button(
    "Compare", disabled=not picked, key="history_compare", icon=":material/bar_chart:"
):
    st.switch_page("pages/2_Compare.py", query_params={"launch": picked})
base_url = ui.app_url()  # the exported Compare links are absolute: they open from anywhere
open_cols[2].download_button(
    "Export CSV",
    lambda: ui.history_csv(EXPORT_MAX_ROWS, base_url, **filters),
    file_name="pattern-lab-history.csv",
    mime="text/csv",
    key="history_csv",
    icon=":material/download:",
    help=f"All matching rows (up to {EXPORT_MAX_ROWS:,}), with absolute links to Compare",
)
