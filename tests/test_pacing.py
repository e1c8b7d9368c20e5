"""Quota pacing (`bot.edges._pacing`, installed by `bot.edges.hub`): the Hub's `RateLimit` headers are read on
every answer and a scan waits for the window's reset instead of drawing 429s. The stand-in
(`HubSim(rate_limit=...)`) sends the headers and refuses over-quota requests with 429."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx2
import pytest

from bot.app.compose import build_app
from bot.app.pipeline import Job, ReadmeOptions
from bot.app.scan import heads_for_author, run_scan
from bot.config.settings import Secret, Settings
from bot.edges import hub as hub_module
from bot.edges._pacing import PacedTransport, Pacer, bucket_for
from bot.edges.hub import HubClient, RetryPolicy, retry_after_seconds
from bot.edges.store import Store
from bot.sim.hub import HubSim, RateLimit

pytestmark = pytest.mark.slow  # scans paced across quota windows (`make test-fast` leaves these out)

CARD = (
    Path(__file__).resolve().parents[1] / "examples" / "demo" / "acme" / "Ours-7B-Instruct" / "README.md"
).read_text()
KEY = "http://hub|token"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def headers(bucket: str, left: int, reset: int, quota: int = 10, window: int = 300) -> httpx2.Headers:
    return httpx2.Headers(
        {
            "RateLimit": f'"{bucket}";r={left};t={reset}',
            "RateLimit-Policy": f'"fixed window";"{bucket}";q={quota};w={window}',
        }
    )


def test_a_spent_bucket_waits_for_its_reset_then_gets_the_full_quota() -> None:
    clock = FakeClock()
    pacer = Pacer(margin=1.0, clock=clock, sleep=clock.sleep)
    pacer.acquire(KEY, "api")  # nothing known yet: not paced
    pacer.release(KEY, "api", headers("api", left=2, reset=30))
    pacer.acquire(KEY, "api")
    pacer.release(KEY, "api", headers("api", left=1, reset=30))
    pacer.acquire(KEY, "api")
    pacer.release(KEY, "api", headers("api", left=0, reset=29))
    assert clock.slept == []
    # spent: waits for the reset (the later of the answers' estimates) + margin; then q again
    pacer.acquire(KEY, "api")
    assert clock.slept == [31.0]
    for _ in range(9):
        pacer.acquire(KEY, "api")
    assert clock.slept == [31.0]
    pacer.acquire(KEY, "api")  # the eleventh in the new window waits for the next reset
    assert len(clock.slept) == 2


def test_buckets_are_separate_and_so_are_tokens() -> None:
    clock = FakeClock()
    pacer = Pacer(margin=0.0, clock=clock, sleep=clock.sleep)
    pacer.acquire(KEY, "api")
    pacer.release(KEY, "api", headers("api", left=0, reset=60))
    pacer.acquire(KEY, "resolvers")
    pacer.acquire("http://hub|other-token", "api")
    assert clock.slept == []
    assert (bucket_for("/api/models/a/b"), bucket_for("/a/b/resolve/main/README.md")) == ("api", "resolvers")
    assert bucket_for("/datasets/a/b/resolve/main/x") == "resolvers" and bucket_for("/a/b") == "pages"


def test_requests_in_flight_count_against_what_the_hub_says_is_left() -> None:
    clock = FakeClock()
    pacer = Pacer(margin=0.0, clock=clock, sleep=clock.sleep)
    pacer.acquire(KEY, "api")
    pacer.release(KEY, "api", headers("api", left=3, reset=60))
    for _ in range(3):
        pacer.acquire(KEY, "api")  # three sent, none answered yet
    assert clock.slept == []
    # an answer to the first says r=2, but two more are still in flight: nothing is left
    pacer.release(KEY, "api", headers("api", left=2, reset=60))
    pacer.acquire(KEY, "api")
    assert clock.slept == [60.0]


def test_a_429_waits_for_the_ratelimit_reset_before_retry_after() -> None:
    request = httpx2.Request("GET", "http://hub/api/models/a/b")
    spent = httpx2.Response(429, headers=headers("api", left=0, reset=55) | {"Retry-After": "3"}, request=request)
    assert retry_after_seconds(httpx2.HTTPStatusError("429", request=request, response=spent)) == 56.0
    plain = httpx2.Response(429, headers={"Retry-After": "3"}, request=request)
    assert retry_after_seconds(httpx2.HTTPStatusError("429", request=request, response=plain)) == 3.0


def test_stand_in_sends_the_headers_and_refuses_over_quota_with_429() -> None:
    with HubSim(rate_limit=RateLimit(api=2, window=300)) as sim:
        sim.add_repo("a/b", {"README.md": CARD})
        with httpx2.Client() as client:
            answers = [client.get(f"{sim.url}/api/models/a/b") for _ in range(3)]
            download = client.get(f"{sim.url}/a/b/resolve/main/README.md")
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[0].headers["RateLimit"].startswith('"api";r=1;t=')
        assert answers[0].headers["RateLimit-Policy"] == '"fixed window";"api";q=2;w=300'
        assert answers[2].headers["RateLimit"].startswith('"api";r=0;t=') and "Retry-After" in answers[2].headers
        assert download.status_code == 200 and download.headers["RateLimit"].startswith('"resolvers";r=4999;')
        assert sim.rate_limited == 1


def test_a_scan_larger_than_one_quota_window_gets_no_429(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1-second windows of 12 API requests; the scan needs several times that (first PR on 6 repos)
    monkeypatch.setattr(hub_module.PACER, "margin", 0.2)
    with HubSim(rate_limit=RateLimit(api=12, resolvers=12, pages=12, window=1)) as sim:
        for i in range(6):
            sim.add_repo(f"org/m-{i}", {"README.md": CARD})
        settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=tmp_path)
        no_retries = RetryPolicy(attempts=1)  # a 429 would fail the repo: pacing alone must keep under
        app = build_app(settings, hub=HubClient(settings, retry=no_retries), store=Store.open(tmp_path))
        waited = hub_module.PACER.waited
        reports = run_scan(
            app, heads_for_author(app.hub, "org"), Job("", readme=ReadmeOptions(model_name="Ours-7B-Instruct")),
            workers=3,
        )  # fmt: skip
        assert [r.outcome for r in reports] == ["created"] * 6
        assert sim.rate_limited == 0
        assert sim.request_count(path_prefix="/api/") > 2 * 12  # more than two windows' quota
        assert hub_module.PACER.waited > waited


def test_threads_sharing_a_pacer_never_overdraw_a_window() -> None:
    with HubSim(rate_limit=RateLimit(api=5, window=1)) as sim:
        sim.add_repo("a/b", {"README.md": CARD})
        pacer = Pacer(margin=0.2)
        client = httpx2.Client(transport=PacedTransport(httpx2.HTTPTransport(), pacer))
        statuses: list[int] = []
        lock = threading.Lock()

        def worker() -> None:
            for _ in range(3):
                code = client.get(f"{sim.url}/api/models/a/b").status_code
                with lock:
                    statuses.append(code)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        client.close()
        assert statuses == [200] * 12 and sim.rate_limited == 0


def test_the_paced_client_keeps_the_proxy_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    with HubSim() as proxy:  # the stand-in answers absolute-form requests: it serves as the proxy
        proxy.add_repo("a/b", {"README.md": CARD})
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with hub_module.paced_client() as client:
            answer = client.get("http://hub.invalid/api/models/a/b")
        assert answer.status_code == 200 and answer.json()["id"] == "a/b"
        assert proxy.requests == [("GET", "http://hub.invalid/api/models/a/b")]
