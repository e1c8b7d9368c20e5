"""Workers: take leased jobs from the store and run them through the pipeline (DESIGN §8).

A job is leased, not popped: a worker that dies mid-job leaves a lease that expires, and another
worker takes the job again (the pipeline's dedupe gate makes the second run safe). Transient
failures are retried with backoff; after `max_attempts` a job ends `failed` with its error.
Permanent ones (bad input or settings, a repo that is not there, no access) fail at once.
Every job has a deadline (`deadline_seconds`; an evaluation's is its runner's timeout plus that):
past it the job fails with the reason, its lease is released and the worker takes the next job,
while the overdue thread stops itself before any Hub write (`bot.core._deadline`).
SIGTERM (via `stop`) lets the job in hand finish, or releases it if it does not finish in time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Protocol

from bot.app.pipeline import Job, Report
from bot.config.file import ConfigFile
from bot.core import _deadline, chatops
from bot.edges.store import JobRow, Store
from bot.errors import (
    AuthError,
    BotError,
    ConfigError,
    GatedRepoError,
    InputError,
    JobDeadlineError,
    NoWriteAccessError,
    RepoNotFoundError,
)
from evaluators.request import EvalRequest

logger = logging.getLogger(__name__)

DEFAULT_BACKOFF = (5.0, 30.0, 120.0, 600.0)
PERMANENT_ERRORS = (ConfigError, InputError, RepoNotFoundError, GatedRepoError, AuthError, NoWriteAccessError,
                    JobDeadlineError)  # fmt: skip
COMMAND_KIND = "command"  # a run a ChatOps command asked for: its own job, never coalesced


DEFAULT_DEADLINE = 3600.0  # a normal run takes seconds; an hour means something is wrong
EVAL_RUNNER_TIMEOUT = 3 * 3600.0  # the hf-jobs runner's job timeout (bot.app.remote_jobs.JobsSettings)


STORE_RETRY_SECONDS = 1.0  # after a store error, before the worker asks again


@dataclass(frozen=True)
class WorkerPolicy:
    lease_seconds: float = 300.0
    max_attempts: int = 5
    backoff: Sequence[float] = DEFAULT_BACKOFF
    poll_seconds: float = 0.2
    deadline_seconds: float = DEFAULT_DEADLINE  # EVALBOT_JOB_DEADLINE_SECONDS
    eval_deadline_seconds: float = EVAL_RUNNER_TIMEOUT + DEFAULT_DEADLINE  # jobs whose sources include eval

    def deadline_for(self, job: JobRow) -> float:
        return self.eval_deadline_seconds if "eval" in job.sources else self.deadline_seconds


class Worker:
    """One worker thread's loop. `handle` turns a job into a result dict (or raises)."""

    def __init__(
        self,
        store: Store,
        handle: Callable[[JobRow], dict[str, object]],
        *,
        name: str,
        policy: WorkerPolicy | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.handle = handle
        self.name = name
        self.policy = policy or WorkerPolicy()
        self.stop = stop or threading.Event()
        self.current: int | None = None

    def run_once(self) -> bool:
        """Take one job if there is one; False when the queue had nothing ready."""
        job = self.store.claim_job(self.name, self.policy.lease_seconds)
        if job is None:
            return False
        self.current = job.id
        beat = threading.Event()
        keeper = threading.Thread(target=self._heartbeat, args=(job.id, beat), daemon=True)
        keeper.start()
        deadline = self.policy.deadline_for(job)
        box: list[tuple[dict[str, object] | None, BaseException | None]] = []
        runner = threading.Thread(target=self._handle, args=(job, deadline, box), name=f"{self.name}:job{job.id}")
        runner.daemon = True
        try:
            runner.start()
            runner.join(timeout=deadline)
            if not box:  # still running: fail it now; the thread stops itself before any write
                reason = (
                    f"deadline: the job ran longer than {deadline:g} s and was stopped "
                    "(EVALBOT_JOB_DEADLINE_SECONDS; an evaluation's deadline adds its runner's timeout)"
                )
                logger.error("%s: job %d %s", _log_value(job.repo_id), job.id, reason)
                self.store.fail_job(job.id, self.name, reason, retry_in=None)
                return True
            result, error = box[0]
            if error is not None:
                self._failed(job, error)
            else:
                assert result is not None
                self._finished(job, result)
        finally:
            beat.set()
            keeper.join(timeout=5)
            self.current = None
        return True

    def _handle(
        self, job: JobRow, deadline: float, box: list[tuple[dict[str, object] | None, BaseException | None]]
    ) -> None:
        _deadline.start(deadline)
        try:
            box.append((self.handle(job), None))
        except BaseException as e:  # handed to the worker's thread, which decides
            box.append((None, e))

    def _failed(self, job: JobRow, e: BaseException) -> None:
        if isinstance(e, PERMANENT_ERRORS):  # a bad setting, a bad id, a missing repo: retrying cannot help
            self.store.fail_job(job.id, self.name, _log_value(str(e), limit=500), retry_in=None)
        elif isinstance(e, BotError):
            self._retry_or_fail(job, _log_value(str(e), limit=500))
        else:
            self._retry_or_fail(job, f"{type(e).__name__}: {_log_value(str(e), limit=500)}")

    def _finished(self, job: JobRow, result: dict[str, object]) -> None:
        listed = result.get("reports", [])
        reports = [r for r in listed if isinstance(r, dict)] if isinstance(listed, list) else []
        failed = [r for r in reports if r.get("outcome") == "failed"]
        # a repo still leased by a crashed worker is "busy": try again once that lease expires
        failed += [r for r in reports if r.get("kind") == "busy"]
        if failed and all(r.get("permanent") for r in failed):
            self.store.fail_job(job.id, self.name, "; ".join(str(r.get("reason")) for r in failed), retry_in=None)
        elif failed:
            self._retry_or_fail(job, "; ".join(str(r.get("reason")) for r in failed), result)
        else:
            self.store.complete_job(job.id, self.name, result)

    def run_forever(self) -> None:
        """`run_once` until `stop` is set. A store error (its database restarting, a dropped
        connection) is logged and retried after a pause instead of ending the worker; a job it
        interrupted keeps its lease, which expires, and the job runs again."""
        while not self.stop.is_set():
            try:
                worked = self.run_once()
            except Exception as e:
                logger.warning(
                    "%s: the store failed (%s: %s); trying again in %.0f s", self.name, type(e).__name__,
                    _log_value(str(e), limit=500), STORE_RETRY_SECONDS,
                )  # fmt: skip
                self.stop.wait(STORE_RETRY_SECONDS)
                continue
            if not worked:
                self.stop.wait(self.policy.poll_seconds)

    def _retry_or_fail(self, job: JobRow, error: str, result: dict[str, object] | None = None) -> None:
        if job.attempts >= self.policy.max_attempts:
            logger.error(
                "%s: job %d failed for good after %d attempts: %s", _log_value(job.repo_id), job.id, job.attempts,
                _log_value(error, limit=500),
            )  # fmt: skip
            self.store.fail_job(job.id, self.name, error, retry_in=None)
            return
        delays = self.policy.backoff
        delay = delays[min(job.attempts - 1, len(delays) - 1)] if delays else 0.0
        logger.warning(
            "%s: job %d attempt %d failed (%s); retrying in %.0f s", _log_value(job.repo_id), job.id, job.attempts,
            _log_value(error, limit=500), delay,
        )  # fmt: skip
        self.store.fail_job(job.id, self.name, error, retry_in=delay)

    def _heartbeat(self, job_id: int, done: threading.Event) -> None:
        interval = max(self.policy.lease_seconds / 3, 0.05)
        while not done.wait(interval):
            self.store.heartbeat(job_id, self.name, self.policy.lease_seconds)


def reports_result(reports: Sequence[Report]) -> dict[str, object]:
    """A job's result as stored: the reports without their (large) diffs."""
    return {"reports": [{k: v for k, v in asdict(r).items() if k != "diff"} for r in reports]}


class ChatOpsHub(Protocol):
    """The Hub calls a ChatOps command needs (`bot.edges.hub.HubClient` has them)."""

    def comment_author(self, repo_id: str, num: int, comment_id: str) -> str: ...
    def comment(self, repo_id: str, num: int, text: str) -> None: ...
    def org_members(self, org: str) -> list[str]: ...


class JobHandler:
    """Carries out the kinds of jobs the server queues: pipeline runs and ChatOps commands.

    Everything it uses is handed in (serve and hook build it from their App):
    `run` runs a pipeline job (`App.run`), `hub` answers ChatOps, `store` records opt-outs, queues
    the command's run and claims its one reply, `eval_request` is the configured evaluation.
    """

    def __init__(
        self,
        config: ConfigFile,
        *,
        run: Callable[[Job], Sequence[Report]],
        hub: ChatOpsHub,
        store: Store,
        eval_request: EvalRequest | None,
    ) -> None:
        self.config = config
        self._run = run
        self._hub = hub
        self._store = store
        self._eval_request = eval_request
        self.bot_name = config.chatops.bot_name
        self.allow = tuple(config.chatops.allow)
        self.tasks = task_policy(config)

    def __call__(self, job: JobRow) -> dict[str, object]:
        if job.kind in ("run", COMMAND_KIND):
            run = Job(
                repo_id=job.repo_id,
                sources=tuple(job.sources),
                revision=job.revision,
                trigger_key=job.trigger_key,
                formats=tuple(self.config.outputs),
                eval=self._eval_for(job),
            )
            return reports_result(self._run(run))
        if job.kind == "chatops":
            return self._chatops(job)
        raise ConfigError(f"unknown job kind {job.kind!r}")

    def _eval_for(self, job: JobRow) -> EvalRequest | None:
        """`@evalbot evaluate <tasks>` overrides the configured tasks; the rest comes from evalbot.yaml.

        Either way the tasks pass `chatops.check_tasks` here, when the run starts (a job's options
        come from the store), and task files become the absolute paths inside their task folder.
        """
        tasks = job.options.get("tasks")
        base = self._eval_request
        provider = job.options.get("provider")
        if isinstance(provider, str) and provider:  # `provider=<name>`: inspect through that provider
            base = base or EvalRequest(tasks=())
            # an endpoint URL only ever comes from evalbot.yaml, for the provider configured there
            url = base.settings.base_url if base.settings.provider == provider else None
            base = replace(base, settings=replace(base.settings, engine="inspect", provider=provider, base_url=url))
        names = [str(t) for t in tasks] if isinstance(tasks, list) and tasks else list(base.tasks if base else ())
        if not names:
            return base
        policy = replace(self.tasks, engine=base.engine) if base is not None else self.tasks
        chosen = chatops.check_tasks(names, policy)
        return replace(base, tasks=chosen) if base is not None else EvalRequest(tasks=chosen)

    def _chatops(self, job: JobRow) -> dict[str, object]:
        options = job.options
        num, comment_id = int(str(options["num"])), str(options["comment_id"])
        key = f"{job.repo_id}#{num}:{comment_id}"
        command = chatops.parse_command(str(options.get("text", "")), self.bot_name)
        if command is None:
            return {"chatops": "no command"}
        author = self._hub.comment_author(job.repo_id, num, comment_id)
        store = self._store
        outcome: str
        if chatops.needs_authorization(command) and not self._authorized(author, job.repo_id):
            reply, outcome = chatops.reply_refused(author, command, key), "refused"
        elif command.name == "help":
            reply, outcome = chatops.reply_help(key), "help"
        elif command.name == "unknown":
            reply, outcome = chatops.reply_unknown(command, key), "unknown"
        elif command.name == "ignore":
            store.opt_out(job.repo_id, by=author)
            reply, outcome = chatops.reply_ignored(job.repo_id, key), "ignored"
        else:
            requested, provider = chatops.evaluate_args(command.args) if command.name == "evaluate" else ((), None)
            # a provider run is an inspect run: its task names are inspect's
            policy = replace(self.tasks, engine="inspect") if provider else self.tasks
            try:
                tasks = chatops.check_tasks(requested, policy)
            except InputError as e:
                reply, outcome = chatops.reply_refused_tasks(str(e), key), "refused"
            else:
                sources = ("eval",) if command.name == "evaluate" else self.config.sources_for(job.repo_id)
                # the names as typed (checked again, and task files resolved, when the run starts)
                run_options: dict[str, object] = {"tasks": list(requested)} if tasks else {}
                if provider:
                    run_options["provider"] = provider
                # a command's run is its own job: it never merges with another trigger (COMMAND_KIND)
                run_id = store.enqueue_job(
                    job.repo_id, sources=sources, trigger_key=f"chatops:{key}", options=run_options, kind=COMMAND_KIND
                )
                reply, outcome = chatops.reply_queued(command, run_id, key), "queued"
        if store.claim_reply(key):  # one reply per command, whatever happens on redelivery
            self._hub.comment(job.repo_id, num, reply)
            store.reply_sent(key)
        return {"chatops": outcome, "command": command.name, "author": author}

    def _authorized(self, user: str, repo_id: str) -> bool:
        namespace = repo_id.split("/", 1)[0]
        members = self._hub.org_members(namespace) if namespace != user else []
        return chatops.is_authorized(user, repo_id, org_members=members, allow=self.allow)


def task_policy(config: ConfigFile) -> chatops.TaskPolicy:
    """The tasks this service may run: the engine's registry, evalbot.yaml's names and task folders."""
    request = config.eval
    configured = (*(request.tasks if request else ()), *config.chatops.tasks)
    return chatops.TaskPolicy(
        engine=request.engine if request else "lighteval",
        configured=frozenset(configured),  # names only: a path among them is refused like any other
        task_dirs=tuple(config.chatops.task_dirs),
        custom_tasks=request.settings.custom_tasks if request else None,
    )


def check_configured_tasks(config: ConfigFile) -> None:
    """`serve` refuses to start when evalbot.yaml names a task outside the allowed places."""
    policy = task_policy(config)
    named = (*(config.eval.tasks if config.eval else ()), *config.chatops.tasks)
    try:
        chatops.check_tasks(named, policy)
    except InputError as e:
        raise ConfigError(f"{config.path or 'evalbot.yaml'}: {e}") from e


def _log_value(text: str, *, limit: int = 200) -> str:
    """Text from outside (a repo id, an error) safe for one log line: control characters
    escaped, whitespace runs as one space, at most `limit` characters."""
    clean = " ".join(text.split())
    clean = "".join(c if c.isprintable() else repr(c)[1:-1] for c in clean)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."
