"""`evalbot hook`: one Hub webhook event, run inside a webhook-triggered HF Job (no server).

A Hub webhook can start a Job instead of calling a URL (`HfApi.create_webhook(job_id=...)`); the
Job gets the event in `WEBHOOK_PAYLOAD` (the version-3 JSON body), with `WEBHOOK_REPO_ID`,
`WEBHOOK_REPO_TYPE` and `WEBHOOK_SECRET` (huggingface_hub's `create_webhook` docstring). `hook`
checks the secret against the one evalbot is configured with (`EVALBOT_WEBHOOK_SECRET`, as
`serve`), reads the payload with the webhook endpoint's own parser, makes the job `serve` would
queue (`server.decide_job`, the same routing), and runs it in this process with the worker's
job handler, retries off: the Job's exit status says how it went.

The ledger: without `EVALBOT_STATE_REPO` the run starts from an empty one in a temporary
folder, and the Hub is the record (evalbot's PR markers make a replayed event a no-op; budgets
per hour/namespace and `@evalbot ignore` need a ledger that lasts). With `EVALBOT_STATE_REPO`
(a dataset repo, best private) the ledger is downloaded from it first and uploaded after the run
with the downloaded commit as parent; when another hook saved it meanwhile, this run's records
are dropped with a warning (the PRs it opened are on the Hub, with their markers).
"""

from __future__ import annotations

import hmac
import logging
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

from bot.app.compose import build_app
from bot.app.pipeline import Report
from bot.config.file import ConfigFile
from bot.config.settings import Settings
from bot.core import events
from bot.edges.hub import HubClient
from bot.edges.store import DB_FILENAME, JobRow, Store
from bot.errors import ConfigError, InputError, RepoNotFoundError, StaleParentError
from bot.serve.server import decide_job
from bot.serve.service import DEFAULT_SECRET_ENV, make_routing
from bot.serve.worker import JobHandler, Worker, WorkerPolicy

logger = logging.getLogger(__name__)

PAYLOAD_ENV, REPO_ID_ENV, REPO_TYPE_ENV, SECRET_ENV = (
    "WEBHOOK_PAYLOAD",
    "WEBHOOK_REPO_ID",
    "WEBHOOK_REPO_TYPE",
    "WEBHOOK_SECRET",
)
STATE_REPO_ENV = "EVALBOT_STATE_REPO"
STATE_PATH = DB_FILENAME  # the ledger's file in the state dataset


@dataclass(frozen=True)
class HookResult:
    """What one hook run did: the event's key, why it made no job (or None), and the reports."""

    key: str
    ignored: str | None
    reports: tuple[Report, ...] = ()
    errors: tuple[str, ...] = ()  # jobs that failed without reports (the error they ended with)

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(r.outcome == "failed" for r in self.reports)


def read_event(env: Mapping[str, str], *, expected_secret: str) -> events.HubEvent:
    """The event of this Job, once its secret matched; every problem is one line (exit 2)."""
    payload = env.get(PAYLOAD_ENV)
    if not payload:
        raise InputError(f"{PAYLOAD_ENV} is not set: `evalbot hook` runs inside a Job that a Hub webhook started")
    supplied = env.get(SECRET_ENV)
    if not supplied:
        raise ConfigError(f"{SECRET_ENV} is not set: give the webhook a secret (create_webhook(..., secret=...))")
    if not hmac.compare_digest(supplied.encode(), expected_secret.encode()):
        raise ConfigError(f"{SECRET_ENV} does not match the secret evalbot expects: this event is not from its webhook")
    event = events.parse_webhook(payload.encode("utf-8"))
    repo_id, repo_type = env.get(REPO_ID_ENV), env.get(REPO_TYPE_ENV)
    if repo_id is not None and repo_id != event.repo_id:
        raise InputError(f"{REPO_ID_ENV}={repo_id!r} but the payload is about {event.repo_id!r}")
    if repo_type is not None and repo_type != event.repo_type:
        raise InputError(f"{REPO_TYPE_ENV}={repo_type!r} but the payload's repo is a {event.repo_type}")
    return event


def run_hook(settings: Settings, env: Mapping[str, str], *, hub: HubClient | None = None) -> HookResult:
    """Check, route and run the event in `env` (see the module docstring)."""
    config = settings.config or ConfigFile()
    secret_env = config.webhook_secret_env or DEFAULT_SECRET_ENV
    expected = env.get(secret_env)
    if not expected:
        raise ConfigError(f"{secret_env} is not set: evalbot hook checks the webhook's secret against it")
    event = read_event(env, expected_secret=expected)
    if settings.hf_token is None:
        raise ConfigError("HF_TOKEN is not set: pass the bot account's token to the Job as a secret")
    hub = hub or HubClient(settings)
    identity = hub.whoami()
    key = events.event_key(event)
    state_repo = env.get(STATE_REPO_ENV) or None
    with _ledger(hub, state_repo) as (store, changed):
        decision = decide_job(event, make_routing(config, identity, store))
        if isinstance(decision, str):
            return HookResult(key, decision)  # nothing to record: the state dataset gets no commit
        kind, spec = decision
        if not store.record_event(key, kind, event.repo_id, env[PAYLOAD_ENV]):
            return HookResult(key, "duplicate: the ledger has handled this event already")
        changed.set()
        store.enqueue_job(event.repo_id, trigger_key=key, kind=kind, **spec)
        pipeline = build_app(settings, hub=hub, store=store)
        policy = WorkerPolicy(
            lease_seconds=settings.lease_seconds,
            max_attempts=1,  # no retries inside the Job: its exit status reports the failure
            deadline_seconds=settings.job_deadline_seconds,
        )
        handler = JobHandler(config, run=pipeline.run, hub=hub, store=store, eval_request=settings.eval_request)
        worker = Worker(store, handler, name="hook", policy=policy)
        started = time.time()  # the store's clock: the ledger may hold earlier runs' jobs
        while worker.run_once():  # the event's job, then any a ChatOps command queued
            pass
        ran = [j for j in store.list_jobs(limit=1000) if j.finished_at is not None and j.finished_at >= started]
        reports, errors = _outcomes(ran)
        return HookResult(key, None, tuple(reports), tuple(errors))


def _outcomes(jobs: Sequence[JobRow]) -> tuple[list[Report], list[str]]:
    """The reports of every job this run ran (oldest first), and the errors of those that failed without any."""
    names = {f.name for f in fields(Report)}
    reports, errors = [], []
    for job in sorted(jobs, key=lambda j: j.id):
        listed = [r for r in (job.result or {}).get("reports", []) if isinstance(r, dict)]
        reports += [Report(**{k: v for k, v in r.items() if k in names}) for r in listed]
        if job.state == "failed" and not listed:
            errors.append(f"{job.repo_id}: {job.error or 'failed'}")
    return reports, errors


@contextmanager
def _ledger(hub: HubClient, state_repo: str | None) -> Iterator[tuple[Store, threading.Event]]:
    """A ledger for one run: empty, or the state dataset's, saved back after the run if `changed` is set."""
    with tempfile.TemporaryDirectory(prefix="evalbot-hook-") as tmp:
        home = Path(tmp)
        parent = None
        if state_repo is not None:
            try:
                content, parent = hub.read_dataset_bytes(state_repo, STATE_PATH)
            except RepoNotFoundError as e:
                raise ConfigError(
                    f"{STATE_REPO_ENV}={state_repo}: no such dataset the token can read; create it with "
                    f"`hf repos create {state_repo} --repo-type dataset --private`"
                ) from e
            if content is not None:
                (home / DB_FILENAME).write_bytes(content)
        try:
            store = Store.open(home)
        except sqlite3.DatabaseError as e:
            raise ConfigError(f"{STATE_REPO_ENV}={state_repo}: {STATE_PATH} is not an evalbot ledger ({e})") from e
        changed = threading.Event()
        try:
            yield store, changed
        finally:
            store.close()
        if state_repo is not None and changed.is_set():
            try:
                hub.upload_file(
                    state_repo, STATE_PATH, (home / DB_FILENAME).read_bytes(), repo_type="dataset", parent_commit=parent
                )
            except StaleParentError:
                logger.warning(
                    "%s: another run saved the ledger first; this run's records are dropped "
                    "(its pull requests are on the Hub, with their markers)",
                    state_repo,
                )
