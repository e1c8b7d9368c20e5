"""Engine results → Scores with datasets from the benchmark vocabulary (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core import benchmarks
from bot.core.benchmarks import metric_type, slug
from bot.core.scores import Dataset, Metric, Score, Source, Task
from evaluators import TaskSpec

SOURCE_NAME = "evalbot evaluation"


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
