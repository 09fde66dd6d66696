"""Failure-drill transport: GitHub answers 503 once, then normally (a transient outage)."""

from __future__ import annotations

import json

import httpx

DRILL_MESSAGE = "Service Unavailable (Pattern Lab failure drill: a transient GitHub 5xx)"


class FailFirstTransport(httpx.BaseTransport):
    """Answer the first request with GitHub's 503 shape, then pass every request through."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._failed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Fail once, then delegate."""
        if not self._failed:
            self._failed = True
            body = json.dumps({"message": DRILL_MESSAGE, "status": "503"}).encode()
            return httpx.Response(
                503, content=body, headers={"content-type": "application/json"}, request=request
            )
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()
