"""Figures for repeated runs and for the Scale view (pure: tables in, plotly figures out)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from patternlab.views.charts import _layout, pattern_color, plain
from patternlab.views.scale import drawable


def spread_figure(spread: pd.DataFrame) -> go.Figure:
    """Draw each pattern's median end-to-end time with whiskers from its min to its max."""
    fig = go.Figure()
    for row in spread.itertuples(index=False):
        fig.add_bar(
            x=[plain(row.label)],
            y=[row.median_s],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [row.max_s - row.median_s],
                "arrayminus": [row.median_s - row.min_s],
            },  # fmt: skip
            marker={"color": pattern_color(row.pattern)},
            name=plain(row.label),
            text=[f"{row.median_s:.2f} s (n={row.runs})"],
            textposition="outside",
        )
    return _layout(fig, "End-to-end: median, whiskers min to max (seconds)", showlegend=False,
                   yaxis={"rangemode": "tozero"})  # fmt: skip


def curve_figure(curves: pd.DataFrame, column: str, title: str, unit: str) -> go.Figure:
    """Draw one measure against the number of repositories, one line per pattern, log axes."""
    fig = go.Figure()
    # Log axes on both sides, always: what they cannot draw is named under the charts
    # (views.scale.left_out), not drawn as a measurement nor turned into a linear axis.
    for (variant, pattern), part in curves.groupby(["variant", "pattern"], sort=False):
        part = drawable(part, column)
        if part.empty:
            continue
        fig.add_scatter(
            x=part["repos"], y=part[column], mode="lines+markers", name=plain(variant),
            line={"color": pattern_color(str(pattern)),
                  "dash": "dot" if str(variant).endswith(("dask", "concurrent")) else "solid"},
            hovertemplate=f"%{{x}} repositories<br>%{{y:.3g}} {unit}<extra></extra>",
        )  # fmt: skip
    # Ticks at the measured N and at powers of ten: log axes' 2-and-5 labels crowd half a page.
    sizes = sorted(curves["repos"].dropna().unique().tolist())
    xaxis = {"type": "log", "title": {"text": "repositories (N)"}, "tickvals": sizes}
    return _layout(fig, title, xaxis=xaxis, yaxis={"type": "log", "dtick": 1,
                   "title": {"text": unit}}, height=400,
                   legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0})  # fmt: skip
