"""What the runner published about itself on the Prefect server: its adapters and settings.

The runner (flows/serve.py) writes a Prefect Variable when it starts (flows/adapters.py
`publish`); the lab reads it with one plain GET, without importing Prefect. Nothing here starts
or changes anything.
"""

from __future__ import annotations

from typing import Any

import httpx

from flows.adapters import ADAPTERS, RUNNER_VARIABLE

UNKNOWN = "unknown: the runner has not published its adapters"


def read_runner_facts(api: str, timeout: float = 0.5, *, local: bool = True) -> dict | None:
    """Return what the runner published (adapters, Prefect version, polls), or None."""
    try:
        answer = httpx.get(f"{api}/variables/name/{RUNNER_VARIABLE}", timeout=timeout,
                           trust_env=not local)  # fmt: skip
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    try:
        value = answer.json().get("value")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, dict) else None


def adapter_states(facts: dict[str, Any] | None, runner_pid: int | None) -> dict[str, str]:
    """Return each adapter's state as the running runner published it ("active", "off: why").

    Facts a previous runner left behind (another pid) do not count: the states are unknown
    until the running one publishes its own.
    """
    published = (facts or {}).get("adapters")
    if not isinstance(published, dict) or (
        runner_pid is not None and facts.get("pid") != runner_pid
    ):
        return dict.fromkeys(ADAPTERS, UNKNOWN)
    return {name: str(published.get(name, UNKNOWN)) for name in ADAPTERS}
