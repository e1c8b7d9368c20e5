"""Merge time against extraction time on one huge card (a results table of N rows).

The card is built here: front matter, then one markdown table `| Benchmark | Ours-7B |` with N
rows `task_<i>`, each its own benchmark. Timed, each once, in this order:

* extraction: `extract_results` + `readme_source.scores_from_results` (the card's own scores);
* merge: `_merge.merge_model_index` + `_merge.merge_eval_results` of those scores into an empty
  model-index (what used to be quadratic: every score scanned every result);
* apply: the whole `card.apply_scores` with the built-in templates (merge, render the model-index,
  splice it into the front matter, check the splice and the model-index).

    python bench/merge.py [--rows 20000]

Exits 1 when the merge or the whole apply takes more than 3x the extraction.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.card import _merge, apply_scores, parse_card
from bot.core.placement import place_as_given
from bot.core.scores import Score
from bot.core.tables import extract_results
from bot.core.tables import readme as readme_source

MODEL = "acme/Ours-7B"


def huge_card(rows: int) -> str:
    """A card whose one table has `rows` benchmarks, each with the card's own model's score."""
    lines = "".join(f"| task_{i} | {50 + (i % 500) / 10} |\n" for i in range(rows))
    return f"---\nlicense: mit\n---\n# Ours-7B\n\n| Benchmark | Ours-7B |\n|---|---|\n{lines}"


def card_scores(card: str) -> list[Score]:
    results = extract_results(card, MODEL)
    return readme_source.scores_from_results(
        results, source_url=f"https://huggingface.co/{MODEL}", card_data=parse_card(card).data
    )


def merge(scores: list[Score]) -> int:
    merged, _ = _merge.merge_model_index([], scores, MODEL.split("/")[1])
    _merge.merge_eval_results([], scores, [place_as_given(s) for s in scores])
    return sum(len(r["metrics"]) for r in merged[0]["results"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    card = huge_card(args.rows)
    started = time.perf_counter()
    scores = card_scores(card)
    extraction = time.perf_counter() - started
    started = time.perf_counter()
    metrics = merge(scores)
    merging = time.perf_counter() - started
    started = time.perf_counter()
    change = apply_scores(parse_card(card), scores, source_key="readme", model_name="Ours-7B")
    applying = time.perf_counter() - started
    ok = len(scores) == metrics == len(change.added) == args.rows and max(merging, applying) <= 3 * extraction
    print(f"rows: {args.rows}, scores: {len(scores)}, merged metrics: {metrics}")
    print(f"extraction {extraction:7.2f} s")
    print(f"merge      {merging:7.2f} s  ({merging / extraction:.2f}x extraction; limit 3x)")
    print(f"apply      {applying:7.2f} s  ({applying / extraction:.2f}x extraction; limit 3x)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
