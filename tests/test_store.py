"""The SQLite ledger: processed keys, intents, PRs, leases; reopening, threads and processes."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.edges.store import DB_FILENAME, SCHEMA_VERSION, Intent, ProcessedRow, PrRow, Store
from bot.errors import ConfigError
from tests._raw_store import Clock

REPO = "org/model"


# -- opening -----------------------------------------------------------------------------------


def test_open_creates_the_file_under_a_nested_home_that_did_not_exist(tmp_path: Path) -> None:
    home = tmp_path / "a" / "b" / "evalbot-home"
    with Store.open(home) as store:
        assert store.path == home / DB_FILENAME
    assert (home / "evalbot.sqlite3").is_file()


def test_database_is_in_wal_mode_with_the_schema_version_set(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    raw = sqlite3.connect(tmp_path / DB_FILENAME)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"processed", "intents", "prs", "leases"} <= tables
    finally:
        raw.close()


def test_a_database_from_a_newer_evalbot_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    raw = sqlite3.connect(tmp_path / DB_FILENAME)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(ConfigError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Store.open(tmp_path)


def test_a_closed_store_refuses_further_use(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.is_processed(REPO, "sha1", "readme")


# -- processed ---------------------------------------------------------------------------------


def test_processed_key_is_recorded_then_found(store: Store, clock: Clock) -> None:
    assert store.is_processed(REPO, "sha1", "readme") is None
    store.mark_processed(REPO, "sha1", "readme", outcome="created", fingerprint="fp1", detail="PR #3")
    assert store.is_processed(REPO, "sha1", "readme") == ProcessedRow(
        REPO, "sha1", "readme", "fp1", "created", "PR #3", clock.t
    )
    # Another sha or source is another key.
    assert store.is_processed(REPO, "sha2", "readme") is None
    assert store.is_processed(REPO, "sha1", "aa") is None


def test_processed_upsert_replaces_the_row(store: Store, clock: Clock) -> None:
    store.mark_processed(REPO, "sha1", "readme", outcome="created", fingerprint="fp1")
    clock.t += 60
    store.mark_processed(REPO, "sha1", "readme", outcome="unchanged")
    assert store.is_processed(REPO, "sha1", "readme") == ProcessedRow(
        REPO, "sha1", "readme", None, "unchanged", "", clock.t
    )


def test_failed_outcome_is_not_counted_as_processed_so_it_is_retried(store: Store) -> None:
    store.mark_processed(REPO, "sha1", "readme", outcome="failed", detail="HTTP 500")
    assert store.is_processed(REPO, "sha1", "readme") is None
    store.mark_processed(REPO, "sha1", "readme", outcome="skipped", detail="budget")
    row = store.is_processed(REPO, "sha1", "readme")
    assert row is not None
    assert (row.outcome, row.detail) == ("skipped", "budget")


def test_unknown_outcome_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="outcome must be one of"):
        store.mark_processed(REPO, "sha1", "readme", outcome="weird")  # type: ignore[arg-type]


# -- intents -----------------------------------------------------------------------------------


def test_intent_goes_from_pending_to_done_with_its_pr_number(store: Store, clock: Clock) -> None:
    created = clock.t
    intent_id = store.record_intent(REPO, "readme", "fp1", "open")
    assert store.pending_intents() == [
        Intent(intent_id, REPO, "readme", "fp1", "open", "pending", None, "", created, created)
    ]
    clock.t += 5
    store.complete_intent(intent_id, pr_num=7)
    assert store.pending_intents() == []
    assert store.pending_intents(REPO) == []


def test_failed_and_abandoned_intents_are_not_pending(store: Store) -> None:
    first = store.record_intent(REPO, "readme", "fp1", "open")
    second = store.record_intent(REPO, "aa", "fp2", "update")
    third = store.record_intent("org/other", "readme", "fp3", "push")
    store.fail_intent(first, "HTTP 409 conflict")
    store.abandon_intent(second, "PR #4 already carries fp2")
    assert [i.id for i in store.pending_intents()] == [third]
    assert store.pending_intents(REPO) == []
    assert [i.repo_id for i in store.pending_intents("org/other")] == ["org/other"]


def test_pending_intents_survive_a_crash_and_are_listed_on_reopen(store_url: str, clock: Clock) -> None:
    crashed = Store.from_url(store_url, now=clock)
    done = crashed.record_intent(REPO, "readme", "fp1", "open")
    crashed.complete_intent(done, pr_num=1)
    lost = crashed.record_intent(REPO, "readme", "fp2", "update")
    # The process dies here: no close(), no complete_intent().
    with Store.from_url(store_url, now=clock) as restarted:
        pending = restarted.pending_intents(REPO)
        assert [(i.id, i.fingerprint, i.action, i.state) for i in pending] == [(lost, "fp2", "update", "pending")]
        restarted.abandon_intent(lost, "re-listed PRs: nothing was written")
        assert restarted.pending_intents() == []
    crashed.close()


def test_completing_an_unknown_intent_raises(store: Store) -> None:
    with pytest.raises(KeyError):
        store.complete_intent(999)


def test_unknown_intent_action_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="action must be one of"):
        store.record_intent(REPO, "readme", "fp", "merge")  # type: ignore[arg-type]


# -- prs ---------------------------------------------------------------------------------------


def test_pr_is_inserted_then_updates_are_counted(store: Store, clock: Clock) -> None:
    opened = clock.t
    url = "https://huggingface.co/org/model/discussions/3"
    first = store.record_pr(REPO, 3, source="readme", fingerprint="fp1", url=url)
    assert first == PrRow(REPO, 3, "readme", "fp1", "open", url, opened, opened, 0)
    clock.t += 10
    store.record_pr(REPO, 3, source="readme", fingerprint="fp2", url=url)
    clock.t += 10
    third = store.record_pr(REPO, 3, source="readme", fingerprint="fp3", url=url)
    assert third == PrRow(REPO, 3, "readme", "fp3", "open", url, opened, opened + 20, 2)
    assert store.pr_for(REPO, "readme") == third


def test_pr_status_changes_without_counting_as_an_update(store: Store, clock: Clock) -> None:
    store.record_pr(REPO, 3, source="readme", fingerprint="fp1", url="u3")
    clock.t += 30
    store.set_pr_status(REPO, 3, "closed")
    assert store.pr_for(REPO, "readme") == PrRow(REPO, 3, "readme", "fp1", "closed", "u3", clock.t - 30, clock.t, 0)
    with pytest.raises(KeyError):
        store.set_pr_status(REPO, 99, "merged")
    with pytest.raises(ValueError, match="status must be one of"):
        store.set_pr_status(REPO, 3, "draft")  # type: ignore[arg-type]


def test_pr_for_returns_the_latest_opened_for_that_source(store: Store, clock: Clock) -> None:
    assert store.pr_for(REPO, "readme") is None
    store.record_pr(REPO, 1, source="readme", fingerprint="fp1", url="u1", status="closed")
    clock.t += 1
    store.record_pr(REPO, 2, source="readme", fingerprint="fp2", url="u2")
    clock.t += 1
    store.record_pr(REPO, 3, source="aa", fingerprint="fp3", url="u3")
    latest = store.pr_for(REPO, "readme")
    assert latest is not None
    assert (latest.pr_num, latest.status) == (2, "open")
    assert store.pr_for("org/other", "readme") is None


def test_open_prs_are_counted_per_namespace_exactly(store: Store) -> None:
    store.record_pr("org/a", 1, source="readme", fingerprint="f", url="u")
    store.record_pr("org/b", 1, source="readme", fingerprint="f", url="u")
    store.record_pr("org/c", 1, source="readme", fingerprint="f", url="u", status="merged")
    store.record_pr("org2/a", 1, source="readme", fingerprint="f", url="u")  # longer namespace, same prefix
    store.record_pr("my_org/a", 1, source="readme", fingerprint="f", url="u")
    store.record_pr("myXorg/a", 1, source="readme", fingerprint="f", url="u")  # "_" is not a wildcard
    assert store.open_prs_in_namespace("org") == 2
    assert store.open_prs_in_namespace("org2") == 1
    assert store.open_prs_in_namespace("my_org") == 1
    assert store.open_prs_in_namespace("ORG") == 0
    assert store.open_prs_in_namespace("nobody") == 0


def test_prs_opened_since_counts_the_last_hour_with_the_injected_clock(store: Store, clock: Clock) -> None:
    start = clock.t
    store.record_pr(REPO, 1, source="readme", fingerprint="f", url="u", status="closed")
    clock.t = start + 1800
    store.record_pr(REPO, 2, source="readme", fingerprint="f", url="u")
    clock.t = start + 3600
    store.record_pr(REPO, 3, source="aa", fingerprint="f", url="u")
    clock.t = start + 4000
    store.record_pr(REPO, 1, source="readme", fingerprint="g", url="u")  # an update, not an opening
    assert store.prs_opened_since(clock.t - 3600) == 2
    assert store.prs_opened_since(start) == 3
    assert store.prs_opened_since(clock.t) == 0


def test_list_prs_is_newest_first_and_limited(store: Store, clock: Clock) -> None:
    for num in range(1, 6):
        store.record_pr(REPO, num, source="readme", fingerprint="f", url=f"u{num}")
        clock.t += 1
    assert [pr.pr_num for pr in store.list_prs()] == [5, 4, 3, 2, 1]
    assert [pr.pr_num for pr in store.list_prs(limit=2)] == [5, 4]


# -- leases ------------------------------------------------------------------------------------


def test_lease_is_granted_then_denied_to_another_owner_and_extended_for_the_same(store: Store, clock: Clock) -> None:
    assert store.acquire_lease(REPO, "w1", ttl_seconds=60) is True
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is False
    clock.t += 50
    assert store.acquire_lease(REPO, "w1", ttl_seconds=60) is True  # extends to t+110
    clock.t += 50  # past the first expiry, within the extended one
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is False
    assert store.acquire_lease("org/other", "w2", ttl_seconds=60) is True  # leases are per repo


def test_expired_lease_is_taken_over_with_the_injected_clock(store: Store, clock: Clock) -> None:
    assert store.acquire_lease(REPO, "crashed", ttl_seconds=60) is True
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is False
    clock.t += 60
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is True
    # The crashed worker no longer holds it: it cannot renew or release.
    assert store.renew_lease(REPO, "crashed", ttl_seconds=60) is False
    assert store.release_lease(REPO, "crashed") == 0
    # The triggers refused during the crashed run are covered by w2's run, which started after them.
    assert store.release_lease(REPO, "w2") == 0


def test_denied_attempts_are_counted_and_returned_by_release(store: Store) -> None:
    assert store.acquire_lease(REPO, "w1", ttl_seconds=60) is True
    for owner in ("w2", "w3", "w2"):
        assert store.acquire_lease(REPO, owner, ttl_seconds=60) is False
    assert store.release_lease(REPO, "w1") == 3
    # Released: free again, and the count starts over.
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is True
    assert store.release_lease(REPO, "w2") == 0


def test_release_by_a_non_owner_is_a_no_op(store: Store) -> None:
    assert store.acquire_lease(REPO, "w1", ttl_seconds=60) is True
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is False
    assert store.release_lease(REPO, "w2") == 0
    assert store.release_lease("org/never-leased", "w2") == 0
    assert store.acquire_lease(REPO, "w3", ttl_seconds=60) is False  # w1 still holds it
    assert store.release_lease(REPO, "w1") == 2


def test_renew_extends_only_the_holders_lease(store: Store, clock: Clock) -> None:
    assert store.acquire_lease(REPO, "w1", ttl_seconds=60) is True
    clock.t += 50
    assert store.renew_lease(REPO, "w1", ttl_seconds=60) is True
    assert store.renew_lease(REPO, "w2", ttl_seconds=60) is False
    clock.t += 50
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is False  # renewed until t+110
    clock.t += 10
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is True
    with pytest.raises(ValueError, match="ttl_seconds must be positive"):
        store.renew_lease(REPO, "w2", ttl_seconds=0)


def test_lease_context_manager_releases_on_exit_only_if_acquired(store: Store) -> None:
    with store.lease(REPO, "w1", ttl_seconds=60) as acquired:
        assert acquired is True
        with store.lease(REPO, "w2", ttl_seconds=60) as other:
            assert other is False
        # w2's failed attempt must not have released w1's lease.
        assert store.acquire_lease(REPO, "w3", ttl_seconds=60) is False
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is True


def test_lease_context_manager_releases_when_the_body_raises(store: Store) -> None:
    with pytest.raises(RuntimeError), store.lease(REPO, "w1", ttl_seconds=60):
        raise RuntimeError("job failed")
    assert store.acquire_lease(REPO, "w2", ttl_seconds=60) is True


# -- concurrency -------------------------------------------------------------------------------


def test_eight_threads_racing_for_one_repo_get_exactly_one_winner(store_url: str) -> None:
    store = Store.from_url(store_url)
    barrier = threading.Barrier(8)
    results: dict[str, bool] = {}

    def worker(owner: str) -> None:
        barrier.wait()
        results[owner] = store.acquire_lease(REPO, owner, ttl_seconds=60)

    threads = [threading.Thread(target=worker, args=(f"t{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [owner for owner, won in results.items() if won]
    assert len(results) == 8
    assert len(winners) == 1
    assert store.release_lease(REPO, winners[0]) == 7
    store.close()


def _race_in_process(
    url: str,
    owner: str,
    barrier: multiprocessing.synchronize.Barrier,
    won: multiprocessing.queues.Queue[tuple[str, bool]],
) -> None:
    """One bot process: open the store, wait for the others, try to take the lease."""
    with Store.from_url(url) as store:
        barrier.wait()
        won.put((owner, store.acquire_lease(REPO, owner, ttl_seconds=60)))


def test_four_processes_racing_for_one_repo_get_exactly_one_winner(store_url: str) -> None:
    # spawn: a fresh interpreter per worker, as separate bot processes would be.
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    won: multiprocessing.queues.Queue[tuple[str, bool]] = ctx.Queue()
    procs = [ctx.Process(target=_race_in_process, args=(store_url, f"p{i}", barrier, won)) for i in range(4)]
    for proc in procs:
        proc.start()
    results = dict(won.get(timeout=30) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    winners = [owner for owner, ok in results.items() if ok]
    assert len(results) == 4
    assert len(winners) == 1
    with Store.from_url(store_url) as store:
        assert store.release_lease(REPO, winners[0]) == 3
