"""The `readme` source: a card's own table scores as `Score` records (pure).

`read_card_scores` is the whole source, used alike by the pipeline (`App`) and by
`extract-readme` without a Hub: extraction, the confidence threshold, Score records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.core import benchmarks
from bot.core.benchmarks import slug
from bot.core.scores import Dataset, Metric, Score, Source, Task
from bot.core.tables import DEFAULT_MIN_CONFIDENCE, TableResult, extract_all, why_nothing

SOURCE_KEY = "readme"
SOURCE_NAME = "Model README"
DEFAULT_TASK = "text-generation"


# Cards without a benchmark-specific task: the card's pipeline_tag decides.
_METRIC_TASKS = {"wer": "automatic-speech-recognition", "cer": "automatic-speech-recognition"}


@dataclass(frozen=True)
class CardScores:
    """What a card's tables give: the scores to publish, what was withheld, and why nothing."""

    results: list[TableResult]  # at or above the confidence threshold, as extracted
    scores: list[Score]  # the same results as Score records (aligned with `results`)
    withheld: list[TableResult]  # found below the threshold: shown, never published
    why: list[str]  # when no score is published: why, and the flags that would select the model


def read_card_scores(
    text: str,
    model: str | None,
    *,
    min_confidence: float | None,
    source_url: str | None,
    card_data: Mapping[str, Any] | None = None,
    table: int | None = None,
    model_column_index: int | None = None,
    task_type: str | None = None,
    dataset_name: str | None = None,
    dataset_type: str | None = None,
    date: str | None = None,
) -> CardScores:
    """The `readme` source for one card: only results at or above `min_confidence` (None: the default
    threshold) are published (DESIGN §6)."""
    if min_confidence is None:
        min_confidence = DEFAULT_MIN_CONFIDENCE
    found = extract_all(text, model, table=table, model_column_index=model_column_index)
    results = [r for r in found if r.confidence >= min_confidence]
    withheld = [r for r in found if r.confidence < min_confidence]
    scores = scores_from_results(
        results,
        source_url=source_url,
        card_data=card_data,
        task_type=task_type,
        dataset_name=dataset_name,
        dataset_type=dataset_type,
    )
    if date is not None:
        scores = [replace(score, date=date) for score in scores]
    return CardScores(results, scores, withheld, [] if scores else why_nothing(text, model))


def scores_from_results(
    results: Sequence[TableResult],
    *,
    source_url: str | None,
    card_data: Mapping[str, Any] | None = None,
    task_type: str | None = None,
    dataset_name: str | None = None,
    dataset_type: str | None = None,
) -> list[Score]:
    """Turn extracted table results into Scores with datasets, tasks and provenance.

    `task_type`, `dataset_name` and `dataset_type` are the reference tool's flags: the task
    for every score, and the dataset used for labels the benchmark vocabulary does not know.
    """
    pipeline_tag = (card_data or {}).get("pipeline_tag")
    scores = []
    for result in results:
        known = benchmarks.lookup_benchmark(result.benchmark) or benchmarks.lookup_benchmark(result.label)
        if known is None and result.dataset is None:
            known = _benchmark_in_context(result.context)
        dataset = _dataset(result, known, dataset_name, dataset_type)
        task = task_type or (known.task_type if known else None) or _METRIC_TASKS.get(result.metric)
        if task is None:
            task = pipeline_tag if isinstance(pipeline_tag, str) and pipeline_tag else DEFAULT_TASK
        scores.append(
            Score(
                benchmark=known.name if known else result.benchmark,
                dataset=dataset,
                task=Task(task),
                metric=Metric(
                    type=result.metric,
                    value=result.value,
                    name=result.label,
                    stderr=result.stderr,
                    unit=result.unit,
                ),
                source=Source(SOURCE_NAME, source_url),
                shots=result.shots,
                provenance={
                    "table": result.table,
                    "row": result.row,
                    "column": result.column,
                    "cell": result.cell,
                    "label": result.label,
                },
            )
        )
    return scores


def _benchmark_in_context(context: str) -> benchmarks.Benchmark | None:
    """A metric-only table ("pass@1 | 3.8%") under a heading that names its benchmark."""
    for line in context.splitlines():
        for word in re.findall(r"[\w@+.-]+", line):
            found = benchmarks.lookup_benchmark(word)
            if found is not None:
                return found
    return None


def _dataset(
    result: TableResult,
    known: benchmarks.Benchmark | None,
    dataset_name: str | None,
    dataset_type: str | None,
) -> Dataset:
    if known is not None:
        return benchmarks.dataset_of(known)
    name = result.dataset or result.benchmark
    if result.dataset is None and benchmarks.lookup_metric(result.label) is not None:
        # A metric-only table ("rouge1 | 0.56"): name the dataset after the table's heading.
        heading = result.context.split("\n", 1)[0].strip().strip("#* ")
        name = heading or "Evaluation"
    if dataset_name or dataset_type:
        return Dataset(name=dataset_name or name, type=dataset_type or slug(dataset_name or name))
    return Dataset(name=name, type=slug(name))
