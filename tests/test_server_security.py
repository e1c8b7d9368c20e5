"""`evalbot serve` under hostile input, over real HTTP against the local Hub: ChatOps task names,
separate ChatOps jobs, bounded and validated webhook bodies, the status surface's parameters and token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.config import Secret, Settings
from bot.hub import HubClient
from bot.worker import COMMAND_KIND, JobHandler, Worker, WorkerPolicy
from tests.test_server import REPO, Running, bot, comment_event, push_event

__all__ = ["bot"]  # the fixture, re-used

EVIL = "import pathlib\npathlib.Path({sentinel!r}).write_text('imported')\n"


def _discussion(running: Running, *comments: str, by: str = "alice") -> tuple[int, list[str]]:
    """A discussion on REPO with these comments by `by`; returns its number and the comment ids."""
    from huggingface_hub import HfApi

    sim = running.sim
    sim.add_org("acme", ["alice"])
    num = (
        HubClient(Settings(hf_token=Secret("maintainer-token"), hf_endpoint=sim.url))
        .api.create_discussion(REPO, title="Question", description="Hello")
        .num
    )
    for text in comments:
        sim.comment(REPO, num, text, by=by)
    details = HfApi(endpoint=sim.url).get_discussion_details(REPO, num)
    return num, [e.id for e in details.events if e.type == "comment" and str(e.author) == by]


def _drain(running: Running, config_path: Path, jobs: int) -> None:
    """Run `jobs` queued jobs (oldest first) on one worker of the running service, one at a time."""
    from bot.config_file import load_config_file

    handler = JobHandler(running.service.pipeline, load_config_file(config_path))
    worker = Worker(running.service.store, handler, name="test-worker", policy=WorkerPolicy(lease_seconds=30))
    for _ in range(jobs):
        assert worker.run_once()


def _replies(running: Running) -> list[str]:
    return [text for author, text in running.sim.discussions(REPO)[0].comments if author == "evalbot"]


def test_chatops_evaluate_refuses_paths_packages_and_files_outside_the_task_dirs(
    bot: Callable[..., Running], tmp_path: Path
) -> None:
    sentinel = tmp_path / "imported.txt"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.py").write_text(EVIL.format(sentinel=str(sentinel)))
    task_dir = tmp_path / "tasks"
    task_dir.mkdir()
    (task_dir / "link.py").symlink_to(outside / "evil.py")  # a symlink out of the task folder
    config = (
        "watch:\n  authors: [acme]\n"
        "eval:\n  tasks: [inspect_evals/gsm8k]\n  engine: inspect\n"
        "chatops:\n  task_dirs: [tasks]\n"
    )
    running = bot(config, workers=0)
    commands = [
        f"@evalbot evaluate {outside / 'evil.py'}@t",
        "@evalbot evaluate evil.py@t",
        "@evalbot evaluate ../outside/evil.py@t",
        "@evalbot evaluate link.py@t",
        "@evalbot evaluate os/path",
    ]
    num, ids = _discussion(running, *commands)
    for comment_id, text in zip(ids, commands, strict=True):
        assert running.post(comment_event(REPO, num, comment_id, text, "alice-id")).status_code == 202
    _drain(running, tmp_path / "evalbot.yaml", len(commands))
    replies = _replies(running)
    assert len(replies) == len(commands)
    assert all(r.startswith("Not queued: task ") for r in replies), replies
    assert "is a path" in replies[0] and "is a path" in replies[2]
    assert "no configured task directory holds evil.py" in replies[1]
    assert "is not a regular file inside the task directory" in replies[3]
    assert "'os' is not a task registry evalbot allows" in replies[4]
    assert all(len(r.split("\n\n")[0].splitlines()) == 1 for r in replies)  # one line, then the marker
    assert not [j for j in running.service.store.list_jobs() if j.kind == COMMAND_KIND]  # nothing queued
    assert not sentinel.exists()


def test_two_chatops_evaluations_stay_two_jobs_with_their_own_tasks_and_ids(
    bot: Callable[..., Running], tmp_path: Path
) -> None:
    running = bot("watch:\n  authors: [acme]\neval:\n  tasks: [gsm8k|5]\n", workers=0)
    commands = ["@evalbot evaluate arc:challenge|25", "@evalbot evaluate hellaswag|10"]
    num, ids = _discussion(running, *commands)
    for comment_id, text in zip(ids, commands, strict=True):
        running.post(comment_event(REPO, num, comment_id, text, "alice-id"))
    running.post(push_event(REPO, running.sim.head(REPO)))  # a webhook run for the repo, queued after them
    _drain(running, tmp_path / "evalbot.yaml", 2)  # the two commands; their runs wait in the queue
    store = running.service.store
    runs = sorted((j for j in store.list_jobs() if j.kind == COMMAND_KIND), key=lambda j: j.id)
    assert [j.options["tasks"] for j in runs] == [["arc:challenge|25"], ["hellaswag|10"]]
    assert [j.sources for j in runs] == [("eval",), ("eval",)]
    assert all(j.coalesced == 0 for j in runs)
    replies = _replies(running)
    assert [f"(job `{j.id}`)" in r for j, r in zip(runs, replies, strict=True)] == [True, True]
    assert "`arc:challenge|25`" in replies[0] and "`hellaswag|10`" in replies[1]
    webhook_runs = [j for j in store.list_jobs() if j.kind == "run"]
    assert len(webhook_runs) == 1 and webhook_runs[0].sources == ("readme",)
