"""What a page shows while the Prefect server is away: the message, and a reconnecting poll.

Nothing here imports prefect (backend checks are plain HTTP).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import streamlit as st

from patternlab import backend, views
from patternlab.settings import LabSettings

RECONNECT_EVERY_S = 2  # how often a page whose server is down asks again


def show_backend_down(status: backend.BackendStatus) -> None:
    """Explain that the Prefect server cannot be reached, and what to do about it."""
    st.error(
        f"**Prefect server unreachable.** {views.escape_md(status.message)}",
        icon=":material/error:",
    )
    st.info(
        "Nothing can be launched or read until it answers. Start that server, or unset "
        "`PREFECT_API_URL` and restart the app so the lab runs its own embedded backend."
    )


@st.fragment(run_every=RECONNECT_EVERY_S)
def _reconnect(settings: LabSettings | None, since: float) -> None:
    """Ask the backend every few seconds; rerun the whole page as soon as it answers."""
    status = backend.backend_status(settings)
    # Not on the page's own run (`since` is then a moment ago): a server that answers its health
    # check while reads still fail must not rerun the page in a tight loop.
    if status.server_up and time.monotonic() - since >= RECONNECT_EVERY_S / 2:
        st.rerun()
    st.caption(
        f"Trying the Prefect server again every {RECONNECT_EVERY_S} s (last try "
        f"{datetime.now(UTC):%H:%M:%S} UTC): this page reconnects by itself."
    )
    if status.mode == "embedded" and st.button(
        "Start the lab's backend now", icon=":material/power_settings_new:", key="ui_start"
    ):
        st.rerun()  # the page's backend check starts it, with visible progress


def stop_until_backend_answers(settings: LabSettings | None = None) -> None:
    """Stop the page here, but keep asking the backend and rerun the page once it answers."""
    _reconnect(settings, time.monotonic())
    st.stop()


def is_backend_down(exc: BaseException | None) -> bool:
    """Say whether an error means the Prefect server did not answer (a retry may succeed)."""
    return isinstance(exc, backend.BackendError | httpx.TransportError)
