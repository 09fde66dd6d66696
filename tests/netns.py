"""Hosts made of Linux network namespaces, for the multi-host tests (tests/test_multihost.py).

Topology: one namespace holds a bridge (the "switch"); every host is a namespace of its own with
`lo` up and an `eth0` veth whose peer is a port of that bridge. Only 192.0.2.0/24 (TEST-NET-1)
addresses on links made here are used; the namespaces have no route anywhere else.

    with NetnsLab(Path("/tmp/lab")) as lab:      # or the `netns_lab` fixture
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
from collections.abc import Callable, Iterator, Mapping, Sequence
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
_LIVE: set[NetnsLab] = set()


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


class NetnsLab:
    """A switch plus hosts made of network namespaces; `close()` removes everything."""

    def __init__(self, workdir: Path, *, prefix: str = PREFIX, subnet: str = "192.0.2") -> None:
        self.prefix = prefix
        self.run_id = f"{os.getpid()}-{secrets.token_hex(2)}"
        self.workdir = Path(workdir)
        self.subnet = subnet
        self.switch_netns = f"{prefix}{self.run_id}-sw"
        self.hosts: dict[str, Host] = {}
        self.procs: list[Proc] = []
        self._namespaces: list[str] = []
        self._started = False
        self._closing = False
        self._closed = False
        self._lock = threading.Lock()

    # -- building ---------------------------------------------------------------------------

    def __enter__(self) -> NetnsLab:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Create the bridge namespace (the switch)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        _LIVE.add(self)
        self._add_netns(self.switch_netns)
        _ip("-n", self.switch_netns, "link", "set", "lo", "up")
        _ip("-n", self.switch_netns, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch_netns, "link", "set", "br0", "up")
        self._started = True

    def _add_netns(self, name: str) -> None:
        _ip("netns", "add", name)
        self._namespaces.append(name)

    def add_host(self, name: str, address: str | None = None, hostname: str | None = None) -> Host:
        """Add a host namespace wired to the switch; `address` defaults to subnet.<n>."""
        if not self._started:
            raise RuntimeError("call start() (or use the lab as a context manager) first")
        if name in self.hosts or not name.isalnum() or len(name) > 12:
            raise ValueError(f"host name must be new, alphanumeric, <= 12 chars: {name!r}")
        address = address or f"{self.subnet}.{len(self.hosts) + 1}"
        netns = f"{self.prefix}{self.run_id}-{name}"
        port = f"p-{name}"  # lives only in the switch namespace: no clash with other runs
        self._add_netns(netns)
        # Both veth ends are created directly inside their namespaces.
        _ip(
            "link",
            "add",
            "name",
            port,
            "netns",
            self.switch_netns,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            netns,
        )
        _ip("-n", self.switch_netns, "link", "set", port, "master", "br0")
        _ip("-n", self.switch_netns, "link", "set", port, "up")
        _ip("-n", netns, "link", "set", "lo", "up")
        _ip("-n", netns, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", netns, "link", "set", "eth0", "up")
        host = Host(name, netns, address, hostname or name, port)
        self.hosts[name] = host
        (self.workdir / name).mkdir(exist_ok=True)
        return host

    def host(self, host: str | Host) -> Host:
        return host if isinstance(host, Host) else self.hosts[host]

    # -- running things ---------------------------------------------------------------------

    def argv(self, host: str | Host, cmd: Sequence[str]) -> list[str]:
        """The command line that runs `cmd` inside `host` with its own hostname (UTS namespace)."""
        h = self.host(host)
        # `ip netns exec`, `unshare` (no --fork) and `sh -c exec` all exec: the pid stays the same.
        return [
            IP,
            "netns",
            "exec",
            h.netns,
            UNSHARE,
            "--uts",
            SH,
            "-c",
            'hostname "$0" && exec "$@"',
            h.hostname,
            *cmd,
        ]

    def run(
        self,
        host: str | Host,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 120,
        check: bool = True,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a short command inside `host` and wait for it."""
        proc = subprocess.run(
            self.argv(host, cmd),
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )
        if check and proc.returncode != 0:
            raise NetnsError(
                f"{cmd[:3]} on {self.host(host).name} exited {proc.returncode}:\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return proc

    def spawn(
        self,
        host: str | Host,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
        cwd: Path | None = None,
        stdout: Path | None = None,
    ) -> Proc:
        """Start a long-running command inside `host` (own session); stopped by close().

        Its output goes to `log`; with `stdout`, standard output goes there and only standard
        error to `log`.
        """
        h = self.host(host)
        log = log or self.workdir / h.name / f"{Path(cmd[0]).name}-{len(self.procs)}.log"
        with self._lock:
            if self._closing:
                raise RuntimeError("lab is closed")
            with open(log, "ab") as err, open(stdout or os.devnull, "ab") as out:
                popen = subprocess.Popen(
                    self.argv(h, cmd),
                    env=dict(env) if env is not None else None,
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=out if stdout else err,
                    stderr=err if stdout else subprocess.STDOUT,
                    start_new_session=True,
                )
            proc = Proc(h, list(cmd), popen, log)
            self.procs.append(proc)
        return proc

    def call_in(
        self,
        host: str | Host,
        fn: Callable[..., Any],
        *args: Any,
        timeout: float | None = 300,
        **kwargs: Any,
    ) -> Any:
        """Call `fn` in a new thread that joined `host`'s network namespace; return its result.

        Sockets the call opens (and threads it starts) live in that namespace; the test process
        itself stays in the root namespace, which cannot reach the veth addresses.
        """
        h = self.host(host)
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                _setns_current_thread(h.netns)
                box["value"] = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the caller
                box["error"] = exc

        thread = threading.Thread(target=target, name=f"netns-{h.name}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"call in {h.name} still running after {timeout} s")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def pids(self, host: str | Host) -> list[int]:
        return netns_pids(self.host(host).netns)

    # -- faults -----------------------------------------------------------------------------

    def kill_host(self, host: str | Host) -> list[int]:
        """ "Power off" a host: SIGKILL every process in its namespace; return their pids."""
        return _kill_netns_processes(self.host(host).netns)

    def link_down(self, host: str | Host, *, side: str = "switch") -> None:
        """Cut a host's cable: the switch port goes down (the host sees NO-CARRIER, packets are
        silently lost); side="host" downs the host's eth0 instead (its sockets fail at once)."""
        h = self.host(host)
        if side == "switch":
            _ip("-n", self.switch_netns, "link", "set", h.switch_port, "down")
        else:
            _ip("-n", h.netns, "link", "set", "eth0", "down")

    def link_up(self, host: str | Host, *, side: str = "switch") -> None:
        h = self.host(host)
        if side == "switch":
            _ip("-n", self.switch_netns, "link", "set", h.switch_port, "up")
        else:
            _ip("-n", h.netns, "link", "set", "eth0", "up")

    # -- teardown ---------------------------------------------------------------------------

    def close(self, term_timeout: float = 5.0) -> list[str]:
        """Stop every process, empty and delete every namespace; idempotent. Returns problems."""
        with self._lock:
            if self._closed:
                return []
            self._closing = True  # no new processes from here on
        problems: list[str] = []
        # 1. SIGTERM all process groups at once, then SIGKILL the ones still there.
        stop_all(self.procs, term_timeout)
        # 2. Whatever escaped the groups (own sessions: flow-run subprocesses, postmaster...).
        for netns in reversed(self._namespaces):
            try:
                _kill_netns_processes(netns)
            except Exception as exc:  # keep going: deleting the namespace matters more
                problems.append(f"kill in {netns}: {exc}")
        # 3. Delete the namespaces (their veths and the bridge go with them).
        for netns in reversed(self._namespaces):
            done = _ip("netns", "del", netns, check=False)
            if done.returncode != 0 and netns in list_netns():
                problems.append(f"ip netns del {netns}: {done.stderr.strip()}")
        leftover = [n for n in list_netns() if n.startswith(f"{self.prefix}{self.run_id}-")]
        if leftover:
            problems.append(f"namespaces left: {leftover}")
        # Only now: an interrupted close() is redone by the atexit hook.
        self._closed = True
        _LIVE.discard(self)
        return problems


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
