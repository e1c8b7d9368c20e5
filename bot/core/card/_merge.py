"""Merge scores into model-index and `.eval_results` data (DESIGN §4), on plain data only.

Rules, for both formats: existing entries are never deleted or reordered; a score whose
identity is already there with an equal value changes nothing; with a different value it
replaces the existing one only when that one came from the same source name (evalbot's own
earlier result), otherwise the existing value is kept and a conflict is reported. Within one
batch the first score of an identity wins, so applying the same batch twice is a no-op.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml, parse_eval_result_entries

from bot.core.placement import Placement
from bot.core.render import plain_text
from bot.core.scores import Score

MergeOutcome = Literal["unchanged", "added", "replaced", "conflict", "duplicate"]
Identity = tuple[Any, ...]


@dataclass(frozen=True)
class Event:
    """What happened to `scores[index]` in one format."""

    index: int
    outcome: MergeOutcome
    existing_value: Any = None
    existing_source: str | None = None
    location: str | None = None  # another `.eval_results` file that holds the entry


def merge_model_index(
    model_index: list[dict[str, Any]], scores: Sequence[Score], model_name: str
) -> tuple[list[dict[str, Any]], list[Event]]:
    """Merge into the first model of a (validated) model-index; returns a new list."""
    merged = copy.deepcopy(model_index) or [{"name": model_name, "results": []}]
    results = _Results(merged[0]["results"])
    events: list[Event] = []
    first: dict[Identity, Score] = {}
    for index, score in enumerate(scores):
        if score.identity in first:
            events.append(_duplicate(index, score, first[score.identity]))
            continue
        first[score.identity] = score
        found = results.find(score.identity)
        if found is None:
            results.add(score)
            events.append(Event(index, "added"))
            continue
        result, position = found
        existing = result["metrics"][position]["value"]
        if same_value(existing, score.metric.value):
            events.append(Event(index, "unchanged"))
        elif _source_name(result) == score.source.name:
            result["metrics"][position] = model_index_metric(score)
            events.append(Event(index, "replaced", existing, _source_name(result)))
        else:
            events.append(Event(index, "conflict", existing, _source_name(result)))
    return merged, events


def merge_eval_results(
    items: list[dict[str, Any]],
    scores: Sequence[Score],
    placements: Sequence[Placement],
    others: Mapping[str, list[dict[str, Any]]] | None = None,
) -> tuple[list[dict[str, Any]], list[Event]]:
    """Merge placed scores into evalbot's own `.eval_results` entries (already checked).

    An entry's identity is (dataset id, task id, notes) across every `.eval_results` file of the
    repo: `others` holds the entries of the files that are not evalbot's. A score whose identity
    is in another file changes nothing there: the same value is `unchanged`, another value a
    `conflict` located in that file. The format holds one value per identity, so a later score
    of the same benchmark task in the batch is left out (`duplicate`).
    """
    merged = copy.deepcopy(items)
    positions: dict[Identity, int] = {}
    for position, item in enumerate(merged):
        positions.setdefault(_entry_identity(parse_eval_result_entries([item])[0]), position)
    theirs = {
        _entry_identity(entry): (path, entry)
        for path, entries in sorted((others or {}).items())
        for entry in parse_eval_result_entries(entries)
    }
    events: list[Event] = []
    seen: dict[Identity, int] = {}
    for index, (score, placement) in enumerate(zip(scores, placements, strict=True)):
        if not placement.placed or placement.dataset_id is None or placement.task_id is None:
            continue
        entry = eval_result_entry(score, placement)
        identity = _entry_identity(entry)
        if identity in seen:
            events.append(Event(index, "duplicate", existing_source=scores[seen[identity]].benchmark))
            continue
        seen[identity] = index
        if identity in theirs:
            path, existing = theirs[identity]
            if same_value(existing.value, entry.value):
                events.append(Event(index, "unchanged", location=path))
            else:
                events.append(Event(index, "conflict", existing.value, existing.source_name, location=path))
            continue
        if identity not in positions:
            merged.append(eval_result_entries_to_yaml([entry])[0])
            positions[identity] = len(merged) - 1
            events.append(Event(index, "added"))
            continue
        position = positions[identity]
        current = parse_eval_result_entries([merged[position]])[0]
        if same_value(current.value, entry.value):
            events.append(Event(index, "unchanged"))
        elif current.source_name == score.source.name:
            merged[position] = eval_result_entries_to_yaml([entry])[0]
            events.append(Event(index, "replaced", current.value, current.source_name))
        else:
            events.append(Event(index, "conflict", current.value, current.source_name))
    return merged, events


def model_index_result(score: Score) -> dict[str, Any]:
    """A model-index result holding one score: one result per benchmark dataset."""
    task: dict[str, Any] = {"type": score.task.type}
    if score.task.name is not None:
        task["name"] = plain_text(score.task.name)
    dataset: dict[str, Any] = {"name": plain_text(score.dataset.name), "type": score.dataset.id or score.dataset.type}
    for key in ("config", "split", "revision"):
        value = getattr(score.dataset, key)
        if value is not None:
            dataset[key] = value
    if score.shots is not None:
        dataset["args"] = {"num_few_shot": score.shots}
    result: dict[str, Any] = {"task": task, "dataset": dataset, "metrics": [model_index_metric(score)]}
    if score.source.url is not None:  # the Hub requires a url whenever a source is named
        result["source"] = {"name": score.source.name, "url": score.source.url}
    return result


def model_index_metric(score: Score) -> dict[str, Any]:
    metric: dict[str, Any] = {"type": score.metric.type, "value": score.metric.value}
    if score.metric.name is not None:
        metric["name"] = plain_text(score.metric.name)  # names are shown on the Hub: text, never markup
    if score.metric.stderr is not None:
        metric["stderr"] = score.metric.stderr
    return metric


def eval_result_entry(score: Score, placement: Placement) -> EvalResultEntry:
    """The entry for a placed score: the placement's value, the source pinned by its url."""
    assert placement.dataset_id is not None and placement.task_id is not None and placement.value is not None
    url = score.source.url
    return EvalResultEntry(
        dataset_id=placement.dataset_id,
        task_id=placement.task_id,
        value=placement.value,
        date=score.date,
        dataset_revision=score.dataset.revision,
        source_url=url,
        source_name=score.source.name if url is not None else None,
        source_user=score.source.user if url is not None else None,
        notes=score.notes,
    )


def same_value(existing: Any, value: Any) -> bool:
    """Equal as numbers when both read as numbers (`"65.4"` equals `65.4`), else plainly equal."""
    left, right = as_number(existing), as_number(value)
    if left is not None and right is not None:
        return left == right
    return bool(existing == value)


def as_number(value: Any) -> float | None:
    """`value` as a float if it is a number or a numeric string; bools are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        return None


def is_finite_number(value: Any) -> bool:
    number = as_number(value)
    return number is not None and math.isfinite(number)


def _duplicate(index: int, score: Score, first: Score) -> Event:
    if same_value(first.metric.value, score.metric.value):
        return Event(index, "unchanged")
    return Event(index, "conflict", first.metric.value, first.source.name)


class _Results:
    """A model's results with two indexes, so that merging n scores takes O(n), not O(n²).

    `find` gives the first metric of an identity in document order (as a scan would) and `add`
    joins the first result of the same group, else appends a new result; both keep the indexes.
    """

    def __init__(self, results: list[dict[str, Any]]) -> None:
        self.results = results
        self.metrics: dict[Identity, tuple[dict[str, Any], int]] = {}
        self.groups: dict[Identity, dict[str, Any]] = {}
        for result in results:
            self._index(result)

    def _index(self, result: dict[str, Any], start: int = 0) -> None:
        self.groups.setdefault(_group(result), result)
        for position, metric in enumerate(result["metrics"][start:], start):
            self.metrics.setdefault(_metric_identity(result, metric), (result, position))

    def find(self, identity: Identity) -> tuple[dict[str, Any], int] | None:
        return self.metrics.get(identity)

    def add(self, score: Score) -> None:
        new = model_index_result(score)
        result = self.groups.get(_group(new))
        if result is None:
            self.results.append(new)
            self._index(new)
            return
        result["metrics"].append(new["metrics"][0])
        self._index(result, len(result["metrics"]) - 1)


def _metric_identity(result: dict[str, Any], metric: dict[str, Any]) -> Identity:
    task, dataset = result["task"], result["dataset"]
    return _hashable((task["type"], dataset["type"], dataset.get("config"), dataset.get("split"), metric["type"]))


def _group(result: dict[str, Any]) -> Identity:
    """Results with the same group share one result entry: same task, dataset, setup and source."""
    task, dataset = result["task"], result["dataset"]
    return _hashable(
        (
            task["type"],
            dataset["type"],
            dataset.get("config"),
            dataset.get("split"),
            dataset.get("args"),
            _source_name(result),
        )
    )


def _hashable(values: tuple[Any, ...]) -> Identity:
    """`values` as an index key: mappings and lists become tuples; equal values give equal keys."""
    return tuple(_key(v) for v in values)


def _key(value: Any) -> Any:
    if isinstance(value, dict):
        return ("__mapping__", frozenset((_key(k), _key(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_key(v) for v in value)
    return value


def _source_name(result: dict[str, Any]) -> str | None:
    source = result.get("source")
    name = source.get("name") if isinstance(source, dict) else None
    return name if isinstance(name, str) else None


def _entry_identity(entry: EvalResultEntry) -> Identity:
    return (entry.dataset_id, entry.task_id, entry.notes)
