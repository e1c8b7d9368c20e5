"""The bot's ledger: what was processed, what it meant to write, which PRs it owns, who holds a repo,
and the service's durable queue (DESIGN §8): deliveries, jobs, ChatOps replies, the bot's own commits.

Pure persistence (SQLite or PostgreSQL, below); no Hub calls. The tables:

- ``processed``: (repo_id, sha, source) already handled, and how. A ``failed`` outcome is kept for
  the record but does not count as processed, so the next trigger retries it.
- ``intents``: recorded *before* a Hub write (DESIGN §5, crash safety). Whatever is still
  ``pending`` after a restart must be reconciled by re-listing the repo's PRs before writing again.
- ``prs``: the PRs evalbot opened or updated; feeds dedupe, the budgets and the status page.
- ``leases``: one worker per repo at a time. Triggers that arrive while a repo is leased are
  counted in ``pending`` and handed to the holder when it releases (coalescing into one follow-up).
- ``events``: webhook deliveries, deduplicated by their key (a redelivery does nothing).
- ``jobs`` (with ``job_keys``, every trigger key a job answers for): the work queue. Triggers for a
  repo coalesce into its one queued ``run`` job (jobs of other kinds, such as a ChatOps command's,
  never coalesce); workers claim jobs with leases (a crashed worker's job is retried when its lease
  expires) and at most one job per repo runs at a time.
- ``replies``: ChatOps replies claimed and sent, so that a command is answered once, even on redelivery.
- ``own_commits``: commits the bot made itself, so that their webhooks do not trigger it again.
- ``opt_outs``: repos whose owners asked the bot (``@evalbot ignore``) to leave them alone.

Two databases, one contract (`bot.edges.store._db` holds what differs): SQLite in WAL mode, the
embedded default (``$EVALBOT_HOME/evalbot.sqlite3``; one machine: every write runs in ``BEGIN
IMMEDIATE``, so read-modify-write steps such as taking a lease are atomic), and PostgreSQL
(``EVALBOT_DATABASE_URL=postgresql://...``, a psycopg 3 pool; several replicas: the
read-modify-write steps hold a per-repo advisory lock, and job claims use ``FOR UPDATE SKIP
LOCKED``). The SQL is shared (upserts with ``ON CONFLICT``, ``RETURNING``), so coalescing,
idempotent enqueue and lease expiry are the same on both. The clock is injected so that tests
control time.

>>> with Store.open(home) as store:  # doctest: +SKIP
...     with store.lease("org/model", owner="worker-1", ttl_seconds=600) as acquired:
...         if acquired:
...             ...
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast, get_args

from bot.edges.store._db import Connection, Database, PostgresDatabase, SQLiteDatabase, database_for_url

DB_FILENAME = "evalbot.sqlite3"
SCHEMA_VERSION = 2

Outcome = Literal["created", "updated", "pushed", "unchanged", "skipped", "none", "failed"]
IntentAction = Literal["open", "update", "push"]
IntentState = Literal["pending", "done", "failed", "abandoned"]
PrStatus = Literal["open", "closed", "merged"]
JobState = Literal["queued", "running", "done", "failed"]

# Schema migrations: entry i takes the database from user_version i to i + 1. Append, never edit.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE processed (
            repo_id TEXT NOT NULL,
            sha TEXT NOT NULL,
            source TEXT NOT NULL,
            fingerprint TEXT,
            outcome TEXT NOT NULL
                CHECK (outcome IN ('created', 'updated', 'pushed', 'unchanged', 'skipped', 'none', 'failed')),
            detail TEXT NOT NULL DEFAULT '',
            at REAL NOT NULL,
            PRIMARY KEY (repo_id, sha, source)
        )""",
        """CREATE TABLE intents (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            repo_id TEXT NOT NULL,
            source TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('open', 'update', 'push')),
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed', 'abandoned')),
            pr_num INTEGER,
            detail TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX intents_by_state ON intents (state, repo_id)",
        """CREATE TABLE prs (
            repo_id TEXT NOT NULL,
            pr_num INTEGER NOT NULL,
            source TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'merged')),
            url TEXT NOT NULL,
            opened_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            updates INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (repo_id, pr_num)
        )""",
        "CREATE INDEX prs_by_source ON prs (repo_id, source, opened_at)",
        "CREATE INDEX prs_by_opened_at ON prs (opened_at)",
        """CREATE TABLE leases (
            repo_id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at REAL NOT NULL,
            pending INTEGER NOT NULL DEFAULT 0
        )""",
    ),
    # 1 -> 2: the service's queue (events, jobs, replies, own commits, opt-outs). Existing rows are kept.
    (
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE CHECK (key <> ''),
            kind TEXT NOT NULL,
            repo_id TEXT,
            payload TEXT NOT NULL,
            received_at REAL NOT NULL
        )""",
        """CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind <> ''),
            repo_id TEXT NOT NULL,
            sources TEXT NOT NULL DEFAULT '[]',
            revision TEXT,
            trigger_key TEXT NOT NULL UNIQUE CHECK (trigger_key <> ''),
            merged_keys TEXT NOT NULL DEFAULT '[]',
            options TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            coalesced INTEGER NOT NULL DEFAULT 0 CHECK (coalesced >= 0),
            next_run_at REAL NOT NULL,
            lease_owner TEXT,
            lease_expires REAL,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            error TEXT,
            result TEXT,
            CHECK ((state = 'running') = (lease_owner IS NOT NULL)),
            CHECK ((state = 'running') = (lease_expires IS NOT NULL))
        )""",
        "CREATE INDEX jobs_by_state ON jobs (state, next_run_at, id)",
        "CREATE INDEX jobs_by_repo ON jobs (repo_id, state, kind)",
        """CREATE TABLE job_keys (
            key TEXT PRIMARY KEY,
            job_id INTEGER NOT NULL REFERENCES jobs (id)
        )""",
        """CREATE TABLE replies (
            key TEXT PRIMARY KEY CHECK (key <> ''),
            claimed_at REAL NOT NULL,
            sent_at REAL
        )""",
        """CREATE TABLE own_commits (
            repo_id TEXT NOT NULL,
            oid TEXT NOT NULL,
            at REAL NOT NULL,
            PRIMARY KEY (repo_id, oid)
        )""",
        """CREATE TABLE opt_outs (
            repo_id TEXT PRIMARY KEY,
            requested_by TEXT NOT NULL,
            at REAL NOT NULL
        )""",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION

_PROCESSED_COLUMNS = "repo_id, sha, source, fingerprint, outcome, detail, at"
_INTENT_COLUMNS = "id, repo_id, source, fingerprint, action, state, pr_num, detail, created_at, updated_at"
_PR_COLUMNS = "repo_id, pr_num, source, fingerprint, status, url, opened_at, updated_at, updates"
_EVENT_COLUMNS = "id, key, kind, repo_id, received_at"
_JOB_COLUMNS = (
    "id, kind, repo_id, sources, revision, trigger_key, options, state, attempts, coalesced, next_run_at, "
    "lease_owner, lease_expires, created_at, started_at, finished_at, error, result"
)
_JOB_STATES: tuple[JobState, ...] = get_args(JobState)
# PostgreSQL claims look at this many ready jobs at most (those of repos being claimed elsewhere are passed over).
_CLAIM_CANDIDATES = 32


@dataclass(frozen=True)
class ProcessedRow:
    """One (repo, commit, source) that the bot has handled."""

    repo_id: str
    sha: str
    source: str
    fingerprint: str | None
    outcome: Outcome
    detail: str
    at: float


@dataclass(frozen=True)
class Intent:
    """A Hub write the bot was about to make; ``pending`` until it is known to have happened or not."""

    id: int
    repo_id: str
    source: str
    fingerprint: str
    action: IntentAction
    state: IntentState
    pr_num: int | None
    detail: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class PrRow:
    """A PR evalbot opened (and maybe updated since)."""

    repo_id: str
    pr_num: int
    source: str
    fingerprint: str
    status: PrStatus
    url: str
    opened_at: float
    updated_at: float
    updates: int


@dataclass(frozen=True)
class EventRow:
    """A webhook delivery as logged (its payload is fetched separately, with `Store.event_payload`)."""

    id: int
    key: str
    kind: str
    repo_id: str | None
    received_at: float


@dataclass(frozen=True)
class JobRow:
    """A job in the queue: one run over ``sources`` of ``repo_id``, with its lease and outcome."""

    id: int
    kind: str
    repo_id: str
    sources: tuple[str, ...]
    revision: str | None
    trigger_key: str
    options: dict[str, Any]
    state: JobState
    attempts: int
    coalesced: int
    next_run_at: float
    lease_owner: str | None
    lease_expires: float | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    error: str | None
    result: dict[str, Any] | None


class Store:
    """The ledger, on SQLite (one file, one machine) or PostgreSQL (several replicas). Open one per process.

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
        self._db: Database = SQLiteDatabase(Path(path)) if isinstance(path, (str, Path)) else path
        #: The SQLite file, or None on PostgreSQL.
        self.path: Path | None = self._db.path if isinstance(self._db, SQLiteDatabase) else None
        #: Where the store is, for messages: the file, or the URL without its password.
        self.where = self._db.where
        self._now = now
        try:
            self._db.migrate(_MIGRATIONS)
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

    # -- processed -----------------------------------------------------------------------------

    def mark_processed(
        self,
        repo_id: str,
        sha: str,
        source: str,
        *,
        outcome: Outcome,
        fingerprint: str | None = None,
        detail: str = "",
    ) -> None:
        """Record how (repo_id, sha, source) was handled; a later call for the same key replaces it.

        Args:
            repo_id: The model repo, ``namespace/name``.
            sha: The commit that was looked at.
            source: The score source (``readme``, ``aa``, an evaluator...).
            outcome: What happened; ``failed`` is kept but does not count as processed.
            fingerprint: The fingerprint of the proposed change, if there was one.
            detail: A human-readable note (skip reason, error message).

        Raises:
            ValueError: ``outcome`` is not one of the known outcomes.
        """
        _check(outcome, Outcome, "outcome")
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO processed ({_PROCESSED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (repo_id, sha, source) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, outcome = excluded.outcome, "
                "detail = excluded.detail, at = excluded.at",
                (repo_id, sha, source, fingerprint, outcome, detail, self._now()),
            )

    def is_processed(self, repo_id: str, sha: str, source: str) -> ProcessedRow | None:
        """The record for (repo_id, sha, source), or None if it was never handled or it failed.

        Args:
            repo_id: The model repo.
            sha: The commit.
            source: The score source.

        Returns:
            The row, or None when the key is unknown or its outcome is ``failed`` (so it is retried).
        """
        row = self._fetchone(
            f"SELECT {_PROCESSED_COLUMNS} FROM processed "
            "WHERE repo_id = ? AND sha = ? AND source = ? AND outcome <> 'failed'",
            (repo_id, sha, source),
        )
        if row is None:
            return None
        return ProcessedRow(
            repo_id=row[0],
            sha=row[1],
            source=row[2],
            fingerprint=row[3],
            outcome=cast(Outcome, row[4]),
            detail=row[5],
            at=float(row[6]),
        )

    # -- intents -------------------------------------------------------------------------------

    def record_intent(self, repo_id: str, source: str, fingerprint: str, action: IntentAction) -> int:
        """Record, before writing to the Hub, what is about to be written. Call before the write.

        Args:
            repo_id: The model repo.
            source: The score source.
            fingerprint: The fingerprint of the change to be written.
            action: ``open`` a PR, ``update`` one, or ``push`` to main.

        Returns:
            The intent's id, for `complete_intent`, `fail_intent` or `abandon_intent`.

        Raises:
            ValueError: ``action`` is not one of the known actions.
        """
        _check(action, IntentAction, "action")
        now = self._now()
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO intents (repo_id, source, fingerprint, action, state, detail, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'pending', '', ?, ?) RETURNING id",
                (repo_id, source, fingerprint, action, now, now),
            ).fetchall()[0]  # drain RETURNING so COMMIT finds no open statement
        return int(row[0])

    def complete_intent(self, intent_id: int, *, pr_num: int | None = None) -> None:
        """Mark an intent ``done``: the write happened.

        Args:
            intent_id: From `record_intent`.
            pr_num: The PR that was opened or updated, if any.

        Raises:
            KeyError: No intent has this id.
        """
        self._set_intent(intent_id, "done", pr_num=pr_num)

    def fail_intent(self, intent_id: int, detail: str) -> None:
        """Mark an intent ``failed``: the write is known not to have happened.

        Args:
            intent_id: From `record_intent`.
            detail: Why it failed.

        Raises:
            KeyError: No intent has this id.
        """
        self._set_intent(intent_id, "failed", detail=detail)

    def abandon_intent(self, intent_id: int, detail: str) -> None:
        """Mark an intent ``abandoned``: reconciliation decided not to pursue it.

        Args:
            intent_id: From `record_intent` or `pending_intents`.
            detail: Why (for example what re-listing the PRs showed).

        Raises:
            KeyError: No intent has this id.
        """
        self._set_intent(intent_id, "abandoned", detail=detail)

    def pending_intents(self, repo_id: str | None = None) -> list[Intent]:
        """Intents whose outcome is unknown: a restarted bot must re-list PRs before writing again.

        Args:
            repo_id: Only this repo's intents; all repos when None.

        Returns:
            The pending intents, oldest first.
        """
        query = f"SELECT {_INTENT_COLUMNS} FROM intents WHERE state = 'pending'"
        params: tuple[str, ...] = ()
        if repo_id is not None:
            query += " AND repo_id = ?"
            params = (repo_id,)
        rows = self._fetchall(query + " ORDER BY id", params)
        return [_intent(row) for row in rows]

    # -- prs -----------------------------------------------------------------------------------

    def record_pr(
        self,
        repo_id: str,
        pr_num: int,
        *,
        source: str,
        fingerprint: str,
        url: str,
        status: PrStatus = "open",
    ) -> PrRow:
        """Record a PR the bot opened, or that it updated if (repo_id, pr_num) is already known.

        On update the ``updates`` count goes up by one and fingerprint, url, status and
        ``updated_at`` are replaced; ``source`` and ``opened_at`` are kept.

        Args:
            repo_id: The model repo.
            pr_num: The PR (discussion) number on the Hub.
            source: The score source the PR carries.
            fingerprint: The fingerprint of the PR's current content.
            url: The PR's web address.
            status: ``open``, ``closed`` or ``merged``.

        Returns:
            The PR's row after the write.

        Raises:
            ValueError: ``status`` is not one of the known statuses.
        """
        _check(status, PrStatus, "status")
        now = self._now()
        with self._write() as conn:
            row = conn.execute(
                f"INSERT INTO prs ({_PR_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) "
                "ON CONFLICT (repo_id, pr_num) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, url = excluded.url, status = excluded.status, "
                "updated_at = excluded.updated_at, updates = prs.updates + 1 "
                f"RETURNING {_PR_COLUMNS}",
                (repo_id, pr_num, source, fingerprint, status, url, now, now),
            ).fetchall()[0]  # drain RETURNING so COMMIT finds no open statement
        return _pr(row)

    def set_pr_status(self, repo_id: str, pr_num: int, status: PrStatus) -> None:
        """Record that a PR was closed, merged or reopened (does not count as an update).

        Args:
            repo_id: The model repo.
            pr_num: The PR number.
            status: ``open``, ``closed`` or ``merged``.

        Raises:
            ValueError: ``status`` is not one of the known statuses.
            KeyError: The PR was never recorded.
        """
        _check(status, PrStatus, "status")
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE prs SET status = ?, updated_at = ? WHERE repo_id = ? AND pr_num = ?",
                (status, self._now(), repo_id, pr_num),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no PR {repo_id}#{pr_num} in the store")

    def get_pr(self, repo_id: str, pr_num: int) -> PrRow | None:
        """The ledger's row for PR ``pr_num`` of ``repo_id``, or None if it was never recorded."""
        row = self._fetchone(f"SELECT {_PR_COLUMNS} FROM prs WHERE repo_id = ? AND pr_num = ?", (repo_id, pr_num))
        return None if row is None else _pr(row)

    def pr_for(self, repo_id: str, source: str) -> PrRow | None:
        """The bot's most recently opened PR on ``repo_id`` for ``source``, whatever its status.

        Args:
            repo_id: The model repo.
            source: The score source.

        Returns:
            The latest PR by ``opened_at`` (ties: highest number), or None.
        """
        row = self._fetchone(
            f"SELECT {_PR_COLUMNS} FROM prs WHERE repo_id = ? AND source = ? "
            "ORDER BY opened_at DESC, pr_num DESC LIMIT 1",
            (repo_id, source),
        )
        return None if row is None else _pr(row)

    def open_prs_in_namespace(self, namespace: str) -> int:
        """How many of the bot's PRs are open in repos under ``namespace/`` (the per-namespace budget).

        Args:
            namespace: A user or organisation name, without the slash; matched exactly (case too).

        Returns:
            The number of open PRs.
        """
        prefix = namespace.rstrip("/") + "/"
        row = self._fetchone(
            "SELECT COUNT(*) FROM prs WHERE status = 'open' AND substr(repo_id, 1, ?) = ?",
            (len(prefix), prefix),
        )
        return int(row[0])

    def prs_opened_since(self, ts: float) -> int:
        """How many PRs the bot opened at or after ``ts``, whatever their status now (per-hour budget).

        Args:
            ts: Seconds since the epoch, on the store's clock.

        Returns:
            The number of PRs.
        """
        row = self._fetchone("SELECT COUNT(*) FROM prs WHERE opened_at >= ?", (ts,))
        return int(row[0])

    def list_prs(self, limit: int = 100) -> list[PrRow]:
        """The bot's PRs, newest first (by ``opened_at``), for the status page.

        Args:
            limit: At most this many rows.

        Returns:
            The PRs.
        """
        rows = self._fetchall(
            f"SELECT {_PR_COLUMNS} FROM prs ORDER BY opened_at DESC, repo_id, pr_num DESC LIMIT ?",
            (limit,),
        )
        return [_pr(row) for row in rows]

    # -- leases --------------------------------------------------------------------------------

    def acquire_lease(self, repo_id: str, owner: str, ttl_seconds: float) -> bool:
        """Try to become the one worker on ``repo_id`` for ``ttl_seconds``. Atomic across processes.

        Succeeds when the repo is free, when its lease has expired (a crashed worker's; its pending
        count is dropped, since this run starts after those triggers), or when ``owner`` already
        holds it (the lease is extended, the pending count kept). When it fails, the holder's
        pending count goes up by one so that it knows a follow-up run is needed.

        Args:
            repo_id: The model repo.
            owner: A name unique to the worker (host, pid, thread).
            ttl_seconds: How long the lease lasts without `renew_lease`.

        Returns:
            True if ``owner`` now holds the lease.

        Raises:
            ValueError: ``ttl_seconds`` is not positive.
        """
        _check_ttl(ttl_seconds)
        now = self._now()
        with self._write(("repo", repo_id)) as conn:
            row = conn.execute("SELECT owner, expires_at FROM leases WHERE repo_id = ?", (repo_id,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO leases (repo_id, owner, expires_at, pending) VALUES (?, ?, ?, 0)",
                    (repo_id, owner, now + ttl_seconds),
                )
                return True
            holder, expires_at = str(row[0]), float(row[1])
            if holder == owner:
                conn.execute("UPDATE leases SET expires_at = ? WHERE repo_id = ?", (now + ttl_seconds, repo_id))
                return True
            if expires_at <= now:
                conn.execute(
                    "UPDATE leases SET owner = ?, expires_at = ?, pending = 0 WHERE repo_id = ?",
                    (owner, now + ttl_seconds, repo_id),
                )
                return True
            conn.execute("UPDATE leases SET pending = pending + 1 WHERE repo_id = ?", (repo_id,))
            return False

    def release_lease(self, repo_id: str, owner: str) -> int:
        """Give the repo back. A no-op unless ``owner`` holds the lease.

        Args:
            repo_id: The model repo.
            owner: The worker that acquired it.

        Returns:
            How many triggers were refused while it was held (run once more if > 0); 0 when
            ``owner`` did not hold the lease.
        """
        with self._write(("repo", repo_id)) as conn:
            row = conn.execute(
                "DELETE FROM leases WHERE repo_id = ? AND owner = ? RETURNING pending", (repo_id, owner)
            ).fetchall()  # drain RETURNING so COMMIT finds no open statement
            return int(row[0][0]) if row else 0

    def renew_lease(self, repo_id: str, owner: str, ttl_seconds: float) -> bool:
        """Extend ``owner``'s lease to ``now + ttl_seconds`` (long jobs call this periodically).

        Args:
            repo_id: The model repo.
            owner: The worker that acquired it.
            ttl_seconds: The new time to live, from now.

        Returns:
            True if ``owner`` still held the lease (even if it had just expired and nobody took
            it); False if it was released or taken over, and the worker should stop writing.

        Raises:
            ValueError: ``ttl_seconds`` is not positive.
        """
        _check_ttl(ttl_seconds)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE leases SET expires_at = ? WHERE repo_id = ? AND owner = ?",
                (self._now() + ttl_seconds, repo_id, owner),
            )
            return cursor.rowcount == 1

    @contextmanager
    def lease(self, repo_id: str, owner: str, ttl_seconds: float) -> Iterator[bool]:
        """`acquire_lease` on entry, `release_lease` on exit (only if it was acquired).

        The pending count from the release is not reported; call `acquire_lease` and
        `release_lease` directly when a follow-up run depends on it.

        Args:
            repo_id: The model repo.
            owner: A name unique to the worker.
            ttl_seconds: How long the lease lasts.

        Yields:
            True if the lease was acquired; the body should do nothing otherwise.
        """
        acquired = self.acquire_lease(repo_id, owner, ttl_seconds)
        try:
            yield acquired
        finally:
            if acquired:
                self.release_lease(repo_id, owner)

    # -- events --------------------------------------------------------------------------------

    def record_event(self, key: str, kind: str, repo_id: str | None, payload: str) -> bool:
        """Log a delivery, once per key: a redelivery (same key) changes nothing.

        Args:
            key: The delivery's dedupe key (stable across redeliveries of the same event).
            kind: What was made of it (the job kind queued, or ``ignored``).
            repo_id: The repo it is about, if any.
            payload: The raw body, kept for inspection and replay.

        Returns:
            True if the key is new; False for a duplicate.

        Raises:
            ValueError: ``key`` is empty.
        """
        if not key:
            raise ValueError("an event key must not be empty")
        if self._fetchone("SELECT 1 FROM events WHERE key = ?", (key,)) is not None:
            return False  # the common redelivery answered without taking the write lock
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO events (key, kind, repo_id, payload, received_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING",
                (key, kind, repo_id, payload, self._now()),
            )
            return cursor.rowcount == 1

    def event_count(self) -> int:
        """How many distinct deliveries were logged."""
        return int(self._fetchone("SELECT COUNT(*) FROM events")[0])

    def recent_events(self, limit: int = 50) -> list[EventRow]:
        """The latest deliveries, newest first, without their payloads.

        Args:
            limit: At most this many rows.

        Returns:
            The events.
        """
        rows = self._fetchall(f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY id DESC LIMIT ?", (limit,))
        return [EventRow(id=int(r[0]), key=r[1], kind=r[2], repo_id=r[3], received_at=float(r[4])) for r in rows]

    def event_payload(self, event_id: int) -> str:
        """The raw body of a logged delivery.

        Args:
            event_id: `EventRow.id`.

        Returns:
            The payload as it was recorded.

        Raises:
            KeyError: No event has this id.
        """
        row = self._fetchone("SELECT payload FROM events WHERE id = ?", (event_id,))
        if row is None:
            raise KeyError(f"no event with id {event_id} in the store")
        return str(row[0])

    # -- jobs ----------------------------------------------------------------------------------

    def enqueue_job(
        self,
        repo_id: str,
        *,
        sources: Sequence[str],
        trigger_key: str,
        revision: str | None = None,
        options: Mapping[str, Any] | None = None,
        kind: str = "run",
        coalesce: bool | None = None,
    ) -> int:
        """Queue work on ``repo_id``, coalescing with what is already queued. Atomic across processes.

        - A job already answers for ``trigger_key`` (as its own key or a merged one): its id is
          returned and nothing changes, whatever its state.
        - Else, if the job coalesces and a ``queued`` job of the same ``kind`` waits for the repo (the
          oldest, if several), the trigger merges into it: sources become the union (the job's first, then the new ones,
          in order), the revision is replaced by ``revision`` unless that is None, the options are
          merged with the new keys winning, ``coalesced`` goes up by one and ``trigger_key`` is
          added to the job's merged keys. Its ``next_run_at`` (a retry's backoff) is kept.
        - Else a new ``queued`` job is inserted, ready now. A running job is never merged into: the
          new job waits until that one finishes (see `claim_job`).

        Args:
            repo_id: The model repo.
            sources: The score sources to run, in order (duplicates dropped).
            trigger_key: What caused it (a delivery key, ``chatops:...``); the dedupe key.
            revision: The commit the trigger saw, if known.
            options: JSON-serialisable settings for the job (stored as JSON).
            kind: The job kind (``run``, ``chatops``...); only jobs of one kind coalesce.
            coalesce: Whether the trigger may merge into a queued job. None (the default) means
                only for ``run`` jobs: a ``chatops`` job is one command, and merging two would
                lose one of them.

        Returns:
            The id of the job that will do the work.

        Raises:
            ValueError: ``trigger_key`` is empty.
            TypeError: ``sources`` is a string, or ``options`` is not JSON-serialisable.
        """
        if not trigger_key:
            raise ValueError("trigger_key must not be empty")
        if isinstance(sources, str):
            raise TypeError(f"sources must be a sequence of source names, not the string {sources!r}")
        new_sources = _union((), sources)
        new_options = dict(options or {})
        options_json = json.dumps(new_options)  # fail here, before the transaction, if it cannot be stored
        now = self._now()
        with self._write(("trigger", trigger_key), ("repo", repo_id)) as conn:
            known = conn.execute("SELECT job_id FROM job_keys WHERE key = ?", (trigger_key,)).fetchone()
            if known is not None:
                return int(known[0])
            queued = None
            if coalesce or (coalesce is None and kind == "run"):
                queued = conn.execute(
                    "SELECT id, sources, revision, options, merged_keys FROM jobs "
                    "WHERE repo_id = ? AND kind = ? AND state = 'queued' ORDER BY id LIMIT 1",
                    (repo_id, kind),
                ).fetchone()
            if queued is not None:
                job_id = int(queued[0])
                merged_options = {**json.loads(queued[3]), **new_options}
                # `state = 'queued'` again: on PostgreSQL a replica may have claimed the job since the SELECT.
                merged = conn.execute(
                    "UPDATE jobs SET sources = ?, revision = ?, options = ?, merged_keys = ?, "
                    "coalesced = coalesced + 1 WHERE id = ? AND state = 'queued'",
                    (
                        json.dumps(list(_union(json.loads(queued[1]), new_sources))),
                        revision if revision is not None else queued[2],
                        json.dumps(merged_options),
                        json.dumps([*json.loads(queued[4]), trigger_key]),
                        job_id,
                    ),
                ).rowcount
                if merged != 1:
                    queued = None
            if queued is None:
                job_id = int(
                    conn.execute(
                        "INSERT INTO jobs (kind, repo_id, sources, revision, trigger_key, options, state, "
                        "next_run_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?) RETURNING id",
                        (kind, repo_id, json.dumps(list(new_sources)), revision, trigger_key, options_json, now, now),
                    ).fetchall()[0][0]  # drain RETURNING so COMMIT finds no open statement
                )
            conn.execute("INSERT INTO job_keys (key, job_id) VALUES (?, ?)", (trigger_key, job_id))
            return job_id

    def claim_job(self, worker: str, lease_seconds: float) -> JobRow | None:
        """Take the next job that may run now, leased to ``worker``. Atomic across processes.

        First every ``running`` job whose lease has expired (its worker crashed or hung) goes back
        to ``queued``, keeping its attempt count. Then the oldest (lowest id) ``queued`` job with
        ``next_run_at <= now`` whose repo has no ``running`` job becomes ``running``: leased to
        ``worker`` until ``now + lease_seconds``, ``attempts`` + 1, ``started_at = now``.

        Args:
            worker: A name unique to the worker (host, pid, thread).
            lease_seconds: How long the lease lasts without `heartbeat`.

        Returns:
            The claimed job, or None when nothing is ready.

        Raises:
            ValueError: ``lease_seconds`` is not positive.
        """
        _check_positive(lease_seconds, "lease_seconds")
        now = self._now()
        if isinstance(self._db, PostgresDatabase):
            return self._claim_job_postgres(self._db, worker, lease_seconds, now)
        with self._write() as conn:  # BEGIN IMMEDIATE: no other writer until COMMIT
            conn.execute(
                "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires = NULL "
                "WHERE state = 'running' AND lease_expires <= ?",
                (now,),
            )
            row = conn.execute(
                "SELECT id FROM jobs AS j WHERE j.state = 'queued' AND j.next_run_at <= ? AND NOT EXISTS ("
                "SELECT 1 FROM jobs AS r WHERE r.repo_id = j.repo_id AND r.state = 'running' AND r.lease_expires > ?"
                ") ORDER BY j.id LIMIT 1",
                (now, now),
            ).fetchone()
            if row is None:
                return None
            return self._start_job(conn, int(row[0]), worker, lease_seconds, now)

    def _claim_job_postgres(self, db: PostgresDatabase, worker: str, lease_seconds: float, now: float) -> JobRow | None:
        """`claim_job` for several replicas: ``FOR UPDATE SKIP LOCKED``, so claimers never wait on each other.

        Expired leases are taken back the same way (rows another claimer holds are left to it).
        Among the ready jobs that no other transaction holds (the oldest first), a job is taken only
        once its repo's claim lock is ours and, checked again under that lock (a fresh snapshot:
        READ COMMITTED), no job of the repo runs: so two replicas never run one repo at once.
        """
        with self._write() as conn:
            conn.execute(
                "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires = NULL WHERE id IN ("
                "SELECT id FROM jobs WHERE state = 'running' AND lease_expires <= ? FOR UPDATE SKIP LOCKED)",
                (now,),
            )
            candidates = conn.execute(
                "SELECT j.id, j.repo_id FROM jobs AS j WHERE j.state = 'queued' AND j.next_run_at <= ? "
                "AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.repo_id = j.repo_id AND r.state = 'running' "
                "AND r.lease_expires > ?) ORDER BY j.id LIMIT ? FOR UPDATE OF j SKIP LOCKED",
                (now, now, _CLAIM_CANDIDATES),
            ).fetchall()
            for job_id, repo_id in candidates:
                if not db.try_lock(conn, "claim", str(repo_id)):
                    continue  # another replica is claiming a job of this repo right now
                running = conn.execute(
                    "SELECT 1 FROM jobs WHERE repo_id = ? AND state = 'running' AND lease_expires > ? LIMIT 1",
                    (repo_id, now),
                ).fetchone()
                if running is None:
                    return self._start_job(conn, int(job_id), worker, lease_seconds, now)
            return None

    def _start_job(self, conn: Connection, job_id: int, worker: str, lease_seconds: float, now: float) -> JobRow:
        claimed = conn.execute(
            "UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires = ?, attempts = attempts + 1, "
            f"started_at = ? WHERE id = ? RETURNING {_JOB_COLUMNS}",
            (worker, now + lease_seconds, now, job_id),
        ).fetchall()[0]  # drain RETURNING so COMMIT finds no open statement
        return _job(claimed)

    def heartbeat(self, job_id: int, worker: str, lease_seconds: float) -> bool:
        """Extend ``worker``'s lease on a running job to ``now + lease_seconds`` (call it periodically).

        Args:
            job_id: The claimed job.
            worker: The worker that claimed it.
            lease_seconds: The new time to live, from now.

        Returns:
            True if ``worker`` still held the job (even if the lease had just expired and nobody
            took the job over); False otherwise, and the worker should stop writing.

        Raises:
            ValueError: ``lease_seconds`` is not positive.
        """
        _check_positive(lease_seconds, "lease_seconds")
        return self._update_owned(job_id, worker, "lease_expires = ?", (self._now() + lease_seconds,))

    def complete_job(self, job_id: int, worker: str, result: Mapping[str, Any]) -> bool:
        """Mark a job ``done`` with its result. A no-op unless ``worker`` holds the job.

        Args:
            job_id: The claimed job.
            worker: The worker that claimed it.
            result: What the job produced; stored as JSON (values JSON cannot hold are stored as text).

        Returns:
            True if it applied; False if ``worker`` no longer held the job (it was taken over).
        """
        return self._update_owned(
            job_id,
            worker,
            "state = 'done', result = ?, finished_at = ?, lease_owner = NULL, lease_expires = NULL",
            (json.dumps(dict(result), default=str), self._now()),
        )

    def fail_job(self, job_id: int, worker: str, error: str, *, retry_in: float | None) -> bool:
        """Record a failed attempt: retry it later, or fail the job for good.

        Args:
            job_id: The claimed job.
            worker: The worker that claimed it.
            error: Why it failed; kept in ``error`` either way.
            retry_in: Seconds from now before it may be claimed again (back to ``queued``, its
                attempts kept); None to make it ``failed`` (final, with ``finished_at``).

        Returns:
            True if it applied; False if ``worker`` no longer held the job.

        Raises:
            ValueError: ``retry_in`` is negative.
        """
        now = self._now()
        if retry_in is None:
            return self._update_owned(
                job_id,
                worker,
                "state = 'failed', error = ?, finished_at = ?, lease_owner = NULL, lease_expires = NULL",
                (error, now),
            )
        if not retry_in >= 0:
            raise ValueError(f"retry_in must be zero or more; got {retry_in!r}")
        return self._update_owned(
            job_id,
            worker,
            "state = 'queued', error = ?, next_run_at = ?, lease_owner = NULL, lease_expires = NULL",
            (error, now + retry_in),
        )

    def release_job(self, job_id: int, worker: str) -> bool:
        """Give a running job back untouched (graceful shutdown): ``queued`` and ready now.

        The attempt is taken back (``attempts`` - 1), since the job did not really run.

        Args:
            job_id: The claimed job.
            worker: The worker that claimed it.

        Returns:
            True if it applied; False if ``worker`` no longer held the job.
        """
        now = self._now()
        return self._update_owned(
            job_id,
            worker,
            "state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_expires = NULL, "
            "next_run_at = CASE WHEN next_run_at > ? THEN ? ELSE next_run_at END",
            (now, now),
        )

    def get_job(self, job_id: int) -> JobRow | None:
        """The job with this id, or None."""
        row = self._fetchone(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else _job(row)

    def list_jobs(self, limit: int = 50, state: str | None = None) -> list[JobRow]:
        """Jobs, newest first (by id), for the status page.

        Args:
            limit: At most this many rows.
            state: Only jobs in this state; all when None.

        Returns:
            The jobs.

        Raises:
            ValueError: ``state`` is not one of the job states.
        """
        if state is None:
            rows = self._fetchall(f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?", (limit,))
        else:
            _check(state, JobState, "state")
            rows = self._fetchall(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE state = ? ORDER BY id DESC LIMIT ?", (state, limit)
            )
        return [_job(row) for row in rows]

    def job_counts(self) -> dict[str, int]:
        """How many jobs are in each state; every state is present, zeros included."""
        counts: dict[str, int] = dict.fromkeys(_JOB_STATES, 0)
        for state, count in self._fetchall("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
            counts[str(state)] = int(count)
        return counts

    def pending_jobs(self) -> int:
        """How many jobs are not finished yet (``queued`` + ``running``)."""
        return int(self._fetchone("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")[0])

    # -- replies -------------------------------------------------------------------------------

    def claim_reply(self, key: str) -> bool:
        """Claim the right to answer a ChatOps command, once: call before posting the reply.

        Args:
            key: The command's key (repo, discussion, comment).

        Returns:
            True if this call claimed it; False if it was claimed before (do not reply again).
        """
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO replies (key, claimed_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, self._now()),
            )
            return cursor.rowcount == 1

    def reply_sent(self, key: str) -> None:
        """Record that the reply claimed under ``key`` was posted.

        Args:
            key: As given to `claim_reply`.

        Raises:
            KeyError: ``key`` was never claimed.
        """
        with self._write() as conn:
            cursor = conn.execute("UPDATE replies SET sent_at = COALESCE(sent_at, ?) WHERE key = ?", (self._now(), key))
            if cursor.rowcount == 0:
                raise KeyError(f"no reply claimed under {key!r}")

    def unsent_replies(self) -> list[str]:
        """Keys claimed but never marked sent (a crash between the two): reconcile them by hand or by re-listing.

        Returns:
            The keys, oldest claim first.
        """
        rows = self._fetchall("SELECT key FROM replies WHERE sent_at IS NULL ORDER BY claimed_at, key")
        return [str(row[0]) for row in rows]

    # -- own commits ---------------------------------------------------------------------------

    def record_own_commit(self, repo_id: str, oid: str) -> None:
        """Remember a commit the bot made, so that the webhook it causes is ignored (idempotent).

        Args:
            repo_id: The model repo.
            oid: The commit id.
        """
        with self._write() as conn:
            conn.execute(
                "INSERT INTO own_commits (repo_id, oid, at) VALUES (?, ?, ?) ON CONFLICT (repo_id, oid) DO NOTHING",
                (repo_id, oid, self._now()),
            )

    def is_own_commit(self, repo_id: str, oid: str) -> bool:
        """Whether the bot made commit ``oid`` on ``repo_id``."""
        return self._fetchone("SELECT 1 FROM own_commits WHERE repo_id = ? AND oid = ?", (repo_id, oid)) is not None

    # -- opt-outs ------------------------------------------------------------------------------

    def opt_out(self, repo_id: str, *, by: str) -> None:
        """Record that ``repo_id`` asked to be left alone (``@evalbot ignore``); a repeat keeps the first.

        Args:
            repo_id: The model repo.
            by: Who asked.
        """
        with self._write() as conn:
            conn.execute(
                "INSERT INTO opt_outs (repo_id, requested_by, at) VALUES (?, ?, ?) ON CONFLICT (repo_id) DO NOTHING",
                (repo_id, by, self._now()),
            )

    def opt_in(self, repo_id: str) -> bool:
        """Undo `opt_out`.

        Args:
            repo_id: The model repo.

        Returns:
            True if the repo had opted out.
        """
        with self._write() as conn:
            return conn.execute("DELETE FROM opt_outs WHERE repo_id = ?", (repo_id,)).rowcount == 1

    def is_opted_out(self, repo_id: str) -> bool:
        """Whether ``repo_id`` asked the bot to leave it alone."""
        return self._fetchone("SELECT 1 FROM opt_outs WHERE repo_id = ?", (repo_id,)) is not None

    # -- internals -----------------------------------------------------------------------------

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

    def _update_owned(self, job_id: int, worker: str, assignments: str, params: tuple[Any, ...]) -> bool:
        """``UPDATE jobs SET <assignments>`` on ``job_id`` if ``worker`` holds it (running, its lease)."""
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (*params, job_id, worker),
            )
            return cursor.rowcount == 1

    def _set_intent(
        self, intent_id: int, state: IntentState, *, pr_num: int | None = None, detail: str | None = None
    ) -> None:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE intents SET state = ?, pr_num = COALESCE(?, pr_num), detail = COALESCE(?, detail), "
                "updated_at = ? WHERE id = ?",
                (state, pr_num, detail, self._now(), intent_id),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no intent with id {intent_id} in the store")


def _intent(row: Any) -> Intent:
    return Intent(
        id=int(row[0]),
        repo_id=row[1],
        source=row[2],
        fingerprint=row[3],
        action=cast(IntentAction, row[4]),
        state=cast(IntentState, row[5]),
        pr_num=None if row[6] is None else int(row[6]),
        detail=row[7],
        created_at=float(row[8]),
        updated_at=float(row[9]),
    )


def _pr(row: Any) -> PrRow:
    return PrRow(
        repo_id=row[0],
        pr_num=int(row[1]),
        source=row[2],
        fingerprint=row[3],
        status=cast(PrStatus, row[4]),
        url=row[5],
        opened_at=float(row[6]),
        updated_at=float(row[7]),
        updates=int(row[8]),
    )


def _job(row: Any) -> JobRow:
    return JobRow(
        id=int(row[0]),
        kind=row[1],
        repo_id=row[2],
        sources=tuple(json.loads(row[3])),
        revision=row[4],
        trigger_key=row[5],
        options=json.loads(row[6]),
        state=cast(JobState, row[7]),
        attempts=int(row[8]),
        coalesced=int(row[9]),
        next_run_at=float(row[10]),
        lease_owner=row[11],
        lease_expires=None if row[12] is None else float(row[12]),
        created_at=float(row[13]),
        started_at=None if row[14] is None else float(row[14]),
        finished_at=None if row[15] is None else float(row[15]),
        error=row[16],
        result=None if row[17] is None else json.loads(row[17]),
    )


def _union(first: Sequence[str], second: Sequence[str]) -> tuple[str, ...]:
    """``first`` then the items of ``second`` not seen yet, each once, in order."""
    return tuple(dict.fromkeys([*first, *second]))


def _check(value: str, allowed: Any, what: str) -> None:
    choices = get_args(allowed)
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}; got {value!r}")


def _check_ttl(ttl_seconds: float) -> None:
    _check_positive(ttl_seconds, "ttl_seconds")


def _check_positive(value: float, what: str) -> None:
    if not value > 0:
        raise ValueError(f"{what} must be positive; got {value!r}")
