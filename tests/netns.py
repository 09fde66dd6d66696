"""Hosts made of Linux network namespaces, for the multi-host tests: the building blocks.

Topology: one namespace holds a bridge (the "switch"); every host is a namespace of its own with
`lo` up and an `eth0` veth whose peer is a port of that bridge. Only 192.0.2.0/24 (TEST-NET-1)
addresses on links made here are used; the namespaces have no route anywhere else.

    with NetnsLab(Path("/tmp/lab")) as lab:      # tests/netns_lab.py
        a = lab.add_host("a")                    # 192.0.2.1, hostname "a"
        b = lab.add_host("b")
        lab.spawn("a", [sys.executable, "-m", "http.server", "--bind", a.address, "80"])
        lab.call_in("b", httpx.get, f"http://{a.address}/")   # a thread inside b's namespace

Names carry the creating pid and a random part (`pltest-<pid>-<hex>-<host>`), so two runs never
collide, and `cleanup_leftovers()` removes namespaces whose creator is dead. Teardown (context
exit, fixture finalizer, atexit, SIGTERM turned into KeyboardInterrupt) stops every process it
started, kills whatever else still lives in its namespaces, and deletes them (the veths go with
them; nothing is ever created in the root namespace).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "pltest-"
IP = shutil.which("ip") or "/usr/sbin/ip"
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
SH = "/bin/sh"
CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = Path("/run/netns")

# Every live lab (strong references), closed at interpreter exit if nobody else did it.
_LIVE: set[Any] = set()  # NetnsLab objects (tests/netns_lab.py)


class NetnsError(RuntimeError):
    """An `ip` command failed."""


def _ip(*args: str, check: bool = True, timeout: float = 15) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([IP, *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {proc.stderr.strip() or proc.returncode}")
    return proc


def netns_unavailable_reason() -> str | None:
    """Return why network-namespace hosts cannot be built here, or None when they can."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    for tool in (IP, UNSHARE):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing"
    probe = f"{PREFIX}{os.getpid()}-probe{secrets.token_hex(2)}"
    try:
        made = _ip("netns", "add", probe, check=False)
        if made.returncode != 0:
            return f"`ip netns add` is not permitted here: {made.stderr.strip()}"
        uts = subprocess.run(
            [IP, "netns", "exec", probe, UNSHARE, "--uts", SH, "-c", "hostname probe"],
            capture_output=True,
            text=True,
            timeout=15,
        )
        if uts.returncode != 0:
            return f"`ip netns exec` + `unshare --uts` is not permitted here: {uts.stderr.strip()}"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"network namespaces unusable: {exc}"
    finally:
        _ip("netns", "del", probe, check=False)
    return None


def list_netns() -> list[str]:
    """Names of the named network namespaces (`ip netns list`)."""
    out = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def netns_pids(netns: str) -> list[int]:
    """Pids of every process whose network namespace is `netns`."""
    out = _ip("netns", "pids", netns, check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def _kill_netns_processes(netns: str, timeout: float = 5.0) -> list[int]:
    """SIGKILL everything living in `netns`; return the pids seen."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while True:
        pids = netns_pids(netns)
        if not pids:
            return seen
        seen.extend(p for p in pids if p not in seen)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def _owner_alive(name: str, prefix: str) -> bool:
    try:
        pid = int(name[len(prefix) :].split("-", 1)[0])
    except ValueError:
        return False
    return Path(f"/proc/{pid}").exists()


def cleanup_leftovers(prefix: str = PREFIX, *, include_live_owners: bool = False) -> list[str]:
    """Delete namespaces named `prefix...` (and kill what runs in them); return their names.

    By default only namespaces whose creating process (the pid in the name) is gone are touched,
    so a concurrent run is left alone. `include_live_owners=True` removes them all.
    """
    removed = []
    for name in list_netns():
        if not name.startswith(prefix):
            continue
        if not include_live_owners and _owner_alive(name, prefix):
            continue
        _kill_netns_processes(name)
        if _ip("netns", "del", name, check=False).returncode == 0:
            removed.append(name)
    return removed


def _setns_current_thread(netns: str) -> None:
    fd = os.open(NETNS_RUN_DIR / netns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if hasattr(os, "setns"):  # Python 3.12+
            os.setns(fd, CLONE_NEWNET)
            return
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({netns}): {os.strerror(err)}")
    finally:
        os.close(fd)


@dataclass
class Host:
    """One namespace host: `eth0` at `address`/24, processes named `hostname`."""

    name: str
    netns: str
    address: str
    hostname: str
    switch_port: str  # the veth end in the bridge namespace


@dataclass
class Proc:
    """A process started in a host (leader of its own process group)."""

    host: Host
    argv: list[str]
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the process group, SIGKILL it after `timeout`; return the exit code."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            if not self.alive():
                break
            self.signal_group(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(wait)
        return self.popen.poll()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return f"(no log at {self.log})"


def stop_all(procs: Sequence[Proc], term_timeout: float = 5.0) -> None:
    """SIGTERM every process group at once; SIGKILL those still alive after `term_timeout`."""
    for proc in procs:
        if proc.alive():
            proc.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + term_timeout
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(max(0.0, deadline - time.monotonic()))
        if proc.alive():
            proc.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(5)


@atexit.register
def _close_live_labs() -> None:
    for lab in list(_LIVE):
        lab.close()


@contextlib.contextmanager
def sigterm_as_keyboardinterrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt (main thread only) so finalizers still run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
