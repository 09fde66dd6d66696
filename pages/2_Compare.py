"""Compare: the patterns of one launch (or several from History) side by side."""

from __future__ import annotations

import streamlit as st

from patternlab import ui
from patternlab.ui import backend_panel
from patternlab.ui.compare_view import live_comparison, show_comparison
from patternlab.ui.glossary_view import page_intro
from patternlab.ui.logs_view import show_launch_link
from patternlab.ui.report_download import report_download

ui.page("Compare")
st.title("Compare")
page_intro(
    "Set the patterns of a launch side by side: where the time goes, what ran where, what each "
    "separated, and what a failure did.",
    key="compare_glossary",
)


def _choose_launches() -> list[str]:
    """Return the launch ids to compare: from the URL, else the picker (newest by default)."""
    wanted = [i for i in st.query_params.get_all("launch") if i]
    try:
        labels = ui.launch_choices()
    except Exception as exc:  # noqa: BLE001 - shown as a message; the URL's launches still work
        ui.show_error_or_wait(exc)
        labels = {}
    options = list(dict.fromkeys([*wanted, *labels]))
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
        format_func=lambda i: labels.get(i, f"{i} (not among the recent launches)"),
        key="compare_launches",
        help="One launch of all four patterns, or several launches (also from History).",
        placeholder="pick launches by time, repository, patterns, drill, variant",
    )
    if picked != wanted:
        st.query_params["launch"] = picked  # the URL names what is compared: shareable
    return picked


chosen = _choose_launches()
if not chosen:
    st.info(
        "Pick a launch above to compare its patterns, or several launches to set them side by "
        "side (History finds them by repository, drill or variant).",
        icon=":material/touch_app:",
    )
    st.page_link("pages/3_History.py", label="Find launches in History", icon=":material/history:")
    st.stop()
reads = [ui.try_read_report(i) for i in chosen]
found = [r for r, _ in reads if r is not None]
if len(found) == 1 == len(chosen):  # a known launch: every run of it in Prefect's UI
    show_launch_link(found[0].launch_id)
for _, error in reads:
    if error is not None:
        ui.show_error(error)
if any(backend_panel.is_backend_down(error) for _, error in reads):
    backend_panel.stop_until_backend_answers()
if all(r.done for r in found):
    report_download(found, key="compare")
    show_comparison(found)
else:
    live_comparison(chosen)
