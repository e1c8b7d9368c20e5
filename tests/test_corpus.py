"""Every labelled card in ../shared/corpus is a test: the card's own scores, nothing else."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.tables import extract_results, read_tables
from tests.conftest import LabelledCard, load_corpus

CARDS = load_corpus()


def _found(card: LabelledCard) -> Counter[tuple[int, str, float]]:
    results = extract_results(card.text, card.model)
    return Counter((r.table, r.label, round(r.value, 6)) for r in results)


def _expected(card: LabelledCard) -> Counter[tuple[int, str, float]]:
    return Counter((int(e["table"]), str(e["benchmark"]), round(float(e["value"]), 6)) for e in card.expected)


def test_corpus_is_present() -> None:
    assert len(CARDS) >= 40


@pytest.mark.parametrize("card", CARDS, ids=[c.slug for c in CARDS])
def test_card_own_scores_are_found_exactly(card: LabelledCard) -> None:
    found, expected = _found(card), _expected(card)
    assert found - expected == Counter(), "extracted something the labels do not have"
    assert expected - found == Counter(), "missed a labelled score"


@pytest.mark.parametrize("card", CARDS, ids=[c.slug for c in CARDS])
def test_table_numbering_matches_the_labels(card: LabelledCard) -> None:
    assert len(read_tables(card.text)) == card.tables


def test_corpus_f1_is_one() -> None:
    tp = fp = fn = 0
    for card in CARDS:
        found, expected = _found(card), _expected(card)
        tp += sum((found & expected).values())
        fp += sum((found - expected).values())
        fn += sum((expected - found).values())
    assert (tp, fp, fn) == (tp, 0, 0)
    assert tp == sum(len(c.expected) for c in CARDS)
