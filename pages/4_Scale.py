"""Scale: each pattern's cost against the number of repositories (the scale benchmark's curves)."""

from __future__ import annotations

import streamlit as st

from patternlab import ui, views
from patternlab.ui.glossary_view import page_intro
from patternlab.views import scale, scale_charts

ui.page("Scale")
st.title("Scale")
page_intro(
    "See how each pattern's cost grows with the number of repositories it computes.",
    key="scale_glossary",
)
st.caption(
    "Each pattern over the first N repositories of the synthetic organisation, one run at a "
    "time on a backend of its own, as `python -m patternlab bench --scale 1,8,32,128` measures "
    "it. Both axes are logarithmic: a straight line of slope 1 is a cost that grows with N."
)

result = ui.scale_result()
if result is None:
    st.info(
        "No scale benchmark yet. Run `python -m patternlab bench --scale 1,8,32,128` "
        "(18-26 minutes on 2 cores); this page then draws its curves.",
        icon=":material/trending_up:",
    )
    st.stop()

st.warning(
    "**Synthetic data:** the offline snapshot's generated organisation. The figures say how "
    "each pattern scales on this machine, nothing about real repositories.",
    icon=":material/science:",
)
st.caption(views.escape_md(scale.measured_note(result)))
curves = scale.curves_frame(result)
for left, right in zip(scale.CURVES[::2], scale.CURVES[1::2], strict=True):
    cols = st.columns(2)
    for col, (column, title, unit) in zip(cols, (left, right), strict=True):
        figure = scale_charts.curve_figure(curves, column, title, unit)
        col.plotly_chart(figure, key=f"scale-{column}")
left_out = scale.left_out(curves)
if left_out:  # a log axis cannot draw them; an unfinished launch is no measurement
    st.caption("Not drawn: " + views.escape_md("; ".join(left_out)) + ".")

st.header("Where each pattern saturates")
for variant, note in result.get("saturation", {}).items():
    st.markdown(f"- **{views.escape_md(variant)}**: {views.escape_md(note)}")
limits = result.get("limits", {})
runner = limits.get("runner_process_limit")
st.caption(
    f"Limits on this backend: {limits.get('cpus', '?')} cores; the runner starts "
    + (f"at most {runner} flow processes at once" if runner else "flow processes without limit")
    + "; the deployments pattern's child deployment runs 4 at once (its concurrency limit)."
)

st.header("Targets")
st.dataframe(scale.targets_frame(result), hide_index=True)
st.caption(scale.poll_note(result.get("quiet_poll", {})))

st.header("Every point")
by_variant = scale.points_by_variant(curves)
for tab, rows in zip(st.tabs(list(by_variant)), by_variant.values(), strict=True):
    tab.dataframe(rows, hide_index=True, column_config={
        "marginal ms": st.column_config.TextColumn(help="Change in end-to-end time from the "
                                                   "previous N, per added repository"),
        "at once": st.column_config.TextColumn(help="Most flow runs running at the same time"),
        "poll ms": st.column_config.TextColumn(help="One dashboard poll of this launch while it "
                                               "ran (median), under its own load"),
    })  # fmt: skip
st.caption(
    "API requests: every request the benchmark's Prefect server answered during the run (its "
    "access log), from the runner, the flow processes and the lab creating the entry runs, "
    "less the benchmark's own polls. Task runs cost no request: their states travel as events "
    "over one websocket. Marginal cost: the change in end-to-end time from the previous N, per "
    "added repository. N=1 is the one-repository path every pattern had before fan-out."
)
