"""Harness task names → canonical benchmarks, with the benchmark's usual few-shot and metric(s) (pure).

A task maps only by its WHOLE name: `mmlu` is MMLU, `mmlu_anatomy` is its own task; a
leaderboard group (`leaderboard_bbh`) is its benchmark, its subtasks (`leaderboard_bbh_navigate`)
are themselves. Unknown tasks keep their own names (no dataset id: model-index only).

`shots` and `metrics` are how the benchmark is usually reported (the Open LLM Leaderboard's
setups): the leaderboard source publishes those metrics, and a file that ran another few-shot
setting says so in the PR body. Values and few-shot counts always come from the file itself.

The Open Chinese LLM Leaderboard names translated variants with a capital `C` prefix
(`Carc_challenge`); where a leaderboard's files use them (`variants=True`) they become their own
benchmark (`C-ARC-Challenge`), on the dataset the file names, never the English one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import benchmarks
from bot.core.scores import Dataset


@dataclass(frozen=True)
class HarnessTask:
    """What a harness task measures: the benchmark's vocabulary name, its usual setup, and a
    dataset override where the task is not the vocabulary's default dataset."""

    benchmark: str
    shots: int | None
    metrics: tuple[str, ...]
    dataset: Dataset | None = None  # None: the vocabulary's dataset for `benchmark`
    variant: bool = False  # a translated variant: its dataset comes from the file only


_GPQA_ALL = Dataset(name="GPQA", type="Idavidrein/gpqa", id="Idavidrein/gpqa")  # diamond+extended+main

# lm-evaluation-harness task names (also the Open LLM Leaderboard v2's) and lighteval's.
TASKS: dict[str, HarnessTask] = {
    # lm-evaluation-harness
    "arc_challenge": HarnessTask("ARC-Challenge", 25, ("acc_norm",)),
    "hellaswag": HarnessTask("HellaSwag", 10, ("acc_norm",)),
    "truthfulqa_mc2": HarnessTask("TruthfulQA", 0, ("acc",)),
    "truthfulqa_mc1": HarnessTask("TruthfulQA MC1", 0, ("acc",)),
    "winogrande": HarnessTask("WinoGrande", 5, ("acc",)),
    "gsm8k": HarnessTask("GSM8K", 5, ("exact_match,strict-match", "exact_match", "acc")),  # lm-eval, lighteval, v1
    "mmlu": HarnessTask("MMLU", 5, ("acc",)),
    "cmmlu": HarnessTask("CMMLU", 5, ("acc",)),
    "ceval-valid": HarnessTask("C-Eval", 5, ("acc",)),
    # Open LLM Leaderboard v2 (lm-evaluation-harness groups)
    "leaderboard_ifeval": HarnessTask("IFEval", 0, ("prompt_level_strict_acc", "inst_level_strict_acc")),
    "leaderboard_bbh": HarnessTask("BBH", 3, ("acc_norm",)),
    "leaderboard_gpqa": HarnessTask("GPQA", 0, ("acc_norm",), dataset=_GPQA_ALL),
    "leaderboard_math_hard": HarnessTask("MATH Lvl 5", 4, ("exact_match",)),
    "leaderboard_mmlu_pro": HarnessTask("MMLU-Pro", 5, ("acc",)),
    "leaderboard_musr": HarnessTask("MuSR", 0, ("acc_norm",)),
    # lighteval (and the Open LLM Leaderboard v1's harness|task|fewshot keys)
    "arc:challenge": HarnessTask("ARC-Challenge", 25, ("acc_norm",)),
    "truthfulqa:mc": HarnessTask("TruthfulQA", 0, ("mc2",)),
    "mmlu:_average": HarnessTask("MMLU", 5, ("acc",)),
    "hendrycksTest-_average": HarnessTask("MMLU", 5, ("acc",)),
}
# lighteval spellings that are the same task as an lm-eval name above
for _alias, _name in (("ifeval", "leaderboard_ifeval"),):
    TASKS[_alias] = TASKS[_name]


def lookup_task(name: str, *, variants: bool = False) -> HarnessTask | None:
    """The benchmark a task name is, by its whole name; `variants`: also `C<task>` (translated)."""
    found = TASKS.get(name)
    if found is not None:
        return found
    if variants and len(name) > 1 and name[0] == "C" and name[1:] in TASKS:
        base = TASKS[name[1:]]
        return HarnessTask(f"C-{base.benchmark}", base.shots, base.metrics, variant=True)
    return None


def dataset_for(task: HarnessTask) -> Dataset | None:
    """The benchmark's dataset (None for a variant, or a benchmark the vocabulary has no dataset for)."""
    if task.variant:
        return None
    if task.dataset is not None:
        return task.dataset
    known = benchmarks.lookup_benchmark(task.benchmark)
    if known is None or known.dataset_id is None:
        return None
    return benchmarks.dataset_of(known)
