"""The bot's store: the dedupe ledger and the service's durable queue (DESIGN §5, §8), on SQLite or PostgreSQL.

Layer: edges (may import ``bot.core``, ``bot.config`` and ``bot.errors``; no other edge). Pure
persistence; no Hub calls. One module per job, `Store` is all of them:

- `bot.edges.store.ledger` (`Ledger`): what was processed, what the bot meant to write, which PRs it
  owns (and so the budgets), who holds a repo (leases), which ChatOps commands it answered, the
  commits it made itself, and which repos opted out.
- `bot.edges.store.queue` (`Queue`): webhook deliveries and the jobs they became, claimed by
  workers with leases.
- `bot.edges.store._schema`: every table's DDL, as append-only migrations, and which part owns it.
- `bot.edges.store._db`: connections, transactions and locks for each database; nothing there
  knows the tables. `bot.edges.store._base` holds what the parts share (the clock, `_write`).

Two databases, one contract: SQLite in WAL mode, the embedded default
(``$EVALBOT_HOME/evalbot.sqlite3``; one machine: every write runs in ``BEGIN IMMEDIATE``, so
read-modify-write steps such as taking a lease are atomic), and PostgreSQL
(``EVALBOT_DATABASE_URL=postgresql://...``, a psycopg 3 pool; several replicas: the
read-modify-write steps hold a per-repo advisory lock, and job claims use ``FOR UPDATE SKIP
LOCKED``). The SQL is shared (upserts with ``ON CONFLICT``, ``RETURNING``), so coalescing,
idempotent enqueue and lease expiry are the same on both. A third database is a new
`bot.edges.store._db.Database`, plus, where it differs, a DDL rewrite like ``postgres_ddl`` and a
claim like ``Queue._claim_job_postgres``. The clock is injected so that tests control time.

>>> with Store.open(home) as store:  # doctest: +SKIP
...     with store.lease("org/model", owner="worker-1", ttl_seconds=600) as acquired:
...         if acquired:
...             ...
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from bot.edges.store._db import Database, SQLiteDatabase, database_for_url
from bot.edges.store._schema import MIGRATIONS, SCHEMA_VERSION, migrate
from bot.edges.store.ledger import Intent, IntentAction, IntentState, Ledger, Outcome, ProcessedRow, PrRow, PrStatus
from bot.edges.store.queue import EventRow, JobRow, JobState, Queue

__all__ = [
    "DB_FILENAME",
    "SCHEMA_VERSION",
    "EventRow",
    "Intent",
    "IntentAction",
    "IntentState",
    "JobRow",
    "JobState",
    "Ledger",
    "Outcome",
    "PrRow",
    "PrStatus",
    "ProcessedRow",
    "Queue",
    "Store",
]

DB_FILENAME = "evalbot.sqlite3"
_MIGRATIONS = MIGRATIONS  # the name the PostgreSQL tests know


class Store(Ledger, Queue):
    """The ledger and the queue, on SQLite (one file, one machine) or PostgreSQL (several replicas); one per process.

    Both databases give the same answers to the same calls (the tests run every store test on
    both): the SQL is shared, and what differs (transactions, locks, schema version) is
    `bot.edges.store._db`'s. Safe across threads (a connection per thread on SQLite, a pool on
    PostgreSQL) and processes.

    >>> store = Store(Path("/tmp/evalbot/evalbot.sqlite3"), now=lambda: 1000.0)  # doctest: +SKIP
    >>> store.acquire_lease("org/model", "worker-1", ttl_seconds=60)  # doctest: +SKIP
    True
    """

    def __init__(self, path: Path | Database, *, now: Callable[[], float] = time.time) -> None:
        """Open (and create, with its directories and schema, if needed) the database.

        Args:
            path: The SQLite file, or an open `Database` (see `Store.from_url`).
            now: The clock, in seconds since the epoch; tests pass a fake one.

        Raises:
            ConfigError: The database was written by a newer evalbot (unknown schema version).
        """
        super().__init__(SQLiteDatabase(Path(path)) if isinstance(path, (str, Path)) else path, now=now)
        #: The SQLite file, or None on PostgreSQL.
        self.path: Path | None = self._db.path if isinstance(self._db, SQLiteDatabase) else None
        #: Where the store is, for messages: the file, or the URL without its password.
        self.where = self._db.where
        try:
            migrate(self._db)
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, home: Path, *, now: Callable[[], float] = time.time) -> Store:
        """Open the SQLite store at ``home / "evalbot.sqlite3"`` (``home`` is ``$EVALBOT_HOME``).

        Args:
            home: evalbot's home directory; created if missing.
            now: The clock, in seconds since the epoch.

        Returns:
            The open store.
        """
        return cls(Path(home) / DB_FILENAME, now=now)

    @classmethod
    def from_url(cls, url: str, *, now: Callable[[], float] = time.time) -> Store:
        """Open the store that ``url`` (``EVALBOT_DATABASE_URL``) names.

        Args:
            url: ``sqlite:///path/to/file`` or ``postgresql://user:password@host:port/dbname``.
            now: The clock, in seconds since the epoch.

        Returns:
            The open store, its schema migrated.

        Raises:
            ConfigError: The URL is not one of those, the server cannot be reached, psycopg is
                missing, or the schema is newer than this evalbot's.
        """
        return cls(database_for_url(url), now=now)

    def __repr__(self) -> str:
        return f"Store({self.where!r})"

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection this store opened. Further calls raise (``sqlite3.ProgrammingError`` on SQLite)."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
