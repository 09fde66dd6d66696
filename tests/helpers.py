"""Shared test helpers: polling with a deadline, free ports, process facts."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

import psutil

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.1, what: str = ""
) -> T:
    """Call `predicate` until it returns something truthy and return that; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gone(pid: int) -> bool:
    """Say whether a process has ended (a zombie waiting to be reaped counts as ended)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def tree(pid: int) -> list[psutil.Process]:
    """Return a process and all its descendants."""
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def tree_rss(pid: int) -> int:
    """Return the resident memory, in bytes, of a process and its descendants."""
    total = 0
    for proc in tree(pid):
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def listening(pid: int) -> set[tuple[str, int]]:
    """Return the (address, port) pairs that a process tree listens on over TCP."""
    found = set()
    for proc in tree(pid):
        for conn in proc.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                found.add((conn.laddr.ip, conn.laddr.port))
    return found


def tree_pss(pid: int) -> int:
    """Return the proportional memory (PSS, shared pages split), in bytes, of a process tree."""
    total = 0
    for proc in tree(pid):
        try:
            total += proc.memory_full_info().pss
        except psutil.NoSuchProcess:
            continue
    return total
