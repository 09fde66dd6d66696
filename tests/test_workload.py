"""A launch's workload is checked before anything is created: lists, owners, limits (no backend)."""

from __future__ import annotations

import pytest

from flows.github_errors import InvalidRepository, OwnerNotFound
from flows.snapshot_synthetic import SYNTHETIC_OWNER, synthetic_names
from patternlab.launch.workload import (
    InvalidWorkload,
    build_workload,
    check_limit,
    parse_repo_list,
)


def test_a_list_is_split_on_commas_and_spaces_and_checked():
    """ "a/b, c/d e/f" gives three repositories, URLs normalised to owner/name."""
    text = "PrefectHQ/prefect, https://github.com/apache/airflow  dagster-io/dagster"
    assert parse_repo_list(text) == ["PrefectHQ/prefect", "apache/airflow", "dagster-io/dagster"]


def test_duplicates_are_dropped_case_insensitively():
    """GitHub names are case-insensitive: the first spelling is kept, once."""
    assert parse_repo_list(["a/b", "A/B", "c/d"]) == ["a/b", "c/d"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PrefectHQ/prefect,../../etc/passwd", "path traversal"),
        ("a/b,c/d?x=1,e/f", "query string"),
        ("a/b,PrefectHQ/pr\u0435fect", "CYRILLIC SMALL LETTER IE"),
    ],
)
def test_a_hostile_name_in_a_list_is_refused_saying_which(text, reason):
    """One bad name refuses the whole list, naming its position and the reason."""
    with pytest.raises(InvalidRepository) as caught:
        parse_repo_list(text)
    message = str(caught.value)
    assert reason in message
    assert "Repository 2 of" in message


@pytest.mark.parametrize("text", ["", " , ,", []])
def test_an_empty_list_is_refused(text):
    """No repository at all is not a workload."""
    with pytest.raises(InvalidWorkload, match="empty"):
        parse_repo_list(text)


def test_more_than_256_repositories_are_refused():
    """257 names are one too many, before any of them is checked further."""
    with pytest.raises(InvalidWorkload, match="at most 256"):
        parse_repo_list([f"o/r{i}" for i in range(257)])


@pytest.mark.parametrize("limit", [0, -1, 257, 1000, True, "12", 3.5])
def test_a_limit_outside_1_to_256_is_refused(limit):
    """The owner listing's limit is a whole number from 1 to 256."""
    with pytest.raises(InvalidWorkload, match="from 1 to 256"):
        check_limit(limit)


def test_the_synthetic_organisation_from_the_snapshot_is_labelled_synthetic():
    """Listed offline, the synthetic organisation's repositories are marked synthetic."""
    workload = build_workload(owner=SYNTHETIC_OWNER, limit=5, source="snapshot")
    assert workload.repos == synthetic_names(5)
    assert workload.synthetic
    assert workload.source == "snapshot"
    assert workload.label() == f"5 repositories of {SYNTHETIC_OWNER} (synthetic)"


def test_an_owner_is_listed_from_the_live_source(fake_github):
    """With source github the owner is listed from GitHub (here the fake): not synthetic."""
    workload = build_workload(owner=SYNTHETIC_OWNER, limit=3, source="github")
    assert workload.repos == synthetic_names(3)
    assert workload.source == "github"
    assert not workload.synthetic


def test_an_owner_with_no_repositories_launches_nothing(fake_github):
    """An empty owner is refused with a message saying so."""
    with pytest.raises(InvalidWorkload, match="empty-owner has no public repositories"):
        build_workload(owner="empty-owner", limit=5, source="github")


def test_an_unknown_owner_offline_says_what_the_snapshot_holds():
    """Offline, an owner the snapshot does not hold is refused, naming the synthetic one."""
    with pytest.raises(OwnerNotFound, match=SYNTHETIC_OWNER):
        build_workload(owner="nobody-at-all", limit=5, source="snapshot")


def test_exactly_one_kind_of_workload_is_given():
    """A repository and an owner at once (or neither) is refused."""
    with pytest.raises(InvalidWorkload, match="exactly one"):
        build_workload(repo="a/b", owner="x")
    with pytest.raises(InvalidWorkload, match="exactly one"):
        build_workload()


def test_one_repository_is_the_workload_of_today():
    """--repo R is a list of one, labelled by its name."""
    workload = build_workload(repo="https://github.com/PrefectHQ/prefect", source="snapshot")
    assert workload.repos == ["PrefectHQ/prefect"]
    assert workload.label() == "PrefectHQ/prefect"
