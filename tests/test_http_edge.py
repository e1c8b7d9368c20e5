"""The edges' one shared HTTP piece (`bot.edges._http`): headers to seconds, the wait between tries,
status to error; and, over real HTTP against the stand-ins, that each client honours a 429's
Retry-After.

Where an existing test already shows it for a client, it is not repeated here:
the Hub's reads: tests/test_hub.py::test_reads_retry_after_429_honouring_retry_after;
Artificial Analysis: tests/test_artificial_analysis.py::test_429_is_retried_honouring_retry_after.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest
import requests

from bot.config.settings import Secret, Settings
from bot.edges._http import (
    ErrorTable,
    Failed,
    Failure,
    RetryPolicy,
    error_for,
    failure_of,
    retry_after,
    retryable,
    retrying,
    scrub,
    wait_seconds,
)
from bot.edges.hub import HubClient
from bot.errors import ArtificialAnalysisError, AuthError, BotError, HubError, RateLimitedError
from bot.sim.hub import HubSim

# -- headers → seconds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        pytest.param(None, None, id="no_answer"),
        pytest.param({}, None, id="no_headers"),
        pytest.param({"Retry-After": "3"}, 3.0, id="retry_after"),
        pytest.param({"retry-after": "2.5"}, 2.5, id="lower_case_fraction"),
        pytest.param({"Retry-After": "0"}, 0.0, id="zero"),
        pytest.param({"Retry-After": "-4"}, 0.0, id="negative_is_now"),
        pytest.param({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None, id="http_date_backs_off"),
        pytest.param({"Retry-After": "soon"}, None, id="garbage"),
        pytest.param({"RateLimit": '"api";r=0;t=55', "Retry-After": "3"}, 56.0, id="spent_bucket_waits_for_reset"),
        pytest.param({"ratelimit": '"api";r=0;t=0'}, 1.0, id="spent_bucket_resetting_now"),
        pytest.param({"RateLimit": '"api";r=12;t=55', "Retry-After": "3"}, 3.0, id="bucket_not_spent"),
        pytest.param({"RateLimit": '"api";r=12;t=55'}, None, id="bucket_not_spent_no_retry_after"),
        pytest.param({"RateLimit": "nonsense", "Retry-After": "7"}, 7.0, id="unreadable_ratelimit"),
    ],
)
def test_retry_after(headers: dict[str, str] | None, seconds: float | None) -> None:
    assert retry_after(headers) == seconds


def test_retry_after_reads_each_client_s_header_type() -> None:
    assert retry_after(httpx2.Headers({"RETRY-AFTER": "4"})) == 4.0
    answer = requests.Response()
    answer.headers["Retry-After"] = "5"  # requests' case-insensitive dict
    assert retry_after(answer.headers) == 5.0


# -- the wait between tries ------------------------------------------------------------------------

POLICY = RetryPolicy(attempts=6, base_wait=0.5, max_wait=5.0)


def no_jitter(low: float, high: float) -> float:
    return low


def full_jitter(low: float, high: float) -> float:
    return high


@pytest.mark.parametrize(
    ("attempt", "asked", "jitter", "seconds"),
    [
        pytest.param(1, 3.0, full_jitter, 3.0, id="asked_is_waited_exactly"),
        pytest.param(4, 0.0, full_jitter, 0.0, id="asked_zero_is_no_wait"),
        pytest.param(1, 60.0, no_jitter, 5.0, id="asked_is_capped"),
        pytest.param(1, None, no_jitter, 0.5, id="backoff_1"),
        pytest.param(2, None, no_jitter, 1.0, id="backoff_2"),
        pytest.param(3, None, no_jitter, 2.0, id="backoff_3"),
        pytest.param(3, None, full_jitter, 2.5, id="backoff_3_most_jitter"),
        pytest.param(5, None, no_jitter, 5.0, id="backoff_capped"),
        pytest.param(5, None, full_jitter, 5.0, id="backoff_with_jitter_capped"),
    ],
)
def test_wait_seconds(attempt: int, asked: float | None, jitter: object, seconds: float) -> None:
    assert wait_seconds(POLICY, attempt, asked, jitter=jitter) == seconds  # type: ignore[arg-type]


def test_jitter_is_at_most_one_base_wait() -> None:
    waits = {wait_seconds(POLICY, 2, None) for _ in range(200)}
    assert all(1.0 <= w <= 1.5 for w in waits) and len(waits) > 1


def test_zero_base_wait_never_waits_unless_asked() -> None:
    fast = RetryPolicy(attempts=3, base_wait=0.0, max_wait=5.0)
    assert [wait_seconds(fast, n, None) for n in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert wait_seconds(fast, 1, 1.0) == 1.0


class Refused(Exception):
    def __init__(self, asked: float | None) -> None:
        super().__init__(f"refused, asked {asked}")
        self.asked = asked


def test_retrying_waits_what_each_answer_asked_then_backs_off() -> None:
    answers: list[object] = [Refused(3.0), Refused(None), Refused(None), "done"]
    sleeps: list[float] = []

    def call() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    loop = retrying(
        POLICY,
        retry_on=lambda e: isinstance(e, Refused),
        retry_after_of=lambda e: e.asked if isinstance(e, Refused) else None,
        sleep=sleeps.append,
        jitter=no_jitter,
    )
    assert loop(call) == "done"
    assert sleeps == [3.0, 1.0, 2.0]  # asked; then backoff for attempts 2 and 3


def test_retrying_stops_after_the_attempts_and_reraises_the_last_error() -> None:
    errors = [Refused(0.0), Refused(1.0), ValueError("not retried")]
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        raise errors[len(calls) - 1]

    two = RetryPolicy(attempts=2, base_wait=0.0, max_wait=5.0)
    loop = retrying(two, retry_on=lambda e: isinstance(e, Refused), retry_after_of=lambda e: None, sleep=lambda s: None)
    with pytest.raises(Refused, match=r"asked 1\.0"):
        loop(call)
    assert len(calls) == 2
    loop = retrying(
        POLICY, retry_on=lambda e: isinstance(e, Refused), retry_after_of=lambda e: None, sleep=lambda s: None
    )
    calls.clear()
    errors[:] = [ValueError("not retried")]
    with pytest.raises(ValueError, match="not retried"):
        loop(call)
    assert len(calls) == 1


# -- status → error --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "transport", "failure"),
    [
        (401, False, "unauthorized"),
        (403, False, "forbidden"),
        (404, False, "not_found"),
        (409, False, "conflict"),
        (412, False, "conflict"),
        (429, False, "rate_limited"),
        (408, False, "transient"),
        (500, False, "transient"),
        (502, False, "transient"),
        (503, False, "transient"),
        (504, False, "transient"),
        (599, False, "transient"),
        (400, False, "other"),
        (402, False, "other"),
        (422, False, "other"),
        (None, True, "unreachable"),
        (None, False, "other"),
    ],
)
def test_failure_of(status: int | None, transport: bool, failure: Failure) -> None:
    assert failure_of(status, transport=transport) == failure


@pytest.mark.parametrize(
    ("failure", "read", "write"),
    [
        ("rate_limited", True, True),  # the server said it did not apply it
        ("transient", True, False),  # a 5xx write may have been applied
        ("unreachable", True, False),  # ... and so may a write whose answer was lost
        ("unauthorized", False, False),
        ("forbidden", False, False),
        ("not_found", False, False),
        ("conflict", False, False),
        ("other", False, False),
    ],
)
def test_retryable(failure: Failure, read: bool, write: bool) -> None:
    assert (retryable(failure), retryable(failure, write=True)) == (read, write)


SECRET = "hf_edgeTestSECRET0123456789"
TABLE: ErrorTable = {
    "unauthorized": lambda f: AuthError(f"rejected the token trying to {f.what} on {f.where}"),
    "rate_limited": lambda f: RateLimitedError(f.what, f.retry_after),
    "other": lambda f: HubError(f"could not {f.what} on {f.where} ({f.status}): {f.detail}"),
}


def test_error_for_picks_the_table_s_error_else_other() -> None:
    auth = error_for(Failed("unauthorized", 401, "read", "acme/x"), TABLE)
    assert type(auth) is AuthError and str(auth) == "rejected the token trying to read on acme/x"
    limited = error_for(Failed("rate_limited", 429, "read the repo", "acme/x", retry_after=7.0), TABLE)
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 7.0
    assert str(limited).startswith("rate limited by the Hub on read the repo; retry in 7 s")
    other = error_for(Failed("forbidden", 403, "push", "acme/x", "no"), TABLE)
    assert type(other) is HubError and str(other) == "could not push on acme/x (403): no"


def test_error_messages_are_one_line_and_never_show_a_secret() -> None:
    detail = f"Invalid credentials\n  Authorization: Bearer {SECRET}\n" + "x" * 1000
    error = error_for(Failed("other", 400, "read", "acme/x", detail), TABLE, secrets=[SECRET, ""])
    assert SECRET not in str(error) and "\n" not in str(error)
    assert str(error).startswith("could not read on acme/x (400): Invalid credentials Authorization: Bearer ***")
    assert len(str(error)) < 400  # the server's text is cut
    # a secret that reached the message some other way (the table's own text) is scrubbed too
    leaky: ErrorTable = {"other": lambda f: ArtificialAnalysisError(f"key {SECRET} failed\non {f.where}")}
    error = error_for(Failed("other", 500, "fetch", "https://aa.test"), leaky, secrets=[SECRET])
    assert str(error) == "key *** failed on https://aa.test" and isinstance(error, BotError)


def test_scrub() -> None:
    assert scrub(f"a {SECRET}\nb {SECRET}", [SECRET]) == "a *** b ***"
    assert scrub("abcdef", [], width=4) == "abc…"


# -- a 429's Retry-After over real HTTP, per client ----------------------------------------------

TOKEN = "hf_jobsEdgeSECRETtoken0987654321"
RESULTS = "evalbot/eval-runs"


@pytest.fixture
def hub_sim() -> Iterator[HubSim]:
    sim = HubSim(users={TOKEN: "evalbot"})
    sim.add_repo(RESULTS, {"README.md": "# runs\n"}, repo_type="dataset")
    with sim:
        yield sim


def hub(sim: HubSim) -> HubClient:
    settings = Settings(hf_token=Secret(TOKEN), hf_endpoint=sim.url, home=Path("/nonexistent"))
    return HubClient(settings, retry=RetryPolicy(attempts=4, base_wait=0.0, max_wait=5.0))


def test_hub_write_429_is_retried_after_its_retry_after(hub_sim: HubSim) -> None:
    hub_sim.inject("commit", 429, times=1, retry_after=1)
    started = time.monotonic()
    hub(hub_sim).upload_file(RESULTS, "runs/x.json", b"{}", repo_type="dataset")
    assert time.monotonic() - started >= 1.0  # Retry-After: 1, not the 0 s backoff
    assert hub_sim.faults_injected == 1
    assert hub_sim.file(RESULTS, "runs/x.json", repo_type="dataset") == b"{}"


def test_jobs_calls_honour_retry_after_through_the_hub_edge(hub_sim: HubSim) -> None:
    client = hub(hub_sim)
    hub_sim.inject("run_job", 429, times=1, retry_after=1)
    started = time.monotonic()
    job = client.run_job(
        image="x",
        command=["python", "-c", "print('hi')"],
        env={},
        secrets={"HF_TOKEN": TOKEN},
        flavor="cpu-basic",
        timeout=60,
        labels={"app": "evalbot"},
        namespace="evalbot",
    )
    assert time.monotonic() - started >= 1.0
    assert hub_sim.request_count("POST", "/api/jobs/evalbot") == 2 and hub_sim.jobs.job_ids == [job.id]
    hub_sim.inject("inspect_job", 429, times=1, retry_after=1)
    started = time.monotonic()
    assert client.inspect_job(job.id, namespace="evalbot").id == job.id
    assert time.monotonic() - started >= 1.0 and hub_sim.faults_injected == 2


def test_jobs_429_after_retries_is_rate_limited_without_the_token(hub_sim: HubSim) -> None:
    hub_sim.inject("inspect_job", 429, retry_after=0)
    with pytest.raises(RateLimitedError, match=r"on check job 0+ on the Hub; retry in 0 s") as caught:
        hub(hub_sim).inspect_job("0" * 24, namespace="evalbot")
    assert caught.value.retry_after == 0.0 and TOKEN not in str(caught.value)


class _Throttle(ThreadingHTTPServer):
    """A front for the GitHub stand-in (which has no faults): the first `refuse` requests get 429
    with `Retry-After`, the rest are passed through."""

    def __init__(self, upstream: str, refuse: int, retry_after: int) -> None:
        super().__init__(("127.0.0.1", 0), _ThrottleHandler)
        self.upstream = upstream
        self.refuse = refuse
        self.retry_after = retry_after
        self.refused = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ThrottleHandler(BaseHTTPRequestHandler):
    server: _Throttle

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.refused < self.server.refuse:
            self.server.refused += 1
            payload = json.dumps({"message": "API rate limit exceeded"}).encode()
            self.send_response(429)
            self.send_header("Retry-After", str(self.server.retry_after))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        upstream, front = self.server.upstream, self.server.url
        answer = requests.request(self.command, upstream + self.path, headers=headers, data=body, timeout=10)
        content = answer.content.replace(upstream.encode(), front.encode())  # links point at the front
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(key, value.replace(upstream, front))
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PATCH = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_github_429_is_retried_after_its_retry_after() -> None:
    """PyGithub's own retries (GithubRetry, urllib3) wait out a 429's Retry-After; evalbot adds none."""
    pytest.importorskip("github")
    from bot.edges.github import GitHubReporter
    from bot.sim.github import ACTIONS_TOKEN, GitHubSim

    with GitHubSim() as sim:
        sim.add_repo("octo/demo")
        sim.add_issue("octo/demo", 7, "Add evals", is_pr=True)
        throttle = _Throttle(sim.url, refuse=1, retry_after=1)
        thread = threading.Thread(target=throttle.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            reporter = GitHubReporter(
                Secret(ACTIONS_TOKEN),
                repository="octo/demo",
                base_url=throttle.url,
                seconds_between_writes=0,
                seconds_between_requests=0,
            )
            started = time.monotonic()
            reporter.upsert_comment(7, "hello")
            assert time.monotonic() - started >= 1.0
        finally:
            throttle.shutdown()
            throttle.server_close()
        (comment,) = sim.comments("octo/demo", 7)
        assert throttle.refused == 1 and comment["body"].startswith("hello")
