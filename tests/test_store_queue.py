"""The store's queue (schema 2): events, jobs, replies, own commits, opt-outs; the migration from 1."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.edges.store import DB_FILENAME, SCHEMA_VERSION, EventRow, JobRow, Store
from bot.errors import ConfigError
from tests._raw_store import INTEGRITY_ERRORS, T0, Clock, raw_execute

REPO = "org/model"
OTHER = "org/other"


def claimed(job: JobRow | None) -> JobRow:
    assert job is not None
    return job


# -- events ------------------------------------------------------------------------------------


def test_event_is_recorded_once_and_listed_newest_first_without_its_payload(store: Store, clock: Clock) -> None:
    assert store.event_count() == 0
    assert store.recent_events() == []
    assert store.record_event("d1", "run", REPO, '{"n": 1}') is True
    clock.t += 1
    assert store.record_event("d2", "ignored", None, '{"n": 2}') is True
    clock.t += 1
    assert store.record_event("d1", "run", REPO, '{"n": "redelivered"}') is False
    assert store.event_count() == 2
    events = store.recent_events()
    assert events == [
        EventRow(events[0].id, "d2", "ignored", None, T0 + 1),
        EventRow(events[1].id, "d1", "run", REPO, T0),
    ]
    assert events[0].id > events[1].id
    assert store.recent_events(limit=1) == events[:1]
    assert store.event_payload(events[1].id) == '{"n": 1}'  # the duplicate changed nothing
    with pytest.raises(KeyError):
        store.event_payload(999)
    with pytest.raises(ValueError, match="must not be empty"):
        store.record_event("", "run", REPO, "{}")


def test_one_thousand_deliveries_of_one_key_from_eight_threads_record_it_once(store_url: str) -> None:
    store = Store.from_url(store_url)
    barrier = threading.Barrier(8)
    results: list[bool] = []
    lock = threading.Lock()

    def deliver() -> None:
        barrier.wait()
        mine = [store.record_event("same-key", "run", REPO, "{}") for _ in range(125)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1000
    assert results.count(True) == 1
    assert store.event_count() == 1
    store.close()


def test_eight_threads_enqueueing_the_same_triggers_coalesce_them_without_losing_one(store_url: str) -> None:
    """Every thread sends the same 40 triggers for 4 repos (redeliveries racing each other): each
    trigger is answered by one job, all threads get the same answer, and every source arrives."""
    store = Store.from_url(store_url, now=lambda: T0)
    barrier = threading.Barrier(8)
    answers: list[dict[str, int]] = []
    lock = threading.Lock()
    triggers = [(f"k{i}", f"org/m{i % 4}", f"s{i}") for i in range(40)]

    def deliver() -> None:
        barrier.wait()
        mine = {key: store.enqueue_job(repo, sources=[source], trigger_key=key) for key, repo, source in triggers}
        with lock:
            answers.append(mine)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and all(answer == answers[0] for answer in answers)
    jobs = store.list_jobs(limit=100)
    assert len(jobs) == 4  # nothing ran, so each repo's triggers coalesced into its one queued job
    for job in jobs:
        expected = {source for key, repo, source in triggers if repo == job.repo_id}
        assert set(job.sources) == expected and job.coalesced == len(expected) - 1
        assert {answers[0][key] for key, repo, _ in triggers if repo == job.repo_id} == {job.id}
    store.close()


# -- enqueue and coalescing --------------------------------------------------------------------


def test_a_new_job_is_queued_with_its_fields(store: Store, clock: Clock) -> None:
    job_id = store.enqueue_job(
        REPO, sources=["readme", "aa", "readme"], trigger_key="k1", revision="sha1", options={"tasks": ["mmlu"]}
    )
    assert store.get_job(job_id) == JobRow(
        id=job_id,
        kind="run",
        repo_id=REPO,
        sources=("readme", "aa"),
        revision="sha1",
        trigger_key="k1",
        options={"tasks": ["mmlu"]},
        state="queued",
        attempts=0,
        coalesced=0,
        next_run_at=clock.t,
        lease_owner=None,
        lease_expires=None,
        created_at=clock.t,
        started_at=None,
        finished_at=None,
        error=None,
        result=None,
    )
    assert store.get_job(job_id + 1) is None


def test_the_same_trigger_key_returns_the_same_job_unchanged(store: Store) -> None:
    first = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1", revision="sha1")
    again = store.enqueue_job(REPO, sources=["aa"], trigger_key="k1", revision="sha2", options={"x": 1})
    assert again == first
    job = claimed(store.get_job(first))
    assert (job.sources, job.revision, job.options, job.coalesced) == (("readme",), "sha1", {}, 0)
    assert store.job_counts()["queued"] == 1


def test_a_second_trigger_merges_into_the_queued_job_of_the_repo(store: Store, clock: Clock) -> None:
    first = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1", revision="sha1", options={"a": 1, "b": 1})
    clock.t += 5
    merged = store.enqueue_job(REPO, sources=["aa", "readme"], trigger_key="k2", revision="sha2", options={"b": 2})
    assert merged == first
    job = claimed(store.get_job(first))
    assert job.sources == ("readme", "aa")
    assert job.revision == "sha2"
    assert job.options == {"a": 1, "b": 2}
    assert job.coalesced == 1
    assert (job.trigger_key, job.created_at, job.next_run_at) == ("k1", T0, T0)
    # A trigger without a revision keeps the known one.
    assert store.enqueue_job(REPO, sources=["eval"], trigger_key="k3") == first
    job = claimed(store.get_job(first))
    assert (job.sources, job.revision, job.coalesced) == (("readme", "aa", "eval"), "sha2", 2)
    # A redelivery of a merged trigger is recognised too: nothing changes.
    assert store.enqueue_job(REPO, sources=["other"], trigger_key="k2", revision="sha9") == first
    job = claimed(store.get_job(first))
    assert (job.sources, job.revision, job.coalesced) == (("readme", "aa", "eval"), "sha2", 2)
    assert store.job_counts() == {"queued": 1, "running": 0, "done": 0, "failed": 0}


def test_merged_keys_are_kept_as_a_json_list(store: Store, store_url: str) -> None:
    job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    store.enqueue_job(REPO, sources=["readme"], trigger_key="k2")
    store.enqueue_job(REPO, sources=["readme"], trigger_key="k3")
    assert raw_execute(store_url, "SELECT merged_keys FROM jobs WHERE id = ?", (job_id,)) == [('["k2", "k3"]',)]


def test_jobs_of_another_repo_or_kind_do_not_coalesce(store: Store) -> None:
    run = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    other_repo = store.enqueue_job(OTHER, sources=["readme"], trigger_key="k2")
    chatops = store.enqueue_job(REPO, sources=[], trigger_key="k3", kind="chatops", options={"num": 1})
    assert len({run, other_repo, chatops}) == 3
    assert claimed(store.get_job(chatops)).kind == "chatops"
    assert store.job_counts()["queued"] == 3


def test_chatops_jobs_are_one_command_each_and_never_merge_unless_asked(store: Store) -> None:
    first = store.enqueue_job(REPO, sources=[], trigger_key="c1", kind="chatops", options={"comment_id": "1"})
    second = store.enqueue_job(REPO, sources=[], trigger_key="c2", kind="chatops", options={"comment_id": "2"})
    assert first != second
    assert [j.options for j in store.list_jobs()] == [{"comment_id": "2"}, {"comment_id": "1"}]
    assert store.enqueue_job(REPO, sources=[], trigger_key="c1", kind="chatops") == first  # still deduped
    # The default can be overridden either way.
    assert store.enqueue_job(REPO, sources=["x"], trigger_key="c3", kind="chatops", coalesce=True) == first
    run = store.enqueue_job(REPO, sources=["readme"], trigger_key="r1")
    assert store.enqueue_job(REPO, sources=["readme"], trigger_key="r2", coalesce=False) != run
    assert store.job_counts()["queued"] == 4


def test_a_trigger_while_the_repo_runs_queues_a_new_job_that_waits_for_the_running_one(
    store: Store, clock: Clock
) -> None:
    first = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1", revision="sha1")
    assert claimed(store.claim_job("w1", 60)).id == first
    second = store.enqueue_job(REPO, sources=["aa"], trigger_key="k2", revision="sha2")
    assert second != first
    job = claimed(store.get_job(second))
    assert (job.state, job.sources, job.revision, job.coalesced) == ("queued", ("aa",), "sha2", 0)
    # A third trigger coalesces into the new queued job, not the running one.
    assert store.enqueue_job(REPO, sources=["readme"], trigger_key="k3") == second
    assert claimed(store.get_job(first)).sources == ("readme",)
    assert store.claim_job("w2", 60) is None  # the repo is busy
    clock.t += 30
    assert store.complete_job(first, "w1", {"ok": True}) is True
    job = claimed(store.claim_job("w2", 60))
    assert (job.id, job.sources, job.coalesced, job.attempts) == (second, ("aa", "readme"), 1, 1)


def test_bad_enqueue_arguments_are_rejected(store: Store) -> None:
    with pytest.raises(TypeError, match="not the string"):
        store.enqueue_job(REPO, sources="readme", trigger_key="k1")
    with pytest.raises(ValueError, match="trigger_key must not be empty"):
        store.enqueue_job(REPO, sources=["readme"], trigger_key="")
    with pytest.raises(TypeError):
        store.enqueue_job(REPO, sources=["readme"], trigger_key="k1", options={"x": object()})
    assert store.job_counts()["queued"] == 0


# -- claiming ----------------------------------------------------------------------------------


def test_claim_takes_the_oldest_ready_job_and_leases_it(store: Store, clock: Clock) -> None:
    a = store.enqueue_job(REPO, sources=["readme"], trigger_key="ka")
    clock.t += 1
    b = store.enqueue_job(OTHER, sources=["readme"], trigger_key="kb")
    clock.t += 1
    job = claimed(store.claim_job("w1", 60))
    assert job == JobRow(
        id=a,
        kind="run",
        repo_id=REPO,
        sources=("readme",),
        revision=None,
        trigger_key="ka",
        options={},
        state="running",
        attempts=1,
        coalesced=0,
        next_run_at=T0,
        lease_owner="w1",
        lease_expires=clock.t + 60,
        created_at=T0,
        started_at=clock.t,
        finished_at=None,
        error=None,
        result=None,
    )
    assert store.get_job(a) == job
    assert claimed(store.claim_job("w2", 60)).id == b
    assert store.claim_job("w3", 60) is None
    with pytest.raises(ValueError, match="lease_seconds must be positive"):
        store.claim_job("w3", 0)


def test_one_job_per_repo_runs_at_a_time_with_two_repos_and_two_workers(store: Store, clock: Clock) -> None:
    a1 = store.enqueue_job(REPO, sources=["readme"], trigger_key="a1")
    assert claimed(store.claim_job("w1", 60)).id == a1
    a2 = store.enqueue_job(REPO, sources=["aa"], trigger_key="a2")  # REPO is running: a new job
    b1 = store.enqueue_job(OTHER, sources=["readme"], trigger_key="b1")
    assert b1 > a2 > a1
    assert store.enqueue_job(OTHER, sources=["aa"], trigger_key="b2") == b1  # OTHER is only queued: merged
    assert claimed(store.claim_job("w2", 60)).id == b1  # a2 is older, but its repo is busy
    assert store.claim_job("w3", 60) is None  # a2 waits for a1; OTHER is busy too
    assert store.complete_job(b1, "w2", {}) is True
    assert store.claim_job("w2", 60) is None  # a1 still runs
    assert store.complete_job(a1, "w1", {}) is True
    job = claimed(store.claim_job("w2", 60))
    assert (job.id, job.repo_id, job.sources, job.lease_owner) == (a2, REPO, ("aa",), "w2")
    assert store.job_counts() == {"queued": 0, "running": 1, "done": 2, "failed": 0}


def test_an_expired_lease_is_reclaimed_by_another_worker_with_two_attempts(store: Store, clock: Clock) -> None:
    job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    assert claimed(store.claim_job("crashed", 60)).attempts == 1
    clock.t += 59
    assert store.claim_job("w2", 60) is None  # still leased
    clock.t += 1
    job = claimed(store.claim_job("w2", 60))
    assert (job.id, job.attempts, job.lease_owner, job.lease_expires, job.started_at) == (
        job_id,
        2,
        "w2",
        clock.t + 60,
        clock.t,
    )
    # The crashed worker lost the job: whatever it sends now is ignored.
    assert store.heartbeat(job_id, "crashed", 60) is False
    assert store.complete_job(job_id, "crashed", {"stale": True}) is False
    assert store.fail_job(job_id, "crashed", "boom", retry_in=None) is False
    assert store.release_job(job_id, "crashed") is False
    assert store.complete_job(job_id, "w2", {"ok": True}) is True
    done = claimed(store.get_job(job_id))
    assert (done.state, done.result, done.attempts) == ("done", {"ok": True}, 2)


def test_heartbeat_extends_only_the_owners_lease(store: Store, clock: Clock) -> None:
    job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    store.claim_job("w1", 60)
    clock.t += 50
    assert store.heartbeat(job_id, "w1", 60) is True
    assert claimed(store.get_job(job_id)).lease_expires == clock.t + 60
    assert store.heartbeat(job_id, "w2", 60) is False
    assert store.heartbeat(999, "w1", 60) is False
    clock.t += 50  # past the first expiry, within the extended one
    assert store.claim_job("w2", 60) is None
    clock.t += 10
    assert claimed(store.claim_job("w2", 60)).lease_owner == "w2"
    with pytest.raises(ValueError, match="lease_seconds must be positive"):
        store.heartbeat(job_id, "w2", -1)


def test_complete_stores_the_result_and_frees_the_lease(store: Store, clock: Clock) -> None:
    job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    store.claim_job("w1", 60)
    clock.t += 7
    assert store.complete_job(job_id, "w1", {"reports": [{"outcome": "created"}], "path": Path("x")}) is True
    job = claimed(store.get_job(job_id))
    assert (job.state, job.finished_at, job.lease_owner, job.lease_expires, job.error) == (
        "done",
        clock.t,
        None,
        None,
        None,
    )
    assert job.result == {"reports": [{"outcome": "created"}], "path": "x"}  # non-JSON values kept as text
    assert store.complete_job(job_id, "w1", {}) is False  # not running any more
    assert store.pending_jobs() == 0


def test_fail_with_retry_requeues_after_the_delay_and_keeps_the_error(store: Store, clock: Clock) -> None:
    job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    store.claim_job("w1", 60)
    clock.t += 5
    assert store.fail_job(job_id, "w1", "HTTP 502", retry_in=30) is True
    job = claimed(store.get_job(job_id))
    assert (job.state, job.next_run_at, job.error, job.attempts, job.lease_owner, job.finished_at) == (
        "queued",
        clock.t + 30,
        "HTTP 502",
        1,
        None,
        None,
    )
    assert store.pending_jobs() == 1
    clock.t += 29
    assert store.claim_job("w2", 60) is None  # not before next_run_at
    clock.t += 1
    job = claimed(store.claim_job("w2", 60))
    assert (job.id, job.attempts, job.error) == (job_id, 2, "HTTP 502")
    assert store.fail_job(job_id, "w2", "HTTP 404", retry_in=None) is True
    job = claimed(store.get_job(job_id))
    assert (job.state, job.error, job.finished_at, job.attempts) == ("failed", "HTTP 404", clock.t, 2)
    assert store.pending_jobs() == 0
    assert store.claim_job("w3", 60) is None  # failed is final


def test_a_retrying_job_does_not_hold_back_other_repos(store: Store, clock: Clock) -> None:
    first = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    store.claim_job("w1", 60)
    store.fail_job(first, "w1", "HTTP 503", retry_in=60)
    other = store.enqueue_job(OTHER, sources=["readme"], trigger_key="k2")
    assert claimed(store.claim_job("w1", 60)).id == other
    with pytest.raises(ValueError, match="retry_in"):
        store.fail_job(other, "w1", "x", retry_in=-1)


def test_release_on_shutdown_requeues_the_job_without_counting_the_attempt(store: Store, clock: Clock) -> None:
    job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    store.claim_job("w1", 60)
    assert store.release_job(job_id, "w2") is False  # not the owner
    clock.t += 3
    assert store.release_job(job_id, "w1") is True
    job = claimed(store.get_job(job_id))
    assert (job.state, job.attempts, job.lease_owner, job.lease_expires, job.next_run_at) == (
        "queued",
        0,
        None,
        None,
        T0,
    )
    assert store.release_job(job_id, "w1") is False  # no longer running
    job = claimed(store.claim_job("w2", 60))  # ready at once, for another worker
    assert (job.id, job.attempts) == (job_id, 1)


def test_job_counts_list_jobs_and_pending_jobs(store: Store, clock: Clock) -> None:
    assert store.job_counts() == {"queued": 0, "running": 0, "done": 0, "failed": 0}
    assert store.pending_jobs() == 0
    ids = [store.enqueue_job(f"org/m{i}", sources=["readme"], trigger_key=f"k{i}") for i in range(5)]
    store.claim_job("w", 60)  # m0
    store.claim_job("w", 60)  # m1
    store.claim_job("w", 60)  # m2
    store.complete_job(ids[0], "w", {})
    store.fail_job(ids[1], "w", "bad", retry_in=None)
    assert store.job_counts() == {"queued": 2, "running": 1, "done": 1, "failed": 1}
    assert store.pending_jobs() == 3
    assert [j.id for j in store.list_jobs()] == ids[::-1]
    assert [j.id for j in store.list_jobs(limit=2)] == [ids[4], ids[3]]
    assert [j.id for j in store.list_jobs(state="queued")] == [ids[4], ids[3]]
    assert [j.id for j in store.list_jobs(state="running")] == [ids[2]]
    assert [j.id for j in store.list_jobs(state="failed")] == [ids[1]]
    with pytest.raises(ValueError, match="state must be one of"):
        store.list_jobs(state="lost")


def test_a_queued_job_survives_a_restart(store_url: str, clock: Clock) -> None:
    first = Store.from_url(store_url, now=clock)
    job_id = first.enqueue_job(REPO, sources=["readme"], trigger_key="k1", options={"n": 1})
    first.claim_job("crashed", 60)
    # The process dies here, its job still leased.
    clock.t += 60
    with Store.from_url(store_url, now=clock) as restarted:
        job = claimed(restarted.claim_job("w2", 60))
        assert (job.id, job.options, job.attempts) == (job_id, {"n": 1}, 2)
    first.close()


def _claim_all_in_process(
    url: str,
    worker: str,
    barrier: multiprocessing.synchronize.Barrier,
    out: multiprocessing.queues.Queue[tuple[str, list[int]]],
) -> None:
    """One bot process: claim and complete jobs until none is left (a fixed clock: no lease expires)."""
    mine: list[int] = []
    with Store.from_url(url, now=lambda: T0) as store:
        barrier.wait()
        while (job := store.claim_job(worker, 60)) is not None:
            mine.append(job.id)
            assert store.complete_job(job.id, worker, {"by": worker})
    out.put((worker, mine))


def test_four_processes_claiming_from_one_store_take_each_job_exactly_once(store_url: str) -> None:
    with Store.from_url(store_url, now=lambda: T0) as store:
        ids = [store.enqueue_job(f"org/m{i}", sources=["readme"], trigger_key=f"k{i}") for i in range(40)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    out: multiprocessing.queues.Queue[tuple[str, list[int]]] = ctx.Queue()
    procs = [ctx.Process(target=_claim_all_in_process, args=(store_url, f"p{i}", barrier, out)) for i in range(4)]
    for proc in procs:
        proc.start()
    results = dict(out.get(timeout=30) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    claims = [job_id for mine in results.values() for job_id in mine]
    assert sorted(claims) == ids  # every job, each once
    with Store.from_url(store_url, now=lambda: T0) as store:
        assert store.job_counts() == {"queued": 0, "running": 0, "done": 40, "failed": 0}
        for job in store.list_jobs(limit=100):
            assert job.attempts == 1
            assert job.result is not None
            assert job.id in results[job.result["by"]]  # completed by the process that claimed it


# -- replies and own commits -------------------------------------------------------------------


def test_a_reply_is_claimed_once_and_unsent_claims_are_listed(store: Store, clock: Clock) -> None:
    assert store.claim_reply("org/model#3:c1") is True
    assert store.claim_reply("org/model#3:c1") is False  # a redelivery does not reply again
    clock.t += 1
    assert store.claim_reply("org/model#3:c2") is True
    assert store.unsent_replies() == ["org/model#3:c1", "org/model#3:c2"]
    store.reply_sent("org/model#3:c1")
    assert store.unsent_replies() == ["org/model#3:c2"]
    assert store.claim_reply("org/model#3:c1") is False  # still claimed once sent
    with pytest.raises(KeyError):
        store.reply_sent("never-claimed")


def test_own_commits_are_recognised_per_repo(store: Store) -> None:
    assert store.is_own_commit(REPO, "abc") is False
    store.record_own_commit(REPO, "abc")
    store.record_own_commit(REPO, "abc")  # idempotent
    assert store.is_own_commit(REPO, "abc") is True
    assert store.is_own_commit(OTHER, "abc") is False
    assert store.is_own_commit(REPO, "abd") is False


def test_opt_out_and_back_in(store: Store) -> None:
    assert store.is_opted_out(REPO) is False
    store.opt_out(REPO, by="owner")
    store.opt_out(REPO, by="owner")
    assert store.is_opted_out(REPO) is True
    assert store.is_opted_out(OTHER) is False
    assert store.opt_in(REPO) is True
    assert store.opt_in(REPO) is False
    assert store.is_opted_out(REPO) is False


# -- schema and migration ----------------------------------------------------------------------

# The version-1 schema exactly as evalbot shipped it (copied, so that an edit to migration 0 is caught).
V1_DDL = (
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
)


def _schema(path: Path) -> list[tuple[str, str, str]]:
    raw = sqlite3.connect(path)
    try:
        rows = raw.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").fetchall()
    finally:
        raw.close()
    return [(str(t), str(n), str(s)) for t, n, s in rows]


def test_a_version_1_file_is_upgraded_in_place_keeping_its_rows(tmp_path: Path, clock: Clock) -> None:
    old = tmp_path / "old"
    old.mkdir()
    raw = sqlite3.connect(old / DB_FILENAME)
    raw.execute("PRAGMA journal_mode = WAL")
    for statement in V1_DDL:
        raw.execute(statement)
    raw.execute(
        "INSERT INTO processed (repo_id, sha, source, fingerprint, outcome, detail, at) "
        "VALUES (?, 'sha1', 'readme', 'fp1', 'created', 'PR #3', 123.0)",
        (REPO,),
    )
    raw.execute("INSERT INTO prs VALUES (?, 3, 'readme', 'fp1', 'open', 'u3', 100.0, 100.0, 0)", (REPO,))
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()

    with Store.open(old, now=clock) as store:
        row = store.is_processed(REPO, "sha1", "readme")
        assert row is not None
        assert (row.fingerprint, row.outcome, row.detail, row.at) == ("fp1", "created", "PR #3", 123.0)
        assert store.open_prs_in_namespace("org") == 1
        job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
        assert claimed(store.claim_job("w1", 60)).id == job_id
        assert store.complete_job(job_id, "w1", {"ok": True}) is True
        assert store.record_event("d1", "run", REPO, "{}") is True
    raw = sqlite3.connect(old / DB_FILENAME)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    finally:
        raw.close()
    # The upgraded file has exactly the schema of a file created new.
    Store.open(tmp_path / "new").close()
    assert _schema(old / DB_FILENAME) == _schema(tmp_path / "new" / DB_FILENAME)
    # Opening it again changes nothing.
    with Store.open(old, now=clock) as store:
        assert store.is_processed(REPO, "sha1", "readme") is not None
        assert store.job_counts()["done"] == 1


def test_a_database_from_a_newer_evalbot_is_still_refused(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    raw = sqlite3.connect(tmp_path / DB_FILENAME)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(ConfigError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Store.open(tmp_path)


def test_a_job_row_cannot_be_running_without_a_lease(store: Store, store_url: str) -> None:
    job_id = store.enqueue_job(REPO, sources=["readme"], trigger_key="k1")
    with pytest.raises(INTEGRITY_ERRORS):
        raw_execute(store_url, "UPDATE jobs SET state = 'running' WHERE id = ?", (job_id,))
    with pytest.raises(INTEGRITY_ERRORS):
        raw_execute(store_url, "UPDATE jobs SET state = 'lost' WHERE id = ?", (job_id,))
