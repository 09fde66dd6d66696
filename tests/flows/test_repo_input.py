"""Repository input: what parse_repo accepts and rejects; rejected input never reaches GitHub."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from flows.github import (
    EXPECTED_FORM,
    GitHubClient,
    InvalidRepository,
    build_http_client,
    parse_repo,
)


class CountingTransport(httpx.BaseTransport):
    """Count requests; answer 500 so that a request that slips through is loud."""

    def __init__(self) -> None:
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Record the request and fail it."""
        self.count += 1
        return httpx.Response(500)


def fetch_all(client: GitHubClient, text: str) -> tuple[Any, Any, Any]:
    """Fetch everything a flow fetches for one user-typed repository."""
    repo = parse_repo(text)
    return client.get_repo(repo), client.list_contributors(repo), client.get_contributor_stats(repo)


@pytest.fixture
def counted() -> tuple[GitHubClient, CountingTransport]:
    """Return a client whose network is a CountingTransport."""
    transport = CountingTransport()
    http = build_http_client("github", transport=transport)
    return GitHubClient(http, sleep=lambda s: None), transport


ACCEPTED = [
    ("PrefectHQ/prefect", "PrefectHQ/prefect"),
    ("https://github.com/PrefectHQ/prefect", "PrefectHQ/prefect"),
    ("https://github.com/PrefectHQ/prefect/", "PrefectHQ/prefect"),
    ("https://github.com/PrefectHQ/prefect.git", "PrefectHQ/prefect"),
    ("http://www.github.com/apache/airflow", "apache/airflow"),
    ("HTTPS://GitHub.com/apache/airflow", "apache/airflow"),
    ("github.com/apache/airflow", "apache/airflow"),
    ("  dagster-io/dagster\n", "dagster-io/dagster"),
    ("PrefectHQ/prefect/", "PrefectHQ/prefect"),
    ("a/b", "a/b"),
    ("a-b-c/x.y_z-1", "a-b-c/x.y_z-1"),
    ("owner/.github", "owner/.github"),
    ("o" * 39 + "/" + "n" * 100, "o" * 39 + "/" + "n" * 100),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_forms_normalise_to_owner_name(text: str, expected: str) -> None:
    """owner/name and github.com URLs (http/https, www, trailing / or .git) give owner/name."""
    assert parse_repo(text) == expected


REJECTED = [
    ("", "No repository"),
    ("   ", "No repository"),
    ("x" * 10_000, "too long"),
    ("../etc/passwd", "path traversal"),
    ("owner/..", "path traversal"),
    ("owner/.", "path traversal"),
    ("owner/name/../../admin", "path traversal"),
    ("https://github.com/owner/../x", "path traversal"),
    ("owner/name/tree/main", "extra path segments"),
    ("https://github.com/owner/name/issues/1", "extra path segments"),
    ("owner//name", "extra path segments"),
    ("owner/name?tab=readme", "query string"),
    ("https://github.com/owner/name#readme", "query string or fragment"),
    ("https://gitlab.com/owner/name", "Only https://github.com"),
    ("https://github.com.evil.example/owner/name", "Only https://github.com"),
    ("https://user@github.com/owner/name", "Only https://github.com"),
    ("https://api.github.com/repos/owner/name", "Only https://github.com"),
    ("ftp://github.com/owner/name", "Only https://github.com"),
    ("gitlab.com/owner/name", "Only https://github.com"),
    ("\u0430pache/airflow", "U\\+0430 \\(CYRILLIC SMALL LETTER A\\)"),
    ("PrefectHQ/pref\u0435ct", "U\\+0435"),
    ("PrefectHQ/prefect\u200b", "ZERO WIDTH SPACE"),
    ("\uff30refectHQ/prefect", "FULLWIDTH"),
    ("owner/name\x00", "control character"),
    ("own\ner/name", "control character"),
    ("owner/name\x1b[31m", "control character"),
    ("owner/na me", "a space"),
    ("-owner/x", "start or end with a hyphen"),
    ("owner-/x", "start or end with a hyphen"),
    ("ow--ner/x", "two hyphens"),
    ("own_er/x", "only ASCII letters, digits and single hyphens"),
    ("o" * 40 + "/x", "at most 39"),
    ("owner/" + "n" * 101, "at most 100"),
    ("owner/na$me", "only ASCII letters, digits, '.', '-', '_'"),
    ("owner/%2e%2e", "only ASCII letters"),
    ("owner\\name", "no '/'"),
    ("owner", "no '/'"),
    ("/name", "owner is empty"),
    ("owner/", "name is empty"),
    ("owner/.git", "name is empty"),
    ("git@github.com:owner/name.git", "only ASCII letters, digits and single hyphens"),
]


@pytest.mark.parametrize(("text", "why"), REJECTED)
def test_rejected_input_says_why_and_sends_no_request(
    counted: tuple[GitHubClient, CountingTransport], text: str, why: str
) -> None:
    """Bad input raises InvalidRepository naming the problem and the expected form; no request."""
    client, transport = counted
    with pytest.raises(InvalidRepository, match=why) as caught:
        fetch_all(client, text)
    assert EXPECTED_FORM in str(caught.value)
    assert transport.count == 0


@pytest.mark.parametrize(("text", "why"), REJECTED)
def test_client_methods_validate_raw_input_themselves(
    counted: tuple[GitHubClient, CountingTransport], text: str, why: str
) -> None:
    """Each client method validates its argument, so raw input cannot reach a URL path."""
    client, transport = counted
    for call in (client.get_repo, client.list_contributors, client.get_contributor_stats):
        with pytest.raises(InvalidRepository, match=why):
            call(text)
    assert transport.count == 0


def test_long_input_is_not_echoed_in_full() -> None:
    """A 10 000-character input shows at most ~60 of its characters, and says how long it was."""
    with pytest.raises(InvalidRepository) as caught:
        parse_repo("ab" * 5_000)
    message = str(caught.value)
    assert message.count("ab") <= 31
    assert "10000 characters" in message
    assert len(message) < 300


def test_control_characters_are_shown_escaped() -> None:
    """Control characters appear escaped (\\x1b), never raw, so logs and terminals stay intact."""
    with pytest.raises(InvalidRepository) as caught:
        parse_repo("owner/\x1b[2Jname")
    assert "\x1b" not in str(caught.value)
    assert "\\x1b" in str(caught.value)


def test_non_text_input_is_rejected() -> None:
    """Only strings are repository input."""
    with pytest.raises(InvalidRepository, match="must be text"):
        parse_repo(None)  # type: ignore[arg-type]
