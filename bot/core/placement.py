"""Where a score goes in `.eval_results`, and on what scale (pure; DESIGN §3).

An `.eval_results` entry feeds a Hub benchmark leaderboard, so it is written only when the Hub
says the benchmark exists and what it is:

* the score's dataset must be a registered benchmark (`list_datasets(benchmark=True)`);
* its task id is the one task of that benchmark's `eval.yaml` whose config and split match the
  score's dataset (a missing `config` is the dataset's default config, a missing `split` is
  ``test``, as the Hub reads `eval.yaml`); none or several matching → no entry;
* proportions (accuracy, exact match, pass@k, F1..., tracked as `unit` percent or fraction)
  are written on the scale of that benchmark's leaderboard: a value above 1 there means 0–100;
  values all within 0–1 mean fractions; an empty leaderboard means 0–100. A leaderboard whose
  values mostly lie within 0–1 but not all, or beyond 0–100, has no scale evalbot can trust,
  and the score stays model-index only. Raw scores (BLEU, WER, Elo...) are written as reported.

Rescaling is exact in decimal (0.312 → 31.2, never 31.200000000000003). model-index keeps the
value as the source wrote it. Every score that gets no entry carries a one-line reason.

Example:
    >>> leaderboard_scale((41.5, 62.0))
    ('percent', '')
    >>> rescale(0.312, "fraction", "percent")
    31.2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from bot.core.scores import Dataset, Score, Unit

Scale = Literal["percent", "fraction", "as reported"]

NOT_A_BENCHMARK = "not a Hub benchmark yet: model-index only"
UNREADABLE_LEADERBOARD = "its leaderboard could not be read"
SCALE_WORDS: Mapping[str, str] = {"percent": "0–100", "fraction": "0–1", "as reported": "as reported"}
_DEFAULT_SPLIT = "test"
_DEFAULT_CONFIG = "default"


@dataclass(frozen=True)
class BenchmarkTask:
    """One `tasks[]` item of a benchmark's `eval.yaml`."""

    id: str
    config: str | None = None
    split: str | None = None


@dataclass(frozen=True)
class RegisteredBenchmark:
    """A registered Hub benchmark and its `eval.yaml` tasks; `problem` says why there are none."""

    dataset_id: str
    tasks: tuple[BenchmarkTask, ...]
    problem: str | None = None


@dataclass(frozen=True)
class RegistryView:
    """What the Hub says about the benchmarks a batch of scores needs (fetched by `bot.edges.registry`).

    `benchmarks` holds every registered benchmark asked about (absent: not registered);
    `leaderboards` the existing values on each one's leaderboard (absent: it could not be read).
    """

    benchmarks: Mapping[str, RegisteredBenchmark] = field(default_factory=dict)
    leaderboards: Mapping[str, tuple[float, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Placement:
    """A score's `.eval_results` entry (dataset, task, value, scale), or why it has none."""

    dataset_id: str | None = None
    task_id: str | None = None
    value: float | None = None
    scale: Scale | None = None
    reason: str | None = None  # set when the score is left out of `.eval_results`

    @property
    def placed(self) -> bool:
        return self.reason is None

    @property
    def scale_words(self) -> str:
        """How the PR body names the scale: "0–100", "0–1" or "as reported"."""
        return SCALE_WORDS.get(self.scale or "", "")


def leaderboard_scale(values: Sequence[float]) -> tuple[Literal["percent", "fraction"] | None, str]:
    """The scale a leaderboard's existing values are on, or None with the reason it has none.

    Example:
        >>> leaderboard_scale([0.41, 0.62])
        ('fraction', '')
        >>> leaderboard_scale([])
        ('percent', '')
    """
    if any(v < 0 or v > 100 for v in values):
        return None, "its leaderboard holds values outside 0–100"
    high = sum(1 for v in values if v > 1)
    if high == 0:
        return ("fraction", "") if values else ("percent", "")
    if high * 2 < len(values):
        return None, f"its leaderboard mixes 0–1 and 0–100 values ({high} of {len(values)} above 1)"
    return "percent", ""


def rescale(value: float, unit: Unit, scale: Scale) -> float:
    """`value` (in `unit`) on `scale`, exactly: the decimal digits shift, nothing else changes.

    Example:
        >>> rescale(0.312, "fraction", "percent"), rescale(65.4, "percent", "fraction")
        (31.2, 0.654)
    """
    if scale == "as reported" or unit == "raw" or unit == scale:
        return value
    exact = Decimal(repr(float(value)))
    return float(exact * 100 if scale == "percent" else exact / 100)


def match_task(benchmark: RegisteredBenchmark, dataset: Dataset) -> tuple[BenchmarkTask | None, str]:
    """The one `eval.yaml` task for `dataset`'s config and split, or None with the reason.

    A score whose split is unknown matches on config alone; it still needs exactly one task.
    """
    if not benchmark.tasks:
        return None, f"{benchmark.dataset_id}'s eval.yaml declares no tasks ({benchmark.problem or 'none listed'})"
    config = dataset.config or _DEFAULT_CONFIG
    found = [
        task
        for task in benchmark.tasks
        if (task.config or _DEFAULT_CONFIG) == config
        and (dataset.split is None or (task.split or _DEFAULT_SPLIT) == dataset.split)
    ]
    if len(found) == 1:
        return found[0], ""
    wanted = f"config {config}" + (f", split {dataset.split}" if dataset.split else "")
    if not found:
        declared = ", ".join(_describe(task) for task in benchmark.tasks)
        return None, f"no task of {benchmark.dataset_id}'s eval.yaml is {wanted} (it declares {declared})"
    ids = ", ".join(task.id for task in found)
    return None, f"several tasks of {benchmark.dataset_id}'s eval.yaml are {wanted} ({ids})"


def place(score: Score, view: RegistryView) -> Placement:
    """Where `score` goes in `.eval_results` given what the Hub says (see the module docstring)."""
    dataset_id = score.dataset.id
    benchmark = view.benchmarks.get(dataset_id) if dataset_id else None
    if benchmark is None:
        return Placement(reason=NOT_A_BENCHMARK)
    task, problem = match_task(benchmark, score.dataset)
    if task is None:
        return Placement(dataset_id=benchmark.dataset_id, reason=f"{problem}: model-index only")
    unit = score.metric.unit
    scale: Scale
    if unit == "raw":
        scale = "as reported"
    else:
        values = view.leaderboards.get(benchmark.dataset_id)
        if values is None:
            return Placement(benchmark.dataset_id, task.id, reason=f"{UNREADABLE_LEADERBOARD}: model-index only")
        found, problem = leaderboard_scale(values)
        if found is None:
            return Placement(benchmark.dataset_id, task.id, reason=f"{problem}: model-index only")
        scale = found
    return Placement(benchmark.dataset_id, task.id, rescale(score.metric.value, unit, scale), scale)


def place_as_given(score: Score) -> Placement:
    """A score that already names its Hub benchmark task (`dataset.id` and `task_id`), value as written."""
    if score.dataset.id is None or score.dataset.task_id is None:
        return Placement(reason=NOT_A_BENCHMARK)
    return Placement(score.dataset.id, score.dataset.task_id, score.metric.value, "as reported")


def _describe(task: BenchmarkTask) -> str:
    return f"{task.id}: config {task.config or _DEFAULT_CONFIG}, split {task.split or _DEFAULT_SPLIT}"
