"""Behaviour of the GitHub client against fakes that answer as GitHub documents."""

from __future__ import annotations

import json
import pickle
import re
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tblib import pickling_support

from flows import github
from flows.github import (
    GitHubClient,
    GitHubError,
    GitHubUnavailable,
    InvalidConfiguration,
    RateLimited,
    RepositoryNotFound,
    UnexpectedResponse,
    build_http_client,
    is_transient,
    probe_live,
    summarise,
)
from tests.helpers import free_port

SAMPLES = Path(__file__).parents[1] / "samples" / "github"
TOKEN = "ghp_SECRETsecret0123456789abcdefABCDEF00"
RESET = 1795622400  # 2026-11-25 16:00:00 UTC
Handler = Callable[[httpx.Request], httpx.Response]


def sample(name: str) -> Any:
    """Return a JSON sample body from tests/samples/github."""
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


class Recorder:
    """Wrap a handler in a MockTransport and keep every request it receives."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self._handler = handler
        self.transport = httpx.MockTransport(self._record)

    def _record(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._handler(request)


def make_client(
    handler: Handler, *, token: str | None = None, api_url: str = github.API_URL, **kwargs: Any
) -> tuple[GitHubClient, Recorder]:
    """Build a GitHubClient through build_http_client, with a recording fake as the network."""
    recorder = Recorder(handler)
    http = build_http_client("github", api_url=api_url, token=token, transport=recorder.transport)
    sleeps: list[float] = []
    client = GitHubClient(http, sleep=sleeps.append, **kwargs)
    client.sleeps = sleeps  # type: ignore[attr-defined]
    return client, recorder


def answer(status: int, body: Any = None, **headers: str) -> Handler:
    """Return a handler that always gives the same answer (headers: x_ratelimit_reset=...)."""
    names = {k.replace("_", "-"): v for k, v in headers.items()}
    content = b"" if body is None else json.dumps(body).encode()
    return lambda request: httpx.Response(status, content=content, headers=names)


def raising(exc_type: type[httpx.TransportError], message: str) -> Handler:
    """Return a handler that fails like the network would."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    return handler


def test_requests_carry_github_headers_and_bearer_token() -> None:
    """Every request sends GitHub's media type, API version, our User-Agent and the bearer token."""
    client, rec = make_client(answer(200, sample("repo.json")), token=TOKEN)
    client.get_repo("octocat/Hello-World")
    headers = rec.requests[0].headers
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"] == "pattern-lab"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert str(rec.requests[0].url) == "https://api.github.com/repos/octocat/Hello-World"


def test_no_token_sends_no_authorization_header() -> None:
    """Without a token (or with a blank one) the client asks anonymously."""
    client, rec = make_client(answer(200, sample("repo.json")), token="  ")
    client.get_repo("octocat/Hello-World")
    assert "authorization" not in rec.requests[0].headers


def test_enterprise_api_url_prefixes_every_path() -> None:
    """A GitHub Enterprise base URL (…/api/v3) is kept in front of every request path."""
    client, rec = make_client(
        answer(200, sample("repo.json")), api_url="https://ghe.example/api/v3"
    )
    client.get_repo("octocat/Hello-World")
    assert str(rec.requests[0].url) == "https://ghe.example/api/v3/repos/octocat/Hello-World"


def test_get_repo_returns_the_repository_object() -> None:
    """get_repo returns GitHub's repository object unchanged."""
    client, _ = make_client(answer(200, sample("repo.json")))
    assert client.get_repo("octocat/Hello-World")["stargazers_count"] == 80


def paged(pages: list[list[dict[str, Any]]], host: str = "https://api.github.com") -> Handler:
    """Serve contributor pages with GitHub's Link header, like /repositories/{id}/contributors."""

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", 1))
        headers = {}
        if page < len(pages):
            url = f"{host}/repositories/1296269/contributors?per_page=100"
            headers["link"] = (
                f'<{url}&page={page + 1}>; rel="next", <{url}&page={len(pages)}>; rel="last"'
            )
        return httpx.Response(200, json=pages[page - 1], headers=headers)

    return handler


def people(count: int, start: int = 0) -> list[dict[str, Any]]:
    """Return `count` contributor items in GitHub's shape."""
    ids = range(start, start + count)
    return [{"login": f"user{i}", "id": i, "type": "User", "contributions": 1} for i in ids]


def test_list_contributors_follows_link_through_all_pages() -> None:
    """list_contributors asks for 100 per page and follows rel="next" until the last page."""
    client, rec = make_client(paged([people(100), people(100, 100), people(50, 200)]))
    result = client.list_contributors("octocat/Hello-World")
    assert [p["login"] for p in result] == [f"user{i}" for i in range(250)]
    assert len(rec.requests) == 3
    assert rec.requests[0].url.params["per_page"] == "100"  # not GitHub's default of 30
    assert rec.requests[0].url.path == "/repos/octocat/Hello-World/contributors"
    assert rec.requests[2].url.params["page"] == "3"


def test_list_contributors_204_is_an_empty_list() -> None:
    """An empty repository answers 204 No Content, which means no contributors."""
    client, _ = make_client(answer(204))
    assert client.list_contributors("octocat/Hello-World") == []


def test_list_contributors_refuses_next_link_to_another_host() -> None:
    """A next link to another host is not followed, so the token never leaves GitHub."""
    client, rec = make_client(paged([people(1), people(1)], host="https://evil.example"))
    with pytest.raises(UnexpectedResponse, match="another host"):
        client.list_contributors("octocat/Hello-World")
    assert len(rec.requests) == 1


def test_list_contributors_stops_when_pages_loop() -> None:
    """A next link that points back to a page already read stops pagination with an error."""
    url = "https://api.github.com/repositories/1/contributors?per_page=100&page=2"
    loop = answer(200, people(1), link=f'<{url}>; rel="next"')
    client, rec = make_client(loop)
    with pytest.raises(UnexpectedResponse, match="loops"):
        client.list_contributors("octocat/Hello-World")
    assert len(rec.requests) == 2  # page 2 links to itself: detected before asking again


def test_list_contributors_reads_a_bounded_number_of_pages() -> None:
    """Endless next links stop after MAX_PAGES requests."""

    def endless(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", 1))
        url = f"https://api.github.com/repositories/1/contributors?page={page + 1}"
        return httpx.Response(200, json=people(1), headers={"link": f'<{url}>; rel="next"'})

    client, rec = make_client(endless)
    with pytest.raises(UnexpectedResponse, match="more than 100"):
        client.list_contributors("octocat/Hello-World")
    assert len(rec.requests) == github.MAX_PAGES


def sequence(*responses: tuple[int, Any]) -> Handler:
    """Answer with each (status, body) in turn, repeating the last one."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(status, content=b"" if body is None else json.dumps(body).encode())

    return handler


def test_stats_202_then_200_returns_stats_after_one_backoff() -> None:
    """202 Accepted (still computing) is polled again after the first backoff step."""
    stats = sample("stats_contributors.json")
    client, rec = make_client(sequence((202, None), (200, stats)))
    assert client.get_contributor_stats("octocat/Hello-World") == stats
    assert client.sleeps == [0.5]  # type: ignore[attr-defined]
    assert len(rec.requests) == 2


def test_stats_202_forever_returns_none_after_bounded_attempts() -> None:
    """If GitHub is still computing after every attempt, the answer is None ("computing")."""
    client, rec = make_client(answer(202))
    assert client.get_contributor_stats("octocat/Hello-World") is None
    assert len(rec.requests) == 5
    assert client.sleeps == [0.5, 1, 2, 4]  # type: ignore[attr-defined]


def test_stats_attempts_and_backoff_are_configurable() -> None:
    """stats_attempts bounds the polls; the last backoff step repeats when attempts outnumber it."""
    client, rec = make_client(answer(202), stats_attempts=4, stats_backoff_s=(0.1,))
    assert client.get_contributor_stats("octocat/Hello-World") is None
    assert len(rec.requests) == 4
    assert client.sleeps == [0.1, 0.1, 0.1]  # type: ignore[attr-defined]


def test_stats_empty_object_counts_as_computing() -> None:
    """A 200 with {} (seen from GitHub while computing) is polled again like a 202."""
    stats = sample("stats_contributors.json")
    client, _ = make_client(sequence((200, {}), (200, stats)))
    assert client.get_contributor_stats("octocat/Hello-World") == stats


def test_primary_rate_limit_says_when_it_resets_and_suggests_a_token() -> None:
    """403 with x-ratelimit-remaining: 0 names the UTC reset time and GITHUB_TOKEN."""
    limited = answer(403, sample("rate_limited.json"), x_ratelimit_remaining="0",
                     x_ratelimit_limit="60", x_ratelimit_reset=str(RESET))  # fmt: skip
    client, _ = make_client(limited)
    with pytest.raises(RateLimited) as caught:
        client.get_repo("octocat/Hello-World")
    assert caught.value.reset_at == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert "2026-11-25 16:00:00 UTC" in str(caught.value)
    assert "GITHUB_TOKEN" in str(caught.value)
    assert not is_transient(caught.value)


def test_primary_rate_limit_with_token_says_to_wait() -> None:
    """With a token already set, the message says to wait rather than to add a token."""
    limited = answer(429, sample("rate_limited.json"), x_ratelimit_remaining="0",
                     x_ratelimit_reset=str(RESET))  # fmt: skip
    client, _ = make_client(limited, token=TOKEN)
    with pytest.raises(RateLimited, match="wait for the reset"):
        client.get_repo("octocat/Hello-World")


def test_secondary_rate_limit_429_says_how_many_seconds() -> None:
    """429 with retry-after reports the seconds to wait."""
    client, _ = make_client(answer(429, sample("secondary_rate_limit.json"), retry_after="30"))
    with pytest.raises(RateLimited, match="retry after 30 seconds") as caught:
        client.get_repo("octocat/Hello-World")
    assert caught.value.retry_after_s == 30.0
    assert caught.value.reset_at is None


def test_secondary_rate_limit_without_retry_after_waits_a_minute() -> None:
    """A 403 secondary-limit message without retry-after means "wait at least a minute"."""
    client, _ = make_client(answer(403, sample("secondary_rate_limit.json")))
    with pytest.raises(RateLimited) as caught:
        client.get_repo("octocat/Hello-World")
    assert caught.value.retry_after_s == 60.0


def test_other_403_is_an_unexpected_response_with_githubs_message() -> None:
    """A 403 that is not a rate limit (permissions) is reported with GitHub's own message."""
    client, _ = make_client(answer(403, sample("forbidden.json")))
    with pytest.raises(UnexpectedResponse, match="403 Forbidden.*not accessible"):
        client.get_repo("octocat/Hello-World")


def test_404_names_the_repository_the_server_and_the_token() -> None:
    """404 says which repository was not found where, and that a token may be needed."""
    client, _ = make_client(answer(404, sample("not_found.json")))
    with pytest.raises(RepositoryNotFound) as caught:
        client.get_repo("octocat/Nope")
    message = str(caught.value)
    assert "octocat/Nope" in message
    assert "https://api.github.com" in message
    assert "set GITHUB_TOKEN" in message
    assert not is_transient(caught.value)


def test_404_with_token_says_the_token_cannot_read_it() -> None:
    """With a token, 404 says the token may lack access instead of asking for one."""
    client, _ = make_client(answer(404, sample("not_found.json")), token=TOKEN)
    with pytest.raises(RepositoryNotFound, match="token in GITHUB_TOKEN cannot read it"):
        client.list_contributors("octocat/Nope")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable_and_transient(status: int) -> None:
    """Server errors are GitHubUnavailable, which Prefect's retry condition retries."""
    client, _ = make_client(answer(status, sample("server_error.json")))
    with pytest.raises(GitHubUnavailable, match=f"{status}") as caught:
        client.get_repo("octocat/Hello-World")
    assert is_transient(caught.value)


@pytest.mark.parametrize(
    ("error", "text", "reason"),
    [
        (httpx.ReadTimeout, "timed out", "no answer within 10 s"),
        (httpx.ConnectTimeout, "timed out", "timeout"),
        (httpx.ConnectError, "[Errno 111] Connection refused", "connection refused"),
        (httpx.ReadError, "[Errno 104] Connection reset by peer", "connection reset"),
        (httpx.ConnectError, "[Errno -2] Name or service not known", "DNS lookup failed"),
    ],
)
def test_network_failures_are_unavailable_and_transient(
    error: type[httpx.TransportError], text: str, reason: str
) -> None:
    """Timeouts, refused or reset connections and DNS failures are named and transient."""
    client, _ = make_client(raising(error, text))
    with pytest.raises(GitHubUnavailable, match=reason) as caught:
        client.get_repo("octocat/Hello-World")
    assert is_transient(caught.value)


def test_real_refused_connection_is_unavailable() -> None:
    """A real TCP connection to a closed local port ends as "connection refused"."""
    http = build_http_client("github", api_url=f"http://127.0.0.1:{free_port()}", timeout_s=2)
    with pytest.raises(GitHubUnavailable, match="connection refused"):
        GitHubClient(http).get_repo("octocat/Hello-World")


def test_malformed_json_is_an_unexpected_response() -> None:
    """A body that is not JSON is reported as such, not as a crash."""
    client, _ = make_client(lambda r: httpx.Response(200, content=b"<html>oops</html>"))
    with pytest.raises(UnexpectedResponse, match="invalid JSON"):
        client.get_repo("octocat/Hello-World")


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("get_repo", {"message": "hello"}),
        ("get_repo", [sample("repo.json")]),
        ("get_repo", {**sample("repo.json"), "stargazers_count": "80"}),
        ("list_contributors", {"login": "octocat"}),
        ("list_contributors", [{"login": "octocat", "contributions": True}]),
        ("get_contributor_stats", [{"total": 1, "weeks": [{"w": 1}], "author": None}]),
        ("get_contributor_stats", {"total": 1}),
    ],
)
def test_wrong_shape_is_an_unexpected_response(call: str, body: Any) -> None:
    """Valid JSON that is not the documented shape raises UnexpectedResponse."""
    client, _ = make_client(answer(200, body))
    with pytest.raises(UnexpectedResponse, match="not .* as documented"):
        getattr(client, call)("octocat/Hello-World")


def test_401_says_github_rejected_the_token() -> None:
    """401 Bad credentials says the token was rejected, without printing it."""
    client, _ = make_client(answer(401, sample("bad_credentials.json")), token=TOKEN)
    with pytest.raises(UnexpectedResponse, match="GitHub rejected the token") as caught:
        client.get_repo("octocat/Hello-World")
    assert TOKEN not in str(caught.value)


def echo_token(request: httpx.Request) -> httpx.Response:
    """Answer 422 with a message that quotes the Authorization header back (a hostile server)."""
    return httpx.Response(422, json={"message": request.headers["authorization"]})


def leak_in_transport_error(request: httpx.Request) -> httpx.Response:
    """Fail like httpx does when a header is invalid: the message quotes the header value."""
    raise httpx.LocalProtocolError(f"Illegal header value {request.headers['authorization']!r}")


@pytest.mark.parametrize(
    "handler",
    [
        answer(401, sample("bad_credentials.json")),
        answer(404, sample("not_found.json")),
        answer(403, sample("rate_limited.json"), x_ratelimit_remaining="0"),
        answer(429, {}, retry_after="5"),
        answer(500, sample("server_error.json")),
        answer(200, b"not json".decode()),
        raising(httpx.ReadTimeout, "timed out"),
        raising(httpx.ConnectError, "[Errno 111] Connection refused"),
        echo_token,
        leak_in_transport_error,
    ],
)
def test_token_never_appears_in_errors(handler: Handler) -> None:
    """No exception message, repr, traceback or pickled form contains the token."""
    client, _ = make_client(handler, token=TOKEN)
    with pytest.raises(GitHubError) as caught:
        client.get_repo("octocat/Hello-World")
    exc = caught.value
    shown = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(client)]
    assert not any(TOKEN in text for text in shown)
    assert TOKEN.encode() not in pickle.dumps(exc)
    # Dask installs tblib's pickling, which keeps the chain (cause, context, traceback): a flow
    # process with prefect-dask loaded pickles exceptions that way.
    pickling_support.install(exc)
    assert TOKEN.encode() not in pickle.dumps(exc)


def test_token_is_hidden_in_client_reprs() -> None:
    """The httpx client's headers and our client's repr never show the token."""
    http = build_http_client("github", token=TOKEN)
    assert TOKEN not in repr(http.headers)
    assert TOKEN not in repr(GitHubClient(http))


@pytest.mark.parametrize("token", ["ghp_abc def", "ghp_abc\ndef", "ghp_\u00e9t\u00e9"])
def test_malformed_token_is_refused_without_echoing_it(token: str) -> None:
    """A token with spaces, newlines or non-ASCII is refused before any request, unprinted."""
    with pytest.raises(InvalidConfiguration, match="GITHUB_TOKEN") as caught:
        build_http_client("github", token=token)
    assert token not in str(caught.value)


@pytest.mark.parametrize("url", ["api.github.com", "ftp://x.example", "https://u:p@ghe.example"])
def test_unusable_api_url_is_refused(url: str) -> None:
    """GITHUB_API_URL must be an http(s) URL without credentials."""
    with pytest.raises(InvalidConfiguration, match="GITHUB_API_URL"):
        build_http_client("github", api_url=url)


@pytest.mark.parametrize("url", ["http://ghe.example/api/v3", "http://10.0.0.5:8080"])
def test_token_is_never_sent_over_plain_http_to_another_host(url: str) -> None:
    """With a token, an http:// API on another host is refused before any request is sent."""
    rec = Recorder(answer(200, sample("repo.json")))
    with pytest.raises(InvalidConfiguration, match="plain http://") as caught:
        build_http_client("github", api_url=url, token=TOKEN, transport=rec.transport)
    assert TOKEN not in str(caught.value)
    reason = probe_live(url, TOKEN, transport=rec.transport)
    assert "plain http://" in (reason or "")
    assert rec.requests == []


@pytest.mark.parametrize(
    ("url", "token"),
    [("http://127.0.0.1:9", TOKEN), ("http://localhost:9", TOKEN), ("http://[::1]:9", TOKEN),
     ("http://ghe.example", None), ("https://ghe.example", TOKEN)],
)  # fmt: skip
def test_plain_http_is_allowed_on_loopback_or_without_a_token(url: str, token: str | None):
    """Loopback (local fakes) and token-less clients may use http://; https always may."""
    with build_http_client("github", api_url=url, token=token) as http:
        assert str(http.base_url).startswith(url)


def test_is_transient_classifies_errors() -> None:
    """Only unavailability and raw network errors are worth retrying."""
    request = httpx.Request("GET", "https://api.github.com/")
    assert is_transient(GitHubUnavailable("x"))
    assert is_transient(httpx.ConnectError("refused", request=request))
    assert not is_transient(RateLimited("x", retry_after_s=1))
    assert not is_transient(RepositoryNotFound("x"))
    assert not is_transient(UnexpectedResponse("x"))
    assert not is_transient(ValueError("x"))


def test_rate_limited_survives_pickling() -> None:
    """Errors pickle with their attributes (Prefect stores a failed task's exception)."""
    exc = RateLimited("limited", reset_at=datetime(2026, 1, 1, tzinfo=UTC), retry_after_s=3.0)
    copy = pickle.loads(pickle.dumps(exc))
    assert (str(copy), copy.reset_at, copy.retry_after_s) == (str(exc), exc.reset_at, 3.0)


def test_probe_live_accepts_a_usable_api() -> None:
    """probe_live returns None when /rate_limit answers with calls left."""
    rec = Recorder(answer(200, sample("rate_limit.json")))
    assert probe_live(github.API_URL, None, transport=rec.transport) is None
    assert rec.requests[0].url.path == "/rate_limit"


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (answer(200, sample("rate_limit_exhausted.json")), "rate limit used up until 17:03 UTC"),
        (answer(401, sample("bad_credentials.json")), "rejected the token"),
        (answer(503, sample("server_error.json")), "unavailable \\(503"),
        (raising(httpx.ConnectError, "[Errno 111] Connection refused"), "unreachable: connection"),
        (raising(httpx.ConnectTimeout, "timed out"), "unreachable: no answer within 2 s"),
    ],
)
def test_probe_live_gives_a_short_reason(handler: Handler, reason: str) -> None:
    """probe_live explains in a few words why the live API cannot be used."""
    result = probe_live(github.API_URL, TOKEN, transport=Recorder(handler).transport)
    assert re.search(reason, result or "")


def test_probe_live_falls_back_to_root_on_enterprise_without_rate_limits() -> None:
    """GitHub Enterprise answers 404 on /rate_limit when limits are off; / is then probed."""
    root = sequence((404, sample("not_found.json")), (200, {"current_user_url": "x"}))
    rec = Recorder(root)
    assert probe_live("https://ghe.example/api/v3", None, transport=rec.transport) is None
    assert [r.url.path for r in rec.requests] == ["/api/v3/rate_limit", "/api/v3/"]


def test_probe_live_reports_a_refused_connection() -> None:
    """A real closed local port is reported as unreachable: connection refused."""
    reason = probe_live(f"http://127.0.0.1:{free_port()}", None, timeout_s=1)
    assert reason == "GitHub API unreachable: connection refused"


def test_summarise_defines_contributors_commits_and_average() -> None:
    """contributors = listed accounts, commits = sum of their counts, average = commits / count."""
    result = summarise(sample("repo.json"), sample("contributors.json"), None)
    assert (result["contributors"], result["commits"]) == (3, 42)
    assert result["avg_commits_per_contributor"] == 14.0
    assert (result["stars"], result["forks"], result["open_issues"]) == (80, 9, 0)
    assert result["default_branch"] == "master"
    assert result["description"] == "This your first repo!"


def test_summarise_rounds_the_average_to_two_decimals() -> None:
    """The average is rounded to two decimals."""
    contributors = [{"login": "a", "contributions": 1}, {"login": "b", "contributions": 1},
                    {"login": "c", "contributions": 0}]  # fmt: skip
    assert summarise(sample("repo.json"), contributors, [])["avg_commits_per_contributor"] == 0.67


def test_summarise_without_contributors_averages_zero() -> None:
    """No contributors gives zero commits and an average of 0.0, not a division error."""
    result = summarise(sample("repo.json"), [], [])
    assert (result["contributors"], result["commits"]) == (0, 0)
    assert result["avg_commits_per_contributor"] == 0.0


def test_summarise_watchers_prefers_subscribers() -> None:
    """watchers is subscribers_count (real watchers); watchers_count (= stars) only if missing."""
    repo = sample("repo.json")
    assert summarise(repo, [], None)["watchers"] == 42
    repo["subscribers_count"] = None
    assert summarise(repo, [], None)["watchers"] == 80


def test_summarise_top_contributors_by_contributions() -> None:
    """top_contributors keeps login and contributions of the top_n largest contributors."""
    contributors = sample("contributors.json")[::-1]
    result = summarise(sample("repo.json"), contributors, None, top_n=2)
    assert result["top_contributors"] == [
        {"login": "octocat", "contributions": 32},
        {"login": "hubot", "contributions": 7},
    ]


def test_summarise_weekly_commits_sum_authors_per_week() -> None:
    """weekly_commits sums commits of all authors per week start (UTC date), oldest first."""
    result = summarise(sample("repo.json"), [], sample("stats_contributors.json"))
    assert result["stats_status"] == "complete"
    assert result["weekly_commits"] == [
        {"week": "2013-05-05", "commits": 10},
        {"week": "2013-05-12", "commits": 5},
    ]


def test_summarise_weekly_commits_keeps_the_last_weeks() -> None:
    """Only the last `weeks` weeks are kept."""
    result = summarise(sample("repo.json"), [], sample("stats_contributors.json"), weeks=1)
    assert result["weekly_commits"] == [{"week": "2013-05-12", "commits": 5}]


def test_summarise_marks_stats_still_computing() -> None:
    """stats=None (GitHub still computing) gives stats_status "computing" and no weeks."""
    result = summarise(sample("repo.json"), sample("contributors.json"), None)
    assert result["stats_status"] == "computing"
    assert result["weekly_commits"] == []


def test_renamed_repository_redirect_is_followed() -> None:
    """A 301 for a renamed repository is followed to the repository's new address."""

    def renamed(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/repos/octocat/Old-Name":
            return httpx.Response(
                301, headers={"location": "https://api.github.com/repositories/1"}
            )
        return httpx.Response(200, json=sample("repo.json"))

    client, rec = make_client(renamed)
    assert client.get_repo("octocat/Old-Name")["full_name"] == "octocat/Hello-World"
    assert [r.url.path for r in rec.requests] == ["/repos/octocat/Old-Name", "/repositories/1"]


def test_redirect_to_another_host_drops_the_token() -> None:
    """A redirect that leaves the API host does not carry the Authorization header along."""

    def away(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.github.com":
            return httpx.Response(302, headers={"location": "https://elsewhere.example/x"})
        return httpx.Response(200, json=sample("repo.json"))

    client, rec = make_client(away, token=TOKEN)
    client.get_repo("octocat/Hello-World")
    assert "authorization" not in rec.requests[-1].headers


def test_redirect_loop_is_an_unexpected_response() -> None:
    """Endless redirects end as UnexpectedResponse, not as an httpx exception."""
    loop = answer(301, location="https://api.github.com/repositories/1")
    client, _ = make_client(loop)
    with pytest.raises(UnexpectedResponse, match="TooManyRedirects"):
        client.get_repo("octocat/Hello-World")


def test_connection_closed_without_answer_is_named_and_transient():
    """A server that hangs up without answering is GitHubUnavailable, saying so in plain words."""

    def hang_up(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    client = github.GitHubClient(
        github.build_http_client("github", transport=httpx.MockTransport(hang_up))
    )
    with pytest.raises(github.GitHubUnavailable, match="closed the connection") as info:
        client.get_repo("PrefectHQ/prefect")
    assert github.is_transient(info.value)
