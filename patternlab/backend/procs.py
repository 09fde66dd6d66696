"""Process helpers for the embedded backend: pid files, process groups, ports, a file lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class Home:
    """The backend's folders and files under the lab's home."""

    def __init__(self, home: Path) -> None:
        # Resolved, because PostgreSQL's command line holds the resolved data folder.
        self.root = home.expanduser().resolve()
        self.pgdata = self.root / "pgdata"
        self.prefect = self.root / "prefect"  # PREFECT_HOME of the server and the runner
        self.logs = self.root / "logs"
        self.run = self.root / "run"
        self.lock = self.root / "backend.lock"
        self.server_pid = self.run / "server.pid"
        self.runner_pid = self.run / "runner.pid"

    def worker_pid(self, n: int) -> Path:
        """Return the pid file of local worker number `n` (pool mode)."""
        return self.run / f"worker-{n}.pid"

    def worker_numbers(self) -> list[int]:
        """Return the numbers of the workers that have a pid file, in order."""
        found = (p.stem.removeprefix("worker-") for p in self.run.glob("worker-*.pid"))
        return sorted(int(n) for n in found if n.isdigit())

    def create(self) -> None:
        """Create the folders the backend writes to."""
        for folder in (self.root, self.prefect, self.logs, self.run):
            folder.mkdir(parents=True, exist_ok=True)


# Children started by this process, kept so they are reaped (no zombies, no ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}
_exit_codes: dict[int, int] = {}  # of those children, once reaped


def write_pid(path: Path, pid: int) -> None:
    """Write a pid file atomically so a reader never sees a half-written number."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{pid}\n")
    tmp.replace(path)


def read_pid(path: Path) -> int | None:
    """Return the pid in a pid file, or None when it is missing or unreadable."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid: int) -> str | None:
    """Return a live process's command line joined by spaces, or None if it is gone or a zombie."""
    proc = Path(f"/proc/{pid}")
    try:
        # The state follows the last ")" of /proc/<pid>/stat (the name may hold parentheses).
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return None
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, IndexError):
        return None


def is_alive(pid: int) -> bool:
    """Say whether a process runs (reaping it first if it is our own child that exited)."""
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _exit_codes[pid] = child.returncode
        _children.pop(pid, None)
        return False
    return cmdline(pid) is not None


def owned_pid(path: Path, markers: Sequence[str], *, clean: bool = True) -> int | None:
    """Return the pid in a pid file if it is alive and its command line holds every marker.

    A pid that is dead, or was reused by some other program, makes the file stale: it is removed
    when `clean` is set (callers hold the backend lock then).
    """
    pid = read_pid(path)
    if pid is None:
        return None
    line = cmdline(pid) if is_alive(pid) else None
    if line is not None and all(marker in line for marker in markers):
        return pid
    if clean:
        path.unlink(missing_ok=True)
    return None


def spawn(argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path) -> int:
    """Start a detached process (own session) logging to `log`; keep the previous log as .1."""
    if log.exists():
        log.replace(log.with_name(log.name + ".1"))
    with open(log, "wb") as out:
        # A new session: Ctrl-C in the terminal that started the lab does not reach the backend,
        # and the whole tree can be signalled as one process group.
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    return proc.pid


def exit_code(pid: int) -> int | None:
    """Return the exit code of a child this process started, or None while it runs."""
    child = _children.get(pid)
    return _exit_codes.get(pid) if child is None else child.poll()


def terminate_group(pid: int, timeout: float = 10.0) -> None:
    """Stop a process group led by `pid`: SIGTERM, then SIGKILL when the deadline passes."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        if poll_until(lambda: not is_alive(pid), timeout):
            return


def poll_until(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Call `check` until it is true or `timeout` seconds pass; say whether it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def log_tail(path: Path, lines: int = 20) -> str:
    """Return the last lines of a log file, or a note that there is none."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Say whether something accepts connections on host:port (answers fast: local connect)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@contextlib.contextmanager
def file_lock(path: Path, timeout: float) -> Iterator[bool]:
    """Hold an exclusive flock on `path`; yield False instead if it stays taken past `timeout`."""
    with open(path, "a") as handle:
        got = poll_until(lambda: _try_lock(handle.fileno()), timeout, interval=0.2)
        try:
            yield got
        finally:
            if got:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _try_lock(fd: int) -> bool:
    """Try once to take an exclusive flock without blocking."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def wait_ready(pid: int, ready: Callable[[], bool], timeout: float) -> str | None:
    """Wait until `ready()`; if the process dies or the deadline passes, stop it and say why."""
    deadline = time.monotonic() + timeout
    while is_alive(pid):
        if ready():
            return None
        if time.monotonic() > deadline:
            terminate_group(pid)
            return f"was not ready after {timeout:.0f} s"
        time.sleep(0.2)
    return "exited while starting"


@dataclass(frozen=True)
class Starting:
    """A backend process spawned and not ready yet: wait for it, or abort it."""

    label: str
    pid: int
    pid_file: Path
    log: Path
    ready: Callable[[], bool]
    timeout: float

    def wait(self) -> str | None:
        """Wait until it is ready; else (it was stopped) drop its pid file and say why."""
        reason = wait_ready(self.pid, self.ready, self.timeout)
        if reason is not None:
            self.pid_file.unlink(missing_ok=True)
        return reason

    def abort(self, timeout: float = 10.0) -> None:
        """Stop it (its whole process group) and drop its pid file."""
        terminate_group(self.pid, timeout)
        self.pid_file.unlink(missing_ok=True)
