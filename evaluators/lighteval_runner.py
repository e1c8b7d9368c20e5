"""The lighteval runner: tasks in lighteval's spelling → one Pipeline → Scores (DESIGN §7).

    run = LightevalEvaluator().run(model, [TaskSpec.parse("gsm8k|5", "lighteval")], EvalSettings())

All tasks of one call run in ONE pipeline (one model load). Scores are read back from the
results JSON file lighteval itself writes (`Run.results_path`); the number of samples each task
evaluated is read from lighteval's per-task details files (its results JSON does not record it in
0.13: `config_tasks.*.effective_num_docs` stays -1 and the `summary_tasks` counters stay 0), and
the number it has from the pipeline's own task objects (`Run.totals`, for partial runs).

Settings (`EvalSettings`): generation is greedy (`temperature` 0 in lighteval's
GenerationParameters on both backends), `max_new_tokens` only when set (else each task's own
`generation_size`), the chat template left to lighteval's own detection unless `on`/`off`
(`override_chat_template`), `device` auto → CUDA when present, and on vLLM `dtype`,
`tensor_parallel_size`, `gpu_memory_utilization` and `max_model_len`.

A task name shared by several registry tasks (`arc` → `arc:challenge`, `arc:easy`) is refused
before anything runs, since each of those is its own benchmark, except where the group has one
canonical aggregate (`_AGGREGATES`: MMLU, the sample-weighted micro-average over its subjects).

Two scoped patches make lighteval 0.13 usable offline and safe for local snapshots (see
`_lighteval_patches`). vLLM is imported only on the `vllm` backend, by lighteval itself.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import logging
import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import lighteval
from lighteval.logging.evaluation_tracker import EvaluationTracker
from lighteval.models.abstract_model import ModelConfig
from lighteval.models.model_input import GenerationParameters
from lighteval.models.transformers.transformers_model import TransformersModelConfig
from lighteval.pipeline import ParallelismManager, Pipeline, PipelineParameters
from lighteval.tasks.registry import Registry
from lighteval.utils.cache_management import SampleCache

from bot.core.scores import Score
from bot.errors import InputError
from evaluators import (
    BACKENDS,
    Engine,
    EvalSettings,
    EvaluationError,
    EvaluatorUnavailable,
    ModelRef,
    Run,
    TaskSpec,
)
from evaluators._engine_logs import engine_logs
from evaluators._scores import score_for

__all__ = ["LightevalEvaluator", "SubjectAverage", "micro_average"]

# Task groups whose aggregate is a benchmark of its own, and how it is aggregated. Any other
# group (arc, gpqa, truthfulqa, a custom file's `name:<part>` tasks) is refused: its members
# are different benchmarks, and averaging them has no canonical meaning.
_AGGREGATES: Mapping[str, str] = {"mmlu": "micro"}

logger = logging.getLogger(__name__)
# Lines about lighteval's own modules belong in the engine log with lighteval's (`_engine_logs`).
_patch_logger = logging.getLogger("lighteval.evalbot")

ENGINE_VERSION: str = str(getattr(lighteval, "__version__", None) or importlib.metadata.version("lighteval"))

# One lighteval run at a time per process: the patches below and accelerate's
# state are process-wide.
_RUN_LOCK = threading.Lock()


# --- patches -----------------------------------------------------------------------------------

# Built-in task modules that failed to import once; not retried (tiny_benchmarks would try the
# network again on every registry load).
_BROKEN_TASK_MODULES: dict[str, str] = {}


def _import_task_module(name: str) -> dict[str, Any]:
    """The task configs of one built-in task module, or none if the module cannot be imported."""
    if name in _BROKEN_TASK_MODULES:
        return {}
    try:
        module = importlib.import_module(name)
    except Exception as e:  # any import-time failure of a module we did not ask for
        _BROKEN_TASK_MODULES[name] = f"{type(e).__name__}: {_first_line(e)}"
        _patch_logger.warning("lighteval: skipping built-in task module %s (%s)", name, _BROKEN_TASK_MODULES[name])
        return {}
    return cast(dict[str, Any], Registry._extract_configs(module))


def _tolerant_load_from_files(files: list[Path], module_prefix: str) -> dict[str, Any]:
    return {k: v for f in files for k, v in _import_task_module(f"{module_prefix}.{f.stem}").items()}


def _tolerant_load_from_subdirs(subdirs: list[Path]) -> dict[str, Any]:
    return {k: v for d in subdirs for k, v in _import_task_module(f"lighteval.tasks.tasks.{d.name}.main").items()}


def _sample_cache_init(original: Any) -> Any:
    def init(self: SampleCache, model_config: ModelConfig) -> None:
        # lighteval builds `Path(cache_dir) / model_name / hash`; an absolute model_name (a local
        # snapshot) makes that the model's own folder. Nest it under cache_dir instead.
        name = model_config.model_name
        if name and os.path.isabs(name):
            relative = Path(name).as_posix().lstrip("/") or "model"
            original(self, model_config.model_copy(update={"model_name": relative}))
            self.model_config = model_config
        else:
            original(self, model_config)

    init._evalbot_patch = True  # type: ignore[attr-defined]
    return init


@contextmanager
def _lighteval_patches() -> Iterator[None]:
    """Scoped fixes for lighteval 0.13; idempotent (nested use is a no-op), restored on exit.

    1. The task registry (`Registry.load_all_task_configs`) imports EVERY built-in task module,
       even when only a custom task is asked for, and two kinds of them fail here:
       `mt_bench/main.py` and `mix_eval/main.py` call `HfApi.list_models(model_name=...)` at import,
       a TypeError with huggingface_hub >= 1 (which transformers 5 / datasets 5 require), so
       lighteval 0.13 on the current stack cannot build any pipeline at all, even online; and
       `tiny_benchmarks.py` downloads a pickle from GitHub at import (ConnectionError offline).
       The patch makes the registry skip built-in modules that fail to import (logged once).
    2. lighteval's sample cache lives at `Path(cache_dir) / model_name / <hash>`; for a local
       snapshot model_name is absolute, so lighteval writes its cache INTO the model folder (a Hub
       cache snapshot) and reuses it for any later model at the same path. The patch nests it
       under `cache_dir`, which the runner points at a per-run folder.
    """
    if getattr(SampleCache.__init__, "_evalbot_patch", False):
        yield
        return
    saved = {
        "_load_from_files": Registry.__dict__["_load_from_files"],
        "_load_from_subdirs": Registry.__dict__["_load_from_subdirs"],
    }
    original_init = SampleCache.__dict__["__init__"]
    setattr(Registry, "_load_from_files", staticmethod(_tolerant_load_from_files))  # noqa: B010
    setattr(Registry, "_load_from_subdirs", staticmethod(_tolerant_load_from_subdirs))  # noqa: B010
    setattr(SampleCache, "__init__", _sample_cache_init(original_init))  # noqa: B010
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(Registry, name, value)
        setattr(SampleCache, "__init__", original_init)  # noqa: B010


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectAverage:
    """One metric of a task averaged over its subject tasks (`mmlu` over `mmlu:<subject>`)."""

    metric: str
    value: float
    stderr: float | None  # sqrt(sum((n_i * se_i)²)) / N; None if a subject has no stderr
    subjects: dict[str, float]  # subject → its value for this metric
    aggregation: str  # e.g. "micro-average (sample-weighted) over 57 subjects, 14042 samples"


def micro_average(
    results: Mapping[str, Mapping[str, Any]],
    task: str,
    shots: int,
    counts: Mapping[str, int],
    subjects: Sequence[str] | None = None,
) -> list[SubjectAverage]:
    """`task|shots` from its `task:<subject>|shots` entries, each weighted by its sample count.

    This is MMLU's canonical number: accuracy over all questions (lighteval's own
    `mmlu:_average` is the unweighted mean over subjects, which is not). `counts` maps result keys
    (`mmlu:anatomy|5`) to the samples evaluated; `subjects` names the subject tasks (default:
    every such key in `results`; lighteval's `_average` and `all` aggregates never count).
    Metrics are those every subject has, in the first subject's order.
    """
    if subjects is None:
        suffix = f"|{shots}"
        subjects = sorted(
            key[: -len(suffix)]
            for key in results
            if key.endswith(suffix)
            and key.split(":", 1)[0] == task
            and ":" in key[: -len(suffix)]
            and not key[: -len(suffix)].endswith(":_average")
        )
    if not subjects:
        raise EvaluationError(f"lighteval results have no subject tasks for {task}|{shots}")
    rows, weights = {}, {}
    for subject in subjects:
        key = f"{subject}|{shots}"
        row = results.get(key)
        if not row:
            raise EvaluationError(f"lighteval results have no entry for {key} (part of {task}|{shots})")
        if counts.get(key, 0) < 1:
            raise EvaluationError(f"lighteval recorded no samples for {key} (part of {task}|{shots})")
        rows[subject], weights[subject] = row, counts[key]
    total = sum(weights.values())
    first = rows[subjects[0]]
    metrics = [m for m in first if not m.endswith("_stderr") and all(m in row for row in rows.values())]
    how = f"micro-average (sample-weighted) over {len(subjects)} subjects, {total} samples"
    averages = []
    for metric in metrics:
        values = {_subject_name(s, task): _number(rows[s][metric], f"{s}|{shots}", metric) for s in subjects}
        errors = [rows[s].get(f"{metric}_stderr") for s in subjects]
        stderr = None
        if all(e is not None for e in errors):
            spread = sum((weights[s] * _number(e, task, metric)) ** 2 for s, e in zip(subjects, errors, strict=True))
            stderr = math.sqrt(spread) / total
        value = sum(weights[s] * values[_subject_name(s, task)] for s in subjects) / total
        averages.append(SubjectAverage(metric, value, stderr, values, how))
    return averages


def _subject_name(subject: str, task: str) -> str:
    return subject[len(task) + 1 :] if subject.startswith(f"{task}:") else subject


def _number(value: Any, task: str, metric: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvaluationError(f"lighteval result {task} {metric} is not a number: {value!r}")
    return float(value)


# --- the runner --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    """One asked task: what lighteval gets, and which result keys answer it."""

    spec: TaskSpec
    engine_task: str  # `name|shots` as passed to the Pipeline
    key: str  # `name|shots` in the results file (metric parameters after `@` dropped)
    subjects: tuple[str, ...]  # subject tasks when `name` is a superset (mmlu), else ()


class LightevalEvaluator:
    """Runs lighteval (Pipeline API) on the transformers/accelerate or vLLM backend."""

    name: Engine = "lighteval"

    def __init__(self, output_dir: Path | None = None) -> None:
        # Each run gets its own folder (results JSON, details); under `output_dir` when given,
        # else a fresh temporary folder. It is kept: `Run.results_path` points into it.
        self.output_dir = output_dir

    def run(self, model: ModelRef, tasks: Sequence[TaskSpec], settings: EvalSettings) -> Run:
        specs = tuple(tasks)
        backend = settings.backend
        if not specs:
            raise InputError("no tasks to evaluate")
        for spec in specs:
            if spec.engine != "lighteval":
                raise InputError(f"task {spec.spelling!r} is for {spec.engine}, not lighteval")
        if backend not in BACKENDS:
            raise InputError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        if backend == "vllm":
            # lighteval imports vllm (and ray, more_itertools with it) once vllm is present.
            for package in ("vllm", "ray", "more_itertools"):
                if importlib.util.find_spec(package) is None:
                    raise EvaluatorUnavailable("vllm", "gpu")
            check_vllm_version(importlib.metadata.version("vllm"))
        if settings.provider is not None:
            raise InputError(f"provider {settings.provider!r}: Inference Providers run with --engine inspect")
        if model.path is None:
            raise EvaluationError(f"{model.repo_id}: no local snapshot to evaluate")
        custom = settings.custom_tasks
        if custom is not None and not custom.is_file():
            raise EvaluationError(f"lighteval custom tasks file {custom} does not exist")
        names = ", ".join(s.spelling for s in specs)
        started = time.monotonic()
        run_dir = self._run_dir()
        log_path = run_dir / "engine.log"
        with _RUN_LOCK, engine_logs(log_path), _lighteval_patches():
            planned = _plan(specs, custom)  # unknown tasks and groups fail here, before any model load
            config, model_args = _model_config(model, settings, run_dir / "sample_cache")
            max_samples = settings.limit
            engine_tasks = ",".join(dict.fromkeys(p.engine_task for p in planned))
            try:
                tracker = EvaluationTracker(
                    output_dir=str(run_dir), results_path_template="{output_dir}/results", save_details=True
                )
                params = PipelineParameters(
                    launcher_type=ParallelismManager.VLLM if backend == "vllm" else ParallelismManager.ACCELERATE,
                    custom_tasks_directory=str(custom) if custom is not None else None,
                    max_samples=max_samples,
                )
                # Pipeline's methods carry no annotations; `Any` keeps strict mypy quiet about it.
                pipeline: Any = Pipeline(
                    tasks=engine_tasks, pipeline_parameters=params, evaluation_tracker=tracker, model_config=config
                )
                pipeline.evaluate()
                pipeline.save_and_push_results()
                available = _available_docs(pipeline)
            except Exception as e:
                raise EvaluationError(
                    f"lighteval failed on {names}: {type(e).__name__}: {_first_line(e)} (engine log {log_path})"
                ) from e
            finally:
                shutil.rmtree(run_dir / "sample_cache", ignore_errors=True)
        results_path = _results_file(run_dir)
        document = _read_results(results_path)
        samples_by_key = _detail_counts(run_dir)
        scores, samples = _scores(planned, document, samples_by_key, settings, model, results_path)
        totals = _totals(planned, available)
        versions = _versions(planned, document)
        general = document.get("config_general") or {}
        metadata = {
            "model_args": model_args,
            "launcher": "vllm" if backend == "vllm" else "accelerate",
            "lighteval_tasks": engine_tasks,
            "max_samples": max_samples,
            "custom_tasks": str(custom) if custom is not None else None,
            "output_dir": str(run_dir),
            "engine_log": str(log_path),
            "engine_time_s": _float_or_none(general.get("total_evaluation_time_secondes")),
        }
        return Run(
            scores=tuple(scores),
            engine="lighteval",
            engine_version=ENGINE_VERSION,
            backend=backend,
            repo_id=model.repo_id,
            sha=model.sha,
            tasks=specs,
            samples=samples,
            duration_s=time.monotonic() - started,
            results_path=str(results_path),
            metadata=metadata,
            settings=settings,
            totals=totals,
            task_versions=versions,
        )

    def _run_dir(self) -> Path:
        if self.output_dir is None:
            return Path(tempfile.mkdtemp(prefix="evalbot-lighteval-"))
        self.output_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="lighteval-", dir=self.output_dir))


def accepted_vllm() -> str:
    """The vLLM versions lighteval's vLLM backend accepts (its own `vllm` extra), e.g. `<0.10.2,>=0.10.0`."""
    for requirement in importlib.metadata.requires("lighteval") or []:
        name, _, marker = requirement.partition(";")
        if name.strip().startswith("vllm") and 'extra == "vllm"' in marker:
            return name.strip()[len("vllm") :].strip()
    return ""


def check_vllm_version(installed: str) -> None:
    """A vLLM outside lighteval's range is refused here, in one line, instead of failing deep in lighteval
    (whose backend then reports itself as missing)."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    accepted = accepted_vllm()
    if accepted and Version(installed) not in SpecifierSet(accepted):
        raise EvaluatorUnavailable.broken(
            "lighteval's vLLM backend",
            f"vllm {installed} is installed, lighteval {ENGINE_VERSION} accepts vllm{accepted}: "
            "pip install 'evalbot[gpu]' (which pins that range)",
        )


def _plan(specs: Sequence[TaskSpec], custom: Path | None) -> list[_Planned]:
    """Check every task against lighteval's registry (+ the custom file) before loading a model."""
    try:
        configs = cast(
            dict[str, Any], Registry.load_all_task_configs(custom_tasks=str(custom) if custom is not None else None)
        )
    except Exception as e:
        where = f"custom tasks file {custom}" if custom is not None else "task registry"
        raise EvaluationError(f"lighteval could not load its {where}: {type(e).__name__}: {_first_line(e)}") from e
    planned = []
    for spec in specs:
        shots = spec.shots if spec.shots is not None else 0
        base = spec.name.split("@", 1)[0]
        # lighteval expands a name shared by several `name:<part>` tasks (mmlu) to all of them,
        # and does that before looking for a task of that exact name.
        group = tuple(k for k in sorted(configs) if k.split(":", 1)[0] == base)
        if len(group) > 1:
            if base not in _AGGREGATES:
                shown = ", ".join(group[:6]) + (f", ... ({len(group)} in all)" if len(group) > 6 else "")
                raise InputError(
                    f"lighteval task {spec.spelling!r}: {base!r} is a group of {len(group)} tasks ({shown}), "
                    "each its own benchmark; ask for one of them, e.g. "
                    f"'{group[0]}|{shots}'"
                )
            subjects = group
        elif base in configs:
            subjects = ()
        else:
            where = f" or the custom tasks file {custom}" if custom is not None else ""
            raise EvaluationError(f"lighteval task {spec.spelling!r}: {base!r} is not in lighteval's registry{where}")
        planned.append(_Planned(spec, f"{spec.name}|{shots}", f"{base}|{shots}", subjects))
    return planned


def _model_config(model: ModelRef, settings: EvalSettings, cache_dir: Path) -> tuple[ModelConfig, dict[str, Any]]:
    """The lighteval model config, and the arguments that went into it (for Run.metadata)."""
    args: dict[str, Any] = {"model_name": str(model.path)}  # a local snapshot at model.sha: no `revision`
    if settings.chat_template != "auto":  # auto (None): lighteval detects it from the tokenizer
        args["override_chat_template"] = settings.chat_template == "on"
    if settings.trust_remote_code:
        args["trust_remote_code"] = True
    if settings.dtype is not None:
        args["dtype"] = settings.dtype
    generation: dict[str, Any] = {"temperature": settings.temperature}
    if settings.max_new_tokens is not None:
        generation["max_new_tokens"] = settings.max_new_tokens
    if settings.backend == "vllm":
        args["tensor_parallel_size"] = settings.tensor_parallel_size
        args["gpu_memory_utilization"] = settings.gpu_memory_utilization
        if settings.max_model_len is not None:
            args["max_model_length"] = settings.max_model_len
    else:
        args["device"] = settings.resolved_device()
        if settings.max_model_len is not None:
            args["max_length"] = settings.max_model_len
        if settings.batch_size is not None:
            args["batch_size"] = settings.batch_size
    recorded = dict(args, generation_parameters=generation)
    kwargs = dict(args, cache_dir=str(cache_dir), generation_parameters=GenerationParameters(**generation))
    try:
        if settings.backend == "vllm":
            from lighteval.models.vllm.vllm_model import VLLMModelConfig

            return VLLMModelConfig(**kwargs), recorded
        return TransformersModelConfig(**kwargs), recorded
    except ImportError as e:
        raise EvaluatorUnavailable.broken("lighteval's vLLM backend", f"{e.name or 'vllm'}: {_first_line(e)}") from e
    except Exception as e:  # pydantic validation: a bad dtype, a negative length...
        raise EvaluationError(f"lighteval rejected the model arguments: {type(e).__name__}: {_first_line(e)}") from e


def _available_docs(pipeline: Any) -> dict[str, int]:
    """Result key (`tiny_mc|0`) → the number of documents the task has (before any --limit)."""
    return {str(task.full_name): len(task.eval_docs()) for task in pipeline.tasks_dict.values()}


def _totals(planned: Sequence[_Planned], available: Mapping[str, int]) -> dict[str, int]:
    totals = {}
    for p in planned:
        shots = p.spec.shots if p.spec.shots is not None else 0
        keys = [f"{s}|{shots}" for s in p.subjects] if p.subjects else [p.key]
        if all(k in available for k in keys):
            totals[p.spec.spelling] = sum(available[k] for k in keys)
    return totals


def _versions(planned: Sequence[_Planned], document: Mapping[str, Any]) -> dict[str, str]:
    """Task spelling → lighteval's task version(s), from the results file's `config_tasks.<key>.version`."""
    configs: Mapping[str, Any] = document.get("config_tasks") or {}
    versions = {k: v.get("version") for k, v in configs.items() if isinstance(v, dict) and v.get("version") is not None}
    found = {}
    for p in planned:
        shots = p.spec.shots if p.spec.shots is not None else 0
        keys = [f"{s}|{shots}" for s in p.subjects] if p.subjects else [p.key]
        values = sorted({str(versions[k]) for k in keys if k in versions})
        if values:
            found[p.spec.spelling] = ",".join(values)
    return found


def _results_file(run_dir: Path) -> Path:
    found = sorted((run_dir / "results").glob("**/results_*.json"))
    if len(found) != 1:
        raise EvaluationError(f"lighteval wrote {len(found)} results files under {run_dir / 'results'}, expected 1")
    return found[0]


def _read_results(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise EvaluationError(f"lighteval's results file {path} cannot be read: {e}") from e
    if not isinstance(document, dict) or not isinstance(document.get("results"), dict):
        raise EvaluationError(f"lighteval's results file {path} has no 'results' mapping")
    return document


def _detail_counts(run_dir: Path) -> dict[str, int]:
    """Samples per result key (`tiny_mc|0`): rows of lighteval's details file for that task.

    Files are `details/<model>/<date_id>/details_<task|k>_<date_id>.parquet`, one row per sample.
    """
    parquet: ModuleType = importlib.import_module("pyarrow.parquet")
    counts = {}
    for path in (run_dir / "details").glob("**/details_*.parquet"):
        suffix = f"_{path.parent.name}"
        key = path.stem.removeprefix("details_").removesuffix(suffix)
        counts[key] = int(parquet.read_metadata(str(path)).num_rows)
    return counts


def _scores(
    planned: Sequence[_Planned],
    document: Mapping[str, Any],
    samples_by_key: Mapping[str, int],
    settings: EvalSettings,
    model: ModelRef,
    results_path: Path,
) -> tuple[list[Score], dict[str, int]]:
    results: Mapping[str, Any] = document["results"]
    shots_of = {p.spec.spelling: (p.spec.shots if p.spec.shots is not None else 0) for p in planned}
    missing = [
        p.spec.spelling
        for p in planned
        if (p.subjects and any(f"{s}|{shots_of[p.spec.spelling]}" not in results for s in p.subjects))
        or (not p.subjects and not results.get(p.key))
    ]
    if missing:
        raise EvaluationError(f"lighteval's results file {results_path} has no results for {', '.join(missing)}")
    scores: list[Score] = []
    samples: dict[str, int] = {}
    for p in planned:
        spec = p.spec
        shots = shots_of[spec.spelling]
        keys = [f"{s}|{shots}" for s in p.subjects] if p.subjects else [p.key]
        counted = [k for k in keys if k in samples_by_key]
        if len(counted) != len(keys):
            raise EvaluationError(f"lighteval wrote no details (samples) for {spec.spelling} under {results_path}")
        n = sum(samples_by_key[k] for k in keys)
        samples[spec.spelling] = n
        provenance: dict[str, Any] = {
            "engine": "lighteval",
            "engine_version": ENGINE_VERSION,
            "backend": settings.backend,
            "model": model.repo_id,
            "model_sha": model.sha,
            "task": spec.spelling,
            "samples": n,
            "results_file": str(results_path),
        }
        if p.subjects:
            base = p.key.rsplit("|", 1)[0]
            averages = micro_average(results, base, shots, samples_by_key, p.subjects)
            if not averages:
                raise EvaluationError(f"lighteval's subject results for {spec.spelling} share no metric")
            for avg in averages:
                extra = {"aggregation": avg.aggregation, "subjects": avg.subjects}
                scores.append(score_for(spec, avg.metric, avg.value, avg.stderr, provenance={**provenance, **extra}))
            continue
        row: Mapping[str, Any] = results[p.key]
        for metric, value in row.items():
            if metric.endswith("_stderr"):
                continue
            stderr = row.get(f"{metric}_stderr")
            scores.append(
                score_for(
                    spec,
                    metric,
                    _number(value, p.key, metric),
                    _number(stderr, p.key, f"{metric}_stderr") if stderr is not None else None,
                    provenance=provenance,
                )
            )
    return scores, samples


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else repr(error)
    return line if len(line) <= 300 else line[:297] + "..."
