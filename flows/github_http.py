"""GitHub over HTTP: the configured httpx client (live or snapshot), the live probe, and how
GitHub's answers say "rate limited" or "unreachable"."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Literal

import httpx

from flows.faults import FailFirstTransport
from flows.github_errors import GitHubError, InvalidConfiguration, RateLimited
from flows.repo_input import preview
from flows.snapshot import SnapshotTransport

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "pattern-lab"


def network_reason(exc: httpx.TransportError, timeout_s: float | None) -> str:
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


def github_message(response: httpx.Response) -> str:
    """Return GitHub's "message" field, shortened and with control characters escaped."""
    try:
        message = response.json().get("message", "")
    except (ValueError, AttributeError):
        return ""
    return preview(message) if isinstance(message, str) and message else ""


def rate_limit_error(
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
        base_url=check_api_url(api_url, token=token),
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


def check_api_url(api_url: str, *, token: str | None = None) -> str:
    """Return api_url if it is an http(s) URL without credentials that can carry the token.

    With a token, plain http:// is refused unless the host is loopback (local fakes in tests):
    the token would cross the network unencrypted.
    """
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
    if token and url.scheme == "http" and not _is_loopback(url.host):
        raise InvalidConfiguration(
            f"GITHUB_API_URL is plain http:// to {url.host}: GITHUB_TOKEN would be sent "
            "unencrypted, so nothing was sent. Use https://, or unset GITHUB_TOKEN"
        )
    return api_url


def _is_loopback(host: str) -> bool:
    """Say whether a URL host is this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
        return f"GitHub API unreachable: {network_reason(exc, timeout_s)}"
    return _probe_verdict(response, has_token=bool(token))


def _probe_verdict(response: httpx.Response, *, has_token: bool) -> str | None:
    """Judge a probe answer: None when usable, else why not."""
    status = response.status_code
    if status == 401:
        return "GitHub rejected the token (401 Bad credentials)"
    if status in (403, 429):
        limited = rate_limit_error(response, github_message(response), has_token=has_token)
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
