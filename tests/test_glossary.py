"""The glossary: every term the pages use is defined; numbers read the same everywhere."""

from __future__ import annotations

import math

from patternlab.views import glossary

PAGE_TERMS = [
    "conceptual", "execution", "awareness", "entry", "hand-off", "pick-up", "process start",
    "ran s", "waited s", "started by", "contended", "worker", "host",
]  # fmt: skip


def test_every_term_the_pages_use_has_a_plain_definition() -> None:
    """Each term the issue lists has a sentence of its own in the glossary."""
    for term in PAGE_TERMS:
        assert len(glossary.GLOSSARY[term].split()) >= 8, term


def test_help_for_joins_the_definitions_of_the_terms_asked() -> None:
    """help_for returns the definitions asked for, in order, one paragraph each."""
    text = glossary.help_for("pick-up", "process start")
    first, second = text.split("\n\n")
    assert first.startswith("Pick-up")
    assert second.startswith("Process start")


def test_glossary_markdown_lists_each_term_once() -> None:
    """The Markdown glossary has one bullet per term."""
    lines = glossary.glossary_markdown().splitlines()
    assert len(lines) == len(glossary.GLOSSARY)
    assert lines[0].startswith("- **conceptual**:")


def test_numbers_are_formatted_the_same_everywhere() -> None:
    """Thousands are separated, decimals kept as asked, and missing values read as a dash."""
    assert glossary.number(22400) == "22,400"
    assert glossary.number(1234.5678, 2) == "1,234.57"
    assert glossary.number(None) == glossary.MISSING
    assert glossary.number(math.nan, 1) == glossary.MISSING
    assert glossary.seconds(3.14159) == "3.14 s"
    assert glossary.seconds(None) == glossary.MISSING
