"""Wiring for `evalbot serve`: settings + evalbot.yaml → store, Hub client, pipeline, workers, ASGI app."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.applications import Starlette

from bot.app.compose import build_app
from bot.app.pipeline import App
from bot.config.file import ConfigFile
from bot.config.settings import Settings
from bot.edges.hub import HubClient, Identity
from bot.edges.store import Store
from bot.errors import ConfigError
from bot.serve.server import Routing, create_app, is_loopback
from bot.serve.worker import EVAL_RUNNER_TIMEOUT, JobHandler, Worker, WorkerPolicy, check_configured_tasks

DEFAULT_SECRET_ENV = "EVALBOT_WEBHOOK_SECRET"
STATUS_TOKEN_ENV = "EVALBOT_STATUS_TOKEN"  # bearer token for /, /api/jobs and /metrics
DEFAULT_WORKERS = 2  # worker threads when no layer sets `workers` (Settings' 4 is for `scan`)


@dataclass
class Service:
    app: Starlette
    workers: list[Worker]
    store: Store
    pipeline: App


def make_routing(config: ConfigFile, identity: Identity, store: Store) -> Routing:
    """Which events make which jobs: evalbot.yaml's rules, the bot's own id, its own commits."""
    return Routing(
        is_watched=config.is_watched,
        sources_for=config.sources_for,
        new_repo_sources=tuple(config.new_repo_sources),
        bot_ids=frozenset({identity.id} if identity.id else set()),
        is_own_commit=store.is_own_commit,
    )


def build_service(
    settings: Settings,
    *,
    workers: int | None = None,
    env: Mapping[str, str] | None = None,
    policy: WorkerPolicy | None = None,
    hub: HubClient | None = None,
    host: str = "127.0.0.1",
) -> Service:
    """Everything `serve` runs; fails fast (ConfigError, exit 2) on a missing secret or token.

    `host` is the interface `serve` listens on: on a public one the status pages need
    `EVALBOT_STATUS_TOKEN` (a bearer token), and are refused without it.
    """
    env = os.environ if env is None else env
    config = settings.config or ConfigFile()
    secret_env = config.webhook_secret_env or DEFAULT_SECRET_ENV
    secret = env.get(secret_env)
    if not secret:
        raise ConfigError(f"{secret_env} is not set: evalbot serve needs the webhook secret the Hub sends")
    if settings.hf_token is None:
        raise ConfigError("HF_TOKEN is not set: evalbot serve needs the bot account's token")
    check_configured_tasks(config)  # remote code is never trusted: tasks are names or files in task_dirs
    hub = hub or HubClient(settings)
    identity = hub.whoami()
    store = Store.from_url(settings.store_url.reveal())
    pipeline = build_app(settings, hub=hub, store=store)
    handler = JobHandler(config, run=pipeline.run, hub=hub, store=store, eval_request=settings.eval_request)
    if workers is None:  # the chain's workers (--workers > EVALBOT_WORKERS > evalbot.yaml), else the service's 2
        workers = settings.workers if "workers" in settings.origins else DEFAULT_WORKERS
    count = workers  # 0: accept and queue only
    machine = f"{socket.gethostname()}:{os.getpid()}"
    policy = policy or WorkerPolicy(
        lease_seconds=settings.lease_seconds,
        deadline_seconds=settings.job_deadline_seconds,
        eval_deadline_seconds=settings.job_deadline_seconds + EVAL_RUNNER_TIMEOUT,  # a Job may run that long
    )
    stop_all = [Worker(store, handler, name=f"{machine}:w{i}", policy=policy) for i in range(count)]
    routing = make_routing(config, identity, store)
    app = create_app(
        store,
        secret=secret,
        routing=routing,
        workers=stop_all,
        templates=pipeline.env,  # the App's templates: a user's templates_dir may restyle the status page
        hub_stats=lambda: {"requests": hub.requests},
        status_token=env.get(STATUS_TOKEN_ENV) or None,
        public=not is_loopback(host),
    )
    return Service(app, stop_all, store, pipeline)
