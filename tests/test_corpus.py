"""Every labelled card is a test: the card's own scores, nothing else.

`../shared/corpus` (the cards the rules were first built on) must stay exact. `../shared/corpus-next`
(cards never used to build the rules) is a ratchet: `corpus_next_not_exact.txt` names the cards that
are not exact yet. It may only shrink: a listed card that becomes exact fails until it is removed
from the list, and an unlisted card that regresses fails.

Scored as the publishing paths see a card (results at or above the confidence threshold). The
corpora's rule: cross-benchmark Average/Avg/Mean entries are not benchmarks and are not counted.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.core.tables import extract_results, read_tables
from bot.core.tables._layout import is_average
from tests.conftest import CORPUS_NEXT, LabelledCard, load_corpus

CARDS = load_corpus()
NEXT = load_corpus(CORPUS_NEXT)
NOT_EXACT_FILE = Path(__file__).with_name("corpus_next_not_exact.txt")
NOT_EXACT = {
    line.split("#", 1)[0].strip()
    for line in NOT_EXACT_FILE.read_text(encoding="utf-8").splitlines()
    if line.split("#", 1)[0].strip()
}


def _found(card: LabelledCard) -> Counter[tuple[int, str, float]]:
    results = extract_results(card.text, card.model)
    return Counter((r.table, r.label, round(r.value, 6)) for r in results if not is_average(r.label))


def _expected(card: LabelledCard) -> Counter[tuple[int, str, float]]:
    return Counter(
        (int(e["table"]), str(e["benchmark"]), round(float(e["value"]), 6))
        for e in card.expected
        if not is_average(str(e["benchmark"]))
    )


def _errors(card: LabelledCard) -> tuple[Counter[tuple[int, str, float]], Counter[tuple[int, str, float]]]:
    found, expected = _found(card), _expected(card)
    return found - expected, expected - found


def test_corpora_are_present() -> None:
    assert len(CARDS) >= 40
    assert len(NEXT) >= 50


@pytest.mark.parametrize("card", CARDS, ids=[c.slug for c in CARDS])
def test_card_own_scores_are_found_exactly(card: LabelledCard) -> None:
    extra, missed = _errors(card)
    assert extra == Counter(), "extracted something the labels do not have"
    assert missed == Counter(), "missed a labelled score"


@pytest.mark.parametrize("card", CARDS + NEXT, ids=[c.slug for c in CARDS + NEXT])
def test_table_numbering_matches_the_labels(card: LabelledCard) -> None:
    assert len(read_tables(card.text)) == card.tables


@pytest.mark.parametrize("card", NEXT, ids=[c.slug for c in NEXT])
def test_corpus_next_ratchet(card: LabelledCard) -> None:
    extra, missed = _errors(card)
    exact = not extra and not missed
    if card.slug in NOT_EXACT:
        assert not exact, f"{card.slug} is exact now: remove it from {NOT_EXACT_FILE.name}"
    else:
        assert extra == Counter(), "regressed: extracted something the labels do not have"
        assert missed == Counter(), "regressed: missed a labelled score"


def test_ratchet_list_names_only_corpus_next_cards() -> None:
    assert {c.slug for c in NEXT} >= NOT_EXACT


def test_corpus_f1_is_one() -> None:
    tp = fp = fn = 0
    for card in CARDS:
        found, expected = _found(card), _expected(card)
        tp += sum((found & expected).values())
        fp += sum((found - expected).values())
        fn += sum((expected - found).values())
    assert (tp, fp, fn) == (tp, 0, 0)
    assert tp == sum(len(c.expected) for c in CARDS)


def test_corpus_next_precision_holds() -> None:
    """Precision first: on cards never used to build the rules, at most 3% of published values are wrong."""
    tp = fp = 0
    for card in NEXT:
        found, expected = _found(card), _expected(card)
        tp += sum((found & expected).values())
        fp += sum((found - expected).values())
    assert fp <= 0.03 * (tp + fp), (tp, fp)
