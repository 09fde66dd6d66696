"""The lab's one Prefect client: kept open, failing fast, "server unreachable" as BackendError."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterId
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

from patternlab import _procs
from patternlab.backend import BackendError, api_url
from patternlab.settings import get_settings

_CLIENTS: dict[str, SyncPrefectClient] = {}
_CLIENTS_LOCK = threading.Lock()


@contextmanager
def prefect_client() -> Iterator[SyncPrefectClient]:
    """Lend the process-wide Prefect client; turn "server unreachable" into a BackendError.

    The client stays open (a new one pays a CSRF-token request) and does not retry here: a page
    polling every second should say "backend down" at once, not hang in Prefect's backoff.
    """
    url = api_url()
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(url)
        if client is None:
            client = get_client(sync_client=True)
            client.__enter__()
            _CLIENTS[url] = client
    try:
        with _no_retries():
            yield client
    except httpx.TransportError as exc:
        raise BackendError(_unreachable(url, type(exc).__name__)) from None
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code < 500:
            raise
        raise BackendError(_unreachable(url, f"HTTP {exc.response.status_code}")) from None


def wait_for_api(timeout_s: float) -> Exception | None:
    """Wait until PREFECT_API_URL answers Prefect's own health check; return the last error if not.

    Prefect's client, not a bare GET: it sends the API key and honours proxies (Prefect Cloud).
    """
    error: Exception | None = None

    def healthy() -> bool:
        nonlocal error
        error = client.api_healthcheck()
        return error is None

    with get_client(sync_client=True) as client:
        _procs.poll_until(healthy, timeout_s, interval=0.2)
    return error


@lru_cache(maxsize=1)
def _no_retry_context() -> tuple:
    """Build, once, this process's Prefect settings with the client's retries turned off."""
    # Prefect's temporary_settings() rebuilds the whole Settings object (~30 ms) on every call.
    context = get_settings_context()
    updated = context.settings.copy_with_update(updates={PREFECT_CLIENT_MAX_RETRIES: 0})
    return context.profile, updated


def _no_retries() -> SettingsContext:
    """Return a settings context in which the Prefect client does not retry."""
    profile, settings = _no_retry_context()
    return SettingsContext(profile=profile, settings=settings)


def _unreachable(url: str, why: str) -> str:
    """Say that the Prefect server is not answering, and what to do."""
    fix = (
        "Start it with `python -m patternlab backend up` (the dashboard reconnects by itself)."
        if get_settings().embedded
        else "Check PREFECT_API_URL and that the server is up."
    )
    return f"The Prefect server at {url} is not answering ({why}). {fix}"


@lru_cache(maxsize=32)
def deployment_id(name: str) -> str:
    """Return a deployment's id by name (cached: deployments outlive launches)."""
    with prefect_client() as client:
        try:
            return str(client.read_deployment_by_name(name).id)
        except ObjectNotFound:
            raise BackendError(
                f"Deployment {name} is not on the Prefect server: is the runner "
                "(python -m flows.serve, or a worker) serving the lab's flows?"
            ) from None


@lru_cache(maxsize=256)
def flow_name(flow_id: str) -> str:
    """Return a flow's name by id (cached: names never change)."""
    with prefect_client() as client:
        flows = client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=[flow_id])))
    return flows[0].name if flows else "unknown"
