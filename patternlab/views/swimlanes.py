"""How a failure spreads, on one time axis: the patterns as swimlanes (pure: report -> figure).

Each pattern is a lane; each flow run a bar (grey while it waits, then its state's colour) with
its name above it, inside a dotted box per OS process (and a solid box per host in pool mode),
each box labelled on a line of its own. Arrows, coloured by kind and named in the legend, show
who started whom: a subflow call, a `run_deployment` hand-off, a Completed event that an
automation turned into a run. The proactive alert's window ends on a dashed line. Beside a
failed run's bar: whether its failure reached its parent or stopped at the boundary. Nothing is
written on a bar or on another label. Prefect's UI draws one run graph at a time and never links
runs across an event: this view does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

import plotly.graph_objects as go

from patternlab.launch import FlowRunInfo, LaunchReport, alert_deadline
from patternlab.views.charts import (
    FONT,
    PATTERN_COLORS,
    STATE_COLORS,
    WAITING_COLOR,
    _layout,
    plain,
    state_color,
)
from patternlab.views.labels import pattern_title

FAILED = ("failed", "crashed")
# Each kind of arrow in the colour of the pattern it belongs to (readable light or dark).
ARROW = {
    "subflow": PATTERN_COLORS["subflows"],
    "deployment-child": PATTERN_COLORS["deployments"],
    "triggered": PATTERN_COLORS["events"],
}
ARROW_TEXT = {
    "subflow": "subflow call",
    "deployment-child": "run_deployment",
    "triggered": "Completed event → automation → run",
}
REACHED, STOPPED = "failure reached the parent", "failure stopped at the boundary"
BOX_COLOR = "#6B7280"
# The y axis in rows of text (one unit ~ PX pixels): a run's name sits NAME above its bar's centre,
# the bar is 2 * BAR tall, runs follow each other ROW apart, a box's label takes HEADER above it.
PX, ROW, NAME, BAR, HEADER, LANE_TOP = 28, 1.5, 0.75, 0.3, 0.85, 0.7


@dataclass
class Box:
    """A process's (level 0) or a host's (level 1) runs, drawn as one labelled rectangle."""

    label: str
    level: int
    top: float
    bottom: float = 0.0
    runs: list[FlowRunInfo] = field(default_factory=list)


@dataclass
class Plan:
    """Where everything goes: runs on rows, boxes, each lane's extent (top, bottom)."""

    placed: list[tuple[float, FlowRunInfo, str]] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    lanes: dict[str, tuple[float, float]] = field(default_factory=dict)
    bottom: float = 0.0


def _runs(report: LaunchReport) -> list[tuple[str, list[FlowRunInfo]]]:
    """Return each pattern's runs, ordered so each process's runs are adjacent."""
    lanes = []
    for p in report.patterns:
        if p.queued or not p.flow_runs:
            continue
        runs = sorted(p.flow_runs, key=lambda r: (r.host or "", r.pid or 0, r.created))
        lanes.append((p.pattern, runs))
    return lanes


def _plan(report: LaunchReport, pool: bool) -> Plan:
    """Lay the lanes out top to bottom: lane, host box (pool), process box, one row per run."""
    plan, y = Plan(), 0.0
    for pattern, runs in _runs(report):
        top, y = y, y + LANE_TOP  # the lane's first line holds the alert deadline's label
        for host, on_host in groupby(runs, key=lambda r: r.host or ""):
            host_box = None
            if pool and host:
                host_box = Box(f"host {host}", 1, y + HEADER)
                y = host_box.top + 0.15
            for pid, members in groupby(on_host, key=lambda r: r.pid):
                members = list(members)
                box = Box(f"process {pid} @ {host}", 0, y + HEADER, runs=members)
                y = box.top + 0.45 + NAME - ROW  # the first name 0.15 below the box's edge
                for run in members:
                    y += ROW
                    plan.placed.append((y, run, pattern))
                box.bottom = y = y + BAR + 0.2
                if pid:
                    plan.boxes.append(box)
                if host_box is not None:
                    host_box.runs += members
            if host_box is not None:
                host_box.bottom = y = y + 0.25
                plan.boxes.append(host_box)
        y += 0.35
        plan.lanes[pattern] = (top, y)
    plan.bottom = y
    return plan


def _box(fig: go.Figure, x0: datetime, x1: datetime, y0: float, y1: float, **style) -> None:
    """Draw a rectangle (a bar, a process, a host)."""
    fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, layer="below", **style)


def _arrow(fig: go.Figure, tail: tuple, head: tuple, color: str) -> None:
    """Draw an arrow from tail to head (data coordinates); the legend names its colour."""
    fig.add_annotation(
        x=head[0], y=head[1], ax=tail[0], ay=tail[1], axref="x", ayref="y", xref="x", yref="y",
        showarrow=True, arrowhead=3, arrowsize=1.3, arrowwidth=2, arrowcolor=color, text="",
        standoff=0, startstandoff=0,
    )  # fmt: skip


def _note(fig: go.Figure, x: datetime, y: float, text: str, color: str, **where) -> None:
    """Write a short note in the figure (a box's label, a failure's fate, the deadline)."""
    fig.add_annotation(x=x, y=y, text=plain(text), showarrow=False,
                       font={"size": FONT - 1, "color": color}, **where)  # fmt: skip


def _bars(
    fig: go.Figure, placed: list[tuple[float, FlowRunInfo, str]], now: datetime, late: datetime
) -> None:
    """Draw each run as a waiting bar then a bar in its state's colour, its name above them:
    from the run's start rightwards, or, for a run created after `late`, from its end leftwards,
    so no name runs off the figure's right edge."""
    for y, run, _ in placed:
        start, end = run.start, run.end or now
        _box(fig, run.created, start or now, y - BAR / 2, y + BAR / 2, fillcolor=WAITING_COLOR,
             line={"width": 0})  # fmt: skip
        if start is not None:
            _box(fig, start, end, y - BAR, y + BAR, fillcolor=state_color(run.status),
                 line={"width": 0})  # fmt: skip
    leftwards = [r.created > late for _, r, _ in placed]
    fig.add_scatter(
        x=[
            (r.end or now) if left else r.created
            for (_, r, _), left in zip(placed, leftwards, strict=True)
        ],  # fmt: skip
        y=[y - NAME for y, _, _ in placed],
        mode="text",
        text=[f"  {plain(r.flow)} · {plain(r.state)}  " for _, r, _ in placed],
        textposition=["middle left" if left else "middle right" for left in leftwards],
        textfont={"size": FONT},  # the theme's text colour: readable light or dark
        cliponaxis=False,
        hovertext=[
            f"{plain(r.flow)}: {plain(r.state)}"
            + (f" ({plain(r.message)[:120]})" if r.message else "")
            for _, r, _ in placed
        ],  # fmt: skip
        hoverinfo="text",
        showlegend=False,
    )


def _boxes(fig: go.Figure, boxes: list[Box], now: datetime, pad: timedelta) -> None:
    """Box each process's runs (dotted) and, in pool mode, each host's (solid, `pad` wider),
    labelled above."""
    for box in boxes:
        x0 = min(r.created for r in box.runs) - pad * box.level
        x1 = max(r.end or now for r in box.runs) + pad * box.level
        line = {"color": BOX_COLOR, "width": 1 + box.level, "dash": "solid" if box.level else "dot"}
        _box(fig, x0, x1, box.top, box.bottom, line=line)
        _note(fig, x0, box.top, box.label, BOX_COLOR, xanchor="left", yanchor="bottom")


def _links(fig: go.Figure, plan: Plan) -> set[str]:
    """Draw who started whom, and where each failure went; return the kinds of arrow drawn."""
    at = {run.id: (y, run) for y, run, _ in plan.placed}
    entries = {p: (y, r) for y, r, p in plan.placed if r.role == "entry"}
    kinds = set()
    for y, run, pattern in plan.placed:
        parent = at.get(run.parent_id or "")
        if run.role == "triggered" and pattern in entries:
            parent = entries[pattern]
        if parent is None or run.role not in ARROW:
            continue
        py, prun = parent
        down = 1 if y > py else -1
        tail_x = prun.end if run.role == "triggered" and prun.end else run.created
        _arrow(fig, (tail_x, py + down * BAR), (run.created, y - down * BAR), ARROW[run.role])
        kinds.add(run.role)
        if run.status in FAILED and run.end:
            reached = prun.status in FAILED and run.role != "triggered"
            color = STATE_COLORS["failed"] if reached else STATE_COLORS["completed"]
            if reached:
                _arrow(fig, (run.end, y - down * BAR), (run.end, py + down * BAR), color)
            text = f"↑ {REACHED}" if reached else f"✕ {STOPPED}"
            _note(fig, run.end, y, text, color, xanchor="left", yanchor="middle", xshift=8)
    return kinds


def _events_deadline(report: LaunchReport, window_s: float) -> datetime | None:
    """Return when the events pattern's proactive window ends (None: no events pattern yet)."""
    events = next((p for p in report.patterns if p.pattern == "events"), None)
    return alert_deadline(events.flow_runs, window_s) if events else None


def _deadline(fig: go.Figure, plan: Plan, deadline: datetime | None, window_s: float) -> None:
    """Mark the events pattern's alert deadline in its lane, and say why an alert fired."""
    if deadline is None or "events" not in plan.lanes:
        return
    top, bottom = plan.lanes["events"]
    color = STATE_COLORS["alert"]
    fig.add_shape(type="line", x0=deadline, x1=deadline, y0=top + 0.1, y1=bottom,
                  line={"color": color, "dash": "dash", "width": 2})  # fmt: skip
    # Left of the line: the deadline is late on the axis, so text right of it would be cut.
    _note(fig, deadline, top + 0.1, f"alert window ends ({window_s:g} s)", color,
          xanchor="right", yanchor="top", xshift=-4)  # fmt: skip
    for y, run, pattern in plan.placed:
        if pattern == "events" and run.role == "alert":  # beside its bar, which starts at the line
            _note(fig, run.created, y, "no Completed in time → alert", color, xanchor="right",
                  yanchor="middle", xshift=-8)  # fmt: skip


def _legend(fig: go.Figure, kinds: set[str]) -> None:
    """Name each kind of arrow drawn, in its colour."""
    for kind, color in ARROW.items():
        if kind in kinds:
            fig.add_scatter(x=[None], y=[None], mode="lines", name=ARROW_TEXT[kind],
                            line={"color": color, "width": 3})  # fmt: skip


def _span(placed: list, now: datetime, deadline: datetime | None) -> tuple[datetime, datetime]:
    """Return when the first run was created and when the last one ended (or now), or the alert
    deadline if that is later: the time axis shows them all."""
    end = max(r.end or now for _, r, _ in placed)
    return min(r.created for _, r, _ in placed), max(end, deadline or end)


def swimlane_figure(report: LaunchReport, now: datetime, window_s: float) -> go.Figure:
    """Draw a launch's patterns as swimlanes on one time axis, with processes, hosts, hand-offs,
    the alert deadline and where each failure went."""
    fig = go.Figure()
    plan = _plan(report, report.execution == "pool")
    if not plan.placed:
        return fig.update_layout(title={"text": "How a failure spreads (no runs yet)"})
    deadline = _events_deadline(report, window_s)
    start, end = _span(plan.placed, now, deadline)
    span = max(end - start, timedelta(seconds=1))
    for _, bottom in plan.lanes.values():
        fig.add_hline(y=bottom, line={"color": "#9CA3AF", "width": 1})
    _boxes(fig, plan.boxes, now, span * 0.01)
    _bars(fig, plan.placed, now, start + span * 0.6)
    _legend(fig, _links(fig, plan))
    _deadline(fig, plan, deadline, window_s)
    lanes = plan.lanes.items()
    height = 190 + round(PX * plan.bottom)
    _layout(
        fig, "How the runs and a failure spread, one lane per pattern",
        height=height,
        margin={"l": 10, "r": 20, "t": 130, "b": 10},
        legend={"orientation": "h", "x": 0, "xref": "container", "yref": "container",
                "y": 1 - 48 / height, "yanchor": "top"},
        xaxis={"type": "date", "tickformat": "%H:%M:%S", "title": {"text": "time (UTC)"},
               "range": [start - span * 0.03, end + span * 0.05], "side": "bottom"},
        yaxis={"tickvals": [(top + bottom) / 2 for _, (top, bottom) in lanes], "zeroline": False,
               "ticktext": [f"<b>{plain(pattern_title(p))}</b>" for p, _ in lanes],
               "showgrid": False, "range": [plan.bottom, 0]},
    )  # fmt: skip
    # Title, then the legend below it (it may wrap on a narrow page), both from the top in pixels.
    return fig.update_layout(title={"yref": "container", "y": 1 - 12 / height, "yanchor": "top"})
