"""Quota pacing: stay under the Hub's `RateLimit` windows instead of drawing 429s (DESIGN §8).

The Hub answers every request with IETF rate-limit headers (reference/hub-protocol.md §1.4):

    RateLimit: "api";r=489;t=189                      # bucket, requests left, seconds to the reset
    RateLimit-Policy: "fixed window";"api";q=500;w=300  # quota per window, window length

There are separate buckets (`api`, `resolvers` for file downloads, `pages`), each a fixed window.
`Pacer` keeps, per (endpoint, token) and bucket, what the last answer said, minus the requests
sent since: a request that would overdraw the bucket waits for the window's reset (plus
`margin`, since `t` is whole seconds) instead of being sent. Requests in flight count as spent,
so several threads sharing one token do not overdraw it together. A bucket never heard of, or
whose window has passed with no quota known, is not paced. `PacedTransport` applies it to every
request huggingface_hub sends (installed by `bot.edges.hub`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
from huggingface_hub.utils import parse_ratelimit_headers

logger = logging.getLogger(__name__)

_SAME_WINDOW = 1.5  # seconds: two answers whose resets are this close speak of the same window


@dataclass
class _Bucket:
    remaining: int | None = None  # what the Hub last said is left, minus requests sent since
    reset_at: float = 0.0  # clock time the window resets (margin included)
    limit: int | None = None  # the policy's quota per window, when the Hub sent it
    window: float | None = None  # the policy's window length in seconds
    in_flight: int = 0  # sent, not answered yet


def bucket_for(path: str) -> str:
    """The bucket a request is expected to draw on: file downloads are `resolvers`, the API `api`."""
    parts = path.strip("/").split("/")
    if parts[0] == "api":
        return "api"
    if "resolve" in parts[1:5]:
        return "resolvers"
    return "pages"


def quota_key(request: httpx2.Request) -> str:
    """One quota per endpoint and token (the Hub counts per user; anonymous requests per address)."""
    auth = request.headers.get("authorization", "")
    digest = hashlib.sha256(auth.encode()).hexdigest()[:16] if auth else "anonymous"
    return f"{request.url.scheme}://{request.url.netloc.decode('ascii', 'replace')}|{digest}"


class Pacer:
    """Per-bucket request budgets learnt from the Hub's answers; `acquire` blocks while one is spent."""

    def __init__(
        self,
        *,
        margin: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self.waited = 0.0  # seconds spent waiting for resets, for logs and benchmarks

    def acquire(self, key: str, bucket: str) -> None:
        """Wait until a request on `bucket` fits in its window, then count it as in flight."""
        while True:
            with self._lock:
                state = self._buckets.setdefault((key, bucket), _Bucket())
                now = self._clock()
                if state.remaining is not None and now >= state.reset_at:
                    # a new window: the full quota until the next reset, or unknown when the Hub sent no policy
                    if state.limit is not None and state.window:
                        state.remaining = state.limit
                        state.reset_at += state.window * (1 + int((now - state.reset_at) // state.window))
                    else:
                        state.remaining = None
                if state.remaining is None or state.remaining > 0:
                    if state.remaining is not None:
                        state.remaining -= 1
                    state.in_flight += 1
                    return
                wait = state.reset_at - now
            logger.info("Hub quota for %r spent for this window: waiting %.1f s for its reset", bucket, wait)
            self._sleep(wait)
            with self._lock:
                self.waited += wait

    def release(self, key: str, bucket: str, headers: httpx2.Headers | None) -> None:
        """The answer came (or the request failed, `headers` None): learn what the Hub says is left."""
        info = parse_ratelimit_headers(headers) if headers is not None else None
        with self._lock:
            sent = self._buckets.setdefault((key, bucket), _Bucket())
            sent.in_flight = max(0, sent.in_flight - 1)
            if info is None:
                return
            state = self._buckets.setdefault((key, info.resource_type), _Bucket())
            reset_at = self._clock() + info.reset_in_seconds + self.margin
            left = info.remaining - state.in_flight  # those still in flight may not be counted yet
            same_window = abs(reset_at - state.reset_at) <= _SAME_WINDOW
            # answers arrive out of order: within one window the smallest count left is the truth
            if same_window and state.remaining is not None:
                left = min(left, state.remaining)
            state.remaining = max(0, left)
            state.reset_at = reset_at if not same_window else max(reset_at, state.reset_at)
            if info.limit is not None and info.window_seconds:
                state.limit, state.window = info.limit, float(info.window_seconds)


class PacedTransport(httpx2.BaseTransport):
    """An httpx2 transport that asks `pacer` before each request and tells it every answer."""

    def __init__(self, inner: httpx2.BaseTransport, pacer: Pacer) -> None:
        self._inner = inner
        self.pacer = pacer

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        key, bucket = quota_key(request), bucket_for(request.url.path)
        self.pacer.acquire(key, bucket)
        headers = None
        try:
            response = self._inner.handle_request(request)
            headers = response.headers
            return response
        finally:
            self.pacer.release(key, bucket, headers)

    def close(self) -> None:
        self._inner.close()
