"""Evaluators: fresh results from lighteval or inspect-ai (DESIGN §7).

    evaluator = get_evaluator("lighteval")        # imports lighteval only now
    run = evaluator.run(model, [TaskSpec.parse("gsm8k|5", "lighteval")], EvalSettings())

Heavy engines are imported only inside the chosen runner; a missing one is one line that names
the `pip install` that fixes it (`EvaluatorUnavailable`).

This package is the engine adapters only. From `bot` it imports only the records: `bot.errors`,
`bot.core.scores`, `bot.core.benchmarks` (the vocabulary); running an evaluation for a Hub repo (the cache,
snapshots, HF Jobs) is the app's job (`bot.app.evaluations`, `bot.app.remote_jobs`). Checked by `lint-imports`.

    module              what                                               may import (besides the stdlib)
    __init__            Run, ModelRef, the Evaluator protocol, the registry  settings, _tasks, records
    settings            EvalSettings, engine/backend names                 bot.errors
    _tasks              TaskSpec, task spellings                           settings, records
    request             EvalRequest (what to evaluate), check_publishable  __init__, settings, records
    cache               the result cache, cache keys                       __init__, settings
    _scores             engine results → Scores                            __init__, records
    _engine_logs        engine log capture                                 —
    lighteval_runner    lighteval (imported only when chosen)              the above, lighteval
    inspect_runner      inspect-ai (imported only when chosen)             the above, inspect-ai
    tiny                the tiny offline model and tasks (the demo)        —
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.core.scores import Dataset, Metric, Score, Source, Task
from bot.errors import BotError, EvaluationError, EvaluatorUnavailable, InputError, one_line
from evaluators._tasks import TaskSpec
from evaluators.settings import BACKENDS, ENGINES, Backend, Engine, EvalSettings

__all__ = [
    "BACKENDS",
    "ENGINES",
    "Backend",
    "Engine",
    "EvalSettings",
    "EvaluationError",
    "Evaluator",
    "EvaluatorUnavailable",
    "ModelRef",
    "Run",
    "Score",
    "TaskSpec",
    "get_evaluator",
    "import_failure",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelRef:
    """The model to evaluate: a Hub repo at a commit, and where its files are on disk.

    `path` is None for a provider run: the provider serves the model, nothing is downloaded,
    and `sha` is only the commit the repo was at (the provider does not guarantee it).
    """

    repo_id: str
    sha: str
    path: Path | None  # a local snapshot of the repo at `sha`


@dataclass(frozen=True)
class Run:
    """One evaluation: its scores and everything needed to trust and reproduce them."""

    scores: tuple[Score, ...]
    engine: Engine
    engine_version: str
    backend: str  # transformers, vllm, or provider:<name>
    repo_id: str
    sha: str
    tasks: tuple[TaskSpec, ...]
    samples: Mapping[str, int]  # task spelling → number of samples evaluated
    duration_s: float
    results_path: str | None = None  # the engine's own results file / log
    cached: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict)
    settings: EvalSettings = field(default_factory=EvalSettings)
    totals: Mapping[str, int] = field(default_factory=dict)  # task spelling → samples the task has
    task_versions: Mapping[str, str] = field(default_factory=dict)  # task spelling → the engine's version

    def partial_note(self, spelling: str) -> str | None:
        """`partial: N of M samples` when the task ran on fewer samples than it has, else None."""
        n, total = self.samples.get(spelling), self.totals.get(spelling)
        if total is not None and n is not None:
            return f"partial: {n} of {total} samples" if n < total else None
        if self.settings.limit is None:
            return None
        return f"partial: {n if n is not None else '?'} of ? samples (limit {self.settings.limit})"

    @property
    def partial(self) -> bool:
        return any(self.partial_note(t.spelling) is not None for t in self.tasks)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form (the result cache and the Jobs results file use it)."""
        return {
            "v": 1,
            "engine": self.engine,
            "engine_version": self.engine_version,
            "backend": self.backend,
            "repo_id": self.repo_id,
            "sha": self.sha,
            "tasks": [asdict(t) for t in self.tasks],
            "samples": dict(self.samples),
            "duration_s": self.duration_s,
            "results_path": self.results_path,
            "metadata": dict(self.metadata),
            "settings": self.settings.to_json(),
            "totals": dict(self.totals),
            "task_versions": dict(self.task_versions),
            "scores": [_score_json(s) for s in self.scores],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Run:
        """The inverse of `to_json`; a malformed document is an `EvaluationError`."""
        try:
            return cls(
                scores=tuple(_score_from_json(s) for s in data["scores"]),
                engine=data["engine"],
                engine_version=str(data["engine_version"]),
                backend=data["backend"],
                repo_id=str(data["repo_id"]),
                sha=str(data["sha"]),
                tasks=tuple(TaskSpec(**t) for t in data["tasks"]),
                samples={str(k): int(v) for k, v in data["samples"].items()},
                duration_s=float(data["duration_s"]),
                results_path=data.get("results_path"),
                metadata=dict(data.get("metadata") or {}),
                settings=EvalSettings.from_json(data.get("settings") or {}),
                totals={str(k): int(v) for k, v in (data.get("totals") or {}).items()},
                task_versions={str(k): str(v) for k, v in (data.get("task_versions") or {}).items()},
            )
        except (KeyError, TypeError, ValueError, InputError) as e:
            raise EvaluationError(f"a stored evaluation result is malformed ({type(e).__name__}: {e})") from e

    def summary(self) -> str:
        """One line for the PR body and logs."""
        specs = ", ".join(t.spelling for t in self.tasks)
        samples = sum(self.samples.values())
        model = f"{self.repo_id} via {self.backend}" if self.settings.provider else f"{self.repo_id}@{self.sha[:12]}"
        return (
            f"{self.engine} {self.engine_version}, {self.backend} backend, tasks {specs}, "
            f"{samples} samples, model {model}"
        )


def _score_json(score: Score) -> dict[str, Any]:
    data = asdict(score)
    data["provenance"] = dict(score.provenance)
    return data


def _score_from_json(data: Mapping[str, Any]) -> Score:
    return Score(
        benchmark=data["benchmark"],
        dataset=Dataset(**data["dataset"]),
        task=Task(**data["task"]),
        metric=Metric(**data["metric"]),
        source=Source(**data["source"]),
        shots=data.get("shots"),
        notes=data.get("notes"),
        provenance=dict(data.get("provenance") or {}),
        date=data.get("date"),
    )


class Evaluator(Protocol):
    """An engine that turns a model and tasks into a Run."""

    name: Engine

    def run(self, model: ModelRef, tasks: Sequence[TaskSpec], settings: EvalSettings) -> Run: ...


_REGISTRY: dict[str, Callable[[], Evaluator]] = {}


def register(name: Engine) -> Callable[[Callable[[], Evaluator]], Callable[[], Evaluator]]:
    """Register a factory that imports its engine lazily."""

    def add(factory: Callable[[], Evaluator]) -> Callable[[], Evaluator]:
        if name in _REGISTRY:
            raise ValueError(f"evaluator {name!r} registered twice")
        _REGISTRY[name] = factory
        return factory

    return add


def get_evaluator(name: str) -> Evaluator:
    """The evaluator called `name`; unknown names are an InputError listing the known ones."""
    if name not in _REGISTRY:
        raise InputError(f"unknown engine {name!r}; choose from {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]()


@register("lighteval")
def _lighteval() -> Evaluator:
    # lighteval's import prints nltk download errors straight to stderr when offline; keep them at DEBUG.
    with contextlib.redirect_stderr(io.StringIO()) as noise:
        try:
            from evaluators.lighteval_runner import LightevalEvaluator
        except ImportError as e:
            raise import_failure("lighteval", "lighteval", e) from e
        finally:
            for line in noise.getvalue().splitlines():
                logger.debug("lighteval import: %s", line)
    return LightevalEvaluator()


@register("inspect")
def _inspect() -> Evaluator:
    try:
        from evaluators.inspect_runner import InspectEvaluator
    except ImportError as e:
        raise import_failure("inspect-ai", "inspect_ai", e) from e
    return InspectEvaluator()


def import_failure(what: str, module: str, error: ImportError) -> BotError:
    """An engine that did not import: not installed, or installed but broken by another package.

    lighteval imports vLLM eagerly once one is installed, so a vLLM it cannot use surfaces as an
    ImportError while importing lighteval; that is named as what it is, not as "not installed".
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return EvaluatorUnavailable(what, "eval")
    failed = getattr(error, "name", None) or "a dependency"
    detail = one_line(error)[:300]
    hint = (
        "; evalbot[gpu] pins the vLLM range lighteval accepts: pip install 'evalbot[gpu]'"
        if str(failed).split(".")[0] in ("vllm", "ray", "more_itertools") or "vllm" in detail.lower()
        else ""
    )
    return EvaluatorUnavailable.broken(what, f"{failed}: {detail}{hint}")
