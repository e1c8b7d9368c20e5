"""`evalbot demo`: the whole bot, offline, in seconds.

Starts the local Hub stand-in with the sample repos in `examples/demo/` (real-looking cards),
scans them as the `evalbot` user (a token with no write access: it can only open PRs), prints
the PRs it opened with their diffs, then scans again: the second scan must change nothing.

`--evaluate` (needs the `eval` extra) then adds the tiny random-weight model of
`evaluators/tiny.py` to the stand-in, evaluates it on CPU with lighteval and with inspect on the
tiny tasks (each engine opens its own PR), and runs both again: the rerun must be answered from
the result cache (no engine run) and change nothing.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from huggingface_hub import HfApi

from bot.app.compose import build_app
from bot.app.pipeline import Job, run_many
from bot.app.report_text import format_reports, format_run
from bot.config.settings import Secret, Settings
from bot.edges.hub import HubClient
from bot.edges.store import Store
from bot.sim.hub import HubSim
from evaluators.request import EvalRequest
from evaluators.settings import EvalSettings
from evaluators.tiny import build_tiny_model, write_tiny_tasks

# examples/demo in a source checkout; the same files ship in the wheel as bot/demo_repos
_CHECKOUT_REPOS = Path(__file__).resolve().parents[2] / "examples" / "demo"
DEMO_REPOS = _CHECKOUT_REPOS if _CHECKOUT_REPOS.is_dir() else Path(__file__).resolve().parents[1] / "demo_repos"
DEMO_AUTHOR = "acme"
BOT_TOKEN = "evalbot-token"


TINY_REPO = f"{DEMO_AUTHOR}/tiny-llama"
TINY_CARD = "---\nlicense: mit\nlibrary_name: transformers\n---\n# tiny-llama\n\nA tiny random-weight Llama.\n"


def run_demo(keep: Path | None = None, *, out: TextIO | None = None, evaluate: bool = False) -> int:
    """Run the demo; returns the exit code (0 when the rerun changed nothing)."""

    stream = out or sys.stdout

    def say(text: str = "") -> None:
        print(text, file=stream)

    if not DEMO_REPOS.is_dir():
        say(f"demo repos not found at {DEMO_REPOS}; reinstall evalbot (the wheel ships them as package data)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="evalbot-demo-"))
    try:
        shutil.copytree(DEMO_REPOS, work / "repos")
        home = keep or work / "home"
        with HubSim.from_directory(work / "repos") as sim, Store.open(home) as store:
            settings = Settings(hf_token=Secret(BOT_TOKEN), hf_endpoint=sim.url, home=home, lease_wait_seconds=5)
            hub = HubClient(settings)
            app = build_app(settings, hub=hub, store=store)
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
            if evaluate:
                return _evaluate_demo(sim, settings, hub, store, work, api, say)
            return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _evaluate_demo(
    sim: HubSim, settings: Settings, hub: HubClient, store: Store, work: Path, api: HfApi, say: Callable[[str], None]
) -> int:
    """The tiny model, evaluated by both engines on CPU: one PR each, then a rerun from the cache."""

    say("\n== evaluate: the tiny model of evaluators/tiny.py, on CPU, with lighteval and with inspect")
    model = build_tiny_model(work / "tiny-model")
    tasks = write_tiny_tasks(work / "tiny-tasks")
    sim.add_repo(
        TINY_REPO, {"README.md": TINY_CARD, **{p.name: p.read_bytes() for p in model.iterdir() if p.is_file()}}
    )
    app = build_app(settings, hub=hub, store=store, progress=lambda line: say(f"  {line}"))
    requests = {
        "lighteval": EvalRequest(
            ("tiny_mc|0", "tiny_qa|0"), EvalSettings(engine="lighteval", custom_tasks=tasks.lighteval_file)
        ),
        "inspect": EvalRequest(
            (f"{tasks.inspect_file}@tiny_mc", f"{tasks.inspect_file}@tiny_qa"), EvalSettings(engine="inspect")
        ),
    }
    for engine, request in requests.items():
        reports = app.run(Job(TINY_REPO, sources=("eval",), eval=request))
        say(format_reports(reports))
        (report,) = reports
        if report.outcome != "created" or report.pr_num is None:
            say(f"demo FAILED: {engine} did not open a pull request: {report.reason}")
            return 1
        say(format_run(app.evals.evaluate(TINY_REPO, report.sha, request)).rstrip())
        details = api.get_discussion_details(TINY_REPO, report.pr_num)
        say(f"\n== {TINY_REPO} PR #{details.num}: {details.title} ({details.status})")
        say(details.diff or "(no diff)")
    runs_before = app.evals.engine_runs
    say("\n== evaluate again (same commit, same settings)")
    again = [r for request in requests.values() for r in app.run(Job(TINY_REPO, sources=("eval",), eval=request))]
    say(format_reports(again))
    prs = [d for d in sim.discussions(TINY_REPO) if d.is_pr]
    reran = app.evals.engine_runs - runs_before
    say(f"\n{len(prs)} evaluation pull request(s); the rerun ran the engines {reran} time(s)")
    if app.evals.engine_runs != runs_before or any(r.outcome != "unchanged" for r in again) or len(prs) != 2:
        say("demo FAILED: the rerun was not answered from the cache without changes")
        return 1
    return 0
