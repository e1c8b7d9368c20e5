"""`evalbot serve` on loopback against the local Hub: secrets, bad payloads, dedupe of deliveries,
one PR per repo under bursts, ChatOps authorization, loop prevention, the status page."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from bot.config.settings import Secret, Settings
from bot.edges.hub import HubClient, RetryPolicy
from bot.serve.service import Service, build_service
from bot.serve.worker import WorkerPolicy
from bot.sim.hub import HubSim
from tests._serve import free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "demo" / "acme"
CARD = (EXAMPLES / "Ours-7B-Instruct" / "README.md").read_text()
REPO = "acme/Ours-7B-Instruct"
SECRET = "webhook-secret-for-tests"
BOT_ID = "a59463d976a855bba4621b86"  # the stand-in's id for user "evalbot" (sha1 of the name)


def push_event(repo: str, sha: str, *, webhook_id: str = "wh1", ref: str = "refs/heads/main") -> dict[str, Any]:
    return {
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {"type": "model", "name": repo, "id": "0" * 24, "private": False, "headSha": sha,
                 "url": {"web": f"https://huggingface.co/{repo}", "api": f"https://huggingface.co/api/models/{repo}"},
                 "owner": {"id": "1" * 24}},
        "updatedRefs": [{"ref": ref, "oldSha": "f" * 40, "newSha": sha}],
        "webhook": {"id": webhook_id, "version": 3},
    }  # fmt: skip


def comment_event(repo: str, num: int, comment_id: str, text: str, author_id: str) -> dict[str, Any]:
    return {
        "event": {"action": "create", "scope": "discussion.comment"},
        "repo": {"type": "model", "name": repo, "id": "0" * 24, "private": False, "owner": {"id": "1" * 24}},
        "discussion": {"id": "d" * 24, "num": num, "title": "Question", "status": "open", "isPullRequest": False,
                       "author": {"id": author_id}, "url": {"web": "x", "api": "y"}},
        "comment": {"id": comment_id, "author": {"id": author_id}, "content": text, "hidden": False,
                    "url": {"web": "x"}},
        "webhook": {"id": "wh1", "version": 3},
    }  # fmt: skip


class Running:
    def __init__(self, sim: HubSim, service: Service, url: str, server: uvicorn.Server, thread: threading.Thread):
        self.sim, self.service, self.url, self.server, self.thread = sim, service, url, server, thread

    def post(self, payload: Any, *, secret: str | None = SECRET, raw: bytes | None = None) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Webhook-Secret"] = secret
        body = raw if raw is not None else json.dumps(payload).encode()
        return requests.post(f"{self.url}/webhooks/hub", data=body, headers=headers, timeout=10)

    def wait_idle(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.service.store.pending_jobs() == 0:
                return
            time.sleep(0.05)
        raise AssertionError(f"jobs still pending: {self.service.store.job_counts()}")


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(
        config: str = "",
        *,
        sim: HubSim | None = None,
        workers: int = 2,
        env: dict[str, str] | None = None,
        host: str = "127.0.0.1",
    ) -> Running:
        if sim is None:
            sim = HubSim()
            sim.add_repo(REPO, {"README.md": CARD})
            sim.start()
        config_path = tmp_path / "evalbot.yaml"
        config_path.write_text(config or "watch:\n  authors: [acme]\n")
        settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=tmp_path / "home")
        settings = settings.with_config_file(config_path)
        hub = HubClient(settings, retry=RetryPolicy(base_wait=0.0))
        service = build_service(
            settings,
            workers=workers,
            env={"EVALBOT_WEBHOOK_SECRET": SECRET, **(env or {})},
            policy=WorkerPolicy(lease_seconds=30, backoff=(0.1,), poll_seconds=0.02),
            hub=hub,
            host=host,  # what `serve --host` would be; the server itself always listens on loopback here
        )
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(service.app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        running = Running(sim, service, f"http://127.0.0.1:{port}", server, thread)
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.should_exit = True
        running.thread.join(timeout=10)
        running.sim.stop()


def prs(sim: HubSim, repo: str = REPO) -> list[int]:
    return [d.num for d in sim.discussions(repo) if d.is_pr]


def test_missing_or_wrong_secret_is_refused_and_nothing_is_stored(bot: Callable[..., Running]) -> None:
    running = bot()
    payload = push_event(REPO, running.sim.head(REPO))
    missing = running.post(payload, secret=None)
    assert (missing.status_code, missing.json()) == (401, {"error": "X-Webhook-Secret header not set"})
    wrong = running.post(payload, secret="nope")
    assert (wrong.status_code, wrong.json()) == (403, {"error": "invalid webhook secret"})
    assert running.service.store.event_count() == 0 and running.service.store.job_counts()["queued"] == 0


def test_secret_in_the_query_string_is_accepted(bot: Callable[..., Running]) -> None:
    running = bot()
    answer = requests.post(
        f"{running.url}/webhooks/hub?secret={SECRET}", json=push_event(REPO, running.sim.head(REPO)), timeout=10
    )
    assert answer.status_code == 202


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        (b"{not json", 400, "not JSON"),
        (json.dumps({**push_event(REPO, "a" * 40), "webhook": {"id": "w", "version": 2}}).encode(), 400, "version 2"),
        (b"[1, 2]", 400, "object"),
        (b"x" * 1_000_001, 413, "larger than"),
    ],
)
def test_bad_payloads_are_rejected_and_queue_nothing(
    bot: Callable[..., Running], raw: bytes, status: int, message: str
) -> None:
    running = bot()
    answer = running.post(None, raw=raw)
    assert answer.status_code == status and message in answer.json()["error"]
    assert running.service.store.event_count() == 0 and sum(running.service.store.job_counts().values()) == 0


def test_a_push_to_a_watched_repo_makes_one_pr_and_redelivery_changes_nothing(bot: Callable[..., Running]) -> None:
    running = bot()
    sha = running.sim.push(REPO, {"README.md": CARD + "\nNew results below.\n"}, author="alice")
    first = running.post(push_event(REPO, sha))
    assert first.status_code == 202 and first.json()["status"] == "queued"
    running.wait_idle()
    assert prs(running.sim) == [1]
    again = running.post(push_event(REPO, sha))
    assert again.json()["status"] == "duplicate"
    running.wait_idle()
    assert prs(running.sim) == [1]
    (job,) = running.service.store.list_jobs()
    assert job.state == "done" and job.result is not None
    assert [r["outcome"] for r in job.result["reports"]] == ["created"]


def test_unwatched_repos_and_pr_refs_make_no_job(bot: Callable[..., Running]) -> None:
    running = bot("watch:\n  repos: [other/model]\n")
    assert running.post(push_event(REPO, running.sim.head(REPO))).json()["reason"] == "repo not watched"
    running2 = bot()
    answer = running2.post(push_event(REPO, "b" * 40, ref="refs/pr/3"))
    assert answer.json()["status"] == "ignored"


@pytest.mark.slow  # a build or a load test: `make test` runs it, `make test-fast` does not
def test_1000_duplicate_deliveries_of_one_event_make_one_job(bot: Callable[..., Running]) -> None:
    running = bot()
    payload = json.dumps(push_event(REPO, running.sim.head(REPO))).encode()
    statuses: list[str] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        with requests.Session() as session:
            for _ in range(n):
                answer = session.post(f"{running.url}/webhooks/hub", data=payload,
                                      headers={"X-Webhook-Secret": SECRET}, timeout=10)  # fmt: skip
                with lock:
                    statuses.append(answer.json()["status"])

    threads = [threading.Thread(target=send, args=(125,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 1000 and statuses.count("queued") == 1
    running.wait_idle()
    assert len(running.service.store.list_jobs(limit=2000)) == 1 and prs(running.sim) == [1]


@pytest.mark.slow  # a build or a load test: `make test` runs it, `make test-fast` does not
def test_a_burst_of_events_for_50_repos_opens_one_pr_each(bot: Callable[..., Running]) -> None:
    sim = HubSim()
    repos = [f"acme/model-{i:02d}" for i in range(50)]
    for repo in repos:
        sim.add_repo(repo, {"README.md": CARD.replace("Ours-7B-Instruct", repo.split("/")[1])})
    sim.start()
    running = bot(sim=sim, workers=4)
    for repo in repos:
        for _ in range(2):  # every event twice
            assert running.post(push_event(repo, sim.head(repo))).status_code in (200, 202)
    running.wait_idle(timeout=120)
    assert all(prs(sim, repo) == [1] for repo in repos)


def test_maintainer_refresh_reruns_and_outsiders_are_refused_once(bot: Callable[..., Running]) -> None:
    from huggingface_hub import HfApi

    running = bot()
    sim = running.sim
    sim.add_org("acme", ["alice"])
    num = (
        HfApi(endpoint=sim.url, token="maintainer-token")
        .create_discussion(REPO, title="Question", description="Hello")
        .num
    )
    sim.comment(REPO, num, "@evalbot refresh", by="alice")
    sim.comment(REPO, num, "@evalbot evaluate gsm8k|5", by="mallory")
    alice_id, mallory_id = _comment_ids(running, num)
    assert running.post(comment_event(REPO, num, alice_id, "@evalbot refresh", "alice-id")).status_code == 202
    running.post(comment_event(REPO, num, mallory_id, "@evalbot evaluate gsm8k|5", "mallory-id"))
    running.wait_idle()
    running.post(comment_event(REPO, num, mallory_id, "@evalbot evaluate gsm8k|5", "mallory-id"))  # redelivery
    running.wait_idle()
    replies = [text for author, text in sim.discussions(REPO)[0].comments if author == "evalbot"]
    assert len(replies) == 2  # one per command, none repeated
    assert any("mallory" in text for text in replies)
    assert prs(sim) == [2]  # the refresh ran the pipeline: evalbot's PR (#1 is the discussion)
    assert not any(job.sources == ("eval",) for job in running.service.store.list_jobs())  # nothing ran for mallory


def _comment_ids(running: Running, num: int) -> tuple[str, str]:
    from huggingface_hub import HfApi

    details = HfApi(endpoint=running.sim.url).get_discussion_details(REPO, num)
    ids = {str(e.author): e.id for e in details.events if e.type == "comment"}
    return ids["alice"], ids["mallory"]


def test_events_caused_by_evalbot_itself_are_ignored(bot: Callable[..., Running]) -> None:
    running = bot()
    answer = running.post(comment_event(REPO, 1, "c" * 24, "@evalbot refresh", BOT_ID))
    assert answer.json() == {"status": "ignored", "reason": "caused by evalbot itself"}


def test_status_page_metrics_and_api_show_a_job_that_just_ran(bot: Callable[..., Running], tmp_path: Path) -> None:
    running = bot()
    running.post(push_event(REPO, running.sim.head(REPO)))
    running.wait_idle()
    page = requests.get(running.url, timeout=10).text
    assert REPO in page and "created" in page and "#1" in page
    metrics = requests.get(f"{running.url}/metrics", timeout=10).text
    assert 'evalbot_webhook_events_total{outcome="queued"} 1' in metrics and 'evalbot_jobs{state="done"} 1' in metrics
    jobs = requests.get(f"{running.url}/api/jobs", timeout=10).json()
    assert jobs["counts"]["done"] == 1 and jobs["jobs"][0]["repo_id"] == REPO
    assert requests.get(f"{running.url}/healthz", timeout=10).text == "ok"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed for the status-page screenshot (.ci/run installs it)"
    artifact = Path(__file__).resolve().parent / "artifacts"
    artifact.mkdir(exist_ok=True)
    shot = artifact / "status-page.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'chrome'}",
         f"--screenshot={shot}", "--window-size=1200,800", running.url],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert shot.stat().st_size > 5000


def test_a_push_evalbot_made_itself_does_not_trigger_it_again(bot: Callable[..., Running]) -> None:
    running = bot()
    running.service.store.record_own_commit(REPO, "e" * 40)
    answer = running.post(push_event(REPO, "e" * 40))
    assert answer.json() == {"status": "ignored", "reason": "caused by evalbot itself (its own commit)"}


def test_status_page_has_timestamps_readable_chatops_rows_and_one_line_errors(tmp_path: Path) -> None:
    from bot.core.render import default_environment
    from bot.edges.store import Store
    from bot.serve.status import render_status

    with Store.open(tmp_path / "home", now=lambda: 1_780_000_000.0) as store:
        chat = store.enqueue_job(REPO, sources=(), trigger_key="c1", kind="chatops", options={"num": 1})
        broken = store.enqueue_job("acme/broken", sources=("readme",), trigger_key="b1")
        assert store.claim_job("w", 60) is not None and store.claim_job("w", 60) is not None
        store.complete_job(chat, "w", {"chatops": "queued", "command": "refresh", "author": "alice"})
        raw = (
            "Server error '502 Bad Gateway' for url 'https://huggingface.co/api/models/acme/broken'\n"
            "For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/502"
        )
        store.fail_job(broken, "w", raw, retry_in=None)
        page = render_status(default_environment(), store)
    assert "<th>when (UTC)</th>" in page and "<td>2026-05-28 20:26:40</td>" in page
    assert "ChatOps: @alice asked `refresh`: queued" in page and '{"chatops"' not in page
    # Jinja's autoescape (markupsafe) writes ' as &#39; where html.escape wrote &#x27;: the same character
    one_line = "Server error &#39;502 Bad Gateway&#39; for url &#39;https://huggingface.co/api/models/acme/broken&#39;"
    assert f"<td>{one_line}</td>" in page and "developer.mozilla.org" not in page
