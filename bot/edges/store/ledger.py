"""The dedupe ledger: what the bot handled, what it meant to write, which PRs it owns, who holds a repo,
which ChatOps commands it answered, which commits it made itself, and which repos opted out.

Its tables (`bot.edges.store._schema.LEDGER_TABLES`; the queue's are never touched here):

- ``processed``: (repo_id, sha, source) already handled, and how. A ``failed`` outcome is kept for
  the record but does not count as processed, so the next trigger retries it.
- ``intents``: recorded *before* a Hub write (DESIGN §5, crash safety). Whatever is still
  ``pending`` after a restart must be reconciled by re-listing the repo's PRs before writing again.
- ``prs``: the PRs evalbot opened or updated; feeds dedupe, the budgets and the status page.
- ``leases``: one worker per repo at a time. Triggers that arrive while a repo is leased are
  counted in ``pending`` and handed to the holder when it releases (coalescing into one follow-up).
- ``replies``: ChatOps replies claimed and sent, so that a command is answered once, even on redelivery.
- ``own_commits``: commits the bot made itself, so that their webhooks do not trigger it again.
- ``opt_outs``: repos whose owners asked the bot (``@evalbot ignore``) to leave them alone.

>>> ledger = Ledger(database, now=lambda: 1000.0)  # doctest: +SKIP
>>> ledger.acquire_lease("org/model", "worker-1", ttl_seconds=60)  # doctest: +SKIP
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, cast

from bot.edges.store._base import Tables, check_choice, check_positive

# What the ``processed`` table holds (its CHECK constraint lists the same). Not `bot.core.plan.Outcome`:
# a dry run's ``planned`` is never recorded, and ``none`` is a value the table has accepted from the start.
Outcome = Literal["created", "updated", "pushed", "unchanged", "skipped", "none", "failed"]
IntentAction = Literal["open", "update", "push"]
IntentState = Literal["pending", "done", "failed", "abandoned"]
PrStatus = Literal["open", "closed", "merged"]

_PROCESSED_COLUMNS = "repo_id, sha, source, fingerprint, outcome, detail, at"
_INTENT_COLUMNS = "id, repo_id, source, fingerprint, action, state, pr_num, detail, created_at, updated_at"
_PR_COLUMNS = "repo_id, pr_num, source, fingerprint, status, url, opened_at, updated_at, updates"


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


class Ledger(Tables):
    """The dedupe ledger's reads and writes (`Store` is one; so is ``Ledger(database)`` on its own).

    Read-modify-write steps on one repo (taking a lease) hold the repo's lock (`Tables._write`);
    every other write is one statement in its own transaction (reads see the latest commits).
    """

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
        check_choice(outcome, Outcome, "outcome")
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
        check_choice(action, IntentAction, "action")
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
        check_choice(status, PrStatus, "status")
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
        check_choice(status, PrStatus, "status")
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


def _check_ttl(ttl_seconds: float) -> None:
    check_positive(ttl_seconds, "ttl_seconds")
