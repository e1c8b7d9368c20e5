"""The store's two databases: SQLite (embedded, one machine) and PostgreSQL (several replicas).

`bot.edges.store.ledger` and `bot.edges.store.queue` hold the SQL (written with ``?``
placeholders, portable upserts and ``RETURNING``) and `bot.edges.store._schema` the DDL; this
module gives them, for either database, read and write transactions, the per-key locks that make
a read-modify-write atomic, and the schema version. Nothing here knows the tables.

- SQLite: one connection per thread (WAL, ``busy_timeout``); every write is ``BEGIN IMMEDIATE``,
  which takes the database's one write lock, so per-key locks are not needed.
- PostgreSQL: a `psycopg_pool.ConnectionPool`; a write is one transaction, and `Database.lock`
  takes a transaction-scoped advisory lock on (kind, key) so that two replicas working on the same
  repo take turns while work on other repos runs in parallel. The schema version lives in the
  ``evalbot_schema`` table, migrated under an advisory lock (replicas may start together).

>>> db = database_for_url("sqlite:///tmp/evalbot.sqlite3")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from bot.errors import ConfigError, one_line

BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 5
POOL_MAX_SIZE = 16  # connections per process: the webhook handler's threads plus the workers
_SCHEMES = ("sqlite", "postgresql", "postgres")
# Advisory-lock classes (the first half of PostgreSQL's two-int lock key), one per kind of key.
LOCK_CLASSES = {"repo": 1, "trigger": 2, "migrate": 3, "claim": 4}


class Cursor(Protocol):
    """What `Connection.execute` answers: rows and the number of rows a write changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """One connection inside a transaction (or, for reads, outside one)."""

    def execute(self, query: str, params: Sequence[Any] = ()) -> Cursor: ...


class Database(Protocol):
    """A database the store can use: SQLite or PostgreSQL."""

    #: What the store points at, for messages (a file path, or a URL without its password).
    where: str
    #: ``sqlite`` or ``postgresql``: the few statements that differ ask.
    dialect: str

    def read(self) -> AbstractContextManager[Connection]:
        """A connection for reads (autocommit: each statement sees the latest commits)."""
        ...

    def write(self) -> AbstractContextManager[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        ...

    def lock(self, conn: Connection, kind: str, key: str) -> None:
        """Hold (kind, key) until ``conn``'s write transaction ends; other writers wait for it."""
        ...

    def migrate(self, migrations: Sequence[Sequence[str]]) -> None:
        """Bring the schema up to ``len(migrations)``, applying the missing steps in one transaction."""
        ...

    def close(self) -> None:
        """Close every connection; further use raises."""
        ...


def database_for_url(url: str) -> Database:
    """The database that ``url`` names.

    Args:
        url: ``sqlite:///absolute/path`` (``sqlite:///relative`` is relative to the working
            directory) or ``postgresql://user:password@host:port/dbname`` (``postgres://`` too).

    Returns:
        The open database (a PostgreSQL pool is connected already, so a wrong URL fails here).

    Raises:
        ConfigError: Unknown scheme, no path, or PostgreSQL unreachable or psycopg not installed.
    """
    scheme = url.split(":", 1)[0].casefold() if ":" in url else ""
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"EVALBOT_DATABASE_URL={redact(url)!r}: expected sqlite:///path or postgresql://user@host/dbname"
        )
    if scheme == "sqlite":
        path = url.split(":", 1)[1]
        if not path.startswith("//") or not path[2:]:
            raise ConfigError(f"EVALBOT_DATABASE_URL={url!r}: a SQLite URL is sqlite:///path/to/evalbot.sqlite3")
        return SQLiteDatabase(Path(path[3:] if path.startswith("///") else path[2:]))
    return PostgresDatabase(url)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and reprs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


# -- SQLite ------------------------------------------------------------------------------------


class SQLiteDatabase:
    """A SQLite file in WAL mode; one connection per thread (and a fresh set in a forked child)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.dialect = "sqlite"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        yield self._conn()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """``BEGIN IMMEDIATE``: the write lock is taken first, so reads inside cannot go stale."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may already have rolled back on its own
                conn.execute("ROLLBACK")
            raise

    def lock(self, conn: Connection, kind: str, key: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already holds the database's one write lock."""

    def migrate(self, migrations: Sequence[Sequence[str]]) -> None:
        with self.write() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            _check_version(version, len(migrations), self.where, "point EVALBOT_HOME at another directory")
            for statements in migrations[version:]:
                for statement in statements:
                    conn.execute(statement)
            if version < len(migrations):
                conn.execute(f"PRAGMA user_version = {len(migrations):d}")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (and again in a forked child)."""
        if os.getpid() != self._pid:
            # A forked child must not use its parent's connections; forget them without closing.
            with self._lock:
                self._pid = os.getpid()
                self._connections = []
                self._local = threading.local()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError(f"the store at {self.path} is closed")
            conn = _sqlite_connect(self.path)
            self._connections.append(conn)
        self._local.conn = conn
        return conn


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; `SQLiteDatabase.write` issues BEGIN/COMMIT itself.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        _enable_wal(conn, path)
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection, path: Path) -> None:
    """Switch the file to WAL (a no-op once it is: the mode is stored in the file).

    Leaving rollback-journal mode needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
    (without the busy handler) while other processes are opening the same new file; so retry here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode != "wal":
                mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname != "SQLITE_BUSY" or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
            continue
        if mode != "wal":
            raise ConfigError(
                f"{path}: SQLite cannot use WAL mode here (journal_mode is {mode!r}); put EVALBOT_HOME on a local disk"
            )
        return


# -- PostgreSQL --------------------------------------------------------------------------------


class PostgresDatabase:
    """A PostgreSQL database through a psycopg 3 connection pool (safe across threads; per process)."""

    def __init__(self, url: str, *, max_size: int = POOL_MAX_SIZE) -> None:
        try:
            import psycopg  # noqa: F401 - checked here, used in `_open_pool`
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise ConfigError(
                "EVALBOT_DATABASE_URL names PostgreSQL, but psycopg is not installed: pip install 'evalbot[postgres]'"
            ) from None
        self.where = redact(url)
        self.dialect = "postgresql"
        self._pid = os.getpid()
        self._url = url
        self._max_size = max_size
        self._pool_class: Any = ConnectionPool
        self._pool = self._open_pool()

    def __repr__(self) -> str:
        return f"PostgresDatabase({self.where!r})"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._connection() as conn:
            yield _PgConnection(conn)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._connection() as conn, conn.transaction():
            yield _PgConnection(conn)

    def lock(self, conn: Connection, kind: str, key: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", (LOCK_CLASSES[kind], key)).fetchall()

    def try_lock(self, conn: Connection, kind: str, key: str) -> bool:
        """`lock` if nobody holds (kind, key) now; False at once otherwise."""
        row = conn.execute("SELECT pg_try_advisory_xact_lock(?, hashtext(?))", (LOCK_CLASSES[kind], key)).fetchone()
        return bool(row[0])

    def migrate(self, migrations: Sequence[Sequence[str]]) -> None:
        with self.write() as conn:
            self.lock(conn, "migrate", "schema")
            conn.execute("CREATE TABLE IF NOT EXISTS evalbot_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM evalbot_schema").fetchone()
            version = 0 if row is None else int(row[0])
            _check_version(version, len(migrations), self.where, "point EVALBOT_DATABASE_URL at another database")
            for statements in migrations[version:]:
                for statement in statements:
                    conn.execute(postgres_ddl(statement))
            if row is None:
                conn.execute("INSERT INTO evalbot_schema (version) VALUES (?)", (len(migrations),))
            elif version < len(migrations):
                conn.execute("UPDATE evalbot_schema SET version = ?", (len(migrations),))

    def close(self) -> None:
        self._pool.close()

    def _open_pool(self) -> Any:
        import psycopg

        try:  # one direct connection first: a wrong URL fails at once, with the server's reason
            psycopg.connect(self._url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.Error as exc:
            reason = one_line(exc) or type(exc).__name__  # libpq's text: host, user, database; no password
            raise ConfigError(
                f"cannot connect to the PostgreSQL store at {self.where}: {reason}; "
                "check EVALBOT_DATABASE_URL and that the server is up"
            ) from None
        pool = self._pool_class(
            self._url,
            min_size=1,
            max_size=self._max_size,
            kwargs={"autocommit": True},
            check=self._pool_class.check_connection,  # a connection the server dropped (a restart) is replaced
            open=False,
            name="evalbot",
        )
        try:
            pool.open(wait=True, timeout=BUSY_TIMEOUT_MS / 1000 * 2)
        except Exception as exc:
            pool.close()
            raise ConfigError(
                f"cannot connect to the PostgreSQL store at {self.where}: {type(exc).__name__}; "
                "check EVALBOT_DATABASE_URL and that the server is up"
            ) from None
        return pool

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        if os.getpid() != self._pid:  # a forked child opens its own pool (sockets cannot be shared)
            self._pid = os.getpid()
            self._pool = self._open_pool()
        with self._pool.connection() as conn:
            yield conn


class _PgConnection:
    """A psycopg connection that takes the store's ``?`` placeholders."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, query: str, params: Sequence[Any] = ()) -> Cursor:
        cursor: Cursor = self._conn.execute(_placeholders(query), params)
        return cursor


@lru_cache(maxsize=512)
def _placeholders(query: str) -> str:
    """``?`` → ``%s`` (the store's SQL has no ``%``, ``?`` in literals or other placeholders)."""
    if "%" in query:
        raise ValueError(f"store SQL must not contain '%': {query!r}")
    return query.replace("?", "%s")


_DDL_REWRITES = (
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),  # PostgreSQL's REAL is 4 bytes: timestamps need 8
)


def postgres_ddl(statement: str) -> str:
    """A migration statement (written for SQLite) in PostgreSQL's words: identity ids, 8-byte floats."""
    for pattern, replacement in _DDL_REWRITES:
        statement = pattern.sub(replacement, statement)
    return statement


def _check_version(version: int, known: int, where: str, advice: str) -> None:
    if version > known:
        raise ConfigError(
            f"{where} has store schema version {version}, but this evalbot knows only up to {known}; "
            f"upgrade evalbot or {advice}"
        )
