"""Is this row/column label the card's own model? (pure)

Names are compared as token lists: casefolded, org prefix dropped, Greek letters spelled
out, split on separators and at letter/digit boundaries ("Zephyr-7b-β" → zephyr 7 b beta).

Levels, strongest first:
- EXACT: the same tokens (any order), or a label that says "ours"/"this model".
- PARTIAL: the label's tokens are all in the model's name, it keeps every number of the
  name (so "v3" never stands for "v3-1") and every variant word (-Instruct, -it, -chat:
  a base-model column never stands for an instruct repo). "huBERT" for
  "reading-comprehension-hurc-hubert-hungarian", "2B Params" for "gemma-2b".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

_GREEK = str.maketrans({"α": " alpha ", "β": " beta ", "γ": " gamma ", "δ": " delta ", "ε": " epsilon "})
_SPLIT = re.compile(r"[a-z]+|\d+")
_OURS = re.compile(r"^\(?(?:ours|our model|this model|this work|proposed)\)?$")
_OURS_TAIL = re.compile(r"\s*\((?:ours|this model|this work)\)\s*$")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([bmkt])\b")
_SIZE_ONLY = re.compile(r"^(?:model\s*)?(\d+(?:\.\d+)?)\s*([bmkt])(?:\s*(?:params|parameters|model))?$")

# Words that name a different model variant; a label must agree with the name on them.
VARIANT_WORDS = frozenset(
    {"instruct", "it", "chat", "base", "sft", "dpo", "rlhf", "ppo", "orpo", "kto", "pretrain", "lora"}
)
# Words that carry no identity (dropped before comparing).
_NOISE = frozenset({"the", "model", "ours", "hf", "new"})


class MatchLevel(IntEnum):
    NONE = 0
    PARTIAL = 1
    EXACT = 2


@dataclass(frozen=True)
class ModelName:
    """A normalised model name, built once per extraction."""

    raw: str
    tokens: tuple[str, ...]
    numbers: frozenset[str]
    variants: frozenset[str]
    size: tuple[str, str] | None

    @classmethod
    def of(cls, name: str) -> ModelName:
        tokens = tokenize(name)
        numbers = frozenset(t for t in tokens if t.isdigit())
        size_match = _SIZE.search(_strip_org(name).casefold())
        size = (_norm_number(size_match[1]), size_match[2]) if size_match else None
        return cls(name, tokens, numbers, frozenset(tokens) & VARIANT_WORDS, size)


def _strip_org(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _norm_number(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


@lru_cache(maxsize=4096)
def tokenize(name: str) -> tuple[str, ...]:
    """Identity tokens of a model name ("Intel/neural-chat-7b-v3-1" → neural chat 7 b v 3 1)."""
    text = _OURS_TAIL.sub("", _strip_org(name.strip()).casefold().translate(_GREEK))
    return tuple(t for t in _SPLIT.findall(text) if t not in _NOISE)


def match_level(model: ModelName, label: str) -> MatchLevel:
    """How strongly a cleaned row/column label names `model`."""
    folded = label.strip().casefold()
    if not folded:
        return MatchLevel.NONE
    if _OURS.match(folded) or _OURS_TAIL.search(folded):  # "MyModel (ours)": the authors say so
        return MatchLevel.EXACT
    size_only = _SIZE_ONLY.match(folded)
    if size_only:
        if model.size == (_norm_number(size_only[1]), size_only[2]):
            return MatchLevel.PARTIAL
        return MatchLevel.NONE
    tokens = tokenize(label)
    if not tokens or not model.tokens:
        return MatchLevel.NONE
    if sorted(tokens) == sorted(model.tokens):
        return MatchLevel.EXACT
    token_set = set(tokens)
    if (
        token_set <= set(model.tokens)
        and model.numbers <= token_set
        and model.variants <= token_set
        and any(len(t) >= 3 and not t.isdigit() for t in tokens)
    ):
        return MatchLevel.PARTIAL
    return MatchLevel.NONE
