"""`evalbot demo`: the whole bot, offline, in seconds.

Starts the local Hub stand-in with the sample repos in `examples/demo/` (real-looking cards),
scans them as the `evalbot` user (a token with no write access: it can only open PRs), prints
the PRs it opened with their diffs, then scans again: the second scan must change nothing.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from huggingface_hub import HfApi

from bot.app import App, Job, run_many
from bot.config import Secret, Settings
from bot.hub import HubClient
from bot.sim.hub import HubSim
from bot.store import Store

DEMO_REPOS = Path(__file__).resolve().parent.parent / "examples" / "demo"
DEMO_AUTHOR = "acme"
BOT_TOKEN = "evalbot-token"


def run_demo(keep: Path | None = None, *, out: TextIO | None = None) -> int:
    """Run the demo; returns the exit code (0 when the rerun changed nothing)."""
    from bot._cli_bot import format_reports  # the CLI's table, shared

    stream = out or sys.stdout

    def say(text: str = "") -> None:
        print(text, file=stream)

    if not DEMO_REPOS.is_dir():
        say(f"demo repos not found at {DEMO_REPOS}; run the demo from a source checkout")
        return 1
    work = Path(tempfile.mkdtemp(prefix="evalbot-demo-"))
    try:
        shutil.copytree(DEMO_REPOS, work / "repos")
        home = keep or work / "home"
        with HubSim.from_directory(work / "repos") as sim, Store.open(home) as store:
            settings = Settings(hf_token=Secret(BOT_TOKEN), hf_endpoint=sim.url, home=home, lease_wait_seconds=5)
            hub = HubClient(settings)
            app = App(settings, hub, store)
            repos = hub.list_repos(DEMO_AUTHOR)
            say(f"Local Hub stand-in at {sim.url} with {len(repos)} repos of {DEMO_AUTHOR!r}; bot user: evalbot\n")

            say("== scan 1")
            first = run_many(app, [Job(r) for r in repos], workers=settings.workers)
            say(format_reports(first))

            api = HfApi(endpoint=sim.url, token=BOT_TOKEN)
            for report in first:
                if report.pr_num is None:
                    continue
                details = api.get_discussion_details(report.repo_id, report.pr_num)
                say(f"\n== {report.repo_id} PR #{details.num}: {details.title} ({details.status})")
                say(details.diff or "(no diff)")

            say("\n== scan 2 (same repos, nothing changed on the Hub)")
            sim.reset_requests()
            second = run_many(app, [Job(r) for r in repos], workers=settings.workers)
            say(format_reports(second))
            prs = sum(1 for r in repos for d in sim.discussions(r) if d.is_pr)
            requests = sim.request_count()
            say(f"\n{prs} pull request(s) on the Hub; scan 2 made {requests} request(s) for {len(repos)} repos")
            changed = [r for r in second if r.outcome in ("created", "updated", "pushed", "failed")]
            if changed:
                say(f"demo FAILED: the second scan was not a no-op: {changed}")
                return 1
            return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
