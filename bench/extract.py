"""Extraction speed and quality over the labelled corpus.

For each card: evalbot's full extraction (`extract_results`: front matter split, parse, table
reading, classification, matching, values) versus markdown-it-py parsing the same markdown
alone (the card body; the floor: we cannot be faster than the parser we build on), as a ratio
measured in the same run; then precision/recall/F1 against the hand-checked labels.

    python bench/extract.py [--repeat 20] [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot._table_source import markdown_parser  # noqa: E402
from bot.tables import body_of, extract_results  # noqa: E402
from tests.conftest import CORPUS, load_corpus  # noqa: E402


def best_time(func: Callable[[], object], repeat: int) -> float:
    """Median of `repeat` timings (robust to a busy machine), in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    md = markdown_parser()
    cards = load_corpus()
    rows = []
    tp = fp = fn = 0
    total_ours = total_floor = 0.0
    for card in cards:
        text = card.text
        extract_results(text, card.model)  # warm caches, as a long-running bot would be
        body = body_of(text)[0]
        floor = best_time(lambda body=body: md.parse(body), args.repeat)
        ours = best_time(lambda text=text, card=card: extract_results(text, card.model), args.repeat)
        total_ours += ours
        total_floor += floor
        found = Counter((r.table, r.label, round(r.value, 6)) for r in extract_results(text, card.model))
        expected = Counter((int(e["table"]), str(e["benchmark"]), round(float(e["value"]), 6)) for e in card.expected)
        c_tp, c_fp, c_fn = (sum(c.values()) for c in (found & expected, found - expected, expected - found))
        tp, fp, fn = tp + c_tp, fp + c_fp, fn + c_fn
        rows.append((card.slug, len(text), floor * 1e3, ours * 1e3, ours / floor, c_tp, c_fp, c_fn))

    print(f"corpus: {CORPUS} ({len(cards)} cards), median of {args.repeat} runs each\n")
    print(f"{'card':<46} {'bytes':>7} {'parse ms':>9} {'evalbot ms':>11} {'ratio':>6} {'tp':>4} {'fp':>3} {'fn':>3}")
    for slug, size, floor_ms, ours_ms, ratio, c_tp, c_fp, c_fn in rows:
        print(f"{slug:<46} {size:>7} {floor_ms:>9.3f} {ours_ms:>11.3f} {ratio:>6.2f} {c_tp:>4} {c_fp:>3} {c_fn:>3}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(
        f"\n{'TOTAL':<46} {'':>7} {total_floor * 1e3:>9.3f} {total_ours * 1e3:>11.3f} {total_ours / total_floor:>6.2f}"
    )
    print(f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  (tp {tp}, fp {fp}, fn {fn})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
