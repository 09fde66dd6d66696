"""The tour's steps: plain evidence from real reports, reuse rules, and the closing card."""

from __future__ import annotations

from patternlab.views import tour
from tests.helpers import build_report, fail_run

STEPS = {s.key: s for s in tour.STEPS}


def test_the_tour_has_about_six_steps_covering_every_pattern_and_the_event():
    """The steps launch each pattern, the custom event, a drill and a fan-out."""
    assert 6 <= len(tour.STEPS) <= 8
    launched = {p for s in tour.STEPS for p in s.patterns}
    assert launched == {"monoflow", "subflows", "deployments", "events"}
    assert [s.key for s in tour.STEPS if s.emit] == ["emit"]
    assert STEPS["drill"].drill == "child"
    assert STEPS["fanout"].repos > 1


def test_evidence_speaks_of_the_step_s_own_pattern_in_plain_words():
    """A reused launch of four patterns gives the subflows step only the subflows sentence."""
    lines = tour.evidence(STEPS["subflows"], build_report(), window_s=10)
    assert len(lines) == 1
    assert lines[0].startswith("**Flow of subflows**: 3 flow runs in 1 process on 1 host")


def test_a_launch_is_reused_only_when_it_shows_what_the_step_is_about():
    """A drill launch does not back a plain step, and a plain one does not back the drill."""
    plain, drill = build_report(), build_report(drill="child")
    assert tour.matches(STEPS["monoflow"], plain, 10)
    assert not tour.matches(STEPS["monoflow"], drill, 10)
    assert tour.matches(STEPS["drill"], drill, 10)
    assert not tour.matches(STEPS["events"], plain, 10)  # the events step needs the late upstream
    assert not tour.matches(STEPS["emit"], plain, 10)
    assert tour.matches(STEPS["emit"], build_report("emit-1234", ["events"]), 10)


def test_the_closing_card_sets_cost_against_separation_and_containment():
    """Per pattern: seconds, flow runs, processes, separation gained, and the drill's outcome."""
    single = build_report()
    drill = build_report("d", drill="child")
    fail_run(drill.patterns[0], "monoflow")  # the failing task fails the one flow
    fail_run(drill.patterns[2], "average-commits-child")  # the parent completed without it
    reports = {"monoflow": single, "subflows": single, "drill": drill}
    card = tour.closing_card(reports, window_s=10).set_index("pattern")
    assert list(card.index) == ["Monoflow", "Flow of subflows", "Flow of deployments",
                                "Event-triggered flow"]  # fmt: skip
    assert card.loc["Monoflow", "separation gained"] == "none"
    assert card.loc["Event-triggered flow", "separation gained"] == (
        "conceptual, execution, awareness"
    )
    assert card.loc["Monoflow", "contains a child failure"] == "no"
    assert card.loc["Flow of deployments", "contains a child failure"] == "yes"
    assert card.loc["Flow of subflows", "end-to-end s, hold excluded"] == "11.00"
    single.patterns[1].timings.end_to_end_s = None  # not measured: never "None" on the card
    card = tour.closing_card({"subflows": single}, window_s=10).set_index("pattern")
    assert card.loc["Flow of subflows", "end-to-end s, hold excluded"] == "–"


def test_a_held_upstream_is_said_apart_from_what_the_pattern_cost():
    """The events step's sentence says how much of end-to-end was the deliberate hold."""
    report = build_report(patterns=["events"])
    report.patterns[0].timings.held_s = 12.0
    line = tour.evidence(STEPS["subflows"], build_report(), window_s=10)[0]
    assert "on purpose" not in line  # nothing held: nothing said
    held = tour._pattern_line(report.patterns[0])
    assert "(12.0 s of it the upstream held on purpose)" in held, held
