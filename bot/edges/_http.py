"""What every HTTP edge shares: how long a refusal asks us to wait, how we back off, and which
error of `bot.errors` each kind of failure becomes (DESIGN §5: 429 and 5xx are retried with
backoff honouring `Retry-After`).

    policy = RetryPolicy(attempts=4, base_wait=1.0, max_wait=60.0)
    retrying(policy, retry_on=..., retry_after_of=lambda e: retry_after(e.response.headers))(call)
    raise error_for(Failed(failure_of(429), 429, "read the listing", url, "", 3.0), TABLE, secrets=[key])

A private helper of the edges (hub, artificial_analysis, github): it imports no edge and no
client library beyond tenacity and huggingface_hub's `RateLimit` header parser. What stays in
each edge is what is really its own: which exception carries the answer, the wording of each
error, and which calls may be retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from huggingface_hub.utils import parse_ratelimit_headers
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from bot.errors import BotError, one_line

__all__ = [
    "ErrorTable",
    "Failed",
    "Failure",
    "RetryPolicy",
    "error_for",
    "failure_of",
    "retry_after",
    "retry_wait",
    "retryable",
    "retrying",
    "scrub",
    "wait_seconds",
]

Failure = Literal[
    "unauthorized", "forbidden", "not_found", "conflict", "rate_limited", "transient", "unreachable", "other"
]
"""The kinds of failure an HTTP call has: 401, 403, 404, 409/412, 429, 408/5xx, no answer at all, the rest."""

_RETRIED_READS: frozenset[Failure] = frozenset({"rate_limited", "transient", "unreachable"})
_DETAIL_WIDTH = 300


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: `attempts` in all (the first included); between them the
    answer's `Retry-After` (capped at `max_wait`), else `base_wait * 2**(n-1)` plus up to
    `base_wait` of jitter (capped at `max_wait`)."""

    attempts: int = 5
    base_wait: float = 0.5
    max_wait: float = 30.0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((str(headers[key]) for key in headers if key.lower() == wanted), None)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds an answer asks us to wait: the `RateLimit` reset when its bucket is spent (plus one,
    since `t` is whole seconds, as huggingface_hub waits), else `Retry-After` in seconds; None
    when neither says (an HTTP-date `Retry-After` included: the caller backs off instead).

    >>> retry_after({"RateLimit": '"api";r=0;t=55', "Retry-After": "3"}), retry_after({"retry-after": "3"})
    (56.0, 3.0)
    """
    if headers is None:
        return None
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds) + 1.0
    value = _header(headers, "Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def wait_seconds(
    policy: RetryPolicy,
    attempt: int,
    asked: float | None,
    *,
    jitter: Callable[[float, float], float] = random.uniform,
) -> float:
    """The wait after failed attempt number `attempt` (from 1): what the answer `asked`, else
    exponential backoff with jitter; never longer than `policy.max_wait`."""
    if asked is not None:
        return min(asked, policy.max_wait)
    backoff = policy.base_wait * 2.0 ** (attempt - 1) + jitter(0.0, policy.base_wait)
    return min(backoff, policy.max_wait)


def retry_wait(
    policy: RetryPolicy,
    retry_after_of: Callable[[BaseException | None], float | None],
    *,
    jitter: Callable[[float, float], float] = random.uniform,
) -> Callable[[RetryCallState], float]:
    """tenacity's `wait`: `wait_seconds` with what the failed attempt's answer asked (`retry_after_of`)."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return wait_seconds(policy, state.attempt_number, retry_after_of(error), jitter=jitter)

    return wait


def retrying(
    policy: RetryPolicy,
    *,
    retry_on: Callable[[BaseException], bool],
    retry_after_of: Callable[[BaseException | None], float | None],
    before_sleep: Callable[[RetryCallState], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[float, float], float] = random.uniform,
) -> Retrying:
    """A tenacity loop: `policy.attempts` tries of calls failing with what `retry_on` accepts,
    waiting `retry_wait`; the last error is re-raised as it was."""
    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=retry_wait(policy, retry_after_of, jitter=jitter),
        retry=retry_if_exception(retry_on),
        reraise=True,
        sleep=sleep,
        before_sleep=before_sleep,
    )


def failure_of(status: int | None, *, transport: bool = False) -> Failure:
    """The kind of failure an answer's status is; without an answer (`status` None), `transport`
    says the request never got one (connection refused or dropped, timeout).

    >>> [failure_of(s) for s in (401, 403, 404, 412, 429, 503, 418)]
    ['unauthorized', 'forbidden', 'not_found', 'conflict', 'rate_limited', 'transient', 'other']
    """
    if status is None:
        return "unreachable" if transport else "other"
    if status == 401:
        return "unauthorized"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "not_found"
    if status in (409, 412):
        return "conflict"
    if status == 429:
        return "rate_limited"
    if status == 408 or 500 <= status <= 599:
        return "transient"
    return "other"


def retryable(failure: Failure, *, write: bool = False) -> bool:
    """May a call that failed so be sent again? A read: on 429, 408/5xx and no answer. A write is
    not idempotent: only on 429 (the server said it did not apply it)."""
    return failure == "rate_limited" if write else failure in _RETRIED_READS


def scrub(text: object, secrets: Iterable[str] = (), width: int | None = None) -> str:
    """`text` as one line (cut at `width`), with every secret replaced by `***`.

    >>> scrub("bad token hf_abc\\n  here", ["hf_abc"])
    'bad token *** here'
    """
    line = str(text)
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return one_line(line, width)


@dataclass(frozen=True)
class Failed:
    """One failed call, as an error table reads it."""

    failure: Failure
    status: int | None  # the answer's HTTP status; None without an answer
    what: str  # what we were doing: "read the repo", "start a job"
    where: str  # on what: a repo id, a URL, "the Hub"
    detail: str = ""  # the server's message or the transport error, one line (`error_for` scrubs it)
    retry_after: float | None = None  # seconds the answer asked us to wait
    write: bool = False  # the call was a write: no answer means its outcome is unknown


ErrorTable = Mapping[Failure, Callable[[Failed], BotError]]
"""For one client, the error each kind of failure becomes; "other" is required (the fallback)."""


def error_for(failed: Failed, table: ErrorTable, *, secrets: Iterable[str] = ()) -> BotError:
    """The one place where a failed HTTP call becomes an evalbot error: the table's error for its
    kind (else its "other"), its message one line with every secret replaced by `***`."""
    secrets = tuple(s for s in secrets if s)
    failed = Failed(
        failed.failure,
        failed.status,
        failed.what,
        failed.where,
        scrub(failed.detail, secrets, _DETAIL_WIDTH),
        failed.retry_after,
        failed.write,
    )
    error = (table.get(failed.failure) or table["other"])(failed)
    error.args = tuple(scrub(a, secrets) if isinstance(a, str) else a for a in error.args)
    return error
