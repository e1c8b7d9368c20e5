"""The store's schema: every table's DDL, as migrations, and which part of the store owns each table.

The DDL is SQLite's dialect (`bot.edges.store._db.postgres_ddl` rewrites the few words PostgreSQL
spells differently). `bot.edges.store._db.Database.migrate` applies the missing entries in one
transaction and records the version; a shipped entry is never edited, since databases out there
already ran it: a new table or column is a new entry at the end.

Each table belongs to one part of the store: `LEDGER_TABLES` to `bot.edges.store.ledger.Ledger`,
`QUEUE_TABLES` to `bot.edges.store.queue.Queue`; neither part reads or writes the other's.

>>> migrate(database)  # doctest: +SKIP
"""

from __future__ import annotations

from bot.edges.store._db import Database

SCHEMA_VERSION = 2

# Schema migrations: entry i takes the database from user_version i to i + 1. Append, never edit.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
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
assert len(MIGRATIONS) == SCHEMA_VERSION

#: The dedupe ledger's tables (`Ledger`): what was handled, meant, opened, leased, answered, made, refused.
LEDGER_TABLES = ("processed", "intents", "prs", "leases", "replies", "own_commits", "opt_outs")
#: The service queue's tables (`Queue`): deliveries, and the jobs (with every trigger key) they became.
QUEUE_TABLES = ("events", "jobs", "job_keys")


def migrate(db: Database) -> None:
    """Bring ``db``'s schema up to `SCHEMA_VERSION` (a no-op when it is there already).

    Raises:
        ConfigError: The database has a newer schema than this evalbot knows.
    """
    db.migrate(MIGRATIONS)
