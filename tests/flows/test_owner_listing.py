"""Listing an owner's repositories through the one GitHub client, against the fake GitHub server.

The fake (tests/fake_github.py) answers over real HTTP on 127.0.0.1 as GitHub does: the
synthetic organisation from the snapshot (paginated with Link), an empty organisation, a user who
is not an organisation, and 404 for anyone else.
"""

from __future__ import annotations

import httpx
import pytest

from flows.github import (
    GitHubClient,
    OwnerNotFound,
    UnexpectedResponse,
    build_http_client,
)
from flows.snapshot_synthetic import SYNTHETIC_OWNER, synthetic_names


def _client(fake_github) -> GitHubClient:
    """Return the GitHub client pointed at the fake (no token: the listing needs none)."""
    return GitHubClient(build_http_client("github", api_url=fake_github.url, timeout_s=5))


def _paths(fake_github, since: int) -> list[str]:
    """Return the paths (with query) the fake received since a point in its request log."""
    return [seen.path for seen in fake_github.requests[since:]]


def test_an_organisation_is_listed_across_pages_by_link(fake_github):
    """150 repositories of the synthetic organisation take two pages, following rel="next"."""
    before = len(fake_github.requests)
    names = _client(fake_github).list_owner_repos(SYNTHETIC_OWNER, 150)
    assert names == synthetic_names(150)
    paths = _paths(fake_github, before)
    assert len(paths) == 2, paths
    assert paths[0].startswith(f"/orgs/{SYNTHETIC_OWNER}/repos?")
    assert "per_page=100" in paths[0]
    assert "sort=full_name" in paths[0]
    assert "page=2" in paths[1]  # the URL GitHub's Link header named, followed verbatim


def test_listing_stops_at_the_limit_without_reading_more_pages(fake_github):
    """A limit of 40 reads one page of 40, though the organisation has 256 repositories."""
    before = len(fake_github.requests)
    assert _client(fake_github).list_owner_repos(SYNTHETIC_OWNER, 40) == synthetic_names(40)
    paths = _paths(fake_github, before)
    assert len(paths) == 1, paths
    assert "per_page=40" in paths[0]


def test_an_owner_with_no_repositories_is_an_empty_list(fake_github):
    """An organisation whose list is 200 [] has no repositories (and no Link header)."""
    assert _client(fake_github).list_owner_repos("empty-owner", 10) == []


def test_a_user_is_listed_from_users_after_the_orgs_404(fake_github):
    """/orgs/{user}/repos is GitHub's 404; the client then reads /users/{user}/repos."""
    before = len(fake_github.requests)
    assert _client(fake_github).list_owner_repos("solo-user", 5) == [
        "solo-user/alpha", "solo-user/beta",
    ]  # fmt: skip
    paths = [p.split("?")[0] for p in _paths(fake_github, before)]
    assert paths == ["/orgs/solo-user/repos", "/users/solo-user/repos"]


def test_an_unknown_owner_is_owner_not_found_naming_it(fake_github):
    """404 for both lists means there is no such owner: a clear OwnerNotFound, not a crash."""
    with pytest.raises(OwnerNotFound, match="no user or organisation named nobody-at-all"):
        _client(fake_github).list_owner_repos("nobody-at-all", 5)


def test_hostile_owner_text_is_refused_before_any_request(fake_github):
    """An owner with a path in it never reaches a URL."""
    before = len(fake_github.requests)
    with pytest.raises(Exception, match="user or organisation name"):
        _client(fake_github).list_owner_repos("../../orgs/x", 5)
    assert len(fake_github.requests) == before


def test_a_listed_name_that_is_not_owner_name_is_refused():
    """GitHub's own text is checked like user input before it becomes a repository to launch."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"full_name": "../../etc/passwd"}])

    http = build_http_client("github", transport=httpx.MockTransport(answer))
    with pytest.raises(UnexpectedResponse, match="not owner/name"):
        GitHubClient(http).list_owner_repos("someone", 5)


@pytest.mark.parametrize("limit", [0, 257])
def test_the_limit_is_one_to_256(limit):
    """The client refuses a limit outside 1..256 before any request."""
    with pytest.raises(ValueError, match="between 1 and 256"):
        GitHubClient(build_http_client("snapshot")).list_owner_repos(SYNTHETIC_OWNER, limit)
