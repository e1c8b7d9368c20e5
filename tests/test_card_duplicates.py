"""A card whose YAML has a key twice is refused with a one-line error naming the key; nothing is proposed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App, Job
from bot.card import parse_card
from bot.config import Secret, Settings
from bot.errors import CardError
from bot.hub import HubClient
from bot.sim.hub import HubSim
from bot.store import Store

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
            [report] = App(settings, HubClient(settings), store).run(Job(repo, sources=("readme",)))
        assert report.outcome == "skipped" and "the key 'license' appears twice" in report.reason
        assert not [d for d in sim.discussions(repo) if d.is_pr]
