"""Markers count only outside code: a fenced, inline-code or commented example is the user's text."""

from __future__ import annotations

import pytest

from bot.core.card import apply_scores, parse_card
from bot.core.card._section import place_section
from bot.core.plan import make_marker, parse_markers
from bot.core.scores import Dataset, Metric, Score, Source, Task
from bot.errors import CardError

EXAMPLE = """# Model

To get a results table, add these two lines to your card:

```markdown
<!-- evalbot:start -->
<!-- evalbot:end -->
```

| Benchmark | Score |
|---|---|
| MMLU | 65.4 |

More text after the table.
"""


def test_a_fenced_example_of_the_markers_stays_untouched() -> None:
    result = place_section(EXAMPLE, 0, "| new | table |", "\n")
    assert result.startswith(EXAMPLE)  # nothing deleted: the section is appended after the card
    assert result[len(EXAMPLE) :] == "\n<!-- evalbot:start -->\n| new | table |\n<!-- evalbot:end -->\n"


def test_the_real_section_is_replaced_and_the_example_kept() -> None:
    card = EXAMPLE + "\n<!-- evalbot:start -->\nold\n<!-- evalbot:end -->\n\nFooter `<!-- evalbot:end -->`.\n"
    result = place_section(card, 0, "new", "\n")
    assert result == card.replace("\nold\n", "\nnew\n")


@pytest.mark.parametrize(
    "example",
    [
        "Write `<!-- evalbot:start -->` and `<!-- evalbot:end -->` where the table goes.\n",
        "    <!-- evalbot:start -->\n    <!-- evalbot:end -->\n",
        "~~~\n<!-- evalbot:start -->\n~~~\n",
        "<!-- commented out by the maintainers:\n<!-- evalbot:start -->\n-->\n",
        "> ```\n> <!-- evalbot:end -->\n> ```\n",
    ],
)
def test_markers_in_code_or_other_comments_are_not_markers(example: str) -> None:
    card = f"# M\n\n{example}\ntext\n"
    assert place_section(card, 0, "x", "\n") == card + "\n<!-- evalbot:start -->\nx\n<!-- evalbot:end -->\n"


def test_one_real_marker_without_its_pair_is_still_an_error() -> None:
    with pytest.raises(CardError, match="line 6: found 1 '<!-- evalbot:start -->' and 0"):
        place_section("# M\n\n```\n<!-- evalbot:end -->\n```\n<!-- evalbot:start -->\n", 0, "x", "\n")


def test_section_output_format_keeps_the_fenced_example() -> None:
    score = Score("MMLU", Dataset("MMLU", "cais/mmlu"), Task("text-generation"), Metric(type="acc", value=65.4),
                  Source("Model README", "https://huggingface.co/o/m"))  # fmt: skip
    change = apply_scores(parse_card(EXAMPLE), [score], source_key="readme", model_name="m", formats=("section",))
    assert change.readme.startswith(EXAMPLE)
    assert change.readme.count("```") == 2 and "| MMLU | acc | 65.4 |" in change.readme[len(EXAMPLE) :]


def test_pr_markers_shown_as_code_are_not_read() -> None:
    real = make_marker("readme", "f" * 64, "abc")
    quoted = make_marker("readme", "0" * 64, "def")
    text = f"See:\n\n```\n{quoted}\n```\n\nand `{quoted}`\n\n<!-- old: {quoted} -->\n\n{real}\n"
    assert [m["fingerprint"] for m in parse_markers(text)] == ["f" * 64]
