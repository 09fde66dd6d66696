"""The lab's one Prefect client: pointed at the lab's server, kept open, failing fast.

The client is pointed at the server by a Prefect settings context built here, not by writing
PREFECT_API_URL into the environment before Prefect is imported: so it does not matter which
module imported Prefect first, and the user's own Prefect profile is left alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterId
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES

from patternlab.backend.status import BackendError, api_url
from patternlab.settings import get_settings

_CLIENTS: dict[str, SyncPrefectClient] = {}
_CLIENTS_LOCK = threading.Lock()


@lru_cache(maxsize=8)
def _settings_for(url: str, retries: bool) -> tuple:
    """Build, once per URL, Prefect's settings pointed at `url` (client retries on or off)."""
    # Prefect's temporary_settings() rebuilds the whole Settings object (~30 ms) on every call.
    context = get_settings_context()
    updates: dict[Any, Any] = {PREFECT_API_URL: url}
    if not retries:
        updates[PREFECT_CLIENT_MAX_RETRIES] = 0
    return context.profile, context.settings.copy_with_update(updates=updates)


@contextmanager
def prefect_settings(*, retries: bool = False) -> Iterator[None]:
    """Run Prefect calls in this block against the lab's server (PREFECT_API_URL or embedded).

    Without retries (the default) a client call fails at once when the server is away: a page
    polling every second says so instead of hanging in Prefect's backoff.
    """
    profile, settings = _settings_for(api_url(), retries)
    with SettingsContext(profile=profile, settings=settings):
        yield


@contextmanager
def prefect_client() -> Iterator[SyncPrefectClient]:
    """Lend the process-wide Prefect client; turn "server unreachable" into a BackendError.

    The client stays open (a new one pays a CSRF-token request) and does not retry here: a page
    polling every second should say "backend down" at once, not hang in Prefect's backoff.
    """
    url = api_url()
    with prefect_settings():
        with _CLIENTS_LOCK:
            client = _CLIENTS.get(url)
            if client is None:
                client = get_client(sync_client=True)
                client.__enter__()
                _CLIENTS[url] = client
        try:
            yield client
        except httpx.TransportError as exc:
            raise BackendError(_unreachable(url, type(exc).__name__)) from None
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code < 500:
                raise
            raise BackendError(_unreachable(url, f"HTTP {exc.response.status_code}")) from None


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


def table_rows(artifact: Any) -> list[dict[str, Any]]:
    """Return a table artifact's rows (Prefect stores them as a JSON string)."""
    data = artifact.data
    if not data:
        return []
    return json.loads(data) if isinstance(data, str) else data
