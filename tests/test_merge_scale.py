"""Merging is linear in the number of scores: a huge table merges faster than it is extracted."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from bot.core.card import _merge, apply_scores, parse_card
from bot.core.scores import Dataset, Metric, Score, Source, Task

_SPEC = importlib.util.spec_from_file_location(
    "bench_merge", Path(__file__).resolve().parents[1] / "bench" / "merge.py"
)
assert _SPEC is not None and _SPEC.loader is not None
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)  # the benchmark's own card and steps, so the test measures what it does


@pytest.mark.slow  # a build or a load test: `make test` runs it, `make test-fast` does not
def test_merging_5000_scores_takes_less_than_3x_their_extraction() -> None:
    """The merge alone, and the whole apply_scores (render, splice, checks), each within 3x."""
    card = bench.huge_card(5_000)
    started = time.perf_counter()
    scores = bench.card_scores(card)
    extraction = time.perf_counter() - started
    started = time.perf_counter()
    assert bench.merge(scores) == 5_000
    merging = time.perf_counter() - started
    assert merging <= 3 * extraction, f"merge {merging:.2f} s vs extraction {extraction:.2f} s"
    started = time.perf_counter()
    change = apply_scores(parse_card(card), scores, source_key="readme", model_name="Ours-7B")
    applying = time.perf_counter() - started
    assert len(change.added) == 5_000
    assert applying <= 3 * extraction, f"apply_scores {applying:.2f} s vs extraction {extraction:.2f} s"


def test_the_indexes_keep_the_scan_order_rules() -> None:
    """First metric of an identity wins; a score joins the first result of its group."""
    source = Source("Model README", "https://huggingface.co/o/m")

    def score(benchmark: str, metric: str, value: float, split: str | None = None) -> Score:
        return Score(benchmark, Dataset(benchmark, benchmark.lower(), split=split), Task("text-generation"),
                     Metric(type=metric, value=value), source)  # fmt: skip

    existing = [
        {"name": "m", "results": [
            {"task": {"type": "text-generation"}, "dataset": {"name": "A", "type": "a"},
             "metrics": [{"type": "acc", "value": 1.0}], "source": {"name": "Model README", "url": "u"}},
            {"task": {"type": "text-generation"}, "dataset": {"name": "A", "type": "a"},
             "metrics": [{"type": "acc", "value": 9.0}, {"type": "f1", "value": 2.0}],
             "source": {"name": "Model README", "url": "u"}},
        ]},
    ]  # fmt: skip
    merged, events = _merge.merge_model_index(
        existing, [score("A", "acc", 3.0), score("A", "f1", 2.0), score("A", "em", 4.0), score("B", "acc", 5.0)], "m"
    )
    results = merged[0]["results"]
    assert [e.outcome for e in events] == ["replaced", "unchanged", "added", "added"]
    assert results[0]["metrics"] == [{"type": "acc", "value": 3.0}, {"type": "em", "value": 4.0}]
    assert results[1]["metrics"] == existing[0]["results"][1]["metrics"]
    assert results[2]["dataset"] == {"name": "B", "type": "b"} and len(results) == 3
