"""Label-free audit of README extraction on ../shared/cards-unlabelled (about 2,800 real cards).

Four checks that need no labels:
1. Crashes and exit codes: `evalbot extract-readme --readme-file CARD --model-name REPO --format json`
   run in-process on every card; any exception is a crash (there must be none), exit codes are counted.
2. Speed: evalbot's extraction against markdown-it-py's parse-only time of the same body, measured in
   the same run, as a ratio (the parser is the floor: we cannot be faster than what we build on).
3. One cell, one model: for every table with two or more model candidates, extract as each candidate
   in turn (`--table N`); no published cell may be claimed by two different candidates.
4. A seeded random sample of extractions (40 by default) with their cells, for a person to read.

    python bench/audit.py [--cards DIR] [--sample 40] [--seed 7] [--limit N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import sys
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import cli  # noqa: E402
from bot.core.benchmarks import lookup_benchmark, lookup_metric  # noqa: E402
from bot.core.tables import body_of, extract_all, extract_results, read_tables  # noqa: E402
from bot.core.tables._layout import is_non_eval, model_names  # noqa: E402
from bot.core.tables._source import markdown_parser  # noqa: E402

DEFAULT_CARDS = ROOT.parent / "shared" / "cards-unlabelled"
MAX_CANDIDATES = 12  # per table, for the one-cell-one-model check


def load_index(root: Path) -> list[tuple[str, str, str]]:
    """(slug, repo_id, card text) for every card listed in INDEX.tsv."""
    cards = []
    lines = (root / "INDEX.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for line in lines:
        slug, repo_id, *_ = line.split("\t")
        path = root / "cards" / f"{slug}.md"
        if path.is_file():
            cards.append((slug, repo_id, path.read_text(encoding="utf-8", errors="replace")))
    return cards


def run_cli(path: Path, repo_id: str) -> tuple[int, str]:
    """Exit code of extract-readme on one card, and a traceback if it crashed."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["extract-readme", "--readme-file", str(path), "--model-name", repo_id, "--format", "json"]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
        json.loads(out.getvalue() or "{}")  # the JSON contract must hold even when nothing is found
    except SystemExit as e:
        return int(e.code or 0), ""
    except Exception:
        return -1, traceback.format_exc(limit=4)
    return code, ""


_MODEL_LIKE = re.compile(
    r"[A-Za-z]{2,}[-_ .]?v?\d|\d+(?:\.\d+)?\s*[BbMm]\b|^[\w.-]+/[\w.-]+$|-(?:base|large|small|tiny|xl)\b"
)
# Words of a metric, split or setting label ("Macro F1 (%)", "…/valid", "Keystroke errors 2%"): not a model.
_NOT_A_MODEL = re.compile(
    r"(?i)%|\b(?:f1|acc\w*|valid|test|dev|eval\w*|errors?|names?|score|wer|bleu|chrf|dist|rouge\w*|meteor|ter)\b"
)


def candidates(table_names: list[str]) -> list[str]:
    """Labels that look like model names ("Llama-2-7B", "bert-base", "org/name"): not benchmarks, metrics or
    properties, distinct."""
    seen: list[str] = []
    for name in table_names:
        if not name or name in seen or not _MODEL_LIKE.search(name) or is_non_eval(name) or _NOT_A_MODEL.search(name):
            continue
        if lookup_benchmark(name) is None and lookup_metric(name) is None:
            seen.append(name)
    return seen[:MAX_CANDIDATES]


def one_cell_one_model(text: str) -> list[str]:
    """Cells claimed by two different models of the same table (published results only).

    A cell read as a named row/column belongs to that label; a cell of a table read as "about this
    model" (no model named) belongs to whoever the card is about — the same for every candidate.
    """
    problems = []
    for table in read_tables(text):
        names = candidates(model_names(table))
        if len(names) < 2:
            continue
        claimed: dict[tuple[int, int], str] = {}
        for name in names:
            for result in extract_results(text, name, table=table.number):
                cell = (result.row, result.column)
                owner = result.model_label or "(this card's own results)"
                other = claimed.setdefault(cell, owner)
                if other != owner:
                    problems.append(
                        f"table {table.number} row {result.row} column {result.column}: {other!r} and {owner!r}"
                    )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=Path, default=DEFAULT_CARDS)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=int, default=0, help="only the first N cards (0: all)")
    args = parser.parse_args()
    cards = load_index(args.cards)
    if args.limit:
        cards = cards[: args.limit]
    md = markdown_parser()
    codes: Counter[int] = Counter()
    crashes: list[str] = []
    conflicts: dict[str, list[str]] = defaultdict(list)
    extracted: list[tuple[str, str, list[str]]] = []
    floor = ours = 0.0
    published = withheld = 0
    for slug, repo_id, text in cards:
        code, crash = run_cli(args.cards / "cards" / f"{slug}.md", repo_id)
        codes[code] += 1
        if crash:
            crashes.append(f"{slug}: {crash.strip().splitlines()[-1]}")
            continue
        body = body_of(text)[0]
        start = time.perf_counter()
        md.parse(body)
        floor += time.perf_counter() - start
        start = time.perf_counter()
        results = extract_all(text, repo_id)
        ours += time.perf_counter() - start
        shown = [r for r in results if r.publishable]
        published += len(shown)
        withheld += len(results) - len(shown)
        if shown:
            lines = [
                f"    table {r.table} row {r.row} col {r.column}: {r.label!r} = {r.value:g} ({r.metric}, {r.unit}) "
                f"cell {r.cell!r} [{r.confidence:.2f}: {'; '.join(r.reasons)}]"
                for r in shown
            ]
            extracted.append((slug, repo_id, lines))
        try:
            for problem in one_cell_one_model(text):
                conflicts[slug].append(problem)
        except Exception:
            crashes.append(f"{slug}: one-cell check: {traceback.format_exc(limit=2).strip().splitlines()[-1]}")

    print(f"cards: {len(cards)} from {args.cards}")
    print("\n| check | result |\n|---|---|")
    print(f"| crashes | {len(crashes)} |")
    print(f"| exit codes | {', '.join(f'{c}: {n}' for c, n in sorted(codes.items()))} |")
    print(f"| cards with published results | {len(extracted)} ({published} results; {withheld} withheld) |")
    print(f"| cells claimed by two models | {sum(len(v) for v in conflicts.values())} in {len(conflicts)} cards |")
    print(f"| extraction / markdown-it parse-only time | {ours / floor:.2f}x ({ours:.2f} s / {floor:.2f} s) |")
    for crash in crashes[:20]:
        print(f"CRASH {crash}")
    for slug, problems in list(conflicts.items())[:20]:
        print(f"TWO MODELS {slug}: {problems[0]}")
    rng = random.Random(args.seed)
    sample = rng.sample(extracted, min(args.sample, len(extracted)))
    print(f"\nrandom sample of {len(sample)} cards with published results (seed {args.seed}):")
    for slug, repo_id, lines in sample:
        print(f"\n{slug} ({repo_id}):")
        print("\n".join(lines[:12]) + (f"\n    ... {len(lines) - 12} more" if len(lines) > 12 else ""))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
