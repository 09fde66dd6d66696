"""The glossary one click away on every page that uses the lab's terms, and column help."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from patternlab.views import glossary


def glossary_button(terms: Iterable[str] | None = None, *, key: str) -> None:
    """Draw a "Glossary" popover that defines the given terms (all of them by default)."""
    with st.popover("Glossary", icon=":material/menu_book:", key=key):
        st.markdown(glossary.glossary_markdown(terms))


def page_intro(sentence: str, *, key: str, terms: Iterable[str] | None = None) -> None:
    """Say in one sentence what a page is for, with the glossary beside it."""
    text, button = st.columns([5, 1], vertical_alignment="center")
    text.markdown(sentence)
    with button:
        glossary_button(terms, key=key)
