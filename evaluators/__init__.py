"""Evaluators: fresh results from lighteval or inspect-ai (DESIGN §7).

    evaluator = get_evaluator("lighteval")        # imports lighteval only now
    run = evaluator.run(model, [TaskSpec.parse("gsm8k|5", "lighteval")], backend="transformers")

Heavy engines are imported only inside the chosen runner; a missing one is one line that names
the `pip install` that fixes it (`EvaluatorUnavailable`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from bot.errors import BotError, InputError
from bot.scores import Dataset, Metric, Score, Source, Task

__all__ = [
    "BACKENDS",
    "ENGINES",
    "Backend",
    "Engine",
    "EvaluationError",
    "Evaluator",
    "EvaluatorUnavailable",
    "Limits",
    "ModelRef",
    "Run",
    "Score",
    "TaskSpec",
    "get_evaluator",
]

Engine = Literal["lighteval", "inspect"]
Backend = Literal["transformers", "vllm"]
ENGINES: tuple[Engine, ...] = ("lighteval", "inspect")
BACKENDS: tuple[Backend, ...] = ("transformers", "vllm")


class EvaluatorUnavailable(BotError):
    """The engine (or backend) is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} is not installed: pip install 'evalbot[{extra}]'")
        self.what = what
        self.extra = extra


class EvaluationError(BotError):
    """The engine ran but the evaluation failed; never reported as zero scores."""


@dataclass(frozen=True)
class ModelRef:
    """The model to evaluate: a Hub repo at a commit, and where its files are on disk."""

    repo_id: str
    sha: str
    path: Path  # a local snapshot of the repo at `sha`
    trust_remote_code: bool = False


@dataclass(frozen=True)
class TaskSpec:
    """One task in the engine's own spelling, with what it means for model-index.

    `spelling` is what the engine gets (`gsm8k|5`, `inspect_evals/gsm8k`, `tasks.py@tiny_mc`);
    `benchmark` is the canonical name when the vocabulary knows it; `shots` from the spelling.
    """

    engine: Engine
    spelling: str
    name: str  # the task name inside the engine (gsm8k, tiny_mc, mmlu)
    shots: int | None = None
    benchmark: str | None = None
    limit: int | None = None

    @classmethod
    def parse(cls, text: str, engine: Engine, *, limit: int | None = None) -> TaskSpec:
        """Read one task string; `leaderboard|mmlu|5` and `mmlu|5` are both accepted for lighteval."""
        from evaluators._tasks import parse_task

        return parse_task(text, engine, limit=limit)

    @property
    def key(self) -> str:
        """A stable identity for caching (engine spelling + limit)."""
        return f"{self.engine}:{self.spelling}:{self.limit if self.limit is not None else 'all'}"


@dataclass(frozen=True)
class Limits:
    """How the engine is run: model args and run limits."""

    dtype: str | None = None  # e.g. float32, bfloat16; None: the engine's default
    max_length: int | None = None
    batch_size: int | None = None
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    use_chat_template: bool = False
    device: str | None = None  # cpu, cuda:0; None: the engine decides
    max_new_tokens: int | None = None
    custom_tasks: Path | None = None  # lighteval custom tasks file / inspect task file


@dataclass(frozen=True)
class Run:
    """One evaluation: its scores and everything needed to trust and reproduce them."""

    scores: tuple[Score, ...]
    engine: Engine
    engine_version: str
    backend: Backend
    repo_id: str
    sha: str
    tasks: tuple[TaskSpec, ...]
    samples: Mapping[str, int]  # task spelling → number of samples evaluated
    duration_s: float
    results_path: str | None = None  # the engine's own results file / log
    cached: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict)

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
            )
        except (KeyError, TypeError, ValueError) as e:
            raise EvaluationError(f"a stored evaluation result is malformed ({type(e).__name__}: {e})") from e

    def summary(self) -> str:
        """One line for the PR body and logs."""
        specs = ", ".join(t.spelling for t in self.tasks)
        samples = sum(self.samples.values())
        return (
            f"{self.engine} {self.engine_version}, {self.backend} backend, tasks {specs}, "
            f"{samples} samples, model {self.repo_id}@{self.sha[:12]}"
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
        provenance=dict(data.get("provenance") or {}),
    )


class Evaluator(Protocol):
    """An engine that turns a model and tasks into a Run."""

    name: Engine

    def run(self, model: ModelRef, tasks: Sequence[TaskSpec], backend: Backend, limits: Limits) -> Run: ...


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
    try:
        from evaluators.lighteval_runner import LightevalEvaluator
    except ImportError as e:
        raise EvaluatorUnavailable("lighteval", "eval") from e
    return LightevalEvaluator()


@register("inspect")
def _inspect() -> Evaluator:
    try:
        from evaluators.inspect_runner import InspectEvaluator
    except ImportError as e:
        raise EvaluatorUnavailable("inspect-ai", "eval") from e
    return InspectEvaluator()
