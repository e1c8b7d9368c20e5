"""Extraction speed and quality over the labelled corpora.

For each card: evalbot's full extraction (`extract_results`: front matter split, parse, table
reading, classification, matching, values) versus markdown-it-py parsing the same markdown
alone (the card body; the floor: we cannot be faster than the parser we build on), as a ratio
measured in the same run; then precision/recall/F1 against the hand-checked labels, for
`../shared/corpus`, `../shared/corpus-next` and both together.

Scored as the publishing paths see a card: only results at or above the default confidence
threshold count (the rest are shown by `inspect-tables`, never published).

    python bench/extract.py [--repeat 20] [--cards] [--errors]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.tables import body_of, extract_results  # noqa: E402
from bot.core.tables._layout import is_average  # noqa: E402
from bot.core.tables._source import markdown_parser  # noqa: E402
from tests.conftest import CORPUS, CORPUS_NEXT, LabelledCard, load_corpus  # noqa: E402

Key = tuple[int, str, float]


def best_time(func: Callable[[], object], repeat: int) -> float:
    """Median of `repeat` timings (robust to a busy machine), in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def found_keys(card: LabelledCard) -> Counter[Key]:
    return Counter((r.table, r.label, round(r.value, 6)) for r in extract_results(card.text, card.model))


def expected_keys(card: LabelledCard) -> Counter[Key]:
    # The corpora's rule: cross-benchmark Average/Avg/Mean entries are not benchmarks and are not counted.
    return Counter(
        (int(e["table"]), str(e["benchmark"]), round(float(e["value"]), 6))
        for e in card.expected
        if not is_average(str(e["benchmark"]))
    )


@dataclass
class Tally:
    cards: int = 0
    exact: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    floor: float = 0.0
    ours: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("cards", "exact", "tp", "fp", "fn", "floor", "ours"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self, name: str) -> str:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        ratio = self.ours / self.floor if self.floor else 0.0
        return (
            f"{name:<14} {self.cards:>5} {self.exact:>5} {precision:>9.3f} {recall:>7.3f} {f1:>6.3f} "
            f"{self.tp:>5} {self.fp:>4} {self.fn:>4} {ratio:>7.2f}"
        )


def measure(cards: list[LabelledCard], repeat: int, show_cards: bool) -> Tally:
    md = markdown_parser()
    tally = Tally()
    for card in cards:
        text = card.text
        extract_results(text, card.model)  # warm caches, as a long-running bot would be
        body = body_of(text)[0]
        floor = best_time(lambda body=body: md.parse(body), repeat)
        ours = best_time(lambda text=text, card=card: extract_results(text, card.model), repeat)
        found, expected = found_keys(card), expected_keys(card)
        c_tp, c_fp, c_fn = (sum(c.values()) for c in (found & expected, found - expected, expected - found))
        tally.add(Tally(1, int(c_fp == c_fn == 0), c_tp, c_fp, c_fn, floor, ours))
        for key in sorted(found - expected):
            tally.errors.append(f"  {card.slug}: extra {key}")
        for key in sorted(expected - found):
            tally.errors.append(f"  {card.slug}: missed {key}")
        if show_cards:
            timing = f"{floor * 1e3:>8.3f} {ours * 1e3:>9.3f} {ours / floor:>6.2f}"
            print(f"  {card.slug:<46} {timing} {c_tp:>4} {c_fp:>3} {c_fn:>3}")
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cards", action="store_true", help="one line per card (parse ms, evalbot ms, tp/fp/fn)")
    parser.add_argument("--errors", action="store_true", help="list every wrong and missed result")
    args = parser.parse_args()
    sets = {"corpus": load_corpus(CORPUS), "corpus-next": load_corpus(CORPUS_NEXT)}
    tallies = {}
    for name, cards in sets.items():
        if args.cards:
            print(f"{name}:")
        tallies[name] = measure(cards, args.repeat, args.cards)
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    print(f"\nmedian of {args.repeat} runs per card; ratio = evalbot extraction / markdown-it-py parse-only time\n")
    columns = ("cards", "exact", "precision", "recall", "F1", "tp", "fp", "fn", "ratio")
    widths = (5, 5, 9, 7, 6, 5, 4, 4, 7)
    print(f"{'set':<14} " + " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for name, tally in tallies.items():
        print(tally.row(name))
    print(total.row("total"))
    if args.errors:
        for name, tally in tallies.items():
            print(f"\n{name}: {len(tally.errors)} wrong or missed")
            print("\n".join(tally.errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
