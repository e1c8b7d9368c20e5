"""Store test helpers: raw SQL on a store's database, beside the Store (to read what it wrote, or to
break its rules), and the clock the store tests move by hand (`clock`/`store` fixtures: conftest.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)
T0 = 1_000_000.0  # where a `Clock` starts


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def raw_execute(url: str, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run one statement (``?`` placeholders) on its own autocommit connection; the rows, if any."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()
    with psycopg.connect(url, autocommit=True) as pg:
        cursor = pg.execute(query.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description is not None else []
