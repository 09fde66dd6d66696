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
import subprocess
import sys
import time
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


def resident_mb(app_pid: int, settings: LabSettings) -> dict[str, float | None]:
    """Return the resident memory (RSS and PSS, MB) of app, PostgreSQL, server and runner trees."""
    import psutil

    roots: dict[str, int | None] = {"app": app_pid}
    if settings.embedded:
        roots |= backend_pids(settings)
    rss: dict[str, float | None] = {}
    pss_total = 0.0
    for name, pid in roots.items():
        procs = _tree(psutil, pid)
        rss[name] = round(sum(_mem(p, "rss") for p in procs) / 2**20, 1) if procs else None
        pss_total += sum(_mem(p, "pss") for p in procs) / 2**20
    known = [v for v in rss.values() if v is not None]
    return {**rss, "rss_mb": round(sum(known), 1), "pss_mb": round(pss_total, 1)}


def _tree(psutil: Any, pid: int | None) -> list[Any]:
    """Return a process and its descendants (empty when it is gone)."""
    if pid is None:
        return []
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return []


def _mem(proc: Any, kind: str) -> float:
    """Return one memory figure of a process in bytes (0 when it cannot be read)."""
    try:
        info = proc.memory_full_info() if kind == "pss" else proc.memory_info()
        return float(getattr(info, kind, 0))
    except Exception:  # noqa: BLE001 - psutil raises several kinds for vanished processes
        return 0.0
