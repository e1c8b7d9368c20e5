"""Two `evalbot serve` replicas on one PostgreSQL store, webhooks spread across both: one is killed
with SIGKILL in the middle and restarted; every job is done exactly once, each repo gets exactly
one PR, no event is lost, and both status pages show the same queue. Real subprocesses, a real
PostgreSQL server, the Hub stand-in over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from bot.edges.store import Store
from bot.sim.hub import HubSim
from tests._serve import free_port, start_serve

pytestmark = pytest.mark.slow  # two serve processes and a PostgreSQL server (`make test-fast` leaves these out)

CARD = (
    Path(__file__).resolve().parents[1] / "examples" / "demo" / "acme" / "Ours-7B-Instruct" / "README.md"
).read_text()
SECRET = "replica-test-secret"
REPOS = 50
WEBHOOKS = 3  # three webhooks watch the org, and each delivery comes twice: 6 deliveries a repo, 300 in all


def start_replica(sim: HubSim, home: Path, config: Path, port: int, database_url: str) -> subprocess.Popen[bytes]:
    # each replica has its own EVALBOT_HOME (caches); the store is the shared database
    return start_serve(sim, home, config, port, SECRET, {"EVALBOT_DATABASE_URL": database_url})


def event(repo: str, sha: str, webhook: str) -> bytes:
    return json.dumps({
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {"type": "model", "name": repo, "id": "0" * 24, "private": False, "headSha": sha},
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "f" * 40, "newSha": sha}],
        "webhook": {"id": webhook, "version": 3},
    }).encode()  # fmt: skip


def deliver(ports: list[int], first: int, body: bytes) -> int:
    """POST to replica ``first``; if it is down, the next one (what the load balancer does). Returns the port."""
    for i in range(len(ports)):
        port = ports[(first + i) % len(ports)]
        try:
            answer = requests.post(f"http://127.0.0.1:{port}/webhooks/hub", data=body,
                                   headers={"X-Webhook-Secret": SECRET}, timeout=10)  # fmt: skip
        except requests.ConnectionError:
            continue
        assert answer.status_code == 202, answer.text
        return port
    raise AssertionError("no replica answered")


def in_flight(store: Store, pid: int) -> bool:
    """Whether a worker of replica ``pid`` started a job in the last 30 ms (a job takes 100 ms or more here)."""
    now = time.time()
    return any(
        f":{pid}:" in (job.lease_owner or "") and job.started_at is not None and now - job.started_at < 0.03
        for job in store.list_jobs(limit=10, state="running")
    )


def opened(sim: HubSim, repos: list[str]) -> int:
    return sum(1 for repo in repos for d in sim.discussions(repo) if d.is_pr)


def test_two_replicas_one_killed_and_restarted_do_every_job_once_with_one_pr_per_repo(
    tmp_path: Path, postgres_url: str
) -> None:
    repos = [f"acme/model-{i:02d}" for i in range(REPOS)]
    config = tmp_path / "evalbot.yaml"
    config.write_text("watch:\n  authors: [acme]\n")
    with HubSim() as sim:
        for repo in repos:
            sim.add_repo(repo, {"README.md": CARD.replace("Ours-7B-Instruct", repo.split("/")[1])})
        sim.inject("commit", "delay", delay=0.1)  # keep jobs in flight when the kill comes
        ports = [free_port(), free_port()]
        homes = [tmp_path / "a", tmp_path / "b"]
        replicas = [start_replica(sim, homes[i], config, ports[i], postgres_url) for i in range(2)]
        deliveries = [
            event(repo, sim.head(repo), f"wh{w}") for w in range(WEBHOOKS) for repo in repos for _ in range(2)
        ]
        assert len(deliveries) == 300
        answered_by: list[int] = []
        killed = False
        monitor = Store.from_url(postgres_url)
        try:
            for n, body in enumerate(deliveries):
                answered_by.append(deliver(ports, n % 2, body))
                # early (a fast machine may drain the queue before the later deliveries), once a PR is open
                # and a job of replica 1 is in flight; the events of the other repos are still to come
                if (
                    not killed
                    and n >= len(deliveries) // 10
                    and opened(sim, repos)
                    and in_flight(monitor, replicas[1].pid)
                ):
                    os.kill(replicas[1].pid, signal.SIGKILL)  # in the middle: PRs opened, a job of its in flight
                    replicas[1].wait(timeout=10)
                    killed = True
                    assert opened(sim, repos) < len(repos), "the kill came too late to test anything"
                if killed and n == len(deliveries) * 3 // 4:
                    replicas[1] = start_replica(sim, homes[1], config, ports[1], postgres_url)
            assert killed, "no PR was opened before the last delivery: nothing was in flight"
            assert answered_by.count(ports[1]) > 0 and answered_by.count(ports[0]) > answered_by.count(ports[1])

            with Store.from_url(postgres_url) as store:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and store.pending_jobs():
                    time.sleep(0.1)
                counts = store.job_counts()
                assert counts["queued"] == counts["running"] == counts["failed"] == 0, counts
                jobs = store.list_jobs(limit=1000)
                assert counts["done"] == len(jobs) >= len(repos)
                assert all(job.result is not None and job.finished_at is not None for job in jobs)
                assert any(job.attempts == 2 for job in jobs)  # the killed replica's job, done again by a live one
                assert store.event_count() == len(repos) * WEBHOOKS  # every distinct event, each once
            pages = [requests.get(f"http://127.0.0.1:{port}/api/jobs?limit=1000", timeout=10).json() for port in ports]
            assert pages[0] == pages[1]  # either replica's status shows the same queue
            assert pages[0]["counts"] == counts
        finally:
            monitor.close()
            for replica in replicas:
                if replica.poll() is None:
                    replica.send_signal(signal.SIGTERM)
                    replica.wait(timeout=30)
        assert [len([d for d in sim.discussions(r) if d.is_pr]) for r in repos] == [1] * len(repos)
