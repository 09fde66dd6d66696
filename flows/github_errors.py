"""The GitHub exception tree: each message says what went wrong and what to do."""

from __future__ import annotations

from datetime import datetime


class GitHubError(Exception):
    """Base of every GitHub failure; str(exc) is a message a user can act on."""

    transient: bool = False


class InvalidRepository(GitHubError):
    """The repository input is not owner/name or a github.com URL (raised before any request)."""


class InvalidConfiguration(GitHubError):
    """GITHUB_API_URL or GITHUB_TOKEN cannot work (raised before any request)."""


class RepositoryNotFound(GitHubError):
    """GitHub answered 404: the repository does not exist or the token cannot see it."""


class OwnerNotFound(GitHubError):
    """GitHub answered 404 for an owner's repository list: no such user or organisation."""


class RateLimited(GitHubError):
    """GitHub's primary (x-ratelimit-remaining: 0) or secondary (retry-after) rate limit was hit."""

    def __init__(
        self, message: str, *, reset_at: datetime | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.reset_at = reset_at
        self.retry_after_s = retry_after_s


class GitHubUnavailable(GitHubError):
    """GitHub answered 5xx or could not be reached (timeout, refused, reset, DNS)."""

    transient = True


class UnexpectedResponse(GitHubError):
    """GitHub answered something the client cannot use (bad JSON, wrong shape, other 4xx)."""
