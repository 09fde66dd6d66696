"""How a failure spreads, on one time axis: the patterns as swimlanes (pure: report -> figure).

Each pattern is a lane; each flow run a bar (grey while it waits, then its state's colour) inside
a dashed box per OS process (and a solid box per host in pool mode). Arrows show who started
whom: a subflow call, a `run_deployment` hand-off, a Completed event that an automation turned
into a run, the proactive alert after its window. A failed run says whether its failure reached
its parent or stopped at the boundary. Prefect's UI draws one run graph at a time and never
links runs across an event: this view does.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import plotly.graph_objects as go

from patternlab.launch import FlowRunInfo, LaunchReport, alert_deadline
from patternlab.views.charts import STATE_COLORS, WAITING_COLOR, plain, state_color
from patternlab.views.labels import pattern_title

FAILED = ("failed", "crashed")
ARROW = {"subflow": "#374151", "deployment-child": "#DB2777", "triggered": "#B45309"}
ARROW_TEXT = {
    "subflow": "subflow call",
    "deployment-child": "run_deployment",
    "triggered": "Completed event → automation → run",
}
REACHED, STOPPED = "failure reached the parent", "failure stopped at the boundary"
FONT = 14  # read from the back of a room


def _rows(report: LaunchReport) -> list[tuple[str, list[FlowRunInfo]]]:
    """Return each pattern's runs, grouped so each process's runs sit on adjacent rows."""
    lanes = []
    for p in report.patterns:
        if p.queued or not p.flow_runs:
            continue
        runs = sorted(p.flow_runs, key=lambda r: (r.host or "", r.pid or 0, r.created))
        lanes.append((p.pattern, runs))
    return lanes


def _box(fig: go.Figure, x0: datetime, x1: datetime, y0: float, y1: float, **style) -> None:
    """Draw a rectangle around runs (a process or a host)."""
    fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, layer="below", **style)


def _arrow(fig: go.Figure, tail: tuple, head: tuple, color: str, text: str) -> None:
    """Draw an arrow from tail to head (data coordinates), labelled at its tail."""
    fig.add_annotation(
        x=head[0], y=head[1], ax=tail[0], ay=tail[1], axref="x", ayref="y", xref="x", yref="y",
        showarrow=True, arrowhead=3, arrowsize=1.3, arrowwidth=2, arrowcolor=color,
        text=plain(text), font={"size": FONT - 2, "color": color}, xanchor="left",
        yanchor="bottom", standoff=2,
    )  # fmt: skip


def _bars(fig: go.Figure, placed: list[tuple[float, FlowRunInfo, str]], now: datetime) -> None:
    """Draw each run as a waiting bar then a bar in its state's colour, named inside."""
    for y, run, _ in placed:
        start, end = run.start, run.end or now
        _box(fig, run.created, start or now, y - 0.18, y + 0.18, fillcolor=WAITING_COLOR,
             line={"width": 0})  # fmt: skip
        if start is not None:
            _box(fig, start, end, y - 0.32, y + 0.32, fillcolor=state_color(run.status),
                 line={"width": 0})  # fmt: skip
    fig.add_scatter(
        x=[r.start or r.created for _, r, _ in placed],
        y=[y for y, _, _ in placed],
        mode="text",
        text=[f"  {plain(r.flow)} · {plain(r.state)}" for _, r, _ in placed],
        textposition="middle right",
        textfont={"size": FONT},  # the theme's text colour: readable light or dark
        hovertext=[
            f"{plain(r.flow)}: {plain(r.state)}"
            + (f" ({plain(r.message)[:120]})" if r.message else "")
            for _, r, _ in placed
        ],  # fmt: skip
        hoverinfo="text",
        showlegend=False,
    )


def _processes(fig: go.Figure, placed: list, now: datetime, pool: bool) -> None:
    """Box each process's runs (dashed) and, in pool mode, each host's (solid)."""
    for level, key_of in ((0, lambda r: (r.host, r.pid)), (1, lambda r: r.host)):
        if level == 1 and not pool:
            break
        groups: dict[tuple, list] = defaultdict(list)
        for y, run, pattern in placed:
            if run.pid or (level == 1 and run.host):
                groups[(pattern, key_of(run))].append((y, run))
        pad = 0.42 + 0.08 * level
        for (_, key), members in groups.items():
            x0 = min(r.created for _, r in members)
            x1 = max(r.end or now for _, r in members)
            ys = [y for y, _ in members]
            label = f"host {key}" if level else f"process {key[1]} @ {key[0]}"
            _box(
                fig,
                x0,
                x1,
                min(ys) - pad,
                max(ys) + pad,
                line={"color": "#6B7280", "width": 1 + level, "dash": "solid" if level else "dot"},
            )
            fig.add_annotation(x=x0, y=min(ys) - pad, text=plain(label), showarrow=False,
                               xanchor="left", yanchor="bottom", font={"size": FONT - 1,
                               "color": "#6B7280"})  # fmt: skip


def _links(fig: go.Figure, placed: list, now: datetime) -> None:
    """Draw who started whom, and where each failure went."""
    at = {run.id: (y, run) for y, run, _ in placed}
    entries = {p: (y, r) for y, r, p in placed if r.role == "entry"}
    for y, run, pattern in placed:
        parent = at.get(run.parent_id or "")
        if run.role == "triggered" and pattern in entries:
            parent = entries[pattern]
        if parent is None or run.role not in ARROW:
            continue
        py, prun = parent
        tail_x = prun.end if run.role == "triggered" and prun.end else run.created
        _arrow(fig, (tail_x, py), (run.created, y), ARROW[run.role], ARROW_TEXT[run.role])
        if run.status in FAILED and run.end:
            reached = prun.status in FAILED and run.role != "triggered"
            text = REACHED if reached else STOPPED
            color = STATE_COLORS["failed"] if reached else STATE_COLORS["completed"]
            if reached:
                _arrow(fig, (run.end, y), (run.end, py), color, text)
            else:
                fig.add_annotation(x=run.end, y=y, text=f"✕ {text}", showarrow=False,
                                   xanchor="left", yshift=-16, font={"size": FONT - 1,
                                   "color": color})  # fmt: skip


def _deadline(fig: go.Figure, report: LaunchReport, lanes: dict, window_s: float) -> None:
    """Mark the events pattern's alert deadline in its lane, with an arrow to a fired alert."""
    events = next((p for p in report.patterns if p.pattern == "events"), None)
    deadline = alert_deadline(events.flow_runs, window_s) if events else None
    if deadline is None or "events" not in lanes:
        return
    top, bottom = lanes["events"]
    fig.add_shape(type="line", x0=deadline, x1=deadline, y0=top, y1=bottom,
                  line={"color": STATE_COLORS["alert"], "dash": "dash", "width": 2})  # fmt: skip
    fig.add_annotation(x=deadline, y=top, text=f"alert window ends ({window_s:g} s)",
                       showarrow=False, xanchor="left", yanchor="top",
                       font={"size": FONT - 1, "color": STATE_COLORS["alert"]})  # fmt: skip
    alert = next((r for r in events.flow_runs if r.role == "alert"), None)
    if alert is not None:
        y = lanes["events_rows"][alert.id]
        _arrow(fig, (deadline, top + 0.5), (alert.created, y), STATE_COLORS["alert"],
               "no Completed in time → alert")  # fmt: skip


def swimlane_figure(report: LaunchReport, now: datetime, window_s: float) -> go.Figure:
    """Draw a launch's patterns as swimlanes on one time axis, with processes, hosts, hand-offs,
    the alert deadline and where each failure went."""
    fig = go.Figure()
    placed: list[tuple[float, FlowRunInfo, str]] = []
    ticks, lanes, y = [], {}, 0.0
    for pattern, runs in _rows(report):
        top = y
        for run in runs:
            y += 1.2
            placed.append((y, run, pattern))
        lanes[pattern] = (top + 0.3, y + 0.9)
        ticks.append(((top + y + 1.2) / 2, pattern))
        y += 1.2
        fig.add_hline(y=y, line={"color": "#9CA3AF", "width": 1})
    lanes["events_rows"] = {r.id: ry for ry, r, p in placed if p == "events"}
    if not placed:
        return fig.update_layout(title={"text": "How a failure spreads (no runs yet)"})
    _processes(fig, placed, now, report.execution == "pool")
    _bars(fig, placed, now)
    _links(fig, placed, now)
    _deadline(fig, report, lanes, window_s)
    return fig.update_layout(
        title={"text": "How the runs and a failure spread, one lane per pattern",
               "font": {"size": FONT + 4}},
        height=140 + 42 * len(placed) + 30 * len(ticks),
        margin={"l": 10, "r": 30, "t": 60, "b": 10},
        showlegend=False,
        font={"size": FONT},
        xaxis={"type": "date", "tickformat": "%H:%M:%S", "title": {"text": "time (UTC)"}},
        yaxis={"tickvals": [t for t, _ in ticks], "zeroline": False,
               "ticktext": [f"<b>{plain(pattern_title(p))}</b>" for _, p in ticks],
               "showgrid": False, "range": [y + 0.2, -0.2]},
    )  # fmt: skip
