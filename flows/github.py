"""Own everything about GitHub: input checks, requests, pagination, 202 polling, errors, stats."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from flows.faults import FailFirstTransport
from flows.github_errors import (
    GitHubError,
    GitHubUnavailable,
    InvalidConfiguration,
    InvalidRepository,
    RateLimited,
    RepositoryNotFound,
    UnexpectedResponse,
)
from flows.repo_input import EXPECTED_FORM, parse_repo, preview
from flows.snapshot import SNAPSHOT_HEADER, SnapshotTransport, snapshot_repos
from flows.stats import summarise

__all__ = [
    "EXPECTED_FORM", "GitHubClient", "GitHubError", "GitHubUnavailable", "InvalidConfiguration",
    "InvalidRepository", "RateLimited", "RepositoryNotFound", "UnexpectedResponse",
    "build_http_client", "is_transient", "parse_repo", "probe_live", "summarise",
]  # fmt: skip

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "pattern-lab"
MAX_PAGES = 100  # /contributors lists at most ~500 logins (5 pages); 100 pages means a loop


def is_transient(exc: BaseException) -> bool:
    """Say whether retrying the failed call may succeed (5xx, timeouts, network errors)."""
    if isinstance(exc, GitHubError):
        return exc.transient
    return isinstance(exc, httpx.TransportError)


def _network_reason(exc: httpx.TransportError, timeout_s: float | None) -> str:
    """Name a transport failure in a few words, without echoing request details."""
    text = str(exc).lower()
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout_s:g} s (timeout)" if timeout_s else "timeout"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection without answering"
    if "refused" in text:
        return "connection refused"
    if "reset" in text:
        return "connection reset"
    if any(s in text for s in ("name or service", "nodename", "name resolution", "getaddrinfo")):
        return "DNS lookup failed"
    if "certificate" in text or "ssl" in text:
        return "TLS handshake failed (certificate?)"
    return f"network error ({type(exc).__name__})"


class GitHubClient:
    """Fetch one repository's statistics through an injected httpx.Client (no retries but 202)."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        stats_attempts: int = 5,
        stats_backoff_s: Sequence[float] = (0.5, 1, 2, 4),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if stats_attempts < 1:
            raise ValueError("stats_attempts must be at least 1")
        self._http = http
        self._stats_attempts = stats_attempts
        self._backoff = tuple(stats_backoff_s) or (0.0,)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"GitHubClient(base_url={str(self._http.base_url)!r})"

    def get_repo(self, repo: str) -> dict[str, Any]:
        """Return GitHub's repository object for owner/name."""
        full = parse_repo(repo)
        body = self._json(self._get(f"/repos/{full}", full))
        if not isinstance(body, dict) or not _has_fields(body, _REPO_FIELDS):
            raise self._shape_error(f"/repos/{full}", "a repository object")
        return body

    def list_contributors(self, repo: str) -> list[dict[str, Any]]:
        """Return every contributor GitHub lists, following Link rel="next" through all pages."""
        full = parse_repo(repo)
        url: str = f"/repos/{full}/contributors"
        params: dict[str, int] | None = {"per_page": 100}
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response = self._get(url, full, params)
            if response.status_code == 204:  # empty repository
                return items
            page = self._json(response)
            if not isinstance(page, list) or not all(_has_fields(i, _CONTRIB_FIELDS) for i in page):
                raise self._shape_error(url, "a list of contributors")
            items.extend(page)
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return items
            url, params = self._same_origin(next_url), None
            if url in seen:
                raise UnexpectedResponse(f"GitHub's pagination for {full} loops back to a page")
            seen.add(url)
        raise UnexpectedResponse(
            f"GitHub listed more than {MAX_PAGES} contributor pages for {full}"
        )

    def get_contributor_stats(self, repo: str) -> list[dict[str, Any]] | None:
        """Return weekly commit activity of the top 100 authors, or None while still computing."""
        full = parse_repo(repo)
        path = f"/repos/{full}/stats/contributors"
        for attempt in range(self._stats_attempts):
            if attempt:
                self._sleep(self._backoff[min(attempt - 1, len(self._backoff) - 1)])
            response = self._get(path, full)
            if response.status_code == 202:  # GitHub is computing the statistics
                continue
            if response.status_code == 204:  # empty repository
                return []
            body = self._json(response)
            if body == {}:  # GitHub has been seen answering 200 {} while still computing
                continue
            if not isinstance(body, list) or not all(_is_author_stats(item) for item in body):
                raise self._shape_error(path, "a list of contributor statistics")
            return body
        return None

    def _get(self, url: str, repo: str, params: dict[str, int] | None = None) -> httpx.Response:
        """Send one GET and map failures to the GitHubError tree."""
        try:
            response = self._http.get(url, params=params)
        except httpx.TransportError as exc:
            reason = _network_reason(exc, self._http.timeout.read)
            # "from None": the httpx error holds the request, headers (and token) included.
            raise GitHubUnavailable(
                self._redact(f"GitHub API at {self._base} unreachable: {reason}; try again later")
            ) from None
        except httpx.RequestError as exc:  # too many redirects, undecodable body
            name = type(exc).__name__
            raise UnexpectedResponse(
                f"GitHub's answer to GET {url} was unusable ({name})"
            ) from None
        if response.is_success:
            return response
        raise self._error(response, repo)

    def _error(self, response: httpx.Response, repo: str) -> GitHubError:
        """Return the GitHubError that matches a non-2xx answer."""
        status, where = response.status_code, f"GET {response.request.url.path}"
        message = _github_message(response)
        if status in (403, 429):
            limited = _rate_limit_error(response, message, has_token=self._has_token)
            if limited:
                return limited
        if status == 404 and SNAPSHOT_HEADER in response.headers:
            held = ", ".join(snapshot_repos())
            return RepositoryNotFound(
                f"Repository {repo} is not in the offline snapshot (it holds {held}); "
                "choose one of those or use the live GitHub source"
            )
        if status == 404:
            who = "the token in GITHUB_TOKEN cannot read it" if self._has_token else (
                "no token was given: set GITHUB_TOKEN")  # fmt: skip
            return RepositoryNotFound(
                f"Repository {repo} not found on {self._base}, or it is private and {who}"
            )
        if status == 401:
            return UnexpectedResponse(
                "GitHub rejected the token (401 Bad credentials): fix GITHUB_TOKEN or unset it"
            )
        text = self._redact(f"GitHub answered {status} {response.reason_phrase} to {where}")
        detail = f": {self._redact(message)}" if message else ""
        if status >= 500:
            return GitHubUnavailable(f"{text}{detail}; try again later")
        return UnexpectedResponse(f"{text}{detail}")

    def _json(self, response: httpx.Response) -> Any:
        """Decode a JSON body or raise UnexpectedResponse."""
        try:
            return response.json()
        except ValueError:
            path = response.request.url.path
            raise UnexpectedResponse(f"GitHub answered GET {path} with invalid JSON") from None

    def _shape_error(self, url: str, expected: str) -> UnexpectedResponse:
        """Say that an answer was valid JSON but not what GitHub documents."""
        path = httpx.URL(url).path
        return UnexpectedResponse(f"GitHub's answer to GET {path} is not {expected} as documented")

    def _same_origin(self, url: str) -> str:
        """Refuse to follow a Link to another host (the token would go with it)."""
        target, base = httpx.URL(url), self._http.base_url
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            raise UnexpectedResponse(
                f"GitHub's next-page link points to another host ({target.host})"
            )
        return url

    @property
    def _base(self) -> str:
        return str(self._http.base_url).rstrip("/")

    @property
    def _has_token(self) -> bool:
        return "authorization" in self._http.headers

    def _redact(self, text: str) -> str:
        """Remove the token from text that may echo what the server or httpx said."""
        token = self._http.headers.get("authorization", "").partition(" ")[2]
        return text.replace(token, "***") if len(token) >= 4 else text


_REPO_FIELDS = {
    "full_name": str, "stargazers_count": int, "forks_count": int, "open_issues_count": int,
    "watchers_count": int, "default_branch": str,
}  # fmt: skip
_CONTRIB_FIELDS = {"login": str, "contributions": int}
_WEEK_FIELDS = {"w": int, "a": int, "d": int, "c": int}


def _has_fields(obj: object, fields: dict[str, type]) -> bool:
    """Say whether obj is a dict whose fields have the given types (bool is not an int)."""
    return isinstance(obj, dict) and all(
        isinstance(obj.get(k), t) and not isinstance(obj.get(k), bool) for k, t in fields.items()
    )


def _is_author_stats(item: object) -> bool:
    """Say whether item is one author's entry of /stats/contributors."""
    if not _has_fields(item, {"total": int, "weeks": list}):
        return False
    author = item.get("author")  # type: ignore[union-attr]
    weeks = item["weeks"]  # type: ignore[index]
    return (author is None or isinstance(author, dict)) and all(
        _has_fields(w, _WEEK_FIELDS) for w in weeks
    )


def _github_message(response: httpx.Response) -> str:
    """Return GitHub's "message" field, shortened and with control characters escaped."""
    try:
        message = response.json().get("message", "")
    except (ValueError, AttributeError):
        return ""
    return preview(message) if isinstance(message, str) and message else ""


def _rate_limit_error(
    response: httpx.Response, message: str, *, has_token: bool
) -> RateLimited | None:
    """Return RateLimited for a primary or secondary rate limit answer, else None."""
    headers = response.headers
    if headers.get("x-ratelimit-remaining") == "0":
        reset_at = _epoch(headers.get("x-ratelimit-reset"))
        when = f"at {reset_at:%Y-%m-%d %H:%M:%S} UTC" if reset_at else "within the hour"
        hint = "wait for the reset" if has_token else (
            "set GITHUB_TOKEN to raise the limit to 5,000 requests per hour")  # fmt: skip
        limit = headers.get("x-ratelimit-limit", "?")
        return RateLimited(
            f"GitHub API rate limit used up ({limit} requests per hour); it resets {when}: {hint}",
            reset_at=reset_at,
        )
    retry_after = _seconds(headers.get("retry-after"))
    if retry_after is None and response.status_code == 403 and "rate limit" not in message.lower():
        return None  # an ordinary 403 (permissions, too large to list, ...)
    retry_after = 60.0 if retry_after is None else retry_after  # GitHub: "wait at least a minute"
    return RateLimited(
        f"GitHub's secondary rate limit was hit; retry after {retry_after:g} seconds",
        retry_after_s=retry_after,
    )


def _epoch(value: str | None) -> datetime | None:
    """Parse a unix timestamp header as a UTC datetime."""
    try:
        return datetime.fromtimestamp(int(value or ""), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _seconds(value: str | None) -> float | None:
    """Parse a retry-after header given in seconds."""
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def build_http_client(
    source: Literal["github", "snapshot"],
    *,
    api_url: str = API_URL,
    token: str | None = None,
    latency_ms: int = 0,
    timeout_s: float = 10.0,
    transport: httpx.BaseTransport | None = None,
    fail_first: bool = False,
) -> httpx.Client:
    """Return an httpx.Client that talks to the live API or to the bundled snapshot.

    `transport` replaces the network for source="github" (tests, local fakes); `fail_first`
    makes the first request answer 503 (the transient-failure drill).
    """
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": USER_AGENT,
    }
    timeout = httpx.Timeout(timeout_s)
    if source == "snapshot":  # the snapshot needs no token, so it never receives one
        transport = SnapshotTransport(latency_ms=latency_ms)
        if fail_first:
            transport = FailFirstTransport(transport)
        return httpx.Client(base_url=API_URL, headers=headers, timeout=timeout, transport=transport)
    if source != "github":
        raise ValueError(f"source must be 'github' or 'snapshot', not {source!r}")
    if fail_first:
        transport = FailFirstTransport(transport or httpx.HTTPTransport())
    token = _clean_token(token)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(
        base_url=_check_api_url(api_url),
        headers=headers,
        timeout=timeout,
        follow_redirects=True,  # renamed repositories answer 301; httpx drops Authorization
        transport=transport,  # on a redirect to another host
    )


def _clean_token(token: str | None) -> str | None:
    """Strip the token and refuse characters no token has (they would break the header)."""
    token = (token or "").strip()
    if any(not (33 <= ord(char) <= 126) for char in token):
        raise InvalidConfiguration(
            "GITHUB_TOKEN contains spaces, control or non-ASCII characters, which a GitHub token "
            "never has; check that it was copied whole"
        )
    return token or None


def _check_api_url(api_url: str) -> str:
    """Return api_url if it is an http(s) URL without credentials."""
    try:
        url = httpx.URL(api_url)
    except (httpx.InvalidURL, TypeError):
        url = httpx.URL("invalid:")
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidConfiguration(
            "GITHUB_API_URL must be an http(s) URL such as https://api.github.com or "
            "https://ghe.example/api/v3"
        )
    if url.userinfo:
        raise InvalidConfiguration("GITHUB_API_URL must not contain credentials; use GITHUB_TOKEN")
    return api_url


def probe_live(
    api_url: str,
    token: str | None,
    timeout_s: float = 2.0,
    *,
    transport: httpx.BaseTransport | None = None,
) -> str | None:
    """Return None if the live API answers usably, else a short reason to use the snapshot."""
    options = {"api_url": api_url, "token": token, "timeout_s": timeout_s, "transport": transport}
    try:
        with build_http_client("github", **options) as http:
            response = http.get("/rate_limit")
            if response.status_code == 404:  # GitHub Enterprise with rate limiting disabled
                response = http.get("/")
    except GitHubError as exc:
        return str(exc)
    except httpx.TransportError as exc:
        return f"GitHub API unreachable: {_network_reason(exc, timeout_s)}"
    return _probe_verdict(response, has_token=bool(token))


def _probe_verdict(response: httpx.Response, *, has_token: bool) -> str | None:
    """Judge a probe answer: None when usable, else why not."""
    status = response.status_code
    if status == 401:
        return "GitHub rejected the token (401 Bad credentials)"
    if status in (403, 429):
        limited = _rate_limit_error(response, _github_message(response), has_token=has_token)
        return str(limited) if limited else f"GitHub API refused access ({status})"
    if status >= 500:
        return f"GitHub API unavailable ({status} {response.reason_phrase})"
    if status != 200:
        return f"GitHub API answered {status} {response.reason_phrase}"
    try:
        core = response.json().get("resources", {}).get("core", {})
    except (ValueError, AttributeError):
        return "GitHub API answered with invalid JSON"
    if core.get("remaining") == 0:
        reset_at = _epoch(str(core.get("reset", "")))
        when = f" until {reset_at:%H:%M} UTC" if reset_at else ""
        return f"GitHub API rate limit used up{when}"
    return None
