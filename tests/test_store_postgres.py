"""What only the PostgreSQL store has: URLs, its schema version table, and several replicas'
workers on one database (claims with FOR UPDATE SKIP LOCKED, per-repo locks). The shared
contract runs on both databases in test_store.py and test_store_queue.py."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.config.settings import Settings
from bot.edges.store import _MIGRATIONS, SCHEMA_VERSION, JobRow, Store
from bot.edges.store._db import postgres_ddl, redact
from bot.errors import ConfigError
from bot.serve.worker import Worker, WorkerPolicy
from bot.sim.hub import HubSim
from bot.sim.postgres import PostgresServer
from tests._raw_store import raw_execute

pytestmark = pytest.mark.slow  # a real PostgreSQL server (`make test-fast` leaves these out)

T0 = 1_000_000.0


# -- URLs --------------------------------------------------------------------------------------


EXPECTED = "expected sqlite:///path or postgresql://user@host/dbname"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", f"EVALBOT_DATABASE_URL='mysql://u@h/db': {EXPECTED}"),
        ("/var/lib/evalbot.sqlite3", f"EVALBOT_DATABASE_URL='/var/lib/evalbot.sqlite3': {EXPECTED}"),
        ("mysql://u:pw@h/db", f"EVALBOT_DATABASE_URL='mysql://u:***@h/db': {EXPECTED}"),
        ("sqlite://", "EVALBOT_DATABASE_URL='sqlite://': a SQLite URL is sqlite:///path/to/evalbot.sqlite3"),
    ],
)
def test_a_url_that_names_no_known_database_is_refused_in_one_line(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Store.from_url(url)
    assert str(info.value) == message


def test_a_sqlite_url_opens_that_file(tmp_path: Path) -> None:
    with Store.from_url(f"sqlite:///{tmp_path}/a/store.sqlite3") as store:
        assert store.path == tmp_path / "a" / "store.sqlite3"
        assert store.where == str(tmp_path / "a" / "store.sqlite3")
    assert (tmp_path / "a" / "store.sqlite3").is_file()


def test_an_unreachable_server_is_a_config_error_that_never_shows_the_password(
    postgres_server: PostgresServer,
) -> None:
    url = f"postgresql://evalbot:hunter2-secret@127.0.0.1:{postgres_server.port}/no_such_database"
    with pytest.raises(ConfigError) as info:
        Store.from_url(url)
    message = str(info.value)
    assert message.startswith(
        f"cannot connect to the PostgreSQL store at postgresql://evalbot:***@127.0.0.1:{postgres_server.port}/"
        "no_such_database: connection failed: "
    )
    assert message.endswith(
        'database "no_such_database" does not exist; check EVALBOT_DATABASE_URL and that the server is up'
    )
    assert "hunter2" not in message and "hunter2" not in repr(info.value.__context__)


def test_the_store_and_the_settings_never_print_the_password(postgres_url: str) -> None:
    with_password = postgres_url.replace("evalbot@", "evalbot:hunter2@")  # trust auth ignores it
    assert redact(with_password) == postgres_url.replace("evalbot@", "evalbot:***@")
    with Store.from_url(with_password) as store:
        assert "hunter2" not in repr(store) + store.where
    settings = Settings.from_env({"EVALBOT_DATABASE_URL": with_password})
    assert "hunter2" not in repr(settings)
    assert settings.store_url.reveal() == with_password


def test_the_default_store_url_is_sqlite_under_evalbot_home(tmp_path: Path) -> None:
    settings = Settings.from_env({"EVALBOT_HOME": str(tmp_path)})
    assert settings.store_url.reveal() == f"sqlite:///{tmp_path}/evalbot.sqlite3"


# -- schema ------------------------------------------------------------------------------------


def test_the_schema_version_is_kept_in_its_table_and_a_newer_one_is_refused(postgres_url: str) -> None:
    Store.from_url(postgres_url).close()
    assert raw_execute(postgres_url, "SELECT version FROM evalbot_schema") == [(SCHEMA_VERSION,)]
    types = dict(raw_execute(postgres_url, "SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'jobs'"))  # fmt: skip
    assert (types["id"], types["next_run_at"], types["lease_expires"]) == (
        "bigint",
        "double precision",
        "double precision",
    )
    raw_execute(postgres_url, "UPDATE evalbot_schema SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(ConfigError, match=f"schema version {SCHEMA_VERSION + 1}, but this evalbot knows only up to"):
        Store.from_url(postgres_url)


def test_replicas_starting_together_on_an_empty_database_migrate_it_once(postgres_url: str) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def replica() -> None:
        barrier.wait()
        try:
            Store.from_url(postgres_url).close()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert raw_execute(postgres_url, "SELECT version FROM evalbot_schema") == [(SCHEMA_VERSION,)]


# -- several replicas on one database ----------------------------------------------------------


def test_workers_of_two_replicas_run_each_job_once_and_never_two_of_one_repo_at_a_time(postgres_url: str) -> None:
    """Two stores (two pools, as two `serve` processes have) and 8 workers each, while triggers
    keep arriving: every trigger is answered by exactly one job, every job runs once, and no repo
    ever has two jobs running at once."""
    replicas = [Store.from_url(postgres_url, now=lambda: T0) for _ in range(2)]
    repos = [f"org/m{i}" for i in range(6)]
    triggers = [(f"k{i}", repos[i % len(repos)]) for i in range(240)]
    running: set[str] = set()
    guard = threading.Lock()
    overlaps: list[str] = []
    done: list[int] = []
    feeding = threading.Event()
    feeding.set()

    def feed(part: list[tuple[str, str]], store: Store) -> None:
        for n, (key, repo) in enumerate(part):  # every other trigger never coalesces: many jobs per repo
            store.enqueue_job(repo, sources=["readme"], trigger_key=key, coalesce=n % 2 == 0)
        feeding.clear()

    def work(store: Store, name: str) -> None:
        while True:
            job = store.claim_job(name, 60)
            if job is None:
                if not feeding.is_set() and store.pending_jobs() == 0:
                    return
                continue
            with guard:
                if job.repo_id in running:
                    overlaps.append(job.repo_id)
                running.add(job.repo_id)
            threading.Event().wait(random.uniform(0, 0.003))
            with guard:
                running.discard(job.repo_id)
                done.append(job.id)
            assert store.complete_job(job.id, name, {"by": name})

    rng = random.Random(7)
    shuffled = triggers[:]
    rng.shuffle(shuffled)
    feeders = [threading.Thread(target=feed, args=(shuffled[i::2], replicas[i])) for i in range(2)]
    workers = [threading.Thread(target=work, args=(replicas[i % 2], f"r{i % 2}:w{i}")) for i in range(16)]
    for thread in feeders + workers:
        thread.start()
    for thread in feeders + workers:
        thread.join(timeout=120)
    assert overlaps == []
    assert len(done) == len(set(done))  # no job ran twice
    with replicas[0] as store:
        jobs = store.list_jobs(limit=1000)
        assert {job.state for job in jobs} == {"done"}
        assert sorted(done) == sorted(job.id for job in jobs)
        answered = raw_execute(postgres_url, "SELECT key, job_id FROM job_keys")
        assert sorted(key for key, _ in answered) == sorted(key for key, _ in triggers)  # each trigger once
        by_job = {job.id: job.repo_id for job in jobs}
        assert all(by_job[job_id] == dict(triggers)[key] for key, job_id in answered)
    replicas[1].close()


def test_a_worker_outlives_a_database_restart(postgres_server: PostgresServer, postgres_url: str) -> None:
    """The server goes away under a running worker and comes back: the worker keeps going, and the
    pool replaces the connections the restart cut (no call fails once the server is back)."""
    done: list[int] = []

    def handle(job: JobRow) -> dict[str, object]:
        done.append(job.id)
        return {"reports": []}

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 20
        while len(done) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    with Store.from_url(postgres_url) as store:
        worker = Worker(store, handle, name="w1", policy=WorkerPolicy(lease_seconds=30, poll_seconds=0.01))
        thread = threading.Thread(target=worker.run_forever)
        thread.start()
        try:
            first = store.enqueue_job("org/m1", sources=["readme"], trigger_key="k1")
            wait_for(1)
            postgres_server.shutdown()
            time.sleep(0.2)  # the worker's claims fail meanwhile
            postgres_server.start()
            second = store.enqueue_job("org/m2", sources=["readme"], trigger_key="k2")
            wait_for(2)
        finally:
            worker.stop.set()
            thread.join(timeout=10)
        assert done == [first, second]
        assert [job.state for job in store.list_jobs()] == ["done", "done"]


def test_a_version_1_database_is_upgraded_in_place_keeping_its_rows(postgres_url: str) -> None:
    for statement in _MIGRATIONS[0]:  # a database as the first schema left it
        raw_execute(postgres_url, postgres_ddl(statement))
    raw_execute(postgres_url, "CREATE TABLE evalbot_schema (version INTEGER NOT NULL)")
    raw_execute(postgres_url, "INSERT INTO evalbot_schema (version) VALUES (1)")
    raw_execute(
        postgres_url,
        "INSERT INTO processed (repo_id, sha, source, fingerprint, outcome, detail, at) "
        "VALUES ('org/model', 'sha1', 'readme', 'fp1', 'created', 'PR #3', 123.5)",
    )
    with Store.from_url(postgres_url, now=lambda: T0) as store:
        row = store.is_processed("org/model", "sha1", "readme")
        assert row is not None and (row.fingerprint, row.detail, row.at) == ("fp1", "PR #3", 123.5)
        job_id = store.enqueue_job("org/model", sources=["readme"], trigger_key="k1")
        job = store.claim_job("w1", 60)
        assert job is not None and job.id == job_id
    assert raw_execute(postgres_url, "SELECT version FROM evalbot_schema") == [(SCHEMA_VERSION,)]
    tables = raw_execute(postgres_url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    assert sorted(t for (t,) in tables) == sorted(
        ["evalbot_schema", "processed", "intents", "prs", "leases", "events", "jobs", "job_keys", "replies",
         "own_commits", "opt_outs"]
    )  # fmt: skip


# -- the CLI on a PostgreSQL store -------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "demo"
DEMO_REPO = "acme/Ours-7B-Instruct"


def test_run_keeps_its_ledger_in_the_database_the_url_names(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with HubSim.from_directory(EXAMPLES) as sim:
        monkeypatch.setenv("HF_ENDPOINT", sim.url)
        monkeypatch.setenv("HF_TOKEN", "evalbot-token")
        monkeypatch.setenv("EVALBOT_DATABASE_URL", postgres_url)
        assert main(["run", "--repo-id", DEMO_REPO, "--create-pr"]) == 0
        assert main(["run", "--repo-id", DEMO_REPO, "--create-pr"]) == 0
        out = capsys.readouterr().out
        assert "1 unchanged" in out  # the second run read the first one's ledger from PostgreSQL
        assert len([d for d in sim.discussions(DEMO_REPO) if d.is_pr]) == 1
    assert raw_execute(postgres_url, "SELECT repo_id, pr_num, status FROM prs") == [(DEMO_REPO, 1, "open")]
    assert not (Path(os.environ["EVALBOT_HOME"]) / "evalbot.sqlite3").exists()


def test_a_bad_database_url_stops_the_cli_in_one_line_before_any_hub_write(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with HubSim.from_directory(EXAMPLES) as sim:
        monkeypatch.setenv("HF_ENDPOINT", sim.url)
        monkeypatch.setenv("HF_TOKEN", "evalbot-token")
        monkeypatch.setenv("EVALBOT_DATABASE_URL", "mysql://bot:s3cret@db/evalbot")
        assert main(["run", "--repo-id", DEMO_REPO, "--create-pr"]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.endswith(f"EVALBOT_DATABASE_URL='mysql://bot:***@db/evalbot': {EXPECTED}")
        assert sim.request_count(method="POST") == 0
