"""Evaluate a Hub model at one commit: cache first, then the chosen engine, locally or on HF Jobs.

This is the edge between the pipeline and the engines: it downloads the model snapshot through
the Hub client (so the real download path is used, also against the local stand-in), asks the
result cache, runs only what is missing in one engine call, and stores the new results.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from bot.app.remote_jobs import HubJobsRemote
from bot.config.settings import Settings
from bot.edges.hub import HubClient
from bot.errors import ConfigError
from evaluators import EvalSettings, Evaluator, ModelRef, Run, TaskSpec, get_evaluator
from evaluators.cache import EvalCache, cache_key, merge_runs, split_run
from evaluators.request import EvalRequest
from evaluators.settings import engine_version

logger = logging.getLogger(__name__)


class RemoteRunner(Protocol):
    """Carries out the hf-jobs runner."""

    def prepare(self, repo_id: str, settings: EvalSettings) -> tuple[EvalSettings, str]:
        """The settings the job will really run with (dtype and tensor parallel size from the flavor),
        and what pins the engine's version there (the image), both part of the cache key."""
        ...

    def __call__(self, repo_id: str, sha: str, tasks: Sequence[TaskSpec], settings: EvalSettings, key: str) -> Run:
        """Run `tasks` in a job with exactly `settings`; `key` names the job's results file."""
        ...


def jobs_remote(
    hub: HubClient, settings: Settings, *, flavor: str | None = None, timeout_s: float | None = None
) -> RemoteRunner:
    """The hf-jobs runner: dispatch `evalbot evaluate` in the GPU image, poll, collect the Run."""
    return HubJobsRemote(hub, settings, flavor=flavor, timeout_s=timeout_s)


class EvalService:
    """Runs evaluations with a cache; `remote` carries out the hf-jobs runner."""

    def __init__(
        self,
        hub: HubClient,
        cache: EvalCache,
        *,
        evaluators: Callable[[str], Evaluator] = get_evaluator,
        remote: RemoteRunner | None = None,
        progress: Callable[[str], None] = lambda line: None,
        today: Callable[[], str] = lambda: datetime.now(UTC).date().isoformat(),
    ) -> None:
        self.hub = hub
        self._today = today  # the date a fresh run is stamped with (injectable for tests)
        self.cache = cache
        self._evaluators = evaluators
        self._remote = remote
        self._progress = progress
        self.engine_runs = 0  # engine invocations (a cache hit makes none)
        self._fresh: set[str] = set()  # cache keys this service ran itself (not announced as cached)

    def effective(self, repo_id: str, request: EvalRequest) -> tuple[EvalSettings, str]:
        """The settings the engine will really get, and the engine identity for the cache key."""
        if request.runner == "hf-jobs":
            if self._remote is None:
                raise ConfigError("the hf-jobs runner is not configured (set EVALBOT_RESULTS_REPO and HF_TOKEN)")
            return self._remote.prepare(repo_id, request.settings)
        engine = request.engine
        return request.settings, f"{engine} {engine_version(engine)}"

    def evaluate(self, repo_id: str, sha: str, request: EvalRequest) -> Run:
        """The Run for `request` on `repo_id@sha`, from the cache where possible."""
        specs = request.specs()
        settings, engine = self.effective(repo_id, request)
        keys = {s.spelling: cache_key(repo_id, sha, s, settings, engine=engine, runner=request.runner) for s in specs}
        parts = {s.spelling: self.cache.get(keys[s.spelling]) for s in specs}
        missing = [s for s in specs if parts[s.spelling] is None]
        if missing:
            fresh = self._run(repo_id, sha, request, settings, missing, keys)
            for spelling, part in split_run(fresh).items():
                self.cache.put(keys[spelling], part)
                self._fresh.add(keys[spelling])
                parts[spelling] = replace(part, cached=False)
        elif not all(keys[s.spelling] in self._fresh for s in specs):
            self._progress(f"{repo_id}@{sha[:12]}: all {len(specs)} task(s) cached; no model loaded")
        else:  # this process just ran them: the same results, not a cache hit worth announcing
            parts = {k: replace(v, cached=False) if v is not None else None for k, v in parts.items()}
        return merge_runs([p for p in parts.values() if p is not None], specs)

    def _run(
        self,
        repo_id: str,
        sha: str,
        request: EvalRequest,
        settings: EvalSettings,
        tasks: Sequence[TaskSpec],
        keys: dict[str, str],
    ) -> Run:
        self.engine_runs += 1
        names = ", ".join(t.spelling for t in tasks)
        if request.runner == "hf-jobs":
            assert self._remote is not None  # checked by `effective`
            self._progress(f"{repo_id}@{sha[:12]}: dispatching {names} to Hugging Face Jobs")
            job_key = keys[tasks[0].spelling] if len(tasks) == 1 else _combined(keys[t.spelling] for t in tasks)
            return self._remote(repo_id, sha, tasks, settings, job_key)
        evaluator = self._evaluators(request.engine)  # fails fast if the engine is missing
        if settings.provider is not None:
            path = None
            how = f"provider {settings.provider}" + (f" at {settings.base_url}" if settings.base_url else "")
            self._progress(f"{repo_id}: evaluating {names} with {request.engine} through {how} (nothing downloaded)")
        else:
            self._progress(f"{repo_id}@{sha[:12]}: downloading the model")
            path = self.hub.download_snapshot(repo_id, sha)
            self._progress(f"{repo_id}@{sha[:12]}: evaluating {names} with {request.engine} ({settings.backend})")
        run = dated(evaluator.run(ModelRef(repo_id, sha, path), tasks, settings), self._today())
        engine_log = run.metadata.get("engine_log")
        if engine_log:
            self._progress(f"{repo_id}: engine log: {engine_log}")
        return run


def dated(run: Run, day: str) -> Run:
    """The run with each score dated `day` (when the engine finished: the `.eval_results` `date`)."""
    return replace(run, scores=tuple(s if s.date else replace(s, date=day) for s in run.scores))


def _combined(keys: Iterable[str]) -> str:
    return hashlib.sha256("|".join(sorted(keys)).encode()).hexdigest()[:32]
