"""The benchmark's dashboard measures: `streamlit run app.py` to a usable page, resident memory.

"Usable" is measured, not assumed: the time until `/_stcore/health` answers AND a browser-like
session (a websocket client speaking Streamlit's protocol) has seen the first script run of
app.py finish. Health alone answers before any script runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from patternlab.backend import HOST, PROJECT_ROOT, backend_pids, poll_until
from patternlab.settings import LabSettings

START_TIMEOUT_S = 120.0


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    """Say whether Streamlit's health endpoint answers ok."""
    try:
        answer = httpx.get(f"http://{HOST}:{port}/_stcore/health", timeout=1.0, trust_env=False)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200


def _first_run(port: int, timeout_s: float) -> dict[str, Any]:
    """Open a session like a browser does and wait for app.py's first run to finish."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    url = f"ws://{HOST}:{port}/_stcore/stream"
    exceptions, deadline = [], time.monotonic() + timeout_s
    with connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=10) as ws:
        request = BackMsg()
        request.rerun_script.query_string = ""
        request.rerun_script.page_script_hash = ""
        ws.send(request.SerializeToString())
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.new_element.WhichOneof("type") == "exception":
                exceptions.append(msg.delta.new_element.exception.message)
            if kind == "script_finished":
                return {"finished": msg.script_finished, "exceptions": exceptions}


def open_session(port: int) -> Any:
    """Open a websocket session with the app, as a browser tab does (a context manager)."""
    from websockets.sync.client import connect

    url = f"ws://{HOST}:{port}/_stcore/stream"
    return connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=10)


def request_page(ws: Any, page: str, query: str, timeout_s: float = 60.0) -> float:
    """Ask a session for a page (its URL name and query); return seconds until its script run
    finished (a fragment's own reruns finish with another status and are not counted)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    request = BackMsg()
    request.rerun_script.query_string = query
    request.rerun_script.page_name = page
    started = time.monotonic()
    ws.send(request.SerializeToString())
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(ws.recv(timeout=max(started + timeout_s - time.monotonic(), 0.1)))
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished == 0:
            return round(time.monotonic() - started, 2)


def start_app(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start `streamlit run app.py` and time it to health and to a finished first script run."""
    port = free_port()
    argv = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
            "--server.address", HOST, "--server.port", str(port),
            "--browser.gatherUsageStats", "false"]  # fmt: skip
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        answered = poll_until(
            lambda: _healthy(port) or proc.poll() is not None, START_TIMEOUT_S, 0.05
        )
        if not answered or proc.poll() is not None:
            raise RuntimeError(f"streamlit did not answer /_stcore/health; see {log}")
        health_s = time.monotonic() - started
        first = _first_run(port, START_TIMEOUT_S)
    except BaseException:
        stop_app(proc)  # never leave a Streamlit server behind
        raise
    return proc, {
        "health_s": round(health_s, 2),
        "usable_s": round(time.monotonic() - started, 2),
        "script_finished": int(first["finished"]),
        "page_exceptions": first["exceptions"][:3],
    }


def stop_app(proc: subprocess.Popen) -> None:
    """Stop a Streamlit process group started by start_app."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


class MeasureError(RuntimeError):
    """A measure could not be taken; the message says which and why (never counted as 0)."""


def time_until_ready(settings: LabSettings, started: float) -> float:
    """Wait until the backend the app started on a fresh home can take a launch (what enables
    Home's Launch button); return seconds since `started` (monotonic)."""
    from patternlab.backend import backend_status, is_ready

    if not poll_until(lambda: is_ready(backend_status(settings)), START_TIMEOUT_S, 0.1):
        raise MeasureError(f"the backend in {settings.home} was not ready in {START_TIMEOUT_S} s")
    return round(time.monotonic() - started, 2)


def median_of(samples: int, take: Callable[[], dict[str, Any]], key: str) -> dict[str, Any]:
    """Take a measure `samples` times; return the median of `key`, every sample and its details."""
    runs = [take() for _ in range(samples)]
    values = [r[key] for r in runs]
    return {"median": round(statistics.median(values), 2), "samples": values, "runs": runs}


def resident_mb(app_pid: int, settings: LabSettings) -> dict[str, float]:
    """Return the resident memory (RSS and PSS, MB) of app, PostgreSQL, server and runner trees.

    Raises MeasureError when a part's pid file is missing or a process cannot be read: a part
    that cannot be measured must not count as 0 MB.
    """
    import psutil

    roots: dict[str, int | None] = {"app": app_pid}
    if settings.embedded:
        roots |= backend_pids(settings)
    rss: dict[str, float] = {}
    pss_total = 0.0
    for name, pid in roots.items():
        if pid is None:
            raise MeasureError(f"memory: the {name}'s pid file is missing (in {settings.home})")
        procs = _tree(psutil, name, pid)
        rss[name] = round(sum(_mem(psutil, p, "rss") for p in procs) / 2**20, 1)
        pss_total += sum(_mem(psutil, p, "pss") for p in procs) / 2**20
    return {**rss, "rss_mb": round(sum(rss.values()), 1), "pss_mb": round(pss_total, 1)}


def _tree(psutil: Any, name: str, pid: int) -> list[Any]:
    """Return a process and its descendants; raise MeasureError when the process is gone."""
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.Error as exc:
        raise MeasureError(f"memory: the {name} (pid {pid}) cannot be read: {exc}") from None


def _mem(psutil: Any, proc: Any, kind: str) -> float:
    """Return one memory figure of a process in bytes (0 only for a child that has just ended).

    A process that exists but cannot be read (no permission for PSS) fails the measure.
    """
    try:
        info = proc.memory_full_info() if kind == "pss" else proc.memory_info()
    except psutil.NoSuchProcess:
        return 0.0  # it ended between listing and reading: it holds no memory now
    except psutil.Error as exc:
        raise MeasureError(f"memory: {kind} of pid {proc.pid} cannot be read: {exc}") from None
    return float(getattr(info, kind))
