"""Rate limits in the Hub stand-in: fixed windows per caller and bucket, with the Hub's headers.

Every answer carries `RateLimit: "<bucket>";r=<left>;t=<seconds to reset>` and
`RateLimit-Policy: "fixed window";"<bucket>";q=<quota>;w=<window>` (reference/hub-protocol.md
§1.4). Buckets: `api` (`/api/...`), `resolvers` (file downloads, `.../resolve/...`) and `pages`
(anything else). Windows are fixed: they start at multiples of `window` seconds of the clock, and
`t` is the whole seconds left, rounded up. A caller (its bearer token, or anonymous) that has
used its quota gets 429 with the same headers and `Retry-After: t` until the window ends; the
refused request does not count. Off unless `HubSim(rate_limit=RateLimit(...))` is given.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

BUCKETS = ("api", "resolvers", "pages")


@dataclass(frozen=True)
class RateLimit:
    """Quotas per window, per bucket (the Hub's free tier: 1,000 `api` requests per 300 s)."""

    api: int = 1000
    resolvers: int = 5000
    pages: int = 200
    window: int = 300  # seconds (whole: the header's `w` is an integer)

    def quota(self, bucket: str) -> int:
        value: int = getattr(self, bucket)
        return value


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: list[tuple[str, str]]


@dataclass
class RateLimiter:
    """Counts requests per (caller, bucket) in the current fixed window."""

    limit: RateLimit
    clock: Callable[[], float] = time.time
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counts: dict[tuple[str, str, int], int] = field(default_factory=dict)
    refused: int = 0  # answers of 429 sent

    def take(self, caller: str, path: str) -> Verdict:
        bucket = classify(path)
        quota = self.limit.quota(bucket)
        now = self.clock()
        index = math.floor(now / self.limit.window)
        reset = max(1, math.ceil((index + 1) * self.limit.window - now))
        with self._lock:
            used = self._counts.get((caller, bucket, index), 0)
            allowed = used < quota
            if allowed:
                used += 1
                self._counts[(caller, bucket, index)] = used
            else:
                self.refused += 1
            self._forget(index)
        window = self.limit.window
        headers = [
            ("RateLimit", f'"{bucket}";r={max(0, quota - used)};t={reset}'),
            ("RateLimit-Policy", f'"fixed window";"{bucket}";q={quota};w={window}'),
        ]
        if not allowed:
            headers.append(("Retry-After", str(reset)))
        return Verdict(allowed, headers)

    def used(self) -> Mapping[str, int]:
        """Requests counted in the current window, per bucket (all callers)."""
        index = math.floor(self.clock() / self.limit.window)
        with self._lock:
            return {b: sum(n for (_, k, i), n in self._counts.items() if k == b and i == index) for b in BUCKETS}

    def _forget(self, index: int) -> None:
        for key in [k for k in self._counts if k[2] < index - 1]:
            del self._counts[key]


def classify(path: str) -> str:
    parts = path.split("?", 1)[0].strip("/").split("/")
    if parts[0] == "api":
        return "api"
    if "resolve" in parts:
        return "resolvers"
    return "pages"
