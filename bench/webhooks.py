"""Webhook endpoint throughput and latency, and event-to-PR time, against `evalbot serve`.

`evalbot serve` runs as its own process (as in production) with the SQLite store on disk; the
local Hub stand-in runs in this process. Part 1 sends distinct push events for watched repos from
C client threads over keep-alive connections to a server with no workers (`--workers 0`: the
endpoint alone — check, record, queue) and reports events/s acknowledged and p50/p99 latency.
Part 2 starts a server with workers and reports the time from each repo's event to its PR.

    python bench/webhooks.py [--events 3000] [--clients 4] [--repos 20]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sim.hub import HubSim  # noqa: E402

CARD = (ROOT / "examples" / "demo" / "acme" / "Ours-7B-Instruct" / "README.md").read_text()
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(sim: HubSim, home: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    config = home / "evalbot.yaml"
    home.mkdir(parents=True, exist_ok=True)
    config.write_text("watch:\n  authors: [acme]\n")
    port = free_port()
    env = {**os.environ, "HF_ENDPOINT": sim.url, "HF_TOKEN": "evalbot-token", "EVALBOT_HOME": str(home),
           "EVALBOT_WEBHOOK_SECRET": SECRET}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{url}/healthz", timeout=1).text == "ok":
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("evalbot serve did not start")


def event(repo: str, sha: str) -> bytes:
    return json.dumps({
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {"type": "model", "name": repo, "id": "0" * 24, "private": False, "headSha": sha},
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "f" * 40, "newSha": sha}],
        "webhook": {"id": "bench", "version": 3},
    }).encode()  # fmt: skip


def part1(events: int, clients: int) -> tuple[float, list[float], int]:
    with HubSim() as sim, tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(sim, Path(tmp) / "home", workers=0)
        bodies = [event(f"acme/model-{i % 500}", f"{i:040x}") for i in range(events)]
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()

        def send(chunk: list[bytes]) -> None:
            nonlocal errors
            mine: list[float] = []
            bad = 0
            with requests.Session() as session:
                for body in chunk:
                    started = time.perf_counter()
                    answer = session.post(f"{url}/webhooks/hub", data=body, headers={"X-Webhook-Secret": SECRET})
                    mine.append(time.perf_counter() - started)
                    bad += answer.status_code != 202
            with lock:
                latencies.extend(mine)
                errors += bad

        chunks = [bodies[i::clients] for i in range(clients)]
        threads = [threading.Thread(target=send, args=(c,)) for c in chunks]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        proc.terminate()
        proc.wait(timeout=30)
        return elapsed, latencies, errors


def part2(repos: int, workers: int) -> list[float]:
    with HubSim() as sim, tempfile.TemporaryDirectory() as tmp:
        names = [f"acme/model-{i:03d}" for i in range(repos)]
        for name in names:
            sim.add_repo(name, {"README.md": CARD.replace("Ours-7B-Instruct", name.split("/")[1])})
        proc, url = start_server(sim, Path(tmp) / "home", workers=workers)
        sent = {}
        for name in names:
            sent[name] = time.perf_counter()
            requests.post(f"{url}/webhooks/hub", data=event(name, sim.head(name)), headers={"X-Webhook-Secret": SECRET})
        done: dict[str, float] = {}
        deadline = time.perf_counter() + 300
        while len(done) < len(names) and time.perf_counter() < deadline:
            for name in names:
                if name not in done and any(d.is_pr for d in sim.discussions(name)):
                    done[name] = time.perf_counter() - sent[name]
            time.sleep(0.01)
        proc.terminate()
        proc.wait(timeout=30)
        return sorted(done.values())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    elapsed, latencies, errors = part1(args.events, args.clients)
    rate = len(latencies) / elapsed
    p50, p99 = pct(latencies, 50) * 1e3, pct(latencies, 99) * 1e3
    print(f"Part 1: webhook endpoint alone (evalbot serve --workers 0, store on disk), {args.clients} clients\n")
    print(f"{'events':>7} {'seconds':>8} {'events/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'non-202':>8}  target")
    ok = rate >= 500 and p99 < 50 and errors == 0
    print(f"{len(latencies):>7} {elapsed:>8.2f} {rate:>9.0f} {p50:>7.1f} {p99:>7.1f} {errors:>8}  "
          f">=500/s, p99<50 ms: {'met' if ok else 'NOT met'}")  # fmt: skip

    times = part2(args.repos, args.workers)
    print(f"\nPart 2: event → PR for {args.repos} repos (one event each, {args.workers} workers)\n")
    print(f"{'repos':>6} {'with PR':>8} {'p50 s':>7} {'max s':>7} {'mean s':>7}")
    if times:
        print(
            f"{args.repos:>6} {len(times):>8} {pct(times, 50):>7.2f} {max(times):>7.2f} {statistics.mean(times):>7.2f}"
        )
    return 0 if ok and len(times) == args.repos else 1


if __name__ == "__main__":
    sys.exit(main())
