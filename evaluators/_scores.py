"""Engine results → Scores with datasets from the benchmark vocabulary (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot import benchmarks
from bot.benchmarks import slug
from bot.scores import Dataset, Metric, Score, Source, Task
from evaluators import TaskSpec

SOURCE_NAME = "evalbot evaluation"

# lighteval and inspect metric keys → model-index metric types
_METRIC_NAMES = {
    "em": "exact_match",
    "extractive_match": "exact_match",
    "accuracy": "acc",
    "quasi_exact_match": "quasi_exact_match",
}
_PARAMETRISED = re.compile(r"^(?:[a-z_]+_)?(pass|maj|avg)@[kn]:[kn]=(\d+)")
_TRUTHFULQA = re.compile(r"^truthfulqa_(mc[12])$")


def metric_type(key: str) -> str:
    """`pass@k:k=1&n=1` → pass@1, `gpqa_pass@k:k=1` → pass@1, `maj@n:n=4` → maj@4, `avg@n:n=1` → avg@1,
    `truthfulqa_mc2` → mc2, `em` → exact_match."""
    match = _PARAMETRISED.match(key)
    if match:
        return f"{match[1]}@{match[2]}"
    match = _TRUTHFULQA.match(key)
    if match:
        return match[1]
    return _METRIC_NAMES.get(key, key)


def score_for(
    spec: TaskSpec,
    metric: str,
    value: float,
    stderr: float | None,
    *,
    provenance: Mapping[str, Any],
    task_type: str = "text-generation",
    shots: int | None = None,
) -> Score:
    """One Score for a task's metric; values stay as the engine gives them (fractions)."""
    known = benchmarks.lookup_benchmark(spec.benchmark) if spec.benchmark else None
    dataset = benchmarks.dataset_of(known) if known is not None else Dataset(name=spec.name, type=slug(spec.name))
    return Score(
        benchmark=dataset.name,
        dataset=dataset,
        task=Task(task_type),
        metric=Metric(
            type=metric_type(metric),
            value=float(value),
            name=f"{dataset.name} ({spec.engine})",
            stderr=stderr,
            unit="fraction",
        ),
        source=Source(SOURCE_NAME),
        shots=spec.shots if spec.shots is not None else shots,
        provenance=dict(provenance),
    )
