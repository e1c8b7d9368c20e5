"""The inspect-ai runner (DESIGN §7): tasks in inspect's own spelling → a `Run` of Scores.

    evaluator = InspectEvaluator()                          # logs under a fresh temp dir
    run = evaluator.run(model, [TaskSpec.parse("tasks.py@tiny_mc", "inspect")], "transformers", Limits())

Task spellings:
  `inspect_evals/<task>`  a registry task from the separate `inspect-evals` package (checked first);
  `path.py@task`          a task in a local file, the path relative to the current directory;
  `path.py`               the (single) task in that file;
  `task`                  a bare name: the task of that name in `Limits.custom_tasks`;
  `pkg/task`              any other registry task inspect can resolve, passed through as written.

Models:
  backend `transformers`  `hf/<local snapshot path>` with greedy decoding (`do_sample=False`: inspect's hf
                          default samples), `device` (Limits.device or cpu), `batch_size`, `dtype`,
                          `use_chat_template`, and `trust_remote_code` only when the ModelRef allows it;
  backend `vllm`          `vllm/<local snapshot path>`: inspect starts a `vllm serve` subprocess with
                          `tensor_parallel_size`, `gpu_memory_utilization`, `max_model_len`, `dtype`;
                          vLLM must be importable here (`evalbot[gpu]`);
  `provider=`             an endpoint instead of a local model: the model is `f"{provider}/{repo_id}"`
                          (e.g. provider `"openai-api/myservice"`, or `"vllm"` with `base_url` set to a
                          running server's `http://host:8000/v1`); `base_url` goes to inspect as
                          `model_base_url`; keys come from the provider's usual environment variables.

All tasks go to one `inspect_ai.eval([...])` call (one call per distinct `TaskSpec.limit` when the specs
disagree, since inspect's `limit` is per call). Inspect constructs the model once per task, so a run
of N tasks loads local weights N times. Each task's log is checked: any status but "success" is an
`EvaluationError`, never zero scores.
"""

from __future__ import annotations

import importlib.util
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import inspect_ai
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog, EvalScore

from bot.errors import InputError
from evaluators import Backend, Engine, EvaluationError, EvaluatorUnavailable, Limits, ModelRef, Run, Score, TaskSpec
from evaluators._scores import score_for

__all__ = ["DEFAULT_MAX_TOKENS", "InspectEvaluator"]

DEFAULT_MAX_TOKENS = 16
REGISTRY_PREFIX = "inspect_evals/"
# the metric that carries a scorer's value, in order of preference
_MAIN_METRICS = ("accuracy", "mean")
# `mean` says nothing about what was averaged: the scorer does
_MEAN_SCORERS = {"exact": "exact_match", "f1": "f1"}


class InspectEvaluator:
    """Runs inspect-ai in this process; see the module docstring for spellings and backends."""

    name: Engine = "inspect"

    def __init__(self, *, log_dir: Path | None = None, provider: str | None = None, base_url: str | None = None):
        """`log_dir`: each run writes its JSON logs to a fresh subdirectory of it (default: a temp dir).

        `provider`: evaluate through an inspect model provider instead of the local snapshot, as
        `f"{provider}/{model.repo_id}"`; `base_url`: that endpoint's URL (inspect's `model_base_url`).
        """
        self.log_dir = log_dir
        self.provider = provider.strip("/") if provider else None
        self.base_url = base_url

    def run(self, model: ModelRef, tasks: Sequence[TaskSpec], backend: Backend, limits: Limits) -> Run:
        if not tasks:
            raise InputError("no tasks to evaluate; pass inspect tasks like 'inspect_evals/gsm8k' or 'tasks.py@name'")
        refs = [task_ref(spec, limits.custom_tasks) for spec in tasks]  # input errors before anything loads
        model_name, model_args = model_setup(model, backend, limits, provider=self.provider)
        if self.provider is None and not Path(model.path).is_dir():
            raise EvaluationError(f"{model.repo_id}@{model.sha[:12]}: no model snapshot at {model.path}")
        log_dir = self._run_dir()
        max_tokens = limits.max_new_tokens or DEFAULT_MAX_TOKENS

        started = time.monotonic()
        logs: list[EvalLog | None] = [None] * len(tasks)
        for limit, indices in _by_limit(tasks).items():
            try:
                got = inspect_eval(
                    [refs[i] for i in indices],
                    model=model_name,
                    model_base_url=self.base_url,
                    model_args=dict(model_args),
                    display="none",
                    log_dir=str(log_dir),
                    log_format="json",
                    limit=limit,
                    max_tokens=max_tokens,
                    metadata={"evalbot": {"repo_id": model.repo_id, "sha": model.sha}},
                )
            except Exception as e:  # task loading, model construction: inspect raises instead of logging
                raise EvaluationError(
                    f"inspect could not run {', '.join(tasks[i].spelling for i in indices)} on {model.repo_id}: "
                    f"{_one_line(f'{type(e).__name__}: {e}')}"
                ) from e
            if len(got) != len(indices):
                raise EvaluationError(f"inspect returned {len(got)} logs for {len(indices)} tasks (log dir {log_dir})")
            for i, got_log in zip(indices, got, strict=True):
                logs[i] = got_log
        duration = time.monotonic() - started

        scores: list[Score] = []
        samples: dict[str, int] = {}
        done = [log for log in logs if log is not None]
        if len(done) != len(tasks):
            raise EvaluationError(f"inspect left {len(tasks) - len(done)} tasks without a log (log dir {log_dir})")
        for spec, log in zip(tasks, done, strict=True):
            task_scores, n = scores_from_log(spec, log, backend=backend, model=model)
            scores.extend(task_scores)
            samples[spec.spelling] = n
        return Run(
            scores=tuple(scores),
            engine="inspect",
            engine_version=inspect_ai.__version__,
            backend=backend,
            repo_id=model.repo_id,
            sha=model.sha,
            tasks=tuple(tasks),
            samples=samples,
            duration_s=duration,
            results_path=str(log_dir),
            metadata={
                "model": model_name,
                "model_args": dict(model_args),
                "model_base_url": self.base_url,
                "max_tokens": max_tokens,
                "logs": [log.location for log in done],
            },
        )

    def _run_dir(self) -> Path:
        if self.log_dir is None:
            return Path(tempfile.mkdtemp(prefix="evalbot-inspect-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="run-", dir=self.log_dir))


def task_ref(spec: TaskSpec, custom_tasks: Path | None = None) -> str:
    """What inspect gets for a TaskSpec: registry names as written, task files as absolute paths.

    Raises EvaluatorUnavailable for `inspect_evals/...` without the package, InputError for a
    missing task file or a bare name with no custom tasks file to find it in.
    """
    spelling = spec.spelling.strip()
    if spelling.startswith(REGISTRY_PREFIX):
        if importlib.util.find_spec("inspect_evals") is None:
            err = EvaluatorUnavailable("inspect_evals", "eval")
            err.args = (
                f"{err}; {spelling} is a registry task from the separate inspect-evals package "
                "(pip install inspect-evals), which loads its dataset from the Hub",
            )
            raise err
        return spelling
    file_part, sep, task = spelling.rpartition("@") if "@" in spelling else (spelling, "", "")
    if file_part.endswith(".py"):
        path = Path(file_part).expanduser().resolve()
        if not path.is_file():
            raise InputError(f"inspect task {spelling!r}: no task file {path}")
        return f"{path}{sep}{task}"
    if "/" in spelling or "@" in spelling:
        return spelling  # another package's registry task (pkg/task): inspect resolves it
    if custom_tasks is None:
        raise InputError(
            f"inspect task {spelling!r}: expected 'inspect_evals/{spelling}', 'file.py@{spelling}', "
            "or a custom tasks file (--custom-tasks) that defines it"
        )
    path = Path(custom_tasks).expanduser().resolve()
    if not path.is_file():
        raise InputError(f"custom tasks file {custom_tasks}: no such file")
    return f"{path}@{spelling}"


def model_setup(
    model: ModelRef, backend: Backend, limits: Limits, *, provider: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The inspect model name and model args for a backend (or a provider endpoint)."""
    if provider is not None:
        return f"{provider}/{model.repo_id}", {}
    path = str(Path(model.path).expanduser().resolve())
    args: dict[str, Any] = {}
    if backend == "transformers":
        args["device"] = limits.device or "cpu"
        args["do_sample"] = False  # inspect's hf provider samples by default
        if limits.batch_size is not None:
            args["batch_size"] = limits.batch_size
        if limits.dtype is not None:
            args["dtype"] = limits.dtype  # unknown hf args go to from_pretrained
        if model.trust_remote_code:
            args["trust_remote_code"] = True
        args["use_chat_template"] = limits.use_chat_template
        return f"hf/{path}", args
    if backend == "vllm":
        if importlib.util.find_spec("vllm") is None:
            raise EvaluatorUnavailable("vllm", "gpu")
        args["tensor_parallel_size"] = limits.tensor_parallel_size
        args["gpu_memory_utilization"] = limits.gpu_memory_utilization
        if limits.max_length is not None:
            args["max_model_len"] = limits.max_length
        if limits.dtype is not None:
            args["dtype"] = limits.dtype
        if model.trust_remote_code:
            args["trust_remote_code"] = True
        args["use_chat_template"] = limits.use_chat_template
        return f"vllm/{path}", args
    raise InputError(f"unknown backend {backend!r}; choose from transformers, vllm")


def scores_from_log(spec: TaskSpec, log: EvalLog, *, backend: Backend, model: ModelRef) -> tuple[list[Score], int]:
    """Every scorer's main metric in one task's log, and the number of samples evaluated.

    A log whose status is not "success", or without results, is an EvaluationError.
    """
    if log.status != "success":
        reason = _one_line(log.error.message) if log.error is not None else "no error recorded"
        raise EvaluationError(f"inspect {spec.spelling}: status {log.status}: {reason} (log {log.location})")
    results = log.results
    if results is None or not results.scores:
        raise EvaluationError(f"inspect {spec.spelling}: the log has no scores (log {log.location})")
    samples = results.completed_samples or results.total_samples
    headline = results.headline.model_dump(exclude_none=True) if results.headline is not None else None
    scores: list[Score] = []
    for es in results.scores:
        for key, metric, value, stderr in _main_metrics(es):
            if not math.isfinite(value):
                raise EvaluationError(
                    f"inspect {spec.spelling}: {es.name}/{key} is {value} (log {log.location}); not a score"
                )
            provenance: dict[str, Any] = {
                "engine": "inspect",
                "engine_version": inspect_ai.__version__,
                "backend": backend,
                "model": model.repo_id,
                "model_sha": model.sha,
                "task": spec.spelling,
                "scorer": es.name,
                "metric": key,
                "samples": samples,
                "log": log.location,
                "headline": headline,
            }
            if es.reducer is not None:
                provenance["reducer"] = es.reducer
            scores.append(score_for(spec, metric, value, stderr, provenance=provenance))
    return scores, samples


def _main_metrics(es: EvalScore) -> list[tuple[str, str, float, float | None]]:
    """(inspect metric key, metric for score_for, value, stderr) for one scorer.

    `accuracy` → acc; `mean` → named for the scorer (exact → exact_match, f1 → f1); a scorer with
    neither (e.g. ifeval's prompt_strict_acc ...) keeps each metric, stderr from `<key>_stderr`.
    """
    metrics = {k: float(m.value) for k, m in es.metrics.items()}
    for key in _MAIN_METRICS:
        if key in metrics:
            named = "accuracy" if key == "accuracy" else _MEAN_SCORERS.get(es.name, es.name)
            return [(key, named, metrics[key], metrics.get("stderr"))]
    return [
        (key, key, value, metrics.get(f"{key}_stderr"))
        for key, value in metrics.items()
        if key != "stderr" and not key.endswith("_stderr")
    ]


def _by_limit(tasks: Sequence[TaskSpec]) -> Mapping[int | None, list[int]]:
    groups: dict[int | None, list[int]] = {}
    for i, spec in enumerate(tasks):
        groups.setdefault(spec.limit, []).append(i)
    return groups


def _one_line(text: str, width: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
