"""Home: the four patterns at a glance, their documented separations, and the backend's health.

It answers at once: nothing here waits for the backend, which starts in the background with
its progress shown in place (patternlab/ui/home_start.py).
"""

from __future__ import annotations

import streamlit as st

from patternlab import views
from patternlab.launch import PATTERN_INFO
from patternlab.ui import glossary_view, home_start, page_setup
from patternlab.views import charts

page_setup.page_at_once("Home")

st.title("Pattern Lab")
glossary_view.page_intro(
    "One job — a GitHub repository's stars, forks, contributors, commits and average commits per "
    "contributor — composed in **Prefect's four dataflow patterns**, run for real on a Prefect "
    "server, and compared: what each pattern costs, and what it separates.",
    key="home_glossary",
    terms=["conceptual", "execution", "awareness", "entry", "hand-off", "proactive window"],
)

backend_slot = st.container()  # filled last: the static content below never waits for it

st.header("The four patterns")
cards = [cell for _ in range(2) for cell in st.columns(2, border=True)]
for card, info in zip(cards, PATTERN_INFO.values(), strict=True):
    with card:
        st.subheader(info.title)
        st.caption(info.summary)
        st.graphviz_chart(charts.run_tree_dot(info.name), width="content")
        traits = [t for t, on in zip(views.TRAITS, info.documented, strict=True) if on]
        st.markdown("Separates: " + (", ".join(f"**{t}**" for t in traits) or "nothing"))
        st.caption(f"Code: `{info.module}`")

st.header("Documented separation")
st.dataframe(
    views.documented_frame(),
    hide_index=True,
    column_config={
        trait: st.column_config.CheckboxColumn(trait, help=help_text)
        for trait, help_text in (
            ("conceptual", "more than one flow: the work is split into named flows"),
            ("execution", "more than one OS process runs the flows"),
            ("awareness", "a flow is started by an automation, not by code that names it"),
        )
    },
)
st.caption(
    "The Compare page shows what each pattern was *observed* to separate in a real launch, "
    "next to this table, and flags any difference."
)

st.header("Try it")
go_launch, go_compare, go_history = st.columns(3)
go_launch.page_link("pages/1_Launch.py", label="Launch patterns", icon=":material/rocket_launch:")
go_compare.page_link("pages/2_Compare.py", label="Compare a launch", icon=":material/bar_chart:")
go_history.page_link("pages/3_History.py", label="Browse history", icon=":material/inventory_2:")

home_start.backend_in_place(backend_slot)
