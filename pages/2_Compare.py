"""Compare: the patterns of one launch (or several from History) side by side."""

from __future__ import annotations

import streamlit as st

from patternlab import ui, views
from patternlab.ui import backend_panel
from patternlab.ui.compare_view import live_comparison, show_comparison

ui.page("Compare", ":material/bar_chart:")
st.title("Compare")


def _choose_launches() -> list[str]:
    """Return the launch ids to compare: from the URL, else the picker (newest by default)."""
    wanted = [i for i in st.query_params.get_all("launch") if i]
    try:
        recent = views.unique_launches(ui.history(limit=200).rows)
    except Exception as exc:  # noqa: BLE001 - shown as a message; the URL's launches still work
        ui.show_error_or_wait(exc)
        recent = []
    options = list(dict.fromkeys([*wanted, *recent]))
    if not options:
        st.info(
            "No launches on this Prefect server yet: start one on the Launch page.",
            icon=":material/rocket_launch:",
        )
        st.page_link("pages/1_Launch.py", label="Launch patterns", icon=":material/rocket_launch:")
        st.stop()
    picked = st.multiselect(
        "Launches",
        options,
        default=wanted or options[:1],
        key="compare_launches",
        help="One launch of all four patterns, or several launches (also from History).",
    )
    if picked != wanted:
        st.query_params["launch"] = picked  # the URL names what is compared: shareable
    return picked


chosen = _choose_launches()
reads = [ui.try_read_report(i) for i in chosen]
found = [r for r, _ in reads if r is not None]
for _, error in reads:
    if error is not None:
        ui.show_error(error)
if any(backend_panel.is_backend_down(error) for _, error in reads):
    backend_panel.stop_until_backend_answers()
if all(r.done for r in found):
    show_comparison(found)
else:
    live_comparison(chosen)
