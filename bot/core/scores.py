"""The one record every source of results produces (DESIGN §3).

A `Score` is a value plus everything needed to write it into model-index or
`.eval_results`, and to say exactly where it came from. Values are kept as the source
wrote them; `Metric.unit` records whether that is a percentage, a fraction or a raw number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Unit = Literal["percent", "fraction", "raw"]


@dataclass(frozen=True)
class Dataset:
    """The dataset a score was measured on, in model-index terms (`type` is the key field)."""

    name: str
    type: str
    id: str | None = None
    config: str | None = None
    split: str | None = None
    revision: str | None = None
    task_id: str | None = None  # the Hub task id when already known; else bot.core.placement finds it in eval.yaml


@dataclass(frozen=True)
class Task:
    """The model-index task, e.g. ``Task("text-generation")``."""

    type: str
    name: str | None = None


@dataclass(frozen=True)
class Metric:
    """A measured value. `unit` says how to read `value`; it is never rescaled silently."""

    type: str
    value: float
    name: str | None = None
    stderr: float | None = None
    unit: Unit = "raw"


@dataclass(frozen=True)
class Source:
    """Attribution shown on the Hub: who or what produced the value."""

    name: str
    url: str | None = None
    user: str | None = None


@dataclass(frozen=True)
class Score:
    """One benchmark result, with provenance.

    Example:
        >>> Score(
        ...     benchmark="MMLU",
        ...     dataset=Dataset(name="MMLU", type="cais/mmlu", id="cais/mmlu"),
        ...     task=Task("text-generation"),
        ...     metric=Metric(type="acc", value=65.4, unit="percent"),
        ...     source=Source("Model README", "https://huggingface.co/org/model"),
        ...     shots=5,
        ... ).metric.value
        65.4
    """

    benchmark: str
    dataset: Dataset
    task: Task
    metric: Metric
    source: Source
    shots: int | None = None
    notes: str | None = None  # e.g. "partial: 2 of 4 samples"; part of an .eval_results entry's identity
    # Where the value came from (README table/row/column/cell, AA field, run spec...).
    # Excluded from equality: the same value from the same place is the same score.
    provenance: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # When the value was produced, as an ISO-8601 date ("2025-03-01"), where known: the card's
    # commit for README values, the end of an evaluation. Written as `.eval_results` `date`.
    date: str | None = field(default=None, compare=False, hash=False)

    @property
    def identity(self) -> tuple[str, str, str | None, str | None, str]:
        """Identity used for merging (DESIGN §4): task, dataset, config, split, metric type."""
        return (
            self.task.type,
            self.dataset.id or self.dataset.type,
            self.dataset.config,
            self.dataset.split,
            self.metric.type,
        )
