"""A report to send: one self-contained HTML file of a comparison (no network when opened).

Plotly's JavaScript is inlined once; every chart is the Compare page's own figure, drawn from
the same frames; tables are escaped HTML. Nothing is fetched when the file opens: no CDN, no
fonts, no MathJax. What the reader needs to judge the numbers travels with them: the execution
mode, the data source, the Prefect and lab versions, the machine and the date.
"""

from __future__ import annotations

import html
import importlib.metadata
import os
import platform
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from patternlab import views
from patternlab.launch import LaunchReport
from patternlab.views import charts
from patternlab.views import stats as views_stats

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#1f2430}
h1{margin-bottom:.2rem} h2{border-bottom:1px solid #dde;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #dde;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f5fa} .facts td:first-child{font-weight:600}
.note{background:#fff7e0;border-left:4px solid #e0a800;padding:.4rem .7rem;margin:.4rem 0}
.info{background:#eef4ff;border-left:4px solid #3b6fd8;padding:.4rem .7rem;margin:.4rem 0}
.card{border:1px solid #dde;border-radius:8px;padding:.6rem 1rem;margin:.5rem 0}
.muted{color:#667}
"""
TIME_NOTE = (
    "pick-up: entry run created → Pending · process start: Pending → Running · hand-off: "
    "deployment child or triggered run created → Running · held: the events upstream's hold · "
    "work: HTTP and arithmetic measured inside the tasks · overhead: the rest of end-to-end."
)
FANOUT_TIME_NOTE = (
    "Over several repositories the runs overlap: the bar is the queue, then the runs running; "
    "the work, summed over the runs and per repository, is in the table."
)


def _lab_version() -> str:
    """Return the lab's version as pyproject.toml declares it (the one place it is written)."""
    with open(Path(__file__).resolve().parents[2] / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def report_facts() -> dict[str, str]:
    """Return what a reader needs to judge the numbers: versions, machine (read here, once)."""

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return {
        "Prefect": version("prefect"),
        "Pattern Lab": _lab_version(),
        "Python": platform.python_version(),
        "Machine": f"{platform.node()} · {platform.system()} {platform.release()} · "
        f"{platform.machine()} · {os.cpu_count()} CPUs",
    }


def _e(text: object) -> str:
    """Escape text for HTML."""
    return html.escape(str(text))


def _table(frame: pd.DataFrame) -> str:
    """Return a DataFrame as an escaped HTML table."""
    return frame.to_html(index=False, escape=True, na_rep="–", border=0)


def _figure(fig: object) -> str:
    """Return a plotly figure as a div whose script uses the inlined plotly.js."""
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def _header(reports: Sequence[LaunchReport], facts: dict[str, str], now: datetime) -> str:
    """Return the title and the facts table: launch, repository, mode, source, versions, date."""
    modes = {f"pool {r.pool}" if r.pool else "serve (one runner)" for r in reports}
    rows = {
        "Launches": ", ".join(r.launch_id for r in reports),
        "Repository": ", ".join(sorted({r.repo for r in reports})),
        "Launched": f"{min(r.created for r in reports):%Y-%m-%d %H:%M:%S} UTC",
        "Order": ", ".join(sorted({r.order for r in reports})),
        "Execution mode": ", ".join(sorted(modes)),
        "Data source": ", ".join(sorted({r.source for r in reports})),
        **facts,
        "Report made": f"{now:%Y-%m-%d %H:%M:%S} UTC",
    }
    cells = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows.items())
    return (
        f"<h1>Pattern Lab report · {_e(', '.join(r.launch_id for r in reports))}</h1>"
        f"<p class='muted'>One job, GitHub repository statistics, composed in Prefect's dataflow "
        f"patterns and run for real; what each pattern costs and what it separates.</p>"
        f"<table class='facts'>{cells}</table>"
    )


def _time(items: list[views.Entry]) -> str:
    """Return where the time goes and what ran."""
    timings, counts = views.timings_frame(items), views.counts_frame(items)
    return (
        "<h2>Where the time goes</h2>" + _figure(charts.timings_figure(timings))
        + f"<p class='muted'>{_e(TIME_NOTE)}</p>"
        + (f"<p class='muted'>{_e(FANOUT_TIME_NOTE)}</p>"
           if any(e.report.repos > 1 for e in items) else "")  # fmt: skip
        + "<h2>What ran</h2>" + _figure(charts.counts_figure(counts))
        + _table(counts.drop(columns=["pattern"]).merge(
            timings[["label", "end_to_end_s", "work_total_s", "work_per_repo_ms"]], on="label"))
    )  # fmt: skip


def _separation(items: list[views.Entry]) -> str:
    """Return the observed separations beside the documented ones, and where flows ran."""
    parts = ["<h2>Separation: observed vs documented</h2>"]
    parts.append(_table(views.separation_frame(items).drop(columns=["pattern"])))
    where = views.where_frame(items).drop(columns=["pattern", "hosts", "processes"])
    parts.append(
        "<p class='muted'>Where the flows ran (hosts and processes as each flow recorded them; "
        "workers as Prefect recorded them):</p>" + _table(where)
    )
    for e in items:
        parts += [f"<div class='note'>{_e(e.label)} differs from the documentation — {_e(line)}"
                  "</div>" for line in views.mismatches(e)]  # fmt: skip
        parts += [f"<div class='info'>{_e(e.label)} — {_e(line)}</div>"
                  for line in views.unobserved(e)]  # fmt: skip
    return "".join(parts)


def _stats(items: list[views.Entry], reports: Sequence[LaunchReport]) -> str:
    """Return the repository statistics with the source they came from."""
    if not any(e.report.stats for e in items):
        return "<h2>Repository statistics</h2><p>No pattern published statistics.</p>"
    label, _ = views_stats.source_label(items)
    notes = [r.source_note for r in reports if r.source_note]
    label = " · ".join([label, *dict.fromkeys(notes)])
    description = next((e.report.stats.description for e in items if e.report.stats), None)
    parts = ["<h2>Repository statistics</h2>", f"<div class='info'>Data source: {_e(label)}</div>",
             f"<p>{_e(description or '')}</p>",  # GitHub's text: shown as text, never as HTML
             _table(views_stats.stats_frame(items).drop(columns=["pattern"]))]  # fmt: skip
    contributors, weekly = views_stats.contributors_frame(items), views_stats.weekly_frame(items)
    if not contributors.empty:
        parts.append(_figure(charts.contributors_figure(contributors)))
    if not weekly.empty:
        parts.append(_figure(charts.weekly_figure(weekly)))
    return "".join(parts)


def _runs(reports: Sequence[LaunchReport], now: datetime) -> str:
    """Return each launch's timeline and each pattern's run tree."""
    parts = ["<h2>Runs</h2>"]
    for r in reports:
        parts.append(_figure(charts.timeline_figure(views.timeline_frame(r), now)))
        for p in r.patterns:
            if p.queued:
                continue
            frame = views.run_tree_frame(p, now).drop(columns=["status", "prefect"])
            title = views.pattern_title(p.pattern)
            parts.append(f"<h3>{_e(title)} · {_e(p.state)} · {_e(views.where_label(p))}</h3>")
            parts.append(_table(frame))
            parts += [f"<div class='note'>{_e(line)}</div>" for line in p.errors]
    return "".join(parts)


def build_html_report(
    reports: Sequence[LaunchReport],
    facts: dict[str, str],
    *,
    now: datetime | None = None,
    extra: str = "",
) -> str:
    """Return one self-contained HTML page comparing the launches (plotly.js inlined).

    `extra` is trusted HTML built by the lab (the tour's closing card), placed after the header.
    """
    if not reports:
        raise ValueError("Nothing to report: choose at least one launch")
    now = now or datetime.now(UTC)
    items = views.entries(reports)
    body = _header(reports, facts, now) + extra
    if items:
        body += _time(items) + _separation(items) + _stats(items, reports)
    body += _runs(reports, now)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Pattern Lab report</title>"
        f"<style>{STYLE}</style><script type='text/javascript'>{get_plotlyjs()}</script>"
        f"</head><body>{body}</body></html>"
    )
