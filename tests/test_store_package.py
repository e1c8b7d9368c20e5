"""The store's parts on their own: `Ledger` and `Queue` each keep to their tables, `_schema` owns the DDL.

`Store` is `Ledger` + `Queue` over one migrated database (the contract of both runs in
test_store.py and test_store_queue.py). Here each part runs on a database that holds only its own
tables, on SQLite and on PostgreSQL: a read or write of the other part's tables would fail there
("no such table"). Every public method of each part is called, and a test says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args

import pytest

from bot.core import plan
from bot.edges.store import SCHEMA_VERSION, Ledger, Outcome, Queue, Store
from bot.edges.store._db import Database, database_for_url
from bot.edges.store._schema import LEDGER_TABLES, MIGRATIONS, QUEUE_TABLES, migrate
from tests._raw_store import raw_execute

REPO = "org/model"
T0 = 1_000_000.0
_DDL_TABLE = re.compile(r"^CREATE (?:TABLE (\w+)|INDEX \w+ ON (\w+))")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Recorder:
    """``part`` with the name of every attribute used on it written down."""

    def __init__(self, part: Any) -> None:
        self.part = part
        self.used: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.used.add(name)
        return getattr(self.part, name)


def _table_of(statement: str) -> str:
    match = _DDL_TABLE.match(statement)
    assert match is not None, statement
    return match.group(1) or match.group(2)


def _ddl_for(tables: tuple[str, ...]) -> tuple[str, ...]:
    """Every migration statement that creates one of ``tables`` or an index on one, in order."""
    return tuple(s for step in MIGRATIONS for s in step if _table_of(s) in tables)


def _tables(url: str) -> set[str]:
    if url.startswith("sqlite:///"):
        rows = raw_execute(url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = raw_execute(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    return {str(name) for (name,) in rows} - {"evalbot_schema"}  # PostgreSQL's version record


def _public_methods(part: type) -> set[str]:
    return {name for name, value in vars(part).items() if callable(value) and not name.startswith("_")}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database(store_url: str) -> Iterator[Database]:
    """An open, empty database (no schema yet) on SQLite, then on PostgreSQL."""
    db = database_for_url(store_url)
    try:
        yield db
    finally:
        db.close()


def _use_the_ledger(ledger: Any) -> None:
    """Every public `Ledger` method, with the answers an empty ledger gives."""
    ledger.mark_processed(REPO, "sha1", "readme", outcome="created", fingerprint="fp1", detail="PR #1")
    assert ledger.is_processed(REPO, "sha1", "readme").outcome == "created"
    first, second, third = (ledger.record_intent(REPO, "readme", f"fp{n}", "open") for n in (1, 2, 3))
    ledger.complete_intent(first, pr_num=1)
    ledger.fail_intent(second, "hub said 500")
    assert [i.id for i in ledger.pending_intents(REPO)] == [third]
    ledger.abandon_intent(third, "the PR list shows it")
    assert ledger.pending_intents() == []
    assert ledger.record_pr(REPO, 1, source="readme", fingerprint="fp1", url="https://hub/pr/1").updates == 0
    ledger.set_pr_status(REPO, 1, "closed")
    assert ledger.get_pr(REPO, 1).status == "closed"
    assert ledger.pr_for(REPO, "readme").pr_num == 1
    assert ledger.open_prs_in_namespace("org") == 0
    assert ledger.prs_opened_since(T0) == 1
    assert [pr.pr_num for pr in ledger.list_prs()] == [1]
    assert ledger.acquire_lease(REPO, "w1", 60) is True
    assert ledger.acquire_lease(REPO, "w2", 60) is False
    assert ledger.renew_lease(REPO, "w1", 60) is True
    assert ledger.release_lease(REPO, "w1") == 1
    with ledger.lease(REPO, "w2", 60) as acquired:
        assert acquired is True
    assert ledger.claim_reply("chatops:1") is True
    assert ledger.unsent_replies() == ["chatops:1"]
    ledger.reply_sent("chatops:1")
    ledger.record_own_commit(REPO, "abc")
    assert ledger.is_own_commit(REPO, "abc") is True
    ledger.opt_out(REPO, by="owner")
    assert ledger.is_opted_out(REPO) is True
    assert ledger.opt_in(REPO) is True


def _use_the_queue(queue: Any) -> None:
    """Every public `Queue` method, with the answers an empty queue gives."""
    assert queue.record_event("d1", "run", REPO, '{"x": 1}') is True
    assert queue.record_event("d1", "run", REPO, '{"x": 1}') is False
    assert queue.event_count() == 1
    (event,) = queue.recent_events()
    assert queue.event_payload(event.id) == '{"x": 1}'
    job_id = queue.enqueue_job(REPO, sources=["readme"], trigger_key="d1")
    assert queue.enqueue_job(REPO, sources=["aa"], trigger_key="d2") == job_id  # coalesced
    job = queue.claim_job("w1", 60)
    assert job is not None and job.id == job_id and job.sources == ("readme", "aa")
    assert queue.heartbeat(job_id, "w1", 60) is True
    assert queue.release_job(job_id, "w1") is True
    assert queue.claim_job("w1", 60).id == job_id
    assert queue.fail_job(job_id, "w1", "boom", retry_in=0) is True
    assert queue.claim_job("w1", 60).id == job_id
    assert queue.complete_job(job_id, "w1", {"ok": True}) is True
    assert queue.get_job(job_id).result == {"ok": True}
    assert [j.id for j in queue.list_jobs(state="done")] == [job_id]
    assert queue.job_counts() == {"queued": 0, "running": 0, "done": 1, "failed": 0}
    assert queue.pending_jobs() == 0


PARTS: list[tuple[type, tuple[str, ...], Callable[[Any], None]]] = [
    (Ledger, LEDGER_TABLES, _use_the_ledger),
    (Queue, QUEUE_TABLES, _use_the_queue),
]


# -- the split ----------------------------------------------------------------------------------


def test_the_store_is_the_ledger_and_the_queue_with_no_method_in_both() -> None:
    assert issubclass(Store, Ledger) and issubclass(Store, Queue)
    assert _public_methods(Ledger) & _public_methods(Queue) == set()
    assert {name for name in dir(Store) if not name.startswith("_")} >= _public_methods(Ledger) | _public_methods(Queue)


def test_every_table_belongs_to_one_part(tmp_path: Path) -> None:
    assert set(LEDGER_TABLES) & set(QUEUE_TABLES) == set()
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    Store.from_url(url).close()
    assert _tables(url) == set(LEDGER_TABLES) | set(QUEUE_TABLES)
    assert {_table_of(s) for step in MIGRATIONS for s in step} == set(LEDGER_TABLES) | set(QUEUE_TABLES)


@pytest.mark.parametrize(("part", "tables", "use"), PARTS, ids=["ledger", "queue"])
def test_each_part_works_on_a_database_with_only_its_own_tables(
    database: Database, store_url: str, clock: Clock, part: type, tables: tuple[str, ...], use: Any
) -> None:
    database.migrate([_ddl_for(tables)])
    assert _tables(store_url) == set(tables)
    recorder = Recorder(part(database, now=clock))
    use(recorder)
    assert recorder.used >= _public_methods(part)  # a new method is exercised here too


def test_a_ledger_and_a_queue_on_one_database_are_a_store(database: Database, clock: Clock) -> None:
    migrate(database)
    Ledger(database, now=clock).record_pr(REPO, 7, source="readme", fingerprint="fp", url="https://hub/pr/7")
    job_id = Queue(database, now=clock).enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    store = Store(database, now=clock)
    assert store.get_pr(REPO, 7) is not None
    assert store.get_job(job_id) is not None


# -- the schema ---------------------------------------------------------------------------------


def test_migrating_an_empty_file_twice_gives_the_schema_of_a_new_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    url = f"sqlite:///{empty}"
    for _ in range(2):
        db = database_for_url(url)
        migrate(db)
        db.close()
    assert raw_execute(url, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    Store.open(tmp_path / "new").close()
    assert raw_execute(url, schema) == raw_execute(f"sqlite:///{tmp_path / 'new' / 'evalbot.sqlite3'}", schema)


def test_the_queue_arrives_by_migration_beside_a_ledger_that_keeps_its_rows(database: Database, clock: Clock) -> None:
    database.migrate(MIGRATIONS[:1])  # a database as the first schema left it: the ledger's first tables
    Ledger(database, now=clock).mark_processed(REPO, "sha1", "readme", outcome="unchanged")
    migrate(database)
    migrate(database)  # again: nothing to do
    assert Ledger(database, now=clock).is_processed(REPO, "sha1", "readme") is not None
    assert Queue(database, now=clock).enqueue_job(REPO, sources=["readme"], trigger_key="k1") == 1


# -- outcomes -----------------------------------------------------------------------------------


def test_the_processed_outcomes_are_the_plans_recorded_ones_and_none() -> None:
    # Why the ledger has its own Literal: a dry run's `planned` is never recorded (pipeline `_finish`),
    # and `none` has been a valid row since the first schema.
    assert set(get_args(Outcome)) == (set(get_args(plan.Outcome)) - {"planned"}) | {"none"}
    (processed,) = [s for s in MIGRATIONS[0] if _table_of(s) == "processed"]
    check = re.search(r"outcome IN \(([^)]*)\)", processed)
    assert check is not None
    assert [v.strip().strip("'") for v in check.group(1).split(",")] == list(get_args(Outcome))
