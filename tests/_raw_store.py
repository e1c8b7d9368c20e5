"""Raw SQL on a store's database, beside the Store (to read what it wrote, or to break its rules)."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


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
