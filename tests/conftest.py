"""Shared fixtures: the labelled card corpus in ../shared/corpus, and a clean environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

CORPUS = Path(os.environ.get("EVALBOT_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
# Labelled cards that were never used to build the rules; tests/corpus_next_not_exact.txt is the ratchet.
CORPUS_NEXT = Path(os.environ.get("EVALBOT_CORPUS_NEXT", CORPUS.parent / "corpus-next"))


@dataclass(frozen=True)
class LabelledCard:
    slug: str
    text: str
    model: str  # the repo name the labels were made for
    tables: int
    expected: list[dict[str, Any]]


def load_corpus(root: Path = CORPUS) -> list[LabelledCard]:
    """Every card with its labels. The label's `model` reads "repo-name (Name in table)"."""
    cards = []
    for path in sorted((root / "expected").glob("*.yaml")):
        labels = yaml.safe_load(path.read_text(encoding="utf-8"))
        text = (root / "cards" / f"{path.stem}.md").read_text(encoding="utf-8")
        model = str(labels["model"]).split(" (", 1)[0]
        cards.append(LabelledCard(path.stem, text, model, int(labels["tables"]), labels["expected"] or []))
    return cards


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's tokens, endpoints or caches."""
    for key in list(os.environ):
        if key.startswith(("EVALBOT_", "HF_", "HUGGING_FACE_", "AA_", "GITHUB_", "INPUT_")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("EVALBOT_HOME", str(tmp_path / "evalbot-home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
