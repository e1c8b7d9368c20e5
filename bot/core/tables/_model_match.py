"""Is this row/column label the card's own model? (pure)

Names are compared as token lists: casefolded, org prefix dropped, Greek letters spelled
out, split on separators and at letter/digit boundaries ("Zephyr-7b-β" → zephyr 7 b beta).
Spelling variants of one name are one name: tokens are also compared with the separators
removed, so "OpenFoo 13B", "open_foo_13b" and "Open-Foo-13B" are the same model.

Levels, strongest first:
- EXACT: the same tokens (any order), the same spelling without separators, the same tokens
  with a label word abbreviating a name word ("Ins" for "Instruct"), a name the card itself
  links to this repo ("[Foo 1.5 Mini](https://huggingface.co/org/AB1-Foo-1.5-Mini)"), or a
  label that says "ours"/"this model" (alone, or after a name that does not contradict this one).
- SUFFIX: the name without its trailing variant word ("Foo2-VL-7B" for "Foo2-VL-7B-Instruct").
  Only usable when no other candidate of the table differs from the label exactly there
  (`decide_layout` checks that, and that the table is not under a "base/pretrained" heading).
- LOOSE: PARTIAL against the name without its trailing variant word (same conditions as SUFFIX).
- PARTIAL: the label's tokens are all in the model's name, it keeps every number of the
  name (so "v3" never stands for "v3-1") and every variant word (-Instruct, -it, -chat,
  SFT, DPO, RL...: a base-model column never stands for an instruct repo). "huBERT" for
  "reading-comprehension-hurc-hubert-hungarian", "2B Params" for "gemma-2b".

A label that shares a name word with the model but carries another number, size or variant
("Foo 1B (ours)" for Foo-7B, "Foo-V2 Chat (SFT)" for an RL model) never matches.
A parenthesised aside ("Foo 1.5 Mini (12B/52B)", "Bar (0.4B)") is ignored unless it
names a variant, or a size that disagrees with the model's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import IntEnum
from functools import lru_cache

_GREEK = str.maketrans({"α": " alpha ", "β": " beta ", "γ": " gamma ", "δ": " delta ", "ε": " epsilon "})
_SPLIT = re.compile(r"[a-z]+|\d+")
_OURS = re.compile(r"^\(?(?:ours|our model|our|this model|this work|proposed)\)?$")
_OURS_TAIL = re.compile(r"\s*\((?:ours|this model|this work)\)\s*$")
_PAREN = re.compile(r"\(([^()]*)\)")
# How a model was run, not which model: "Foo-7B Zero-Shot CoT" is Foo-7B.
SETTING = re.compile(r"(?i)\b(?:zero|one|few|\d+)[- ]?shots?\b|\b(?:cot|pot|pal|greedy|sampling|maj@\d+)\b")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([bmt])\b")
_SIZE_ONLY = re.compile(r"^(?:model\s*)?(\d+(?:\.\d+)?)\s*([bmt])(?:\s*(?:params|parameters|model))?$")

# Words that name a differently trained variant; a label must agree with the name on them.
VARIANT_WORDS = frozenset(
    {
        "instruct", "it", "chat", "sft", "dpo", "rlhf", "rl", "ppo", "orpo", "kto", "grpo", "pretrain",
        "lora", "awq", "gptq", "gguf", "exl2", "int4", "int8", "fp8", "bnb", "qlora", "distilled", "coder", "math",
    }
)  # fmt: skip
# Flavour words: a label may leave them out, but never carry another one ("Large" for a "Mini" repo).
FLAVOUR_WORDS = frozenset(
    {"base", "mini", "small", "medium", "large", "xl", "xxl", "tiny", "nano", "micro", "pro", "plus"}
)
# Variant words a card may leave off its own name when nothing else in the table has them.
_SUFFIX_WORDS = frozenset({"instruct", "chat", "it", "hf"})
# Words that carry no identity (dropped before comparing).
_NOISE = frozenset({"the", "model", "ours", "hf", "new"})


class MatchLevel(IntEnum):
    NONE = 0
    LOOSE = 1  # PARTIAL once the trailing variant word is dropped
    PARTIAL = 2
    SUFFIX = 3
    EXACT = 4


@dataclass(frozen=True)
class ModelName:
    """A normalised model name, built once per extraction."""

    raw: str
    tokens: tuple[str, ...]
    numbers: frozenset[str]
    variants: frozenset[str]
    size: tuple[str, str] | None
    aliases: tuple[tuple[str, ...], ...] = ()  # other names the card gives this repo (link texts to it)

    @classmethod
    def of(cls, name: str) -> ModelName:
        tokens = tokenize(name)
        numbers = frozenset(t for t in tokens if t.isdigit())
        size_match = _SIZE.search(_strip_org(name).casefold())
        size = (_norm_number(size_match[1]), size_match[2]) if size_match else None
        return cls(name, tokens, numbers, frozenset(tokens) & VARIANT_WORDS, size)

    def with_variants_named_in(self, names: Iterable[str]) -> ModelName:
        """This name with the variant a card gives it in an aside ("Foo-V2-Chat (RL)" in a download table).

        Only when the names agree on one variant: a comparison of "(SFT)" and "(RL)" says nothing.
        """
        found: set[frozenset[str]] = set()
        for name in names:
            main, asides = _split_aside(name.casefold())
            if main and asides and _same(tokenize(main), self.tokens):
                variants = frozenset({t for a in asides for t in tokenize(a)} & VARIANT_WORDS)
                if variants:
                    found.add(variants)
        if len(found) != 1:
            return self
        extra = set(next(iter(found))) - self.variants
        if not extra:
            return self
        return replace(self, tokens=self.tokens + tuple(sorted(extra)), variants=self.variants | extra)

    def with_aliases(self, names: Iterable[str]) -> ModelName:
        """This name, also known as `names` (e.g. the text of the card's links to this repo)."""
        # An alias must share a name word with the repo: a link text such as "128K" or "HF" is no name.
        words = {t for t in self.tokens if len(t) >= 3 and t.isalpha()}
        aliases = tuple(dict.fromkeys(t for n in names if (t := tokenize(n)) and t != self.tokens and words & set(t)))
        return replace(self, aliases=self.aliases + aliases) if aliases else self

    @property
    def without_suffix(self) -> tuple[str, ...]:
        """The tokens without trailing -Instruct/-chat/-it (what a card may call itself)."""
        tokens = list(self.tokens)
        while tokens and tokens[-1] in _SUFFIX_WORDS:
            tokens.pop()
        return tuple(tokens)


def _strip_org(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _norm_number(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


@lru_cache(maxsize=4096)
def tokenize(name: str) -> tuple[str, ...]:
    """Identity tokens of a model name ("Intel/neural-chat-7b-v3-1" → neural chat 7 b v 3 1)."""
    text = _OURS_TAIL.sub("", _strip_org(name.strip()).casefold().translate(_GREEK))
    return tuple(t for t in _SPLIT.findall(text) if t not in _NOISE)


def _same(label: tuple[str, ...], name: tuple[str, ...]) -> bool:
    """Same tokens in any order, the same spelling without separators, or abbreviated words."""
    if sorted(label) == sorted(name) or "".join(label) == "".join(name):
        return True
    if len(label) != len(name):
        return False
    return all(a == b or (len(a) >= 3 and a.isalpha() and b.startswith(a)) for a, b in zip(label, name, strict=True))


def _split_aside(label: str) -> tuple[str, list[str]]:
    """'Foo 1.5 Mini (12B/52B)' → ('Foo 1.5 Mini', ['12B/52B'])."""
    asides = _PAREN.findall(label)
    return _PAREN.sub(" ", label).strip(), asides


def contradicts(model: ModelName, label: str) -> bool:
    """True when `label` names a sibling: a shared name word, but another number, size or variant."""
    tokens = tokenize(label)
    words = {t for t in tokens if len(t) >= 3 and t.isalpha() and t not in VARIANT_WORDS}
    if not words & set(model.tokens) and "".join(tokens)[:4] != "".join(model.tokens)[:4]:
        return False
    if any(t.isdigit() and t not in model.numbers for t in tokens):
        return True
    if (set(tokens) & VARIANT_WORDS) - model.variants - _SUFFIX_WORDS:
        return True
    flavours = set(model.tokens) & FLAVOUR_WORDS
    if flavours and (set(tokens) & FLAVOUR_WORDS) - flavours:
        return True
    size = _SIZE.search(label.casefold())
    return bool(size and model.size and (_norm_number(size[1]), size[2]) != model.size)


def _aside_disagrees(model: ModelName, aside: str) -> bool:
    tokens = set(tokenize(aside))
    if (tokens & VARIANT_WORDS) - model.variants:
        return True
    sizes = {(_norm_number(m[1]), m[2]) for m in _SIZE.finditer(aside.casefold())}
    return bool(sizes and model.size and model.size not in sizes and len(sizes) == 1)


def match_level(model: ModelName, label: str) -> MatchLevel:
    """How strongly a cleaned row/column label names `model`."""
    folded = label.strip().casefold()
    if not folded:
        return MatchLevel.NONE
    if _OURS.match(folded):
        return MatchLevel.EXACT
    if _OURS_TAIL.search(folded):  # "MyModel (ours)": the authors say so, unless the name is a sibling's
        named = _OURS_TAIL.sub("", folded)
        return MatchLevel.NONE if contradicts(model, named) else MatchLevel.EXACT
    folded = SETTING.sub(" ", folded).strip() or folded
    main, asides = _split_aside(folded)
    if asides and main:
        if any(_aside_disagrees(model, a) for a in asides):
            return MatchLevel.NONE
        if any(set(tokenize(a)) & VARIANT_WORDS for a in asides):
            main = folded  # "(RL)" is part of the name: compare it too
    level = _level(model, main or folded)
    if level == MatchLevel.NONE and main != folded:
        level = _level(model, folded)
    return level


def _level(model: ModelName, label: str) -> MatchLevel:
    size_only = _SIZE_ONLY.match(label)
    if size_only:
        if model.size == (_norm_number(size_only[1]), size_only[2]):
            return MatchLevel.PARTIAL
        return MatchLevel.NONE
    tokens = tokenize(label)
    if not tokens or not model.tokens:
        return MatchLevel.NONE
    if _same(tokens, model.tokens) or any(_same(tokens, alias) for alias in model.aliases):
        return MatchLevel.EXACT
    stripped = model.without_suffix
    if stripped != model.tokens and stripped and _same(tokens, stripped):
        return MatchLevel.SUFFIX
    if contradicts(model, label):
        return MatchLevel.NONE
    if _subset(tokens, model.tokens):
        return MatchLevel.PARTIAL
    if stripped != model.tokens and stripped and _subset(tokens, stripped):
        return MatchLevel.LOOSE
    return MatchLevel.NONE


def _subset(tokens: tuple[str, ...], name: tuple[str, ...]) -> bool:
    token_set, names = set(tokens), set(name)
    numbers = {t for t in name if t.isdigit()}
    return (
        token_set <= names
        and numbers <= token_set
        and (names & VARIANT_WORDS) <= token_set
        and any(len(t) >= 3 and not t.isdigit() for t in tokens)
    )


def adds_variant(label: str, other: str) -> bool:
    """True when `other` is `label` plus variant words ("Llama 3 8B" → "Llama 3 8B Instruct")."""
    main, asides = _split_aside(label)
    if main and not any(set(tokenize(a)) & VARIANT_WORDS for a in asides):
        label = main  # "Foo-V2 (MoE-236B)" is "Foo-V2" here
    mine, theirs = tokenize(label), tokenize(other)
    extra = [t for t in theirs if t not in mine]
    return bool(extra) and set(mine) <= set(theirs) and all(t in VARIANT_WORDS or t in _SUFFIX_WORDS for t in extra)
