"""Page timings while a launch runs: page switches and Compare's first render (issue 12, item 6).

Measured the way a browser asks for pages: a websocket session speaking Streamlit's protocol
requests a page (`rerun_script` with the page's URL name and query) and the time is taken until
that script run finishes (plotly's drawing in the browser is not included). Idle first, then
while a launch of all four patterns runs, one pattern after another (the form's default), kept
going by a background watcher as an open Launch tab would.
"""

from __future__ import annotations

import os
import statistics
import threading
from collections.abc import Callable
from typing import Any

from patternlab.backend import backend_status, ensure_backend, is_ready, stop_backend
from patternlab.bench.dashboard import (
    START_TIMEOUT_S,
    open_session,
    request_page,
    start_app,
    stop_app,
)
from patternlab.settings import get_settings

SWITCHES = (("Home", "", ""), ("Launch", "Launch", "launch={id}"),
            ("Compare", "Compare", "launch={id}"), ("History", "History", ""))  # fmt: skip
TARGET_SWITCH_S, TARGET_COMPARE_S = 2.0, 3.0


def _round(port: int, launch_id: str) -> dict[str, float]:
    """Time Compare's first render in a fresh session, then each page switch in one session."""
    found: dict[str, float] = {}
    with open_session(port) as ws:
        found["compare_first_s"] = request_page(ws, "Compare", f"launch={launch_id}")
    with open_session(port) as ws:
        for name, page, query in SWITCHES:
            found[f"{name.lower()}_s"] = request_page(ws, page, query.format(id=launch_id))
    return found


def _summary(rounds: list[dict[str, float]]) -> dict[str, Any]:
    """Return each measure's median and maximum over the rounds."""
    keys = rounds[0].keys() if rounds else []
    return {k: {"median": round(statistics.median(r[k] for r in rounds), 2),
                "max": max(r[k] for r in rounds)} for k in keys}  # fmt: skip


def run_pages(
    rounds: int = 3, repo: str = "PrefectHQ/prefect", progress: Callable[[str], None] = print
) -> dict[str, Any]:
    """Measure page switches and Compare's first render, idle and during a running launch."""
    from patternlab.launch import PATTERNS, launch, read_launch, wait_for_launch

    was_up = is_ready(backend_status())
    ensure_backend()
    settings = get_settings()
    env = {**os.environ, "PATTERNLAB_HOME": str(settings.home)}
    if settings.embedded:  # the app finds the embedded backend itself, as a user's would
        env.pop("PREFECT_API_URL", None)
    proc, started = start_app(env, settings.home / "bench-pages-streamlit.log")
    try:
        port = int(proc.args[proc.args.index("--server.port") + 1])
        warm = launch(PATTERNS, repo, "snapshot", order="sequential")
        wait_for_launch(warm, timeout_s=START_TIMEOUT_S * 3)
        idle = [_round(port, warm) for _ in range(rounds)]
        progress(f"idle: {_summary(idle)}")
        busy_id = launch(PATTERNS, repo, "snapshot", order="sequential")
        watcher = threading.Thread(target=wait_for_launch, args=(busy_id,),
                                   kwargs={"timeout_s": 600}, daemon=True)  # fmt: skip
        watcher.start()
        busy = []
        while len(busy) < rounds and not read_launch(busy_id).done:
            busy.append(_round(port, busy_id) | {"load": [round(x, 2) for x in os.getloadavg()]})
        progress(f"during a launch: {_summary([_strip(b) for b in busy])}")
        watcher.join(timeout=600)
    finally:
        stop_app(proc)
        if not was_up:  # as the benchmark does: a backend it started, it stops
            stop_backend()
    return {"app_start": started, "idle": _summary(idle), "running": _summary(
        [_strip(b) for b in busy]), "rounds_running": busy, "targets": {
        "page_switch_s": TARGET_SWITCH_S, "compare_first_s": TARGET_COMPARE_S}}  # fmt: skip


def _strip(found: dict[str, Any]) -> dict[str, float]:
    """Return a round's timings without its load average."""
    return {k: v for k, v in found.items() if k != "load"}
