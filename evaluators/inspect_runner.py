"""The inspect-ai runner (DESIGN §7): tasks in inspect's own spelling → a `Run` of Scores.

    evaluator = InspectEvaluator()                          # logs under a fresh temp dir
    run = evaluator.run(model, [TaskSpec.parse("tasks.py@tiny_mc", "inspect")], EvalSettings(engine="inspect"))

Task spellings:
  `inspect_evals/<task>`  a registry task from the separate `inspect-evals` package (checked first);
  `path.py@task`          a task in a local file (TaskSpec.file holds its absolute path);
  `path.py`               the (single) task in that file;
  `task`                  a bare name: the task of that name in `EvalSettings.custom_tasks`;
  `pkg/task`              any other registry task inspect can resolve, passed through as written.

Generation (every path): `temperature` from the settings (0: greedy); `max_tokens` only when
`max_new_tokens` is set, so each task's own generation config applies otherwise (an eval-level
`max_tokens` would override it).

Models:
  backend `transformers`  `hf/<local snapshot path>`, `device` (auto: CUDA when present), greedy
                          decoding when temperature is 0 (`do_sample=False`: inspect's hf default samples),
                          `batch_size`, `dtype`, `use_chat_template` only when the chat template is
                          `on`/`off` (auto: inspect's own detection), `trust_remote_code` only when set;
  backend `vllm`          `vllm/<local snapshot path>`: inspect starts a `vllm serve` subprocess with
                          `tensor_parallel_size`, `gpu_memory_utilization`, `max_model_len`, `dtype`;
                          vLLM must be importable here (`evalbot[gpu]`);
  `provider`              an Inference Provider instead of a local model, nothing downloaded:
                          `hf-inference-providers/<repo_id>[:<provider>]` (provider `auto`: the router
                          picks; key HF_TOKEN), or with `base_url` an OpenAI-compatible endpoint as
                          `openai-api/<provider>/<repo_id>` (key `<PROVIDER>_API_KEY`, so HF_TOKEN is
                          never sent to a third-party URL). Recorded as backend `provider:<name>`,
                          without a model sha.

All tasks go to one `inspect_ai.eval([...])` call. Inspect constructs the model once per task, so a
run of N tasks loads local weights N times. Each task's log is checked: any status but "success" is
an `EvaluationError`, never zero scores. inspect's own log lines go to `engine.log` in the run folder.
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

from bot.errors import InputError, one_line
from evaluators import Engine, EvalSettings, EvaluationError, EvaluatorUnavailable, ModelRef, Run, Score, TaskSpec
from evaluators._engine_logs import engine_logs
from evaluators._scores import score_for

__all__ = ["InspectEvaluator", "model_setup", "scores_from_log", "task_ref"]

REGISTRY_PREFIX = "inspect_evals/"
# the metric that carries a scorer's value, in order of preference
_MAIN_METRICS = ("accuracy", "mean")
# `mean` says nothing about what was averaged: the scorer does
_MEAN_SCORERS = {"exact": "exact_match", "f1": "f1"}


class InspectEvaluator:
    """Runs inspect-ai in this process; see the module docstring for spellings and backends."""

    name: Engine = "inspect"

    def __init__(self, *, log_dir: Path | None = None) -> None:
        """`log_dir`: each run writes its JSON logs to a fresh subdirectory of it (default: a temp dir)."""
        self.log_dir = log_dir

    def run(self, model: ModelRef, tasks: Sequence[TaskSpec], settings: EvalSettings) -> Run:
        if not tasks:
            raise InputError("no tasks to evaluate; pass inspect tasks like 'inspect_evals/gsm8k' or 'tasks.py@name'")
        refs = [task_ref(spec, settings.custom_tasks) for spec in tasks]  # input errors before anything loads
        model_name, model_args = model_setup(model, settings)
        if settings.provider is None and (model.path is None or not Path(model.path).is_dir()):
            raise EvaluationError(f"{model.repo_id}@{model.sha[:12]}: no model snapshot at {model.path}")
        log_dir = self._run_dir()
        generation: dict[str, Any] = {"temperature": settings.temperature}
        if settings.max_new_tokens is not None:
            generation["max_tokens"] = settings.max_new_tokens

        started = time.monotonic()
        try:
            with engine_logs(log_dir / "engine.log"):
                got = inspect_eval(
                    refs,
                    model=model_name,
                    model_base_url=settings.base_url,
                    model_args=dict(model_args),
                    display="none",
                    log_level="warning",
                    log_dir=str(log_dir),
                    log_format="json",
                    limit=settings.limit,
                    metadata={"evalbot": {"repo_id": model.repo_id, "sha": model.sha}},
                    **generation,
                )
        except Exception as e:  # task loading, model construction: inspect raises instead of logging
            raise EvaluationError(
                f"inspect could not run {', '.join(t.spelling for t in tasks)} on {model.repo_id}: "
                f"{one_line(f'{type(e).__name__}: {e}', width=300)} (engine log {log_dir / 'engine.log'})"
            ) from e
        duration = time.monotonic() - started
        if len(got) != len(tasks):
            raise EvaluationError(f"inspect returned {len(got)} logs for {len(tasks)} tasks (log dir {log_dir})")

        scores: list[Score] = []
        samples: dict[str, int] = {}
        totals: dict[str, int] = {}
        versions: dict[str, str] = {}
        for spec, log in zip(tasks, got, strict=True):
            task_scores, n = scores_from_log(spec, log, settings=settings, model=model)
            scores.extend(task_scores)
            samples[spec.spelling] = n
            if log.eval.dataset.samples is not None:
                totals[spec.spelling] = int(log.eval.dataset.samples)
            versions[spec.spelling] = str(log.eval.task_version)
        return Run(
            scores=tuple(scores),
            engine="inspect",
            engine_version=inspect_ai.__version__,
            backend=settings.backend_label,
            repo_id=model.repo_id,
            sha=model.sha,
            tasks=tuple(tasks),
            samples=samples,
            duration_s=duration,
            results_path=str(log_dir),
            metadata={
                "model": model_name,
                "model_args": dict(model_args),
                "model_base_url": settings.base_url,
                "generate_config": generation,
                "logs": [log.location for log in got],
                "engine_log": str(log_dir / "engine.log"),
            },
            settings=settings,
            totals=totals,
            task_versions=versions,
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
    if spec.file is not None:
        path = Path(spec.file)
        if not path.is_file():
            raise InputError(f"inspect task {spelling!r}: no task file {path}")
        return f"{path}@{spec.name}" if "@" in spelling else str(path)
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


def model_setup(model: ModelRef, settings: EvalSettings) -> tuple[str, dict[str, Any]]:
    """The inspect model name and model args for the settings' backend (or provider)."""
    if settings.provider is not None:
        if settings.base_url is not None:
            return f"openai-api/{settings.provider}/{model.repo_id}", {}
        suffix = "" if settings.provider == "auto" else f":{settings.provider}"
        return f"hf-inference-providers/{model.repo_id}{suffix}", {}
    if model.path is None:
        raise EvaluationError(f"{model.repo_id}: no local snapshot to evaluate (and no provider)")
    path = str(Path(model.path).expanduser().resolve())
    args: dict[str, Any] = {}
    if settings.chat_template != "auto":  # auto: inspect uses the tokenizer's template when it has one
        args["use_chat_template"] = settings.chat_template == "on"
    if settings.trust_remote_code:
        args["trust_remote_code"] = True
    if settings.dtype is not None:
        args["dtype"] = settings.dtype  # hf: unknown args go to from_pretrained; vllm: a server flag
    if settings.backend == "transformers":
        args["device"] = settings.resolved_device()
        args["do_sample"] = settings.temperature > 0  # inspect's hf provider samples by default
        if settings.batch_size is not None:
            args["batch_size"] = settings.batch_size
        return f"hf/{path}", args
    if settings.backend == "vllm":
        if importlib.util.find_spec("vllm") is None:
            raise EvaluatorUnavailable("vllm", "gpu")
        args["tensor_parallel_size"] = settings.tensor_parallel_size
        args["gpu_memory_utilization"] = settings.gpu_memory_utilization
        if settings.max_model_len is not None:
            args["max_model_len"] = settings.max_model_len
        return f"vllm/{path}", args
    raise InputError(f"unknown backend {settings.backend!r}; choose from transformers, vllm")


def scores_from_log(
    spec: TaskSpec, log: EvalLog, *, settings: EvalSettings, model: ModelRef
) -> tuple[list[Score], int]:
    """Every scorer's main metric in one task's log, and the number of samples evaluated.

    A log whose status is not "success", or without results, is an EvaluationError.
    """
    if log.status != "success":
        reason = one_line(log.error.message, width=300) if log.error is not None else "no error recorded"
        raise EvaluationError(f"inspect {spec.spelling}: status {log.status}: {reason} (log {log.location})")
    results = log.results
    if results is None or not results.scores:
        raise EvaluationError(f"inspect {spec.spelling}: the log has no scores (log {log.location})")
    samples = results.completed_samples or results.total_samples
    shots = _fewshot(log.eval.task_args)
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
                "backend": settings.backend_label,
                "model": model.repo_id,
                "task": spec.spelling,
                "task_version": log.eval.task_version,
                "scorer": es.name,
                "metric": key,
                "samples": samples,
                "log": log.location,
                "headline": headline,
            }
            if settings.provider is None:  # a provider does not guarantee which commit it serves
                provenance["model_sha"] = model.sha
            if es.reducer is not None:
                provenance["reducer"] = es.reducer
            scores.append(score_for(spec, metric, value, stderr, provenance=provenance, shots=shots))
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
        (key, key, value, _stderr_of(key, metrics))
        for key, value in metrics.items()
        if key != "stderr" and not key.endswith("_stderr")
    ]


def _stderr_of(key: str, metrics: Mapping[str, float]) -> float | None:
    """`<key>_stderr`, or `<stem>_stderr` for `<stem>_acc` (ifeval: prompt_strict_acc → prompt_strict_stderr)."""
    for candidate in (f"{key}_stderr", f"{key.removesuffix('_acc')}_stderr"):
        if candidate in metrics:
            return metrics[candidate]
    return None


_FEWSHOT_ARGS = ("fewshot", "num_fewshot", "n_shots", "shots")


def _fewshot(task_args: Mapping[str, Any]) -> int | None:
    """The few-shot count a task was run with, from its task arguments (inspect_evals: `fewshot`)."""
    for name in _FEWSHOT_ARGS:
        value = task_args.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
