"""Workers on a real SQLite store: job deadlines, permanent errors, and the log lines they write."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path

import pytest

from bot.core import _deadline
from bot.edges.store import JobRow, Store
from bot.errors import JobDeadlineError, RepoNotFoundError
from bot.serve.worker import EVAL_RUNNER_TIMEOUT, Worker, WorkerPolicy

REPO = "acme/model"


def policy(**changes: float) -> WorkerPolicy:
    return dataclasses.replace(WorkerPolicy(lease_seconds=30, backoff=(0.0,), poll_seconds=0.01), **changes)


def test_a_job_past_its_deadline_fails_with_the_reason_and_never_writes(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    stuck = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    after = store.enqueue_job("acme/other", sources=["readme"], trigger_key="k2")
    wrote: list[int] = []
    released = threading.Event()

    def handle(job: JobRow) -> dict[str, object]:
        if job.id == stuck:
            try:
                while True:  # a card that takes for ever; it checks before its write, as App._publish does
                    time.sleep(0.01)
                    _deadline.check(f"the job for {job.repo_id}")
            finally:
                released.set()
            wrote.append(job.id)  # never reached
        return {"reports": []}

    worker = Worker(store, handle, name="w1", policy=policy(deadline_seconds=0.3))
    started = time.monotonic()
    assert worker.run_once()
    assert time.monotonic() - started < 5
    job = store.get_job(stuck)
    assert job is not None and job.state == "failed" and job.lease_owner is None and job.attempts == 1
    assert job.error is not None and job.error.startswith("deadline: the job ran longer than 0.3 s")
    assert released.wait(5) and wrote == []
    assert worker.run_once()  # the worker is free: it takes the next job
    done = store.get_job(after)
    assert done is not None and done.state == "done"


def test_an_evaluation_job_gets_its_runners_timeout_on_top() -> None:
    from bot.app.remote_jobs import JobsSettings

    assert JobsSettings("o/results").timeout_s == EVAL_RUNNER_TIMEOUT  # the hf-jobs runner's own timeout
    chosen = policy(deadline_seconds=60, eval_deadline_seconds=60 + EVAL_RUNNER_TIMEOUT)
    run = JobRow(1, "run", REPO, ("readme",), None, "k", {}, "running", 1, 0, 0.0, "w", 1.0, 0.0, 0.0, None, None, None)
    assert chosen.deadline_for(run) == 60
    assert chosen.deadline_for(dataclasses.replace(run, sources=("readme", "eval"))) == 60 + EVAL_RUNNER_TIMEOUT


def test_service_deadlines_come_from_the_environment(tmp_path: Path) -> None:
    from bot.config.settings import Secret, Settings
    from bot.serve.service import build_service
    from bot.sim.hub import HubSim

    with HubSim() as sim:
        settings = Settings.from_env({"EVALBOT_JOB_DEADLINE_SECONDS": "120", "EVALBOT_HOME": str(tmp_path)})
        settings = dataclasses.replace(settings, hf_token=Secret("evalbot-token"), hf_endpoint=sim.url)
        service = build_service(settings, workers=1, env={"EVALBOT_WEBHOOK_SECRET": "s"})
        chosen = service.workers[0].policy
        assert (chosen.deadline_seconds, chosen.eval_deadline_seconds) == (120, 120 + EVAL_RUNNER_TIMEOUT)
        service.store.close()


@pytest.mark.parametrize(
    ("raised", "reports"),
    [
        pytest.param(RepoNotFoundError("acme/gone"), None, id="raised"),
        pytest.param(None, [{"outcome": "failed", "reason": "repository not found", "permanent": True}], id="report"),
        pytest.param(JobDeadlineError("too slow"), None, id="deadline"),
    ],
)
def test_permanent_failures_are_not_retried(
    tmp_path: Path, raised: Exception | None, reports: list[dict[str, object]] | None
) -> None:
    store = Store(tmp_path / "db.sqlite3")
    job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")

    def handle(job: JobRow) -> dict[str, object]:
        if raised is not None:
            raise raised
        return {"reports": reports}

    worker = Worker(store, handle, name="w1", policy=policy())
    assert worker.run_once()
    job = store.get_job(job_id)
    assert job is not None and job.state == "failed" and job.attempts == 1
    assert not worker.run_once()  # nothing left to retry


def test_transient_failures_are_still_retried(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    worker = Worker(store, lambda job: {"reports": [{"outcome": "failed", "reason": "Hub 503"}]}, name="w1",
                    policy=policy())  # fmt: skip
    assert worker.run_once()
    job = store.get_job(job_id)
    assert job is not None and job.state == "queued" and job.error == "Hub 503"


def test_log_lines_escape_control_characters_and_truncate(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = Store(tmp_path / "db.sqlite3")
    store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    forged = "boom\nERROR bot.serve.worker: forged line\x1b[31m" + "x" * 5000

    def handle(job: JobRow) -> dict[str, object]:
        raise RuntimeError(forged)

    with caplog.at_level(logging.WARNING, logger="bot.serve.worker"):
        Worker(store, handle, name="w1", policy=policy()).run_once()
    [record] = caplog.records
    line = record.getMessage()
    assert "\n" not in line and "\x1b" not in line and "\\x1b" in line
    assert len(line) < 700 and line.count("x") < 600


def test_a_comment_that_does_not_exist_fails_at_once_and_is_not_retried(tmp_path: Path) -> None:
    from bot.app.compose import build_app
    from bot.config.file import ConfigFile
    from bot.config.settings import Secret, Settings
    from bot.edges.hub import HubClient, RetryPolicy
    from bot.serve.worker import JobHandler
    from bot.sim.hub import HubSim

    with HubSim() as sim:
        sim.add_repo(REPO, {"README.md": "# m\n"})
        num = sim.open_pr(REPO, {"notes.md": "hi"}, author="alice", title="Notes")
        settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=tmp_path)
        hub = HubClient(settings, retry=RetryPolicy(base_wait=0.0))
        store = Store(tmp_path / "db.sqlite3")
        app = build_app(settings, hub=hub, store=store)
        handler = JobHandler(ConfigFile(), run=app.run, hub=hub, store=store, eval_request=None)
        options = {"num": num, "comment_id": "0" * 24, "text": "@evalbot refresh"}
        job_id = store.enqueue_job(REPO, sources=(), trigger_key="c1", kind="chatops", options=options)
        before = hub.requests
        assert Worker(store, handler, name="w1", policy=policy()).run_once()
        job = store.get_job(job_id)
        assert job is not None and (job.state, job.attempts) == ("failed", 1)
        assert job.error == f"{REPO}: discussion #{num} has no comment {'0' * 24}"
        assert hub.requests - before == 1  # one read of the discussion, no retries
