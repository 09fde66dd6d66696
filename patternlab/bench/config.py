"""Read a running backend's configuration back from its processes and its server.

The benchmark records what each backend really ran with, not what it meant to start: the
server's Prefect version and database (from the server process's environment), the runner's
polls and tuning switch (from its environment), and the adapters and polls the runner itself
published (flows/adapters.py). A part that cannot be read says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from patternlab.backend import api_url, backend_pids
from patternlab.backend.published import read_runner_facts
from patternlab.settings import LabSettings

SERVER_VARS = ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_SERVER_LOG_RETRYABLE_ERRORS")
RUNNER_VARS = (
    "PATTERNLAB_TUNING", "PREFECT_RUNNER_POLL_FREQUENCY", "PATTERNLAB_RUNNER_POLL_S",
    "PATTERNLAB_CHILD_POLL_S",
)  # fmt: skip


def process_environ(pid: int | None, names: tuple[str, ...]) -> dict[str, str | None]:
    """Return some variables of a running process's environment (/proc/<pid>/environ)."""
    if pid is None:
        raise OSError("its pid file is missing")
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    found = dict(item.partition(b"=")[::2] for item in raw.split(b"\0") if b"=" in item)
    return {name: _text(found.get(name.encode())) for name in names}


def _text(value: bytes | None) -> str | None:
    """Decode an environment value."""
    return None if value is None else value.decode(errors="replace")


def database(url: str | None) -> str | None:
    """Return a database URL without its password: driver and database are what matter."""
    if not url:
        return None
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def read_config(settings: LabSettings) -> dict[str, Any]:
    """Return what a running backend is configured with, read back from it."""
    api = api_url(settings)
    out: dict[str, Any] = {"api_url": api}
    try:
        out["server_prefect"] = httpx.get(f"{api}/admin/version", timeout=5, trust_env=False).json()
    except (httpx.HTTPError, ValueError) as exc:
        out["server_prefect"] = f"unreadable: {type(exc).__name__}: {exc}"
    pids = backend_pids(settings)
    for part, names in (("server", SERVER_VARS), ("runner", RUNNER_VARS)):
        try:
            found = process_environ(pids.get(part), names)
        except OSError as exc:
            out[f"{part}_env"] = f"unreadable: {exc}"
            continue
        if part == "server":
            url = found.pop("PREFECT_SERVER_DATABASE_CONNECTION_URL")
            found["database"] = database(url)
        out[f"{part}_env"] = found
    published = read_runner_facts(api, timeout=5)
    if published is None or published.get("pid") != pids.get("runner"):
        out["runner_published"] = "unreadable: the running runner has not published its facts"
    else:
        out["runner_published"] = published
    return out
