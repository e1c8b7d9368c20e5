"""kill -9 of `evalbot serve` in the middle of a run, then a restart: every job completes, no
duplicate PR, no lost event. The server runs as a real subprocess; the Hub is the local stand-in."""

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

pytestmark = pytest.mark.slow  # serve processes killed and restarted (`make test-fast` leaves these out)

CARD = (
    Path(__file__).resolve().parents[1] / "examples" / "demo" / "acme" / "Ours-7B-Instruct" / "README.md"
).read_text()
SECRET = "crash-test-secret"


def start_server(sim: HubSim, home: Path, config: Path, port: int) -> subprocess.Popen[bytes]:
    return start_serve(sim, home, config, port, SECRET)


def event(repo: str, sha: str) -> bytes:
    return json.dumps({
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {"type": "model", "name": repo, "id": "0" * 24, "private": False, "headSha": sha},
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "f" * 40, "newSha": sha}],
        "webhook": {"id": "wh", "version": 3},
    }).encode()  # fmt: skip


def test_kill_9_mid_run_then_restart_completes_every_job_without_duplicates(tmp_path: Path) -> None:
    repos = [f"acme/model-{i}" for i in range(12)]
    config = tmp_path / "evalbot.yaml"
    config.write_text("watch:\n  authors: [acme]\n")
    home = tmp_path / "home"
    with HubSim() as sim:
        for repo in repos:
            sim.add_repo(repo, {"README.md": CARD.replace("Ours-7B-Instruct", repo.split("/")[1])})
        sim.inject("commit", "delay", delay=0.4)  # keep jobs in flight when the kill comes
        port = free_port()
        server = start_server(sim, home, config, port)
        for repo in repos:
            answer = requests.post(f"http://127.0.0.1:{port}/webhooks/hub", data=event(repo, sim.head(repo)),
                                   headers={"X-Webhook-Secret": SECRET}, timeout=10)  # fmt: skip
            assert answer.status_code == 202
        deadline = time.monotonic() + 30  # kill once some PRs exist and some jobs are still pending
        while time.monotonic() < deadline and not any(d.is_pr for r in repos for d in sim.discussions(r)):
            time.sleep(0.02)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        opened_before = sum(1 for r in repos for d in sim.discussions(r) if d.is_pr)
        assert opened_before < len(repos), "the kill came too late to test anything"

        sim.clear_faults()
        server = start_server(sim, home, config, port)
        try:
            deadline = time.monotonic() + 90
            with Store.open(home) as store:
                while time.monotonic() < deadline and store.pending_jobs():
                    time.sleep(0.1)
                counts = store.job_counts()
                assert counts["queued"] == counts["running"] == counts["failed"] == 0, counts
                assert counts["done"] == len(repos)
                assert store.event_count() == len(repos)  # no event lost
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        assert [len([d for d in sim.discussions(r) if d.is_pr]) for r in repos] == [1] * len(repos)
