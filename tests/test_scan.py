"""Listing-based scans (`bot.app.scan`) against the local Hub over real HTTP: one paginated listing
carries every repo's sha, and a repo whose (sha, source) the ledger handled costs no request."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app.compose import build_app
from bot.app.pipeline import App, Job, ReadmeOptions
from bot.app.scan import heads_for_author, heads_for_repos, plan_scan, run_scan
from bot.cli import main
from bot.config.settings import Secret, Settings
from bot.edges.hub import HubClient, RepoHead, RetryPolicy
from bot.edges.store import Store
from bot.sim.hub import HubSim

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "demo" / "acme"
CARD = (EXAMPLES / "Ours-7B-Instruct" / "README.md").read_text()
MODEL = "Ours-7B-Instruct"
FAST = RetryPolicy(attempts=6, base_wait=0.0, max_wait=0.0)
BASE = Job("", readme=ReadmeOptions(model_name=MODEL))


def make_app(sim: HubSim, home: Path, **overrides: object) -> App:
    settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=home, lease_wait_seconds=10)
    settings = settings.with_overrides(**overrides)
    return build_app(settings, hub=HubClient(settings, retry=FAST), store=Store.open(home))


def test_second_scan_of_40_unchanged_repos_costs_only_the_listing_pages(tmp_path: Path) -> None:
    with HubSim(model_page_size=16) as sim:
        names = [f"org/m-{i:02d}" for i in range(40)]
        for name in names:
            sim.add_repo(name, {"README.md": CARD})
        sim.add_repo("other/m", {"README.md": CARD})  # another owner: not in the listing
        first_app = make_app(sim, tmp_path)
        first = run_scan(first_app, heads_for_author(first_app.hub, "org"), BASE, workers=4)
        assert [r.repo_id for r in first] == names and {r.outcome for r in first} == {"created"}

        sim.reset_requests()
        app = make_app(sim, tmp_path)  # a new process: only the ledger on disk is shared
        second = run_scan(app, heads_for_author(app.hub, "org"), BASE, workers=4)
        assert {r.outcome for r in second} == {"unchanged"} and len(second) == 40
        # 40 repos in pages of 16: three listing requests, and nothing else (not even whoami)
        assert [p.split("?")[0] for _, p in sim.requests] == ["/api/models"] * 3
        assert all("expand=sha" in p and "expand=cardData" in p for _, p in sim.requests)
        assert [d.num for d in sim.discussions("org/m-00")] == [1]


def test_a_repo_pushed_to_since_the_last_scan_is_the_only_one_read_again(tmp_path: Path) -> None:
    with HubSim() as sim:
        for i in range(5):
            sim.add_repo(f"org/m-{i}", {"README.md": CARD})
        app = make_app(sim, tmp_path)
        run_scan(app, heads_for_author(app.hub, "org"), BASE, workers=2)
        sim.push("org/m-3", {"README.md": CARD.replace("**65.4**", "**66.1**")}, author="alice")
        sim.reset_requests()
        reports = run_scan(app, heads_for_author(app.hub, "org"), BASE, workers=2)
        assert [(r.repo_id, r.outcome) for r in reports if r.outcome != "unchanged"] == [("org/m-3", "updated")]
        touched = {p.split("/")[4] for _, p in sim.requests if p.startswith("/api/models/org/")}
        assert touched == {"m-3"}


def test_listing_precheck_skips_private_gated_and_opted_out_repos_without_a_request(tmp_path: Path) -> None:
    opted_out = CARD.replace("---\n", "---\nevalbot: ignore\n", 1)
    with HubSim() as sim:
        sim.add_repo("org/private", {"README.md": CARD}, private=True, readers=["evalbot"])
        sim.add_repo("org/gated", {"README.md": CARD}, gated=True)
        sim.add_repo("org/ignored", {"README.md": opted_out})
        app = make_app(sim, tmp_path)
        heads = heads_for_author(app.hub, "org")
        assert [(h.repo_id, h.private, h.gated) for h in heads] == [
            ("org/gated", False, True),
            ("org/ignored", False, False),
            ("org/private", True, False),
        ]
        sim.reset_requests()
        reports = run_scan(app, heads, BASE, workers=2)
        assert [(r.repo_id, r.outcome, r.reason) for r in reports] == [
            ("org/gated", "skipped", "gated repo (set EVALBOT_ALLOW_PRIVATE=true to include it)"),
            ("org/ignored", "skipped", "opted out (evalbot: ignore in the card's metadata)"),
            ("org/private", "skipped", "private repo (set EVALBOT_ALLOW_PRIVATE=true to include it)"),
        ]
        assert sim.requests == []
        allowed = run_scan(make_app(sim, tmp_path / "b", allow_private=True), heads, BASE, workers=1)
        assert [(r.repo_id, r.outcome) for r in allowed if r.outcome == "created"] == [("org/private", "created")]


def test_repos_file_uses_one_listing_per_shared_owner_and_model_info_for_the_rest(tmp_path: Path) -> None:
    with HubSim() as sim:
        for name in ("a/one", "a/two", "a/three", "a/unlisted", "b/solo"):
            sim.add_repo(name, {"README.md": CARD})
        hub = HubClient(make_app(sim, tmp_path).settings)
        sim.reset_requests()
        heads = heads_for_repos(hub, ["b/solo", "a/two", "a/one", "a/missing", "c/missing"])
        paths = sorted(p.split("?")[0] for _, p in sim.requests)
        assert paths == ["/api/models", "/api/models/b/solo", "/api/models/c/missing"]
        assert [h.repo_id if isinstance(h, RepoHead) else f"bare:{h}" for h in heads] == [
            "b/solo", "a/two", "a/one", "bare:a/missing", "bare:c/missing",
        ]  # fmt: skip
        assert all(h.sha == sim.head(h.repo_id) for h in heads if isinstance(h, RepoHead))


def test_cli_scan_from_a_repos_file_reports_missing_repos_in_their_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with HubSim() as sim:
        for name in ("a/Ours-7B-Instruct", "a/other"):
            sim.add_repo(name, {"README.md": CARD})
        monkeypatch.setenv("HF_ENDPOINT", sim.url)
        monkeypatch.setenv("HF_TOKEN", "evalbot-token")
        repos = tmp_path / "repos.txt"
        repos.write_text("a/Ours-7B-Instruct\na/gone\nz/gone\n")
        code = main(["scan", "--repos-file", str(repos), "--format", "json", "--dry-run"])
        reports = json.loads(capsys.readouterr().out)
        assert code == 1
        assert [(r["repo_id"], r["outcome"]) for r in reports] == [
            ("a/Ours-7B-Instruct", "planned"),
            ("a/gone", "failed"),
            ("z/gone", "failed"),
        ]
        assert "not found" in reports[1]["reason"].lower() and "not found" in reports[2]["reason"].lower()


def test_sources_that_change_without_a_commit_are_looked_at_again(tmp_path: Path) -> None:
    with HubSim() as sim:
        sim.add_repo("org/m", {"README.md": CARD})
        app = make_app(sim, tmp_path)
        heads = heads_for_author(app.hub, "org")
        mixed = replace(BASE, sources=("readme", "aa"))
        (job,) = plan_scan(heads, mixed, allow_private=False)
        assert isinstance(job, Job) and (job.repo_id, job.revision) == ("org/m", None)
        (job,) = plan_scan(heads, BASE, allow_private=False)
        assert isinstance(job, Job) and (job.repo_id, job.revision) == ("org/m", sim.head("org/m"))
