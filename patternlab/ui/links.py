"""Links that reproduce a view: a page's selection kept in its URL query.

On a page's first run in a session, a widget starts from the URL (`?pattern=events`), so a
copied link opens the same view in another browser; after the widgets are drawn the URL is
written back, so it always names what is shown. Unknown values in a link are ignored with a
message naming them, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

SEEN = "links_seen-{}"  # session: this page's widgets were already set from its URL


def from_url(page: str, bound: dict[str, tuple[str, Sequence[str] | None]]) -> list[str]:
    """Start widgets from the URL once per session; return the values the URL had that no
    widget accepts. bound: widget key -> (query name, allowed values or None for free text)."""
    if st.session_state.get(SEEN.format(page)):
        return []
    st.session_state[SEEN.format(page)] = True
    refused = []
    for key, (name, allowed) in bound.items():
        value = st.query_params.get(name)
        if value is None:
            continue
        if allowed is not None and value not in [str(a) for a in allowed]:
            refused.append(f"{name}={value}")
            continue
        match = next((a for a in allowed if str(a) == value), value) if allowed else value
        st.session_state[key] = match
    return refused


def to_url(values: dict[str, object], defaults: dict[str, object]) -> None:
    """Write the page's selection into its URL: each value that differs from its default."""
    for name, value in values.items():
        if value in (None, "") or value == defaults.get(name):
            st.query_params.pop(name, None)
        elif st.query_params.get(name) != str(value):
            st.query_params[name] = str(value)
