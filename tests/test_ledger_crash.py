"""A run killed (SIGKILL) between a Hub write and its record, then run again: the ledger equals the Hub.

Each run is a real child process running the pipeline (`App.run`) against the local Hub stand-in
over HTTP, with one ledger on disk. The child kills itself at one point — just after the commit
that opens the PR returns, just after a re-run lists the PR it finds, or just before `record_pr` —
and the next, clean run must record the PR it finds and settle every pending intent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.edges.store import Store
from bot.sim.hub import HubSim

pytestmark = pytest.mark.slow  # processes killed mid-run (`make test-fast` leaves these out)

ROOT = Path(__file__).resolve().parents[1]
CARD = (ROOT / "examples" / "demo" / "acme" / "Ours-7B-Instruct" / "README.md").read_text()

CHILD = """
import os, signal, sys
from pathlib import Path
from bot.app.pipeline import App, Job
from bot.app.compose import build_app
from bot.config.settings import Secret, Settings
from bot.edges.hub import HubClient
from bot.edges.store import Store

url, home, repo, point = sys.argv[1:5]


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if point == "after-commit":
    publish = HubClient.publish
    def killed_after_publish(self, *args, **kwargs):
        publish(self, *args, **kwargs)
        die()
    HubClient.publish = killed_after_publish
elif point == "after-list":
    list_prs = HubClient.list_prs
    def killed_after_listing(self, *args, **kwargs):
        prs = list_prs(self, *args, **kwargs)
        if any(pr.is_bot for pr in prs):
            die()
        return prs
    HubClient.list_prs = killed_after_listing
elif point == "before-record":
    Store.record_pr = lambda *args, **kwargs: die()

settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=url, home=Path(home), lease_seconds=1.0,
                    lease_wait_seconds=10.0)
with Store.open(settings.home) as store:
    reports = build_app(settings, hub=HubClient(settings), store=store).run(Job(repo, sources=("readme",)))
print(reports[0].outcome)
"""


def run_child(sim: HubSim, home: Path, repo: str, point: str = "none") -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "HF_HOME": str(home / "hf"),
           "HF_HUB_DISABLE_TELEMETRY": "1"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-c", CHILD, sim.url, str(home), repo, point],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def hub_prs(sim: HubSim, repo: str) -> set[tuple[int, str, str]]:
    """(number, status, fingerprint) of evalbot's PRs, read from the stand-in with the real client."""
    from bot.config.settings import Secret, Settings
    from bot.edges.hub import HubClient

    hub = HubClient(Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url))
    return {
        (pr.num, "open" if pr.is_open else pr.status, pr.fingerprint or "")
        for pr in hub.list_prs(repo, bot_user="evalbot", known={})
        if pr.is_bot
    }


@pytest.mark.parametrize(
    "crashes",
    [
        pytest.param(["after-commit"], id="after_the_commit"),
        pytest.param(["after-commit", "after-list"], id="after_the_pr_is_listed"),
        pytest.param(["before-record"], id="before_record_pr"),
    ],
)
def test_after_a_kill_the_next_run_records_the_pr_and_settles_every_intent(tmp_path: Path, crashes: list[str]) -> None:
    repo = "acme/Ours-7B-Instruct"
    home = tmp_path / "home"
    with HubSim() as sim:
        sim.add_repo(repo, {"README.md": CARD})
        for point in crashes:
            killed = run_child(sim, home, repo, point)
            assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        with Store.open(home) as store:
            assert store.pending_intents(repo) or store.get_pr(repo, 1) is None  # the crash left drift behind
        clean = run_child(sim, home, repo)
        assert clean.returncode == 0, clean.stderr[-2000:]
        assert clean.stdout.strip() == "unchanged"  # the PR is there already: nothing written again
        on_hub = hub_prs(sim, repo)
        assert len(on_hub) == 1 and len([d for d in sim.discussions(repo) if d.is_pr]) == 1
        with Store.open(home) as store:
            ledger = {(row.pr_num, row.status, row.fingerprint) for row in store.list_prs() if row.repo_id == repo}
            assert ledger == on_hub
            assert store.pending_intents() == []
            assert store.open_prs_in_namespace("acme") == 1  # the budget counts it
