"""The publishing paths take only README results at or above the confidence threshold (DESIGN §6).

Against the local Hub over real HTTP: a card whose only table is ambiguous, or whose own row is
marked by bold alone, opens no pull request — in `run`, in a scan, and through the CLI — and the
report says why; `readme: {min_confidence}` in evalbot.yaml moves the threshold.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import cli
from bot.app.compose import build_app
from bot.app.pipeline import App, Job, run_many
from bot.config.settings import Secret, Settings
from bot.edges.hub import HubClient, RetryPolicy
from bot.edges.store import Store
from bot.sim.hub import HubSim

BOT_TOKEN = "evalbot-token"
FAST = RetryPolicy(attempts=3, base_wait=0.0, max_wait=0.0)
FRONT = "---\nlicense: mit\n---\n# Model\n\n"
AMBIGUOUS = FRONT + "| Benchmark | Foo 7B chat | Bar 7B chat |\n|---|---|---|\n| MMLU | 45.3 | 65.4 |\n"
MARKED_ONLY = FRONT + "| Model | MMLU |\n|---|---|\n| Llama-2-7B | 45.3 |\n| **Zorro** | 65.4 |\n"
CONFIDENT = FRONT + "| Model | MMLU |\n|---|---|\n| Llama-2-7B | 45.3 |\n| good-7b | 65.4 |\n"
REPOS = {"acme/Foo-Bar-7B-chat": AMBIGUOUS, "acme/marked-7b": MARKED_ONLY, "acme/good-7b": CONFIDENT}


@pytest.fixture
def sim() -> HubSim:
    hub = HubSim()
    for repo, card in REPOS.items():
        hub.add_repo(repo, {"README.md": card})
    with hub:
        yield hub


def make_app(sim: HubSim, home: Path, **overrides: object) -> App:
    settings = Settings(hf_token=Secret(BOT_TOKEN), hf_endpoint=sim.url, home=home, lease_wait_seconds=10)
    settings = settings.with_overrides(**overrides)
    return build_app(settings, hub=HubClient(settings, retry=FAST), store=Store.open(home))


def prs(sim: HubSim, repo: str) -> list[int]:
    return [d.num for d in sim.discussions(repo) if d.is_pr]


def test_an_ambiguous_table_is_never_published_and_the_report_names_the_candidates(sim: HubSim, tmp_path: Path) -> None:
    (report,) = make_app(sim, tmp_path).run(Job("acme/Foo-Bar-7B-chat"))
    assert (report.outcome, report.plan) == ("unchanged", "none")
    assert report.reason.startswith("no results found: table 1: ambiguous: 'Bar 7B chat', 'Foo 7B chat'")
    assert "--table 1 --model-column-index 1" in report.reason
    assert prs(sim, "acme/Foo-Bar-7B-chat") == []


def test_a_scan_publishes_only_the_confident_card(sim: HubSim, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    reports = run_many(app, [Job(repo) for repo in REPOS], workers=2)
    assert {r.repo_id: r.outcome for r in reports} == {
        "acme/Foo-Bar-7B-chat": "unchanged",
        "acme/marked-7b": "unchanged",
        "acme/good-7b": "created",
    }
    marked = next(r for r in reports if r.repo_id == "acme/marked-7b")
    assert "below the confidence threshold (0.50 < 0.8)" in marked.reason
    assert [repo for repo in REPOS if prs(sim, repo)] == ["acme/good-7b"]


def test_the_threshold_is_configurable(sim: HubSim, tmp_path: Path) -> None:
    (report,) = make_app(sim, tmp_path, readme_min_confidence=0.5).run(Job("acme/marked-7b"))
    assert report.outcome == "created"
    (pr,) = sim.discussions("acme/marked-7b")
    readme = (sim.file("acme/marked-7b", "README.md", rev=pr.ref or "") or b"").decode()
    assert "value: 65.4" in readme


def test_the_cli_run_reads_the_threshold_from_evalbot_yaml(
    sim: HubSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "evalbot.yaml"
    config.write_text("readme:\n  min_confidence: 0.5\n")
    monkeypatch.setenv("HF_ENDPOINT", sim.url)
    monkeypatch.setenv("HF_TOKEN", BOT_TOKEN)
    assert cli.main(["--config", str(config), "run", "--repo-id", "acme/marked-7b", "--dry-run"]) == 0
    assert "+      value: 65.4" in capsys.readouterr().out
    assert prs(sim, "acme/marked-7b") == []  # a dry run writes nothing


def test_a_dry_run_shows_what_was_withheld_and_why(
    sim: HubSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    both = CONFIDENT + "\n| Model | GSM8K |\n|---|---|\n| Llama-2-7B | 14.6 |\n| **Zorro** | 52.1 |\n"
    sim.push("acme/good-7b", {"README.md": both})
    monkeypatch.setenv("HF_ENDPOINT", sim.url)
    assert cli.main(["run", "--repo-id", "acme/good-7b", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "+      value: 65.4" in out and "value: 52.1" not in out  # the confident table only
    assert (
        "# acme/good-7b [readme]: 1 result(s) withheld\n"
        "  table 2 'GSM8K' = 52.1 (confidence 0.50 < 0.80: only bold/emoji marks this row; the name does not match)\n"
    ) in out
    assert cli.main(["run", "--repo-id", "acme/good-7b", "--dry-run", "--format", "json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["withheld"] == [
        "table 2 'GSM8K' = 52.1 (confidence 0.50 < 0.80: only bold/emoji marks this row; the name does not match)"
    ]
    assert prs(sim, "acme/good-7b") == []
