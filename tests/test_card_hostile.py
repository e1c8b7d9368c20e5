"""Hostile cards: a key twice in the YAML is refused; labels with mentions or HTML reach the PR as plain text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.compose import build_app
from bot.app.pipeline import Job
from bot.config.settings import Secret, Settings
from bot.core.card import parse_card
from bot.edges.hub import HubClient
from bot.edges.store import Store
from bot.errors import CardError
from bot.sim.hub import HubSim

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "demo" / "acme"
CARD = (EXAMPLES / "Ours-7B-Instruct" / "README.md").read_text()


@pytest.mark.parametrize(
    ("front", "line", "key"),
    [
        pytest.param("license: mit\ntags: [a]\nlicense: apache-2.0\n", 4, "license", id="top_level"),
        pytest.param("model-index:\n- name: m\n  name: n\n  results: []\n", 4, "name", id="nested"),
    ],
)
def test_duplicate_keys_are_a_one_line_card_error_naming_the_key(front: str, line: int, key: str) -> None:
    with pytest.raises(CardError) as info:
        parse_card(f"---\n{front}---\n# Model\n")
    message = str(info.value)
    assert message.startswith(f"README.md line {line}: the key {key!r} appears twice; keep one of them")
    assert "\n" not in message and info.value.line == line


def test_the_same_key_in_different_mappings_is_fine() -> None:
    card = parse_card("---\na: {name: x}\nb: {name: y}\n---\n")
    assert card.data == {"a": {"name": "x"}, "b": {"name": "y"}}


def test_a_card_with_a_duplicate_key_is_never_proposed(tmp_path: Path) -> None:
    repo = "acme/Ours-7B-Instruct"
    card = CARD.replace("---\n", "---\nlicense: mit\nlicense: apache-2.0\n", 1)
    with HubSim() as sim:
        sim.add_repo(repo, {"README.md": card})
        settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=tmp_path)
        with Store.open(tmp_path) as store:
            [report] = build_app(settings, hub=HubClient(settings), store=store).run(Job(repo, sources=("readme",)))
        assert report.outcome == "skipped" and "the key 'license' appears twice" in report.reason
        assert not [d for d in sim.discussions(repo) if d.is_pr]


def test_labels_with_mentions_and_html_reach_the_pr_as_plain_text(tmp_path: Path) -> None:
    from huggingface_hub import HfApi

    repo = "acme/Ours-7B"
    card = (
        "---\nlicense: mit\n---\n# Ours-7B\n\n| Benchmark | Ours-7B |\n|---|---|\n"
        "| MMLU <img src=x onerror=alert(1)> @everyone | 65.4 |\n| [GSM8K](https://evil.example) `x` | 48.2 |\n"
    )
    with HubSim() as sim:
        sim.add_repo(repo, {"README.md": card})
        settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=tmp_path)
        with Store.open(tmp_path) as store:
            [report] = build_app(settings, hub=HubClient(settings), store=store).run(Job(repo, sources=("readme",)))
        assert report.outcome == "created", report.reason
        details = HfApi(endpoint=sim.url).get_discussion_details(repo, report.pr_num or 0)
        body = str(details.events[0].content)
        for bad in ("@everyone", "<img", "onerror", "[GSM8K]("):
            assert bad not in body, bad
        assert "| MMLU @\u2060everyone |" in body
        readme = HfApi(endpoint=sim.url).hf_hub_download(repo, "README.md", revision=f"refs/pr/{report.pr_num}")
        front = parse_card(Path(readme).read_text()).data
        names = [r["dataset"]["name"] for r in front["model-index"][0]["results"]]
        assert "MMLU @\u2060everyone" in names and not any("@everyone" in n or "<" in n for n in names)
