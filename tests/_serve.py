"""`evalbot serve` as a real process for the crash and replica tests: a free port, and a server up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from bot.sim.hub import HubSim


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_serve(
    sim: HubSim, home: Path, config: Path, port: int, secret: str, env: Mapping[str, str] = {}
) -> subprocess.Popen[bytes]:
    """`evalbot serve` (2 workers) against `sim`, returned once /healthz answers; leases expire in 2 s,
    so a killed server's jobs and repo leases are taken over quickly."""
    environment = {
        **os.environ,
        "HF_ENDPOINT": sim.url,
        "HF_TOKEN": "evalbot-token",
        "EVALBOT_HOME": str(home),
        "EVALBOT_WEBHOOK_SECRET": secret,
        "EVALBOT_LEASE_SECONDS": "2",
        **env,
    }
    cmd = [sys.executable, "-m", "bot.cli", "--config", str(config), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--workers", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok":
                return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("evalbot serve did not come up")
