"""Shared fixtures: the labelled card corpus in ../shared/corpus, and a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.edges.store import Store
from bot.sim.postgres import PostgresServer, PostgresUnavailable
from tests._raw_store import Clock

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


_SLOW_MODULE = "pytestmark = pytest.mark.slow"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m "not slow"` (make test-fast), a module marked slow as a whole is not even imported:
    importing lighteval or inspect-ai alone costs seconds, and none of its tests would run."""
    if config.option.markexpr.strip() != "not slow" or collection_path.suffix != ".py":
        return None
    try:
        text = collection_path.read_text(encoding="utf-8")
    except OSError:
        return None
    return True if any(line.startswith(_SLOW_MODULE) for line in text.splitlines()) else None


# -- the store's two databases ------------------------------------------------------------------

# the PostgreSQL half needs a real server: `make test` runs it, `make test-fast` (not slow) leaves it out
STORE_BACKENDS = ("sqlite", pytest.param("postgres", marks=pytest.mark.slow))
PG_BIN = os.environ.get("EVALBOT_PG_BIN")  # read now: clean_environ drops EVALBOT_* before the server starts


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole session, started on first use (about a second)."""
    try:
        server = PostgresServer(bindir=PG_BIN)
    except PostgresUnavailable as exc:
        pytest.fail(f"the PostgreSQL store tests need a server: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """An empty database on the session's server (every table dropped), as EVALBOT_DATABASE_URL."""
    return postgres_server.reset_database("evalbot_test")


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """EVALBOT_DATABASE_URL of an empty store: a SQLite file under tmp_path, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'evalbot.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def clock() -> Clock:
    """The store tests' clock (`tests._raw_store.Clock`), at `T0` until a test moves it."""
    return Clock()


@pytest.fixture
def store(store_url: str, clock: Clock) -> Iterator[Store]:
    """An empty store on SQLite, then on PostgreSQL (every test that takes it runs on both)."""
    with Store.from_url(store_url, now=clock) as s:
        yield s
