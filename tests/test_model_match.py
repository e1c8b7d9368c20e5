"""Is this row/column label the card's own model? (bot/core/tables/_model_match.py)"""

from __future__ import annotations

import pytest

from bot.core.tables._model_match import MatchLevel, ModelName, match_level, tokenize

EXACT, SUFFIX, PARTIAL, LOOSE, NONE = (
    MatchLevel.EXACT,
    MatchLevel.SUFFIX,
    MatchLevel.PARTIAL,
    MatchLevel.LOOSE,
    MatchLevel.NONE,
)


def test_levels_are_ordered() -> None:
    assert NONE < LOOSE < PARTIAL < SUFFIX < EXACT
    assert not NONE
    assert PARTIAL and EXACT


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("Intel/neural-chat-7b-v3-1", ("neural", "chat", "7", "b", "v", "3", "1")),
        ("Zephyr-7b-β", ("zephyr", "7", "b", "beta")),
        ("HuggingFaceH4/zephyr-7b-beta", ("zephyr", "7", "b", "beta")),
        ("meta-llama/Llama-2-7b-hf", ("llama", "2", "7", "b")),  # "hf" carries no identity
        ("Qwen2.5-7B", ("qwen", "2", "5", "7", "b")),
        ("Foo-7B (ours)", ("foo", "7", "b")),
        ("", ()),
    ],
)
def test_tokenize(name: str, tokens: tuple[str, ...]) -> None:
    assert tokenize(name) == tokens


def test_model_name_of_records_numbers_variants_and_size() -> None:
    model = ModelName.of("Intel/neural-chat-7b-v3-1")
    assert model.raw == "Intel/neural-chat-7b-v3-1"
    assert model.tokens == ("neural", "chat", "7", "b", "v", "3", "1")
    assert model.numbers == frozenset({"7", "3", "1"})
    assert model.variants == frozenset({"chat"})
    assert model.size == ("7", "b")


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("google/gemma-2b", ("2", "b")),
        ("Qwen/Qwen2-1.5B", ("1.5", "b")),
        ("org/tiny-350m", ("350", "m")),
        ("org/bert", None),
    ],
)
def test_model_size(name: str, size: tuple[str, str] | None) -> None:
    assert ModelName.of(name).size == size


@pytest.mark.parametrize(
    ("model", "label", "level"),
    [
        # org prefix, case and separators do not matter; token order does not either
        ("meta-llama/Llama-2-7b", "Llama-2-7b", EXACT),
        ("meta-llama/Llama-2-7b", "meta-llama/Llama-2-7b", EXACT),
        ("meta-llama/Llama-2-7b", "llama 2 7B", EXACT),
        ("org/Foo-7B", "7b foo", EXACT),
        ("Qwen/Qwen2.5-7B", "Qwen 2.5 7B", EXACT),
        ("meta-llama/Llama-2-7b", "Llama-2-13b", NONE),
        # sizes
        ("google/gemma-2b", "2B Params", PARTIAL),
        ("google/gemma-2b", "2B", PARTIAL),
        ("google/gemma-2b", "7B Params", NONE),
        ("google/gemma-7b", "2B Params", NONE),
        ("Qwen/Qwen2-1.5B", "1.5B", PARTIAL),
        # versions: "v3" never stands for "v3-1"
        ("Intel/neural-chat-7b-v3-1", "Intel/neural-chat-7b-v3-1", EXACT),
        ("Intel/neural-chat-7b-v3-1", "neural-chat-7b-v3-1", EXACT),
        ("Intel/neural-chat-7b-v3-1", "neural-chat-7b-v3", NONE),
        ("Intel/neural-chat-7b-v3-1", "Intel/neural-chat-7b-v3", NONE),
        ("Intel/neural-chat-7b-v3", "Intel/neural-chat-7b-v3-1", NONE),
        # variant words: a base column never stands for an instruct/it/chat repo, nor the reverse
        ("org/Foo-7B-Instruct-v2", "Foo-7B", NONE),
        ("org/Foo-7B-Instruct-v2", "Foo 7B Instruct", NONE),  # v2 missing
        ("org/Foo-7B-Instruct-v2", "Foo-7B-Instruct-v2", EXACT),
        # the trailing -it/-chat/-Instruct may be left off (SUFFIX; decide_layout refuses it when a sibling
        # in the card has exactly that variant, or the heading says base/pretrained)
        ("google/gemma-2b-it", "gemma-2b", SUFFIX),
        ("google/gemma-2b", "gemma-2b-it", NONE),
        ("meta-llama/Llama-2-7b-chat-hf", "Llama-2-7b-chat", EXACT),
        ("meta-llama/Llama-2-7b-chat-hf", "Llama 2 7B", SUFFIX),
        ("meta-llama/Llama-2-7b-hf", "Llama-2-7b-chat", NONE),
        # Greek letters spelled out
        ("HuggingFaceH4/zephyr-7b-beta", "Zephyr-7b-β", EXACT),
        ("HuggingFaceH4/zephyr-7b-beta", "Zephyr-7b-α", NONE),
        ("HuggingFaceH4/zephyr-7b-alpha", "Zephyr-7b-α", EXACT),
        # "ours" labels
        ("org/anything", "Ours", EXACT),
        ("org/anything", "(ours)", EXACT),
        ("org/anything", "this model", EXACT),
        ("org/Foo-7B", "Foo-7B (ours)", EXACT),
        # partial: the label's tokens are a subset that keeps every number and variant
        ("NYTK/reading-comprehension-hurc-hubert-hungarian", "huBERT", PARTIAL),
        ("org/Foo-Bar-7B", "Foo 7B", PARTIAL),
        ("org/Foo-Bar-7B", "Foo-Bar-7B", EXACT),
        ("org/Foo-Bar-7B", "The Foo-Bar-7B model", EXACT),  # noise words dropped
        ("org/Foo-Bar-7B", "Fo 7", NONE),  # needs a real word of 3+ letters
        ("org/Foo-Bar-7B", "Foo", NONE),  # drops the 7
        ("org/Foo-Bar-7B", "Foo Baz 7B", NONE),  # a token the name does not have
        # empty labels
        ("org/Foo-7B", "", NONE),
        ("org/Foo-7B", "   ", NONE),
    ],
)
def test_match_level(model: str, label: str, level: MatchLevel) -> None:
    assert match_level(ModelName.of(model), label) == level


def test_exact_is_stronger_than_partial_for_the_same_model() -> None:
    model = ModelName.of("org/Foo-Bar-7B")
    assert match_level(model, "Foo-Bar-7B") > match_level(model, "Foo 7B") > match_level(model, "Llama-2-7B")


def test_a_label_saying_ours_is_exact_even_with_another_name() -> None:
    # "a label that says 'ours'" is EXACT (module docstring); the name in front does not undo that.
    assert match_level(ModelName.of("org/SomethingElse"), "MyModel (ours)") == EXACT
