"""The pipeline end to end against the local Hub over real HTTP: DESIGN §5 scenarios, crash
safety, concurrency and request budgets. Nothing of ours is patched; the sim is the Hub."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from bot.app.compose import build_app
from bot.app.pipeline import App, Job, ReadmeOptions, run_many
from bot.config.settings import Secret, Settings
from bot.core.plan import parse_markers
from bot.edges.hub import HubClient, RetryPolicy
from bot.edges.store import Store
from bot.sim.hub import HubSim

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "demo" / "acme"
CARD = (EXAMPLES / "Ours-7B-Instruct" / "README.md").read_text()
REPO = "acme/Ours-7B-Instruct"
BOT_TOKEN = "evalbot-token"
FAST = RetryPolicy(attempts=6, base_wait=0.0, max_wait=0.0)


@pytest.fixture
def sim() -> HubSim:
    hub = HubSim()
    hub.add_repo(REPO, {"README.md": CARD})
    with hub:
        yield hub


def make_app(sim: HubSim, home: Path, *, token: str = BOT_TOKEN, **overrides: object) -> App:
    settings = Settings(hf_token=Secret(token), hf_endpoint=sim.url, home=home, lease_wait_seconds=10)
    settings = settings.with_overrides(**overrides)
    return build_app(settings, hub=HubClient(settings, retry=FAST), store=Store.open(home))


def prs(sim: HubSim, repo: str = REPO) -> list[tuple[int, str, str]]:
    return [(d.num, d.status, d.author) for d in sim.discussions(repo) if d.is_pr]


def test_first_run_opens_one_pr_with_the_marker_and_the_card_change(sim: HubSim, tmp_path: Path) -> None:
    (report,) = make_app(sim, tmp_path).run(Job(REPO))
    assert (report.outcome, report.pr_num) == ("created", 1)
    (pr,) = sim.discussions(REPO)
    assert (pr.status, pr.author, pr.title) == ("open", "evalbot", "Add evaluation results from Model README (evalbot)")
    (marker,) = parse_markers(pr.description)
    assert marker["fingerprint"] == report.fingerprint and marker["base"] == sim.head(REPO)
    readme = (sim.file(REPO, "README.md", rev=pr.ref or "") or b"").decode()
    assert readme.startswith(CARD.split("---\n# ", 1)[0])  # front matter kept, model-index appended
    assert "model-index:\n- name: Ours-7B-Instruct\n" in readme and readme.endswith(CARD.split("---\n", 2)[2])
    assert sim.file(REPO, ".eval_results/readme.yaml", rev=pr.ref or "") is not None
    assert sim.file(REPO, "README.md") == CARD.encode()  # main untouched


def test_same_run_twice_gives_one_pr(sim: HubSim, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    app.run(Job(REPO))
    (again,) = app.run(Job(REPO))
    assert (again.outcome, again.pr_num) == ("unchanged", 1)
    assert prs(sim) == [(1, "open", "evalbot")]


def test_rerun_on_a_fresh_machine_reads_the_marker_from_the_hub(sim: HubSim, tmp_path: Path) -> None:
    make_app(sim, tmp_path / "a").run(Job(REPO))
    (again,) = make_app(sim, tmp_path / "b").run(Job(REPO))  # empty ledger
    assert again.outcome == "unchanged"
    assert len(prs(sim)) == 1


def test_readme_change_updates_the_same_pr_with_one_comment(sim: HubSim, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    app.run(Job(REPO))
    sim.push(REPO, {"README.md": CARD.replace("**65.4**", "**66.0**")}, author="alice")
    (report,) = app.run(Job(REPO))
    assert (report.outcome, report.pr_num) == ("updated", 1)
    (pr,) = sim.discussions(REPO)
    assert [author for author, _ in pr.comments] == ["evalbot"]
    assert parse_markers(pr.comments[0][1])[0]["fingerprint"] == report.fingerprint
    assert b"value: 66.0" in (sim.file(REPO, "README.md", rev="refs/pr/1") or b"")
    (again,) = app.run(Job(REPO))  # the update is remembered: no second comment
    assert again.outcome == "unchanged" and len(sim.discussions(REPO)[0].comments) == 1
    (fresh,) = make_app(sim, tmp_path / "fresh").run(Job(REPO))  # and readable from the comment's marker
    assert fresh.outcome == "unchanged"


def test_unrelated_readme_edit_does_not_touch_the_open_pr(sim: HubSim, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    app.run(Job(REPO))
    sim.push(REPO, {"README.md": CARD + "\nA note from the authors.\n"}, author="alice")
    (report,) = app.run(Job(REPO))
    assert report.outcome == "unchanged" and sim.discussions(REPO)[0].comments == []


def test_pr_closed_by_a_maintainer_is_never_recreated(sim: HubSim, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    app.run(Job(REPO))
    sim.close(REPO, 1, by="maintainer")
    for home in (tmp_path, tmp_path / "fresh"):
        (report,) = make_app(sim, home).run(Job(REPO))
        assert (report.outcome, report.reason) == ("skipped", "declined: PR #1 with this change was closed")
    assert prs(sim) == [(1, "closed", "evalbot")]


def test_merged_pr_leaves_nothing_to_do(sim: HubSim, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    app.run(Job(REPO))
    sim.merge(REPO, 1)
    (report,) = app.run(Job(REPO))
    assert (report.outcome, report.reason) == ("unchanged", "the card already contains everything proposed")


def test_maintainers_open_pr_touching_model_index_defers(sim: HubSim, tmp_path: Path) -> None:
    edited = CARD.replace("license: apache-2.0\n", "license: apache-2.0\nmodel-index:\n- name: x\n  results: []\n")
    sim.open_pr(REPO, {"README.md": edited}, author="alice", title="Add my own results")
    (report,) = make_app(sim, tmp_path).run(Job(REPO))
    assert (report.outcome, report.reason) == ("skipped", "deferred: PR #1 by alice edits the results")
    assert len(prs(sim)) == 1
    (again,) = make_app(sim, tmp_path).run(Job(REPO, revision=sim.head(REPO)))  # a deferral is retried later
    assert again.reason.startswith("deferred")


def test_opted_out_card_is_left_alone(sim: HubSim, tmp_path: Path) -> None:
    sim.push(REPO, {"README.md": CARD.replace("license: apache-2.0\n", "license: apache-2.0\nevalbot: ignore\n")})
    (report,) = make_app(sim, tmp_path).run(Job(REPO))
    assert (report.outcome, report.reason) == ("skipped", "opted out")
    assert prs(sim) == []


def test_deny_list_is_checked_before_any_request(sim: HubSim, tmp_path: Path) -> None:
    sim.reset_requests()
    (report,) = make_app(sim, tmp_path, deny=("acme/*",)).run(Job(REPO))
    assert report.outcome == "skipped" and sim.request_count() == 0


def test_private_repo_is_skipped_unless_allowed(tmp_path: Path) -> None:
    with HubSim() as sim:
        sim.add_repo(
            "evalbot/private-model", {"README.md": CARD.replace("Ours-7B-Instruct", "private-model")}, private=True
        )
        (report,) = make_app(sim, tmp_path).run(Job("evalbot/private-model"))
        assert report.outcome == "skipped" and report.reason.startswith("private repo")
        (allowed,) = make_app(sim, tmp_path, allow_private=True).run(Job("evalbot/private-model"))
        assert allowed.outcome == "created"


def test_push_mode_with_write_access_commits_to_main(sim: HubSim, tmp_path: Path) -> None:
    (report,) = make_app(sim, tmp_path, token="maintainer-token").run(Job(REPO, mode="push"))
    assert report.outcome == "pushed"
    assert b"model-index:" in (sim.file(REPO, "README.md") or b"") and prs(sim) == []


def test_push_mode_without_write_access_opens_a_pr(sim: HubSim, tmp_path: Path) -> None:
    (report,) = make_app(sim, tmp_path).run(Job(REPO, mode="push"))
    assert report.outcome == "created"


def test_dry_run_writes_nothing_and_shows_the_diff(sim: HubSim, tmp_path: Path) -> None:
    settings = Settings(hf_token=Secret(BOT_TOKEN), hf_endpoint=sim.url, home=tmp_path)
    sim.reset_requests()
    (report,) = build_app(settings, hub=HubClient(settings), dry_run=True).run(Job(REPO, dry_run=True))
    assert report.outcome == "planned" and report.reason == "would open a pull request"
    assert report.diff.startswith("--- a/README.md\n+++ b/README.md\n") and "+model-index:\n" in report.diff
    assert sim.request_count(method="POST") == 0 and prs(sim) == []
    assert not (tmp_path / "evalbot.sqlite3").exists()


def test_request_budgets(sim: HubSim, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    app.hub.whoami()  # once per process, not per repo
    sim.reset_requests()
    (first,) = app.run(Job(REPO))
    opened = sim.request_count()
    sim.reset_requests()
    app.run(Job(REPO))
    noop = sim.request_count()
    sim.reset_requests()
    app.run(Job(REPO, revision=first.sha))
    repeated = sim.request_count()
    # the first run also reads the benchmark registry once (listing page, GSM8K's eval.yaml and
    # leaderboard); later runs find it cached
    assert (opened, noop, repeated) == (9, 3, 0)


def test_a_handled_commit_is_looked_at_again_only_when_a_setting_changes(sim: HubSim, tmp_path: Path) -> None:
    """The ledger's "handled" key includes the formats and the source's options (and evalbot's version)."""
    app = make_app(sim, tmp_path)
    (first,) = app.run(Job(REPO))
    (same,) = app.run(Job(REPO, revision=first.sha))
    assert same.reason == f"already processed at {first.sha}"
    sim.reset_requests()
    (other,) = app.run(Job(REPO, revision=first.sha, readme=ReadmeOptions(model_name="Ours-7B-Instruct")))
    assert not other.reason.startswith("already processed") and sim.request_count() > 0
    (formats,) = app.run(Job(REPO, revision=first.sha, formats=("model-index",)))
    assert not formats.reason.startswith("already processed")
    assert len(prs(sim)) == 1  # looking again proposed nothing new: no second PR


def test_two_concurrent_runs_on_one_repo_open_one_pr(sim: HubSim, tmp_path: Path) -> None:
    sim.inject("commit", "delay", delay=0.3)  # widen the race window
    apps = [make_app(sim, tmp_path) for _ in range(2)]
    reports: list[str] = []
    threads = [threading.Thread(target=lambda a=a: reports.extend(r.outcome for r in a.run(Job(REPO)))) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(reports) == ["created", "unchanged"]
    assert len(prs(sim)) == 1


def test_a_repo_already_busy_is_coalesced(sim: HubSim, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path, lease_wait_seconds=0.1)
    assert app.store is not None and app.store.acquire_lease(REPO, "another-worker", 60)
    (report,) = app.run(Job(REPO))
    assert (report.outcome, report.kind) == ("skipped", "busy")
    assert prs(sim) == []


def test_a_run_longer_than_the_lease_keeps_it_until_it_ends(sim: HubSim, tmp_path: Path) -> None:
    """The lease is renewed while the run lasts (an evaluation can take hours, the lease minutes)."""
    sim.inject("validate_yaml", "delay", delay=1.2, times=1)  # the run outlives its 0.3 s lease four times over
    slow = make_app(sim, tmp_path, lease_seconds=0.3)
    outcome: list[str] = []
    runner = threading.Thread(target=lambda: outcome.extend(r.outcome for r in slow.run(Job(REPO))))
    runner.start()
    while not any("validate-yaml" in path for _, path in list(sim.requests)):
        time.sleep(0.01)
    time.sleep(0.5)  # past the lease's first time to live
    (second,) = make_app(sim, tmp_path, lease_wait_seconds=0.1).run(Job(REPO))
    runner.join()
    assert (second.outcome, second.kind) == ("skipped", "busy")  # still held: no second run meanwhile
    assert outcome == ["created"] and len(prs(sim)) == 1
    assert slow.store is not None and slow.store.acquire_lease(REPO, "next", 60)  # released at the end


def test_stale_parent_commit_is_replanned(sim: HubSim, tmp_path: Path) -> None:
    sim.inject("validate_yaml", "delay", delay=0.5, times=1)  # hold evalbot between its read and its commit

    def maintainer_pushes_meanwhile() -> None:
        while not any("validate-yaml" in path for _, path in list(sim.requests)):
            time.sleep(0.01)
        sim.push(REPO, {"README.md": CARD + "\nEdited.\n"}, author="alice")

    pusher = threading.Thread(target=maintainer_pushes_meanwhile)
    pusher.start()
    (report,) = make_app(sim, tmp_path).run(Job(REPO))
    pusher.join()
    assert report.outcome == "created"
    assert sim.request_count(path_prefix="/api/models/acme/Ours-7B-Instruct/commit") == 2  # 412, then re-planned
    (pr,) = sim.discussions(REPO)
    assert pr.base == sim.head(REPO)  # branched from the new head
    assert (sim.file(REPO, "README.md", rev="refs/pr/1") or b"").endswith(b"Edited.\n")


@pytest.mark.slow
@pytest.mark.parametrize(
    "route",
    ["model_info", "resolve", "discussions", "discussion_details", "validate_yaml", "preupload", "commit", "refs"],
)
@pytest.mark.parametrize("kind", ["429", "503", "drop_before"])
def test_transient_faults_on_a_route_still_give_exactly_one_correct_pr(
    sim: HubSim, tmp_path: Path, route: str, kind: str
) -> None:
    app = make_app(sim, tmp_path)
    app.run(Job(REPO))
    sim.push(REPO, {"README.md": CARD.replace("**65.4**", "**66.0**")}, author="alice")  # so update runs too
    sim.inject(route, kind, times=2)
    (report,) = make_app(sim, tmp_path / "fresh").run(Job(REPO))
    assert report.outcome == "updated", report.reason
    assert len(prs(sim)) == 1
    assert b"value: 66.0" in (sim.file(REPO, "README.md", rev="refs/pr/1") or b"")


@pytest.mark.parametrize("route", ["commit", "comment"])
def test_write_applied_but_answer_lost_is_not_repeated(sim: HubSim, tmp_path: Path, route: str) -> None:
    app = make_app(sim, tmp_path)
    if route == "comment":
        app.run(Job(REPO))
        sim.push(REPO, {"README.md": CARD.replace("**65.4**", "**66.0**")}, author="alice")
    sim.inject(route, "drop_after", times=1)
    (report,) = app.run(Job(REPO))
    assert report.outcome == ("created" if route == "commit" else "updated"), report.reason
    assert len(prs(sim)) == 1
    assert len(sim.discussions(REPO)[0].comments) == (0 if route == "commit" else 1)
    (again,) = app.run(Job(REPO))
    assert again.outcome == "unchanged"


@pytest.mark.slow
def test_scan_of_100_repos_with_20_percent_faults_gives_one_correct_pr_each(tmp_path: Path) -> None:
    repos = [f"bench/model-{i:03d}" for i in range(100)]
    with HubSim(seed=7) as sim:
        for repo in repos:
            sim.add_repo(repo, {"README.md": CARD.replace("Ours-7B-Instruct", repo.split("/")[1])})
        sim.inject("*", "429", rate=0.1, retry_after=0)
        sim.inject("*", "503", rate=0.05)
        sim.inject("*", "drop_after", rate=0.05)
        app = make_app(sim, tmp_path)
        reports = run_many(app, [Job(r) for r in repos], workers=4)
        assert [r for r in reports if r.outcome != "created"] == []
        assert sim.faults_injected > 50
        sim.clear_faults()
        for repo in repos:
            pull_requests = [d for d in sim.discussions(repo) if d.is_pr]
            assert len(pull_requests) == 1, repo
            readme = sim.file(repo, "README.md", rev=pull_requests[0].ref or "") or b""
            assert b"value: 65.4" in readme and b"value: 48.2" in readme and b"value: 72.5" in readme
        final = run_many(app, [Job(r) for r in repos], workers=4)
        assert {r.outcome for r in final} == {"unchanged"}


def test_token_never_appears_in_logs_reports_or_errors(
    sim: HubSim, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "hf_supersecret_token_value_1234567890"
    caplog.set_level(logging.DEBUG)
    settings = Settings(hf_token=Secret(secret), hf_endpoint=sim.url, home=tmp_path)
    hub = HubClient(settings, retry=FAST)
    reports = build_app(settings, hub=hub, store=Store.open(tmp_path)).run(Job(REPO))  # 401: unknown token
    assert reports[0].outcome == "failed" and "HF_TOKEN" in reports[0].reason
    sim.inject("*", "503", times=3)
    build_app(settings, hub=hub, dry_run=True).run(Job(REPO, dry_run=True))
    text = caplog.text + repr(reports) + repr(hub) + repr(settings)
    assert secret not in text


def test_scan_log_lines_are_written_above_the_progress_bar_not_through_it(sim: HubSim, tmp_path: Path) -> None:
    import io

    from tqdm.contrib.logging import _TqdmLoggingHandler

    seen: list[bool] = []  # for each retry line: was the root logger writing through tqdm?

    def record(entry: logging.LogRecord) -> bool:
        if "retrying" in entry.getMessage():
            seen.append(any(isinstance(h, _TqdmLoggingHandler) for h in logging.getLogger().handlers))
        return True

    console = logging.StreamHandler(io.StringIO())
    console.addFilter(record)
    root = logging.getLogger()
    level = root.level
    root.addHandler(console)
    root.setLevel(logging.INFO)
    try:
        sim.inject("model_info", 503, times=1)
        run_many(make_app(sim, tmp_path), [Job(REPO, dry_run=True)], workers=1, progress=True)
    finally:
        root.removeHandler(console)
        root.setLevel(level)
    assert seen == [True]
    assert "retrying" in console.stream.getvalue()  # type: ignore[attr-defined]
