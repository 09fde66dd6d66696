"""Own everything about GitHub: input checks, requests, pagination, 202 polling, errors, stats."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from flows.github_errors import (
    GitHubError,
    GitHubUnavailable,
    InvalidConfiguration,
    InvalidRepository,
    OwnerNotFound,
    RateLimited,
    RepositoryNotFound,
    UnexpectedResponse,
)
from flows.github_http import (
    API_URL,
    build_http_client,
    github_message,
    network_reason,
    probe_live,
    rate_limit_error,
)
from flows.repo_input import EXPECTED_FORM, parse_owner, parse_repo
from flows.snapshot import SNAPSHOT_HEADER, snapshot_repos
from flows.stats import summarise

__all__ = [
    "API_URL", "EXPECTED_FORM", "GitHubClient", "GitHubError", "GitHubUnavailable",
    "InvalidConfiguration", "InvalidRepository", "OwnerNotFound", "RateLimited",
    "RepositoryNotFound", "UnexpectedResponse", "build_http_client", "is_transient",
    "parse_owner", "parse_repo", "probe_live", "summarise",
]  # fmt: skip

MAX_PAGES = 100  # /contributors lists at most ~500 logins (5 pages); 100 pages means a loop
MAX_OWNER_REPOS = 256  # the most repositories a launch takes


def is_transient(exc: BaseException) -> bool:
    """Say whether retrying the failed call may succeed (5xx, timeouts, network errors)."""
    if isinstance(exc, GitHubError):
        return exc.transient
    return isinstance(exc, httpx.TransportError)


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
        items: list[dict[str, Any]] = []
        for page in self._pages(f"/repos/{full}/contributors", full, ("contributor", "s")):
            if not all(_has_fields(i, _CONTRIB_FIELDS) for i in page):
                raise self._shape_error(f"/repos/{full}/contributors", "a list of contributors")
            items.extend(page)
        return items

    def list_owner_repos(self, owner: str, limit: int = MAX_OWNER_REPOS) -> list[str]:
        """Return up to `limit` repositories (owner/name, by name) of an organisation or a user.

        `GET /orgs/{owner}/repos` first; GitHub answers 404 there for a user, so then
        `GET /users/{owner}/repos`; 404 there too means no such owner.
        """
        login = parse_owner(owner)
        if not 1 <= limit <= MAX_OWNER_REPOS:
            raise ValueError(f"limit must be between 1 and {MAX_OWNER_REPOS}")
        for kind in ("orgs", "users"):
            try:
                return self._owner_page_names(f"/{kind}/{login}/repos", login, limit)
            except RepositoryNotFound:
                continue
        raise OwnerNotFound(
            f"GitHub at {self._base} has no user or organisation named {login} "
            "(404 for its repository list)"
        )

    def _owner_page_names(self, url: str, login: str, limit: int) -> list[str]:
        """Read an owner's repository list page by page until `limit` names are known."""
        names: list[str] = []
        params = {"per_page": min(limit, 100), "sort": "full_name"}
        for page in self._pages(url, login, ("repositor", "ies"), params):
            if not all(_has_fields(i, {"full_name": str}) for i in page):
                raise self._shape_error(url, "a list of repositories")
            for item in page:
                try:  # GitHub's text goes into later URLs: the same checks as user input
                    names.append(parse_repo(item["full_name"]))
                except InvalidRepository:
                    raise UnexpectedResponse(
                        f"GitHub listed a repository of {login} whose name is not owner/name"
                    ) from None
            if len(names) >= limit:
                break
        return names[:limit]

    def _pages(
        self, url: str, what: str, noun: tuple[str, str], params: dict[str, Any] | None = None
    ) -> Iterator[list[Any]]:
        """Yield each page of a GitHub list, following Link rel="next" (same host only).

        noun: the listed thing's stem and plural ending, for messages ("contributor", "s").
        """
        params = params or {"per_page": 100}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response = self._get(url, what, params)
            if response.status_code == 204:  # an empty repository
                return
            page = self._json(response)
            if not isinstance(page, list):
                raise self._shape_error(url, f"a list of {noun[0]}{noun[1]}")
            yield page
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            url, params = self._same_origin(next_url), None
            if url in seen:
                raise UnexpectedResponse(f"GitHub's pagination for {what} loops back to a page")
            seen.add(url)
        single = noun[0] + ("y" if noun[1] == "ies" else "")
        raise UnexpectedResponse(f"GitHub listed more than {MAX_PAGES} {single} pages for {what}")

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

    def _get(self, url: str, repo: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """Send one GET and map failures to the GitHubError tree."""
        try:
            response = self._http.get(url, params=params)
        except httpx.TransportError as exc:
            reason = network_reason(exc, self._http.timeout.read)
            failure: GitHubError = GitHubUnavailable(
                self._redact(f"GitHub API at {self._base} unreachable: {reason}; try again later")
            )
        except httpx.RequestError as exc:  # too many redirects, undecodable body
            name = type(exc).__name__
            failure = UnexpectedResponse(f"GitHub's answer to GET {url} was unusable ({name})")
        else:
            if response.is_success:
                return response
            failure = self._error(response, repo)
        # Raised outside the except clauses: no __context__. The httpx error holds the request,
        # headers and token included, and a pickler that keeps exception chains (tblib, which
        # Dask installs) would otherwise carry it into Prefect's persisted state.
        raise failure

    def _error(self, response: httpx.Response, repo: str) -> GitHubError:
        """Return the GitHubError that matches a non-2xx answer."""
        status, where = response.status_code, f"GET {response.request.url.path}"
        message = github_message(response)
        if status in (403, 429):
            limited = rate_limit_error(response, message, has_token=self._has_token)
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
