"""`evalbot serve` under hostile input, over real HTTP against the local Hub: ChatOps task names,
separate ChatOps jobs, bounded and validated webhook bodies, the status surface's parameters and token."""

from __future__ import annotations

import dataclasses
import json
import select
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from bot.app.pipeline import App
from bot.config.file import ConfigFile
from bot.serve.worker import COMMAND_KIND, JobHandler, Worker, WorkerPolicy
from tests.test_server import REPO, SECRET, Running, bot, comment_event, push_event

__all__ = ["bot"]  # the fixture, re-used

EVIL = "import pathlib\npathlib.Path({sentinel!r}).write_text('imported')\n"


def handler_for(app: App, config: ConfigFile) -> JobHandler:
    """A second handler over the running service's App, with another evalbot.yaml."""
    assert app.store is not None
    return JobHandler(config, run=app.run, hub=app.hub, store=app.store, eval_request=app.settings.eval_request)


def _discussion(running: Running, *comments: str, by: str = "alice") -> tuple[int, list[str]]:
    """A discussion on REPO with these comments by `by`; returns its number and the comment ids."""
    from huggingface_hub import HfApi

    sim = running.sim
    sim.add_org("acme", ["alice"])
    num = (
        HfApi(endpoint=sim.url, token="maintainer-token")
        .create_discussion(REPO, title="Question", description="Hello")
        .num
    )
    for text in comments:
        sim.comment(REPO, num, text, by=by)
    details = HfApi(endpoint=sim.url).get_discussion_details(REPO, num)
    return num, [e.id for e in details.events if e.type == "comment" and str(e.author) == by]


def _drain(running: Running, config_path: Path, jobs: int) -> None:
    """Run `jobs` queued jobs (oldest first) on one worker of the running service, one at a time."""
    from bot.config.file import load_config_file

    handler = handler_for(running.service.pipeline, load_config_file(config_path))
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


# --- bounded, validated webhook bodies -----------------------------------------------------------


def _chunked_post(url: str, *, chunk: bytes, most: int) -> tuple[bytes, int]:
    """POST a chunked body of up to `most` bytes; stop sending once the server answers."""
    host, port = url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = (f"POST /webhooks/hub HTTP/1.1\r\nHost: {host}\r\nX-Webhook-Secret: {SECRET}\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")  # fmt: skip
        sock.sendall(head.encode())
        answer = b""
        while sent < most:
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except OSError:  # the server closed the connection after answering
                break
            sent += len(chunk)
            if select.select([sock], [], [], 0)[0]:
                break
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer, sent


def test_a_chunked_body_is_cut_off_at_the_limit(bot: Callable[..., Running]) -> None:
    running = bot(workers=0)
    answer, sent = _chunked_post(running.url, chunk=b"x" * 65536, most=200 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 20 * 1024 * 1024  # answered long before the 200 MB were sent, let alone read
    assert running.service.store.event_count() == 0


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("acme/../etc", "is not a valid Hub repo id", id="dotdot"),
        pytest.param("acme/m\x00", "is not a valid Hub repo id", id="nul"),
        pytest.param("acme/m\nERROR forged log line", "is not a valid Hub repo id", id="newline"),
        pytest.param("acme/<script>alert(1)</script>", "is not a valid Hub repo id", id="script"),
        pytest.param("acme/a/b", "is not a valid Hub repo id", id="three_segments"),
        pytest.param("acme/" + "m" * 900_000, "is not a valid Hub repo id", id="900KB"),
        pytest.param("acme/m\ud800", "lone surrogate", id="lone_surrogate"),
    ],
)
def test_invalid_repo_ids_are_refused_at_the_door(bot: Callable[..., Running], name: str, reason: str) -> None:
    running = bot(workers=0)
    payload = push_event("acme/m", "a" * 40)
    payload["repo"]["name"] = name
    answer = running.post(None, raw=json.dumps(payload).encode())  # json.dumps writes \ud800 as an escape
    assert answer.status_code == 400, answer.text[:200]
    error = answer.json()["error"]
    assert reason in error and "\n" not in error and len(error) < 300
    assert running.service.store.list_jobs() == [] and running.service.store.event_count() == 0


def test_invalid_utf8_is_refused(bot: Callable[..., Running]) -> None:
    running = bot(workers=0)
    answer = running.post(None, raw=json.dumps(push_event(REPO, "a" * 40)).encode().replace(b"acme", b"\xffacme"))
    assert answer.status_code == 400 and "not UTF-8" in answer.json()["error"]


def test_a_repo_the_hub_does_not_have_fails_once_without_retries(bot: Callable[..., Running]) -> None:
    running = bot()
    assert running.post(push_event("acme/gone", "a" * 40)).status_code == 202
    running.wait_idle()
    [job] = running.service.store.list_jobs()
    assert (job.state, job.attempts) == ("failed", 1)
    assert job.error is not None and "not found" in job.error


# --- the status surface --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["limit=abc", "limit=-1", "limit=0", "limit=1001", "limit=" + "9" * 5000, "state=x", "stat=done"]
)
def test_status_api_parameters_are_validated(bot: Callable[..., Running], query: str) -> None:
    running = bot(workers=0)
    answer = requests.get(f"{running.url}/api/jobs?{query}", timeout=10)
    assert answer.status_code == 400 and "error" in answer.json()


def test_status_api_limit_is_honoured(bot: Callable[..., Running]) -> None:
    running = bot(workers=0)
    for i in range(3):
        running.post(push_event(REPO, f"{i}" * 40, webhook_id=f"w{i}"))
    jobs = requests.get(f"{running.url}/api/jobs?limit=1&state=queued", timeout=10).json()
    assert len(jobs["jobs"]) == 1 and jobs["counts"]["queued"] == 1  # the three pushes coalesced into one job


def _get(running: Running, path: str, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(f"{running.url}{path}", headers=headers, timeout=10)


def test_the_status_token_protects_the_status_pages_but_not_healthz(bot: Callable[..., Running]) -> None:
    running = bot(workers=0, env={"EVALBOT_STATUS_TOKEN": "status-token-for-tests"})
    for path in ("/", "/api/jobs", "/metrics"):
        assert _get(running, path).status_code == 401
        assert _get(running, path, "wrong").status_code == 401
        answer = _get(running, path, "status-token-for-tests")
        assert answer.status_code == 200, path
        assert "status-token-for-tests" not in answer.text
    assert _get(running, "/healthz").text == "ok"
    assert running.post(push_event(REPO, "a" * 40)).status_code == 202  # webhooks use their own secret


def test_on_a_public_interface_the_status_pages_need_a_token(bot: Callable[..., Running]) -> None:
    running = bot(workers=0, host="0.0.0.0")
    for path in ("/", "/api/jobs", "/metrics"):
        answer = _get(running, path)
        assert answer.status_code == 403 and "EVALBOT_STATUS_TOKEN" in answer.json()["error"]
    assert _get(running, "/healthz").status_code == 200


def test_serve_listens_on_loopback_unless_told_otherwise() -> None:
    from bot.cli import build_parser

    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    assert build_parser().parse_args(["serve", "--host", "0.0.0.0"]).host == "0.0.0.0"


@pytest.mark.parametrize("task", ["/opt/tasks/x.py@t", "../x.py@t", "x.py@t", "some_pkg/task"])
def test_serve_refuses_configured_tasks_outside_the_allowed_places(tmp_path: Path, task: str) -> None:
    from bot.config.settings import Secret, Settings
    from bot.errors import ConfigError
    from bot.serve.service import build_service
    from bot.sim.hub import HubSim

    config = tmp_path / "evalbot.yaml"
    config.write_text(f"eval:\n  tasks: [{json.dumps(task)}]\n  engine: inspect\n")
    if task == "some_pkg/task":  # a package task is allowed when evalbot.yaml names it: check one that is not
        config.write_text("eval:\n  tasks: [inspect_evals/gsm8k]\n  engine: inspect\nchatops:\n  tasks: [a/b/c]\n")
    with HubSim() as sim:
        settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=tmp_path / "home")
        with pytest.raises(ConfigError, match=r"evalbot\.yaml: task "):
            build_service(settings.with_config_file(config), workers=0, env={"EVALBOT_WEBHOOK_SECRET": "s"})


def test_serve_accepts_configured_registry_names_and_task_dir_files(tmp_path: Path) -> None:
    from bot.config.settings import Secret, Settings
    from bot.serve.service import build_service
    from bot.sim.hub import HubSim

    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "mine.py").write_text("")
    config = tmp_path / "evalbot.yaml"
    config.write_text(
        "eval:\n  tasks: [inspect_evals/gsm8k, mine.py@t, other_pkg/task]\n  engine: inspect\n"
        "chatops:\n  task_dirs: [tasks]\n"
    )
    with HubSim() as sim:
        settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=tmp_path / "home")
        service = build_service(settings.with_config_file(config), workers=0, env={"EVALBOT_WEBHOOK_SECRET": "s"})
        service.store.close()


def test_a_task_dir_file_is_queued_by_name_and_run_from_its_folder(bot: Callable[..., Running], tmp_path: Path) -> None:
    from bot.config.file import load_config_file

    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "mine.py").write_text("")
    config = (
        "watch:\n  authors: [acme]\n"
        "eval:\n  tasks: [mine.py@configured]\n  engine: inspect\n"
        "chatops:\n  task_dirs: [tasks]\n"
    )
    running = bot(config, workers=0)
    num, [comment_id] = _discussion(running, "@evalbot evaluate mine.py@asked")
    running.post(comment_event(REPO, num, comment_id, "@evalbot evaluate mine.py@asked", "alice-id"))
    _drain(running, tmp_path / "evalbot.yaml", 1)
    assert _replies(running)[0].startswith("Queued an evaluation")
    [command] = [j for j in running.service.store.list_jobs() if j.kind == COMMAND_KIND]
    assert command.options == {"tasks": ["mine.py@asked"]}  # the name, as asked
    handler = handler_for(running.service.pipeline, load_config_file(tmp_path / "evalbot.yaml"))
    resolved = (tmp_path / "tasks" / "mine.py").resolve()
    request = handler._eval_for(command)
    assert request is not None and request.tasks == (f"{resolved}@asked",)
    webhook_run = dataclasses.replace(command, kind="run", options={})
    request = handler._eval_for(webhook_run)  # evalbot.yaml's own tasks: resolved the same way
    assert request is not None and request.tasks == (f"{resolved}@configured",)
