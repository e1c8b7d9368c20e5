"""Evaluate a Hub model at one commit: cache first, then the chosen engine, locally or on HF Jobs.

This is the edge between the pipeline and the engines: it downloads the model snapshot through
the Hub client (so the real download path is used, also against the local stand-in), asks the
result cache, runs only what is missing in one engine call, and stores the new results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.config import Settings
from bot.errors import ConfigError
from bot.hub import HubClient
from evaluators import Backend, Engine, Evaluator, Limits, ModelRef, Run, TaskSpec, get_evaluator
from evaluators.cache import EvalCache, cache_key, merge_runs, split_run

logger = logging.getLogger(__name__)

Runner = Literal["local", "hf-jobs"]
RUNNERS: tuple[Runner, ...] = ("local", "hf-jobs")


@dataclass(frozen=True)
class EvalRequest:
    """What to evaluate, and how (the `evaluate` flags / the `eval:` config)."""

    tasks: tuple[str, ...]
    engine: Engine = "lighteval"
    backend: Backend = "transformers"
    runner: Runner = "local"
    limit: int | None = None
    limits: Limits = field(default_factory=Limits)
    trust_remote_code: bool = False

    def specs(self) -> list[TaskSpec]:
        return [TaskSpec.parse(t, self.engine, limit=self.limit) for t in self.tasks]


RemoteRunner = Callable[[str, str, EvalRequest, Sequence[TaskSpec]], Run]


def jobs_remote(
    hub: HubClient, settings: Settings, *, flavor: str | None = None, timeout_s: float | None = None
) -> RemoteRunner:
    """The hf-jobs runner: dispatch `evalbot evaluate` in the GPU image, poll, collect the Run."""

    def remote(repo_id: str, sha: str, request: EvalRequest, tasks: Sequence[TaskSpec]) -> Run:
        from evaluators.jobs import EVALBOT_GPU_IMAGE, JobsRunner, JobsSettings, RemoteEval

        if not settings.results_repo:
            raise ConfigError("the hf-jobs runner needs EVALBOT_RESULTS_REPO: a dataset repo the token can write to")
        if settings.hf_token is None:
            raise ConfigError("the hf-jobs runner needs HF_TOKEN (passed to the job as a secret)")
        jobs = JobsSettings(
            results_repo=settings.results_repo,
            image=settings.gpu_image or EVALBOT_GPU_IMAGE,
            namespace=settings.jobs_namespace,
        )
        runner = JobsRunner(hub.api, settings.hf_token, jobs)
        limits = {t.limit for t in tasks if t.limit is not None}
        job = RemoteEval(
            repo_id=repo_id,
            revision=sha,
            tasks=tuple(t.spelling for t in tasks),
            engine=request.engine,
            backend=request.backend,
            limit=min(limits) if limits else None,
            parameter_count=hub.parameter_count(repo_id),
        )
        return runner.run_remote(job, flavor=flavor, timeout_s=timeout_s)

    return remote


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
    ) -> None:
        self.hub = hub
        self.cache = cache
        self._evaluators = evaluators
        self._remote = remote
        self._progress = progress
        self.engine_runs = 0  # engine invocations (a cache hit makes none)

    def evaluate(self, repo_id: str, sha: str, request: EvalRequest) -> Run:
        """The Run for `request` on `repo_id@sha`, from the cache where possible."""
        specs = request.specs()
        keys = {s.spelling: cache_key(repo_id, sha, s, request.backend, request.limits) for s in specs}
        parts = {s.spelling: self.cache.get(keys[s.spelling]) for s in specs}
        missing = [s for s in specs if parts[s.spelling] is None]
        if missing:
            fresh = self._run(repo_id, sha, request, missing)
            for spelling, part in split_run(fresh).items():
                self.cache.put(keys[spelling], part)
                parts[spelling] = part
        else:
            self._progress(f"{repo_id}@{sha[:12]}: all {len(specs)} task(s) cached; no model loaded")
        return merge_runs([p for p in parts.values() if p is not None], specs)

    def _run(self, repo_id: str, sha: str, request: EvalRequest, tasks: Sequence[TaskSpec]) -> Run:
        self.engine_runs += 1
        names = ", ".join(t.spelling for t in tasks)
        if request.runner == "hf-jobs":
            if self._remote is None:
                raise ValueError("the hf-jobs runner is not configured")
            self._progress(f"{repo_id}@{sha[:12]}: dispatching {names} to Hugging Face Jobs")
            return self._remote(repo_id, sha, request, tasks)
        evaluator = self._evaluators(request.engine)  # fails fast if the engine is missing
        self._progress(f"{repo_id}@{sha[:12]}: downloading the model")
        path = self.hub.download_snapshot(repo_id, sha)
        self._progress(f"{repo_id}@{sha[:12]}: evaluating {names} with {request.engine} ({request.backend})")
        model = ModelRef(repo_id, sha, path, trust_remote_code=request.trust_remote_code)
        return evaluator.run(model, tasks, request.backend, request.limits)
