"""What every part of the store shares: the database, the clock, transactions, argument checks.

`bot.edges.store.ledger.Ledger` and `bot.edges.store.queue.Queue` each subclass `Tables`; the
SQL is theirs, the connections and locks are `bot.edges.store._db`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, get_args

from bot.edges.store._db import Connection, Database


class Tables:
    """Some of the store's tables, over a database whose schema is migrated (`bot.edges.store._schema`)."""

    def __init__(self, db: Database, *, now: Callable[[], float] = time.time) -> None:
        """Work on ``db``, which the caller opened, migrated, and closes.

        Args:
            db: An open database with the store's schema.
            now: The clock, in seconds since the epoch; tests pass a fake one.
        """
        self._db = db
        self._now = now

    def _fetchone(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        with self._db.read() as conn:
            return conn.execute(query, params).fetchone()

    def _fetchall(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._db.read() as conn:
            return conn.execute(query, params).fetchall()

    @contextmanager
    def _write(self, *locks: tuple[str, str]) -> Iterator[Connection]:
        """A write transaction holding ``locks`` ((kind, key) pairs, taken in the order given).

        On SQLite the transaction itself is the lock (``BEGIN IMMEDIATE``); on PostgreSQL each
        pair is an advisory lock, so a read-modify-write on one repo cannot interleave with another
        replica's on the same repo. Take ``trigger`` before ``repo`` locks (a fixed order: no deadlocks).
        """
        with self._db.write() as conn:
            for kind, key in locks:
                self._db.lock(conn, kind, key)
            yield conn


def check_choice(value: str, allowed: Any, what: str) -> None:
    """Raise ValueError unless ``value`` is one of the ``Literal`` type ``allowed``'s values."""
    choices = get_args(allowed)
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}; got {value!r}")


def check_positive(value: float, what: str) -> None:
    """Raise ValueError unless ``value`` is more than zero (NaN is not)."""
    if not value > 0:
        raise ValueError(f"{what} must be positive; got {value!r}")
