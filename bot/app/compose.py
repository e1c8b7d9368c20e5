"""The composition root: the one place an `App` and its parts are built from `Settings`.

Every entry point (CLI, Action, serve, hook, demo, bench) calls `build_app`; the pipeline never
builds an edge itself, so what a run talks to is decided here and only here.

    app = build_app(settings)                  # the ledger of settings (SQLite or PostgreSQL)
    app = build_app(settings, dry_run=True)    # no ledger: nothing is recorded
    app.run(Job("acme/model"))
"""

from __future__ import annotations

from collections.abc import Callable

from bot.app.evaluations import EvalService, jobs_remote
from bot.app.pipeline import App
from bot.config.settings import Settings
from bot.core.render import make_environment
from bot.edges.artificial_analysis import AAClient, AASettings
from bot.edges.hub import HubClient
from bot.edges.registry import BenchmarkRegistry
from bot.edges.store import Store
from evaluators.cache import EvalCache


def open_store(settings: Settings) -> Store:
    """The ledger and queue `settings` name (`EVALBOT_DATABASE_URL`, else SQLite under EVALBOT_HOME)."""
    return Store.from_url(settings.store_url.reveal())


def build_app(
    settings: Settings,
    *,
    dry_run: bool = False,
    store: Store | None = None,
    hub: HubClient | None = None,
    aa: AAClient | None = None,
    progress: Callable[[str], None] | None = None,
    flavor: str | None = None,
    timeout_s: float | None = None,
) -> App:
    """An App over the Hub of `settings` and a ledger: `store` if given, none on a dry run (nothing
    is recorded), else the one `settings` name.

    `hub` and `aa` are for callers that hold one already (serve asks the Hub who it is first; the
    bench paces its client). `progress` receives evaluation progress lines; `flavor`/`timeout_s`
    override the HF Jobs hardware and timeout of remote evaluations.
    """
    if store is None and not dry_run:
        store = open_store(settings)
    hub = hub or HubClient(settings)
    evals = EvalService(
        hub,
        EvalCache(settings.home / "eval-cache"),
        remote=jobs_remote(hub, settings, flavor=flavor, timeout_s=timeout_s),
        progress=progress or (lambda line: None),
    )
    aa = aa or AAClient(
        AASettings(
            api_key=settings.aa_api_key,
            base_url=settings.aa_api_base,
            endpoint=settings.aa_endpoint,
            cache_dir=settings.home / "aa-cache",
            ttl=settings.aa_cache_hours * 3600,
        )
    )
    registry = BenchmarkRegistry(hub, settings.home / "registry", ttl=settings.registry_ttl_hours * 3600)
    env = make_environment(settings.templates_dir)
    return App(settings, hub, store, env=env, aa=aa, evals=evals, registry=registry)
