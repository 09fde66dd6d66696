"""A switch plus hosts made of network namespaces, torn down completely (see tests/netns.py)."""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.netns import (
    _LIVE,
    IP,
    PREFIX,
    SH,
    UNSHARE,
    Host,
    NetnsError,
    Proc,
    _ip,
    _kill_netns_processes,
    _setns_current_thread,
    list_netns,
    netns_pids,
    stop_all,
)


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
