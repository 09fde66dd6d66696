"""Build the dashboard's plotly figures from the frames in patternlab.views (pure: no Streamlit).

Colours are defined here once: one per pattern (used wherever a pattern appears) and Prefect's own
colours for run states (ui-v2's STATE_COLORS), so the lab's views look like Prefect's.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

PATTERN_COLORS: dict[str, str] = {
    "monoflow": "#7C3AED",  # violet
    "subflows": "#0D9488",  # teal
    "deployments": "#DB2777",  # pink
    "events": "#B45309",  # ochre
    "all": "#4B5563",  # a series every pattern computed identically
}
# Prefect's state-type colours; a state name (Late, AwaitingRetry, ...) takes its type's colour.
STATE_COLORS: dict[str, str] = {
    "completed": "#219D4B",
    "failed": "#DE0529",
    "running": "#09439B",
    "cancelled": "#333333",
    "cancelling": "#334863",
    "crashed": "#EA580C",
    "paused": "#726576",
    "pending": "#8E8093",
    "scheduled": "#E08504",
    "unknown": "#9CA3AF",
    # Not a Prefect state: the proactive alert's run, shown as an alert, not as a green Completed.
    "alert": "#A21CAF",
}
WAITING_COLOR = "#D1D5DB"
# Parts of end-to-end time: (column, legend name, hatch, opacity). Bars keep their pattern's colour;
# the hatch and shade tell the parts apart, so the pattern colour stays the same everywhere.
# The queue shows as pick-up and process start once the launch is over (read then, once).
TIME_PARTS: tuple[tuple[str, str, str, float], ...] = (
    ("pickup_s", "pick-up (Scheduled → Pending)", "/", 0.55),
    ("process_start_s", "process start (Pending → Running)", "\\", 0.55),
    ("queue_unsplit_s", "queue (created → Running)", "|", 0.55),
    ("running_s", "runs running, many at once (work and orchestration overlap)", "+", 0.75),
    ("handoff_s", "hand-off (child/trigger → running)", "x", 0.75),
    ("held_s", "held on purpose (not orchestration)", "-", 0.2),
    ("work_s", "work (HTTP + arithmetic)", "", 1.0),
    ("overhead_s", "orchestration overhead", ".", 0.35),
)
COUNT_COLUMNS = (("flow_runs", "flow runs"), ("task_runs", "task runs"), ("processes", "processes"))


def pattern_color(pattern: str) -> str:
    """Return a pattern's colour (grey for anything unknown)."""
    return PATTERN_COLORS.get(pattern, "#6B7280")


def state_color(status: str) -> str:
    """Return Prefect's colour for a state type (our lower-case status)."""
    return STATE_COLORS.get(status, STATE_COLORS["unknown"])


def plain(text: object) -> str:
    """Escape text for a plotly label: plotly reads <b>, <a href> and friends in labels as HTML."""
    return html.escape(str(text), quote=False)


FONT = 15  # plotly's default is 12: too small on a projector
TITLE_FONT = 18


def _layout(fig: go.Figure, title: str, **extra: object) -> go.Figure:
    """Apply the lab's common layout to a figure (legend below it unless `extra` says otherwise)."""
    layout = {
        "title": {"text": title, "font": {"size": TITLE_FONT}},
        "font": {"size": FONT},  # axes, ticks, legends and labels: readable from a room's back
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
    }
    fig.update_layout(layout | extra)
    # Streamlit's theme draws ticks and legends at 12 px unless the figure names its own size
    # (measured in Chromium): a layout-wide font size is not enough.
    fig.update_xaxes(tickfont_size=FONT, title_font_size=FONT)
    fig.update_yaxes(tickfont_size=FONT, title_font_size=FONT)
    fig.update_layout(legend_font_size=FONT)
    return fig


MANY_BARS = 6  # more bars than this: drawn across, their labels in full on the left


def timings_figure(timings: pd.DataFrame) -> go.Figure:
    """Stack each pattern's end-to-end time from queue (pick-up, process start), hand-off,
    time held on purpose, work and overhead. A dozen bars (sizes or launches side by side)
    are drawn across, so their long labels read in full."""
    fig = go.Figure()
    colors = [pattern_color(p) for p in timings["pattern"]]
    labels = [plain(label) for label in timings["label"]]
    across = len(labels) > MANY_BARS

    def at(values: list) -> dict[str, list]:
        """Place values along the bars' axis: up (x: labels) or across (y: labels)."""
        if across:
            return {"x": values, "y": labels, "orientation": "h"}
        return {"x": labels, "y": values}

    for column, name, hatch, opacity in TIME_PARTS:
        if not timings[column].fillna(0.0).any():
            continue  # a part no pattern has (nothing held, the queue split already) stays out
        values = timings[column].fillna(0.0).round(3).tolist()
        value = "%{x:.3f}" if across else "%{y:.3f}"
        fig.add_bar(
            **at(values),
            name=name,
            legendgroup=column,
            showlegend=False,
            marker={"color": colors, "opacity": opacity, "pattern": {"shape": hatch}},
            hovertemplate=f"{'%{y}' if across else '%{x}'}<br>{name}: {value} s<extra></extra>",
        )
        # A grey stand-in carries the legend entry: the real bars hold four pattern colours.
        fig.add_bar(
            x=[None],
            y=[None],
            name=name,
            legendgroup=column,
            marker={"color": "#6B7280", "opacity": opacity, "pattern": {"shape": hatch}},
        )
    totals = timings["end_to_end_s"].tolist()
    text = [f"{t:.2f} s" if t is not None and t == t else "running" for t in totals]
    fig.add_scatter(
        **{k: v for k, v in at(totals).items() if k != "orientation"},
        mode="text",
        text=text,
        textposition="middle right" if across else "top center",
        showlegend=False,
        hoverinfo="skip",
        name="end-to-end",
    )
    if not across:
        return _layout(fig, "Where the time goes (end-to-end, seconds)", barmode="stack")
    fig = _layout(fig, "Where the time goes (end-to-end, seconds)", barmode="stack",
                  height=120 + 34 * len(labels))  # fmt: skip
    fig.update_yaxes(autorange="reversed")  # the first row on top, as in the table
    longest = max((t for t in totals if t is not None and t == t), default=0.0)
    fig.update_xaxes(range=[0, 1.15 * longest or 1])  # room for the totals on the right
    fig.update_layout(legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0})
    return fig


def counts_figure(counts: pd.DataFrame) -> go.Figure:
    """Group flow-run, task-run and process counts by pattern."""
    fig = go.Figure()
    names = [name for _, name in COUNT_COLUMNS]
    for row in counts.itertuples(index=False):
        fig.add_bar(
            x=names,
            y=[int(getattr(row, column)) for column, _ in COUNT_COLUMNS],
            name=plain(row.label),
            marker={"color": pattern_color(row.pattern)},
            text=[int(getattr(row, column)) for column, _ in COUNT_COLUMNS],
            textposition="outside",
        )
    return _layout(fig, "What ran", barmode="group", yaxis={"title": {"text": "count"}})


def timeline_figure(
    timeline: pd.DataFrame, now: datetime, marks: Sequence[tuple[str, datetime]] = ()
) -> go.Figure:
    """Draw each run as a Gantt bar: waiting (grey) then running/final in Prefect's state colour;
    `marks` are moments drawn as dashed lines (the alert window's end)."""
    fig = go.Figure()
    if timeline.empty:
        return _layout(fig, "Timeline (no runs yet)")
    for label, at in marks:
        fig.add_shape(
            type="line",
            x0=at,
            x1=at,
            y0=0,
            y1=1,
            yref="paper",
            line={"color": STATE_COLORS["alert"], "dash": "dash", "width": 1.5},
        )
        # Inside the plot, under its top edge: above it is where the legend sits.
        fig.add_annotation(x=at, y=1, yref="paper", text=plain(label), showarrow=False,
                           xanchor="left", yanchor="top", font={"size": FONT - 2,
                           "color": STATE_COLORS["alert"]})  # fmt: skip
    # A square in the pattern's colour ties each row to its pattern, as in every other chart.
    rows = [
        f"{plain(row)} <span style='color:{pattern_color(p)}'>■</span>"
        for row, p in zip(timeline["row"], timeline["pattern"], strict=True)
    ]
    created = pd.to_datetime(timeline["created"], utc=True)
    start = pd.to_datetime(timeline["start"], utc=True)
    end = pd.to_datetime(timeline["end"], utc=True).fillna(pd.Timestamp(now))
    waited = start.fillna(pd.Timestamp(now))
    fig.add_bar(
        y=rows,
        base=created,
        x=(waited - created).dt.total_seconds() * 1000,
        orientation="h",
        name="waiting (scheduled/pending)",
        marker={"color": WAITING_COLOR},
        hovertemplate="%{y}<br>waited %{customdata:.2f} s<extra></extra>",
        customdata=(waited - created).dt.total_seconds(),
    )
    ran = start.notna()
    fig.add_bar(
        y=[r for r, keep in zip(rows, ran, strict=True) if keep],
        base=start[ran],
        x=((end - start)[ran]).dt.total_seconds() * 1000,
        orientation="h",
        name="running / final state",
        marker={"color": [state_color(s) for s in timeline["status"][ran]]},
        text=timeline["state"][ran].tolist(),
        textposition="inside",
        customdata=((end - start)[ran]).dt.total_seconds(),
        hovertemplate="%{y}<br>%{text}: %{customdata:.2f} s<extra></extra>",
    )
    height = 120 + 28 * len(rows)
    return _layout(
        fig,
        "Timeline of the launch's flow runs",
        barmode="overlay",
        height=height,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        xaxis={"type": "date", "tickformat": "%H:%M:%S", "title": {"text": "time (UTC)"}},
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": rows},
    )


def _shared_note(frame: pd.DataFrame) -> str:
    """Say in a title that one series stands for every pattern (a lone trace has no legend)."""
    labels = frame["label"].unique().tolist()
    return (
        f" · {plain(labels[0])}" if len(labels) == 1 and (frame["pattern"] == "all").all() else ""
    )


def contributors_figure(contributors: pd.DataFrame) -> go.Figure:
    """Compare the top contributors' commit counts as each pattern computed them."""
    fig = go.Figure()
    for (pattern, label), part in contributors.groupby(["pattern", "label"], sort=False):
        fig.add_bar(
            y=[plain(login) for login in part["login"]],
            x=part["contributions"].tolist(),
            orientation="h",
            name=plain(label),
            marker={"color": pattern_color(str(pattern))},
        )
    height = 160 + 22 * contributors["login"].nunique() * max(len(fig.data), 1)
    return _layout(
        fig,
        "Top contributors (commits)" + _shared_note(contributors),
        barmode="group",
        height=min(height, 900),
        yaxis={"autorange": "reversed"},
    )


def weekly_figure(weekly: pd.DataFrame) -> go.Figure:
    """Plot weekly commit activity, one line per pattern (identical lines overlap)."""
    fig = go.Figure()
    for (pattern, label), part in weekly.groupby(["pattern", "label"], sort=False):
        fig.add_scatter(
            x=part["week"],
            y=part["commits"],
            mode="lines+markers",
            name=plain(label),
            line={"color": pattern_color(str(pattern))},
        )
    return _layout(
        fig,
        "Weekly commits (top contributors)" + _shared_note(weekly),
        hovermode="x unified",
        yaxis={"rangemode": "tozero"},
    )


# --- Home page: each pattern's run tree as a small Graphviz diagram ---------------------------

# (processes: [[flow, ...], ...], edges: [(from, to, label, style)]); "automation" is Prefect's.
_TREES: dict[str, tuple[list[list[str]], list[tuple[str, str, str, str]]]] = {
    "monoflow": ([["monoflow", "5 tasks"]], [("monoflow", "5 tasks", "calls", "solid")]),
    "subflows": (
        [["subflows-parent", "fetch-repo-data", "calculate-average-commits"]],
        [
            ("subflows-parent", "fetch-repo-data", "subflow", "solid"),
            ("subflows-parent", "calculate-average-commits", "subflow", "solid"),
        ],
    ),
    "deployments": (
        [["deployments-parent"], ["average-commits-child"]],
        [("deployments-parent", "average-commits-child", "run_deployment", "solid")],
    ),
    "events": (
        [["events-upstream"], ["events-downstream"], ["events-missed-alert"]],
        [
            ("events-upstream", "automation", "event:\\nCompleted", "dashed"),
            ("automation", "events-downstream", "runs", "solid"),
            ("automation", "events-missed-alert", "no event\\nin window", "dotted"),
        ],
    ),
}


def run_tree_dot(pattern: str) -> str:
    """Return a Graphviz diagram of a pattern's run tree, one box per OS process."""
    processes, edges = _TREES[pattern]
    color = pattern_color(pattern)
    lines = [
        "digraph {",
        # Larger type, read from the back of a room; mid-grey labels read on light and dark.
        'rankdir=LR; bgcolor="transparent"; fontname="Helvetica"; fontsize=14; ranksep=0.3;',
        'fontcolor="#6B7280"; color="#6B7280";',
        f'node [shape=box, style="rounded,filled", fillcolor="{color}", fontcolor="white",'
        ' fontname="Helvetica", fontsize=15];',
        'edge [fontname="Helvetica", fontsize=13, color="#6B7280", fontcolor="#6B7280"];',
    ]
    for number, flows in enumerate(processes, start=1):
        lines.append(f'subgraph cluster_{number} {{ label="process {number}"; style=dashed;')
        lines += [
            f'"{f}" [shape=note, fillcolor="#E5E7EB", fontcolor="#111827"];'
            if f.endswith("tasks")
            else f'"{f}";'
            for f in flows
        ]
        lines.append("}")
    if any("automation" in edge[:2] for edge in edges):
        lines.append('"automation" [shape=hexagon, fillcolor="#374151", label="automation"];')
    lines += [f'"{a}" -> "{b}" [label="{label}", style={style}];' for a, b, label, style in edges]
    lines.append("}")
    return "\n".join(lines)
