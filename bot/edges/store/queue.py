"""The service queue (DESIGN §8): webhook deliveries in, leased jobs out.

Its tables (`bot.edges.store._schema.QUEUE_TABLES`; the ledger's are never touched here):

- ``events``: webhook deliveries, deduplicated by their key (a redelivery does nothing).
- ``jobs`` (with ``job_keys``, every trigger key a job answers for): the work queue. Triggers for a
  repo coalesce into its one queued ``run`` job (jobs of other kinds, such as a ChatOps command's,
  never coalesce); workers claim jobs with leases (a crashed worker's job is retried when its lease
  expires) and at most one job per repo runs at a time.

Claims are the one statement that differs between the databases: SQLite's ``BEGIN IMMEDIATE``
already excludes every other writer; on PostgreSQL several replicas claim at once, with ``FOR UPDATE
SKIP LOCKED`` and a per-repo advisory lock.

>>> queue = Queue(database, now=lambda: 1000.0)  # doctest: +SKIP
>>> job_id = queue.enqueue_job("org/model", sources=["readme"], trigger_key="delivery-1")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from bot.edges.store._base import Tables, check_choice, check_positive
from bot.edges.store._db import Connection, PostgresDatabase

JobState = Literal["queued", "running", "done", "failed"]

_EVENT_COLUMNS = "id, key, kind, repo_id, received_at"
_JOB_COLUMNS = (
    "id, kind, repo_id, sources, revision, trigger_key, options, state, attempts, coalesced, next_run_at, "
    "lease_owner, lease_expires, created_at, started_at, finished_at, error, result"
)
_JOB_STATES: tuple[JobState, ...] = get_args(JobState)
# PostgreSQL claims look at this many ready jobs at most (those of repos being claimed elsewhere are passed over).
_CLAIM_CANDIDATES = 32


@dataclass(frozen=True)
class EventRow:
    """A webhook delivery as logged (its payload is fetched separately, with `Queue.event_payload`)."""

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


class Queue(Tables):
    """The service queue's reads and writes (`Store` is one; so is ``Queue(database)`` on its own).

    Enqueueing holds the trigger's then the repo's lock (`Tables._write`), so that coalescing and
    idempotent enqueue are atomic across replicas; claims are atomic across processes.
    """

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
        check_positive(lease_seconds, "lease_seconds")
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
        check_positive(lease_seconds, "lease_seconds")
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
            check_choice(state, JobState, "state")
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

    # -- internals -----------------------------------------------------------------------------

    def _update_owned(self, job_id: int, worker: str, assignments: str, params: tuple[Any, ...]) -> bool:
        """``UPDATE jobs SET <assignments>`` on ``job_id`` if ``worker`` holds it (running, its lease)."""
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (*params, job_id, worker),
            )
            return cursor.rowcount == 1


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
