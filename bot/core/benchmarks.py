"""The benchmark vocabulary: aliases → canonical benchmark, Hub dataset, metric (DESIGN §3, §6).

The data lives in ``benchmarks.yaml`` beside this module and is loaded and validated once.
README table extraction uses it to recognise evaluation tables and to canonicalise a row or
column label; card rendering uses it for model-index dataset fields and for the dataset id,
config and split that `bot.core.placement` matches against a registered benchmark's `eval.yaml` tasks
(task ids are never written here: they come from the Hub).

Matching is exact on a normalised key, never on substrings: ``"MMLU-Pro"`` is MMLU-Pro and
``"MMLU"`` is MMLU. The key is the casefolded label with every character that is not a letter,
a digit, ``@`` or ``+`` removed, so ``"ARC-c" == "arc c" == "ARC_C"``. Shot counts, arrows and
footnote marks are removed first (`parse_label`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar, cast, get_args

import yaml

from bot.core.parse import parse_bool
from bot.core.scores import Dataset, Score, Unit
from bot.errors import ConfigError

__all__ = [
    "Benchmark",
    "LabelParts",
    "MetricInfo",
    "Vocabulary",
    "all_benchmarks",
    "all_metrics",
    "default_vocabulary",
    "load_vocabulary",
    "lookup_benchmark",
    "lookup_metric",
    "mentions_benchmark",
    "metric_type",
    "normalize_label",
    "parse_label",
    "parse_vocabulary",
]

_T = TypeVar("_T")
_UNITS: frozenset[str] = frozenset(get_args(Unit))

# Anything that is not a letter or digit (any script), "@" or "+". "_" is a word character for
# `re`, so it is removed explicitly.
_NON_KEY = re.compile(r"[^\w@+]|_")
# Runs of key characters; a label's key is the casefolded concatenation of its tokens.
_TOKEN = re.compile(r"(?:[^\W_]|[@+])+")
# Emphasis and footnote marks, escapes, arrows (↑ ↓ ⬆️ ...), emoji joiners and variation selectors.
_DECORATION = re.compile("[*`\\\\†‡§¶\u2190-\u21ff\u27f0-\u27ff\u2900-\u297f\u2b00-\u2bff\u200d\ufe0e\ufe0f]")
_GROUP = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_SHOT_PART = re.compile(r"(?:(\d+)|(zero|one))\s*[-_ ]?\s*(?:shots?|s)", re.IGNORECASE)
_INLINE_SHOT = re.compile(r"(?<![^\W_])(?:(\d+)|(zero|one))[-_ ]?shots?(?![^\W_])", re.IGNORECASE)
_FOOTNOTE = re.compile(r"\s*(?:\d{1,2}|[a-z]|\*+)\s*", re.IGNORECASE)
_WORD_NUMBERS = {"zero": 0, "one": 1}
_NAME_TRIM = " \t-_:,;/|"
_PASS_AT = re.compile(r"(pass|maj|cons)@(\d+)")  # pass@k, majority vote maj@k, cons@k
_LIGHTEVAL_PASS_AT = re.compile(r"pass@k:k=(\d+)", re.IGNORECASE)
# Words that name a split or an aggregate around a metric: "Test WER", "Dev WER", "WER (eval)".
_SPLIT_WORDS = frozenset({"test", "dev", "val", "valid", "validation", "eval", "evaluation"})

_BENCHMARK_KEYS = frozenset({"name", "aliases", "metric", "unit", "task", "dataset", "lower_is_better"})
_METRIC_KEYS = frozenset({"name", "aliases", "type", "lower_is_better"})
_DATASET_KEYS = frozenset({"id", "config", "split"})
_TOP_KEYS = frozenset({"benchmarks", "metrics", "ordinary_words"})


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its canonical name, the spellings that mean it, and how to write it down.

    `dataset_id` is the Hub dataset written as model-index ``dataset.type``/``id``; it is None
    where no single dataset is the benchmark (e.g. "AIME" without a year). Whether it is a
    registered Hub benchmark, and under which task id, is the Hub's to say (`bot.edges.registry`).
    """

    name: str
    aliases: tuple[str, ...]
    metric: str
    unit: Unit
    task_type: str
    dataset_id: str | None
    dataset_config: str | None
    dataset_split: str | None
    lower_is_better: bool


@dataclass(frozen=True)
class MetricInfo:
    """A metric name as cards write it, and the model-index metric `type` it maps to."""

    name: str
    type: str
    lower_is_better: bool


@dataclass(frozen=True)
class LabelParts:
    """A table label split into the benchmark name, the shot count and other qualifiers.

    Example: ``"TruthfulQA (MC) (0-s) ⬆️"`` → ``LabelParts("TruthfulQA", 0, ("MC",))``.
    """

    name: str
    shots: int | None
    qualifiers: tuple[str, ...]


def normalize_label(text: str) -> str:
    """The matching key of a label: casefolded, only letters, digits, ``@`` and ``+`` kept.

    Args:
        text: a label as written on a card.

    Returns:
        The key; equal keys mean the same name.

    Example:
        >>> normalize_label("ARC-c") == normalize_label("arc c") == normalize_label("ARC_C")
        True
        >>> normalize_label("HumanEval+")
        'humaneval+'
    """
    return _NON_KEY.sub("", text.casefold())


def _spelling(text: str) -> str:
    """The key characters of `text` with their case kept ("MATH (4-shot)" → "MATH4shot")."""
    return "".join(_TOKEN.findall(text))


def _strip_decoration(text: str) -> str:
    text = _DECORATION.sub(" ", text)
    if text.isascii():
        return text
    return "".join(" " if unicodedata.category(ch) == "So" else ch for ch in text)


def _shot_count(text: str) -> int | None:
    match = _SHOT_PART.fullmatch(text.strip())
    if match is None:
        return None
    return int(match[1]) if match[1] else _WORD_NUMBERS[match[2].casefold()]


def parse_label(label: str) -> LabelParts:
    """Split a table label into name, shot count and qualifiers.

    Shot counts are recognised in parentheses or brackets ("(25-s)", "(5-shot)", "[0-shot]",
    "(5-shot, CoT)") and inline ("5-shot", "mmlu_5shot", "zero-shot"). Arrows, emoji, ``*``,
    ``†`` and footnote brackets ("[1]") are dropped. Other parenthesised parts are kept as
    qualifiers, in order.

    Args:
        label: a cleaned cell or header text.

    Returns:
        The parts; `name` is empty when the label holds nothing else.

    Example:
        >>> parse_label("TruthfulQA (MC) (0-s)")
        LabelParts(name='TruthfulQA', shots=0, qualifiers=('MC',))
        >>> parse_label("AI2 Reasoning Challenge (25-Shot)")
        LabelParts(name='AI2 Reasoning Challenge', shots=25, qualifiers=())
    """
    return _parse_label(label)


@functools.lru_cache(maxsize=16384)
def _parse_label(label: str) -> LabelParts:
    text = _strip_decoration(label)
    shots: int | None = None
    qualifiers: list[str] = []
    while (group := _GROUP.search(text)) is not None:
        bracket = group[2] is not None
        inner = group[2] if bracket else group[1]
        text = f"{text[: group.start()]} {text[group.end() :]}"
        if bracket and _FOOTNOTE.fullmatch(inner):
            continue
        for part in re.split(r"[,;]", inner):
            count = _shot_count(part)
            if count is not None:
                shots = count if shots is None else shots
            elif part.strip():
                qualifiers.append(" ".join(part.split()))
    inline = _INLINE_SHOT.search(text)
    if inline is not None:
        count = int(inline[1]) if inline[1] else _WORD_NUMBERS[inline[2].casefold()]
        shots = count if shots is None else shots
        text = f"{text[: inline.start()]} {text[inline.end() :]}"
    name = " ".join(text.split()).strip(_NAME_TRIM)
    return LabelParts(name=name, shots=shots, qualifiers=tuple(qualifiers))


class Vocabulary:
    """Benchmarks and metrics with their alias indexes; lookups are single dict accesses.

    Build one with `load_vocabulary`; the package's own is `default_vocabulary()`.

    Raises:
        ConfigError: an alias (after normalisation) names two benchmarks or two metrics, or an
            ordinary word is not an alias of any benchmark.
    """

    def __init__(
        self,
        benchmarks: Sequence[Benchmark],
        metrics: Sequence[MetricInfo],
        metric_aliases: Mapping[str, Sequence[str]] | None = None,
        ordinary_words: Iterable[str] = (),
        *,
        source: str = "benchmark vocabulary",
    ) -> None:
        self.benchmarks: tuple[Benchmark, ...] = tuple(benchmarks)
        self.metrics: tuple[MetricInfo, ...] = tuple(metrics)
        self._benchmark_keys = _index(((b, b.name, (b.name, *b.aliases)) for b in self.benchmarks), "benchmark", source)
        aliases = metric_aliases or {}
        self._metric_keys = _index(
            ((m, m.name, (m.name, *aliases.get(m.name, ()))) for m in self.metrics), "metric", source
        )
        # Every prefix of every key, so `mentions` can stop extending a token run early.
        self._prefixes = frozenset(key[:i] for key in self._benchmark_keys for i in range(1, len(key) + 1))
        rules: dict[str, set[str]] = {}
        for word in ordinary_words:
            key = normalize_label(word)
            if key not in self._benchmark_keys:
                raise ConfigError(
                    f"{source}: ordinary word {word!r} is not an alias of any benchmark; "
                    "add it to a benchmark's aliases or remove it from ordinary_words"
                )
            rules.setdefault(key, set()).add(_spelling(word))
        self._case_rules = {key: frozenset(spellings) for key, spellings in rules.items()}

    def _match(self, text: str) -> Benchmark | None:
        key = normalize_label(text)
        found = self._benchmark_keys.get(key)
        if found is not None and not self._spelled_ok(key, _spelling(text)):
            return None
        return found

    def _spelled_ok(self, key: str, spelled: str) -> bool:
        allowed = self._case_rules.get(key)
        return allowed is None or spelled in allowed or spelled.isupper()

    def benchmark(self, label: str) -> Benchmark | None:
        """The benchmark a label names, or None (see `lookup_benchmark`)."""
        found = self._match(label)
        if found is not None:
            return found
        parts = parse_label(label)
        if not parts.name:
            return None
        candidates = []
        if parts.qualifiers:  # "AIME (2025)", "GPQA (Diamond)", "TruthfulQA (MC1)" name other entries
            candidates.append(" ".join((parts.name, *parts.qualifiers)))
            candidates.extend(f"{parts.name} {q}" for q in parts.qualifiers)
        candidates.append(parts.name)
        for candidate in candidates:
            found = self._match(candidate)
            if found is not None:
                return found
        return None

    def _metric_by_key(self, key: str) -> MetricInfo | None:
        found = self._metric_keys.get(key)
        if found is None and (pass_at := _PASS_AT.fullmatch(key)) is not None:
            name = f"{pass_at[1]}@{int(pass_at[2])}"
            return MetricInfo(name=name, type=name, lower_is_better=False)
        return found

    def metric(self, label: str) -> MetricInfo | None:
        """The metric a label names, or None (see `lookup_metric`)."""
        found = self._metric_by_key(normalize_label(label))
        if found is not None:
            return found
        lighteval = _LIGHTEVAL_PASS_AT.search(label)
        if lighteval is not None:
            return self._metric_by_key(f"pass@{int(lighteval[1])}")
        name = parse_label(label).name
        found = self._metric_by_key(normalize_label(name))
        if found is not None:
            return found
        tokens = _TOKEN.findall(name)
        while tokens and tokens[0].casefold() in _SPLIT_WORDS:
            tokens.pop(0)
        while tokens and tokens[-1].casefold() in _SPLIT_WORDS:
            tokens.pop()
        found = self._metric_by_key("".join(tokens).casefold()) if tokens else None
        if found is None and len(tokens) > 1:
            # "Pile PPL", "Wikitext BPB": a dataset name, then a lower-is-better metric (never "MMLU Acc":
            # the higher-is-better words also name benchmark variants)
            tail = self._metric_by_key(tokens[-1].casefold())
            if tail is not None and tail.lower_is_better:
                return tail
        return found

    def mentions(self, text: str) -> bool:
        """Whether any run of tokens in `text` is a benchmark alias (see `mentions_benchmark`)."""
        tokens = _TOKEN.findall(text)
        folded = [token.casefold() for token in tokens]
        for start in range(len(tokens)):
            key = ""
            for end in range(start, len(tokens)):
                key += folded[end]
                if key not in self._prefixes:
                    break
                if key in self._benchmark_keys and self._spelled_ok(key, "".join(tokens[start : end + 1])):
                    return True
        return False


def _index(entries: Iterable[tuple[_T, str, Sequence[str]]], kind: str, source: str) -> dict[str, _T]:
    """Map every normalised spelling to its entry; a spelling shared by two entries is an error."""
    index: dict[str, _T] = {}
    owners: dict[str, tuple[int, str]] = {}
    for position, (entry, name, spellings) in enumerate(entries):
        for spelling in spellings:
            key = normalize_label(spelling)
            if not key:
                raise ConfigError(f"{source}: {kind} {name!r}: alias {spelling!r} has no letters or digits")
            owner = owners.get(key)
            if owner is not None and owner[0] != position:
                raise ConfigError(
                    f"{source}: alias {spelling!r} (key {key!r}) names two {kind}s, "
                    f"{owner[1]!r} and {name!r}; keep it on one of them"
                )
            owners[key] = (position, name)
            index[key] = entry
    return index


def _fail(source: str, where: str, problem: str) -> ConfigError:
    return ConfigError(f"{source}: {where}: {problem}")


def _string(value: object, source: str, where: str, field_name: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, where, f"{field_name} must be a non-empty string (quote it in YAML), got {value!r}")
    return value


def _strings(value: object, source: str, where: str, field_name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(source, where, f"{field_name} must be a list of strings, got {value!r}")
    return tuple(cast(str, _string(item, source, where, f"{field_name} item")) for item in value)


def _mapping(value: object, source: str, where: str, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(source, where, f"must be a mapping, got {value!r}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise _fail(source, where, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return cast(dict[str, Any], value)


def _flag(value: object, source: str, where: str, default: bool) -> bool:
    if value is None:
        return default
    try:
        return parse_bool(value, "lower_is_better", text=False)  # YAML's own booleans only
    except ConfigError as e:
        raise _fail(source, where, str(e)) from None


def _parse_metric(raw: object, number: int, source: str) -> tuple[MetricInfo, tuple[str, ...]]:
    where = f"metrics[{number}]"
    entry = _mapping(raw, source, where, _METRIC_KEYS)
    name = cast(str, _string(entry.get("name"), source, where, "name"))
    where = f"{where} ({name!r})"
    metric_type = cast(str, _string(entry.get("type"), source, where, "type"))
    aliases = _strings(entry.get("aliases"), source, where, "aliases")
    lower = _flag(entry.get("lower_is_better"), source, where, False)
    return MetricInfo(name=name, type=metric_type, lower_is_better=lower), aliases


def _parse_benchmark(raw: object, number: int, source: str, metric_types: Mapping[str, MetricInfo]) -> Benchmark:
    where = f"benchmarks[{number}]"
    entry = _mapping(raw, source, where, _BENCHMARK_KEYS)
    name = cast(str, _string(entry.get("name"), source, where, "name"))
    where = f"{where} ({name!r})"
    metric = cast(str, _string(entry.get("metric"), source, where, "metric"))
    if metric not in metric_types:
        raise _fail(source, where, f"metric {metric!r} is not a metric type; add it under metrics or fix the name")
    unit = entry.get("unit")
    if unit not in _UNITS:
        raise _fail(source, where, f"unit {unit!r} is not one of {', '.join(sorted(_UNITS))}")
    task = cast(str, _string(entry.get("task"), source, where, "task"))
    dataset: dict[str, Any] = {}
    if entry.get("dataset") is not None:
        dataset = _mapping(entry["dataset"], source, f"{where} dataset", _DATASET_KEYS)
        _string(dataset.get("id"), source, f"{where} dataset", "id")
    return Benchmark(
        name=name,
        aliases=_strings(entry.get("aliases"), source, where, "aliases"),
        metric=metric,
        unit=cast(Unit, unit),
        task_type=task,
        dataset_id=_string(dataset.get("id"), source, where, "dataset id", required=False),
        dataset_config=_string(dataset.get("config"), source, where, "dataset config", required=False),
        dataset_split=_string(dataset.get("split"), source, where, "dataset split", required=False),
        lower_is_better=_flag(entry.get("lower_is_better"), source, where, metric_types[metric].lower_is_better),
    )


def parse_vocabulary(text: str, source: str = "benchmarks.yaml") -> Vocabulary:
    """Build a `Vocabulary` from YAML text in the ``benchmarks.yaml`` format.

    Args:
        text: the YAML document.
        source: a name for error messages (usually the file path).

    Returns:
        The validated vocabulary.

    Raises:
        ConfigError: the YAML is invalid, a field is missing or malformed, a unit or metric is
            unknown, or an alias names two benchmarks (the message names both).
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: not valid YAML: {e}") from e
    top = _mapping(data, source, "top level", _TOP_KEYS)
    raw_metrics = top.get("metrics") or []
    raw_benchmarks = top.get("benchmarks")
    if not isinstance(raw_benchmarks, list) or not raw_benchmarks or not isinstance(raw_metrics, list):
        raise ConfigError(f"{source}: expected lists under 'benchmarks' (non-empty) and 'metrics'")
    parsed = [_parse_metric(raw, i, source) for i, raw in enumerate(raw_metrics)]
    metric_types: dict[str, MetricInfo] = {}
    for info, _ in parsed:
        if info.type in metric_types:
            raise ConfigError(
                f"{source}: metric type {info.type!r} is used by both "
                f"{metric_types[info.type].name!r} and {info.name!r}; merge them"
            )
        metric_types[info.type] = info
    benchmarks = [_parse_benchmark(raw, i, source, metric_types) for i, raw in enumerate(raw_benchmarks)]
    return Vocabulary(
        benchmarks,
        [info for info, _ in parsed],
        {info.name: aliases for info, aliases in parsed},
        _strings(top.get("ordinary_words"), source, "top level", "ordinary_words"),
        source=source,
    )


def load_vocabulary(path: str | Path) -> Vocabulary:
    """Load and validate a vocabulary file.

    Args:
        path: a YAML file in the ``benchmarks.yaml`` format.

    Returns:
        The validated vocabulary.

    Raises:
        ConfigError: the file cannot be read or is invalid (see `parse_vocabulary`).

    Example:
        >>> vocab = load_vocabulary(Path(__file__).with_name("benchmarks.yaml"))
        >>> vocab.benchmark("ARC (25-s)").name
        'ARC-Challenge'
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read benchmark vocabulary {str(path)!r}: {e}") from e
    return parse_vocabulary(text, str(path))


@functools.cache
def default_vocabulary() -> Vocabulary:
    """The vocabulary shipped with evalbot (``bot/core/benchmarks.yaml``), loaded once."""
    text = files("bot.core").joinpath("benchmarks.yaml").read_text(encoding="utf-8")
    return parse_vocabulary(text, "bot/core/benchmarks.yaml")


def lookup_benchmark(label: str) -> Benchmark | None:
    """The benchmark a table label names, or None.

    Tolerant of case, spaces/hyphens/underscores, shot counts, arrows, ``*`` and ``†``; exact on
    the rest: "MMLU-Pro" never resolves to MMLU nor "MMLU" to MMLU-Pro. A parenthesised
    qualifier is tried with the name first ("GPQA (Diamond)" → GPQA Diamond) and then dropped
    ("BigBench (Avg)" → BIG-Bench). Aliases that are everyday words (MATH, DROP, RACE...) match
    only in their listed spelling or in capitals, so "Math" is not MATH.

    Args:
        label: a cleaned table label.

    Returns:
        The benchmark, or None when the label is not a known benchmark.

    Example:
        >>> lookup_benchmark("AI2 Reasoning Challenge (25-Shot)").name
        'ARC-Challenge'
        >>> lookup_benchmark("Learning rate") is None
        True
    """
    return _lookup_benchmark(label)


@functools.lru_cache(maxsize=16384)
def _lookup_benchmark(label: str) -> Benchmark | None:
    return default_vocabulary().benchmark(label)


def lookup_metric(label: str) -> MetricInfo | None:
    """The metric a label names, or None.

    Understands aliases ("chr-F", "F1 score", "Exact Match", "top1"), any ``pass@k`` (also
    lighteval's ``pass@k:k=1``), decorations like "WER (%)" or "WER ↓", and split words around
    the metric ("Test WER", "Dev WER").

    Args:
        label: a cleaned table label.

    Returns:
        The metric, or None.

    Example:
        >>> lookup_metric("Test WER").type
        'wer'
        >>> lookup_metric("pass@5").type
        'pass@5'
        >>> lookup_metric("Pile PPL").type
        'perplexity'
    """
    return _lookup_metric(label)


@functools.lru_cache(maxsize=16384)
def _lookup_metric(label: str) -> MetricInfo | None:
    return default_vocabulary().metric(label)


def mentions_benchmark(text: str) -> bool:
    """Whether any run of tokens in `text` is a known benchmark alias (for table classification).

    Args:
        text: any text, e.g. a table header row joined with spaces.

    Returns:
        True if some consecutive tokens spell a benchmark alias exactly.

    Example:
        >>> mentions_benchmark("Model | ARC (25-s) ⬆️ | HellaSwag (10-s) ⬆️")
        True
        >>> mentions_benchmark("Learning rate | Epochs | Batch size")
        False
    """
    return _mentions_benchmark(text)


@functools.lru_cache(maxsize=4096)
def _mentions_benchmark(text: str) -> bool:
    return default_vocabulary().mentions(text)


def all_benchmarks() -> tuple[Benchmark, ...]:
    """Every benchmark in the shipped vocabulary, in file order (sorted by name)."""
    return default_vocabulary().benchmarks


def all_metrics() -> tuple[MetricInfo, ...]:
    """Every metric in the shipped vocabulary, in file order."""
    return default_vocabulary().metrics


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """A stable dataset `type` for a name the vocabulary does not know ("LS test-other" → ls-test-other)."""
    return _SLUG.sub("-", text.casefold()).strip("-") or "unknown"


def with_task_types(scores: Sequence[Score], pipeline_tag: object) -> list[Score]:
    """`scores` with each `task.type` from `task_type_for` (the card's pipeline_tag first)."""
    return [
        replace(s, task=replace(s.task, type=task_type_for(s.benchmark, pipeline_tag, s.task.type))) for s in scores
    ]


def task_type_for(benchmark: str, pipeline_tag: object, fallback: str) -> str:
    """The model-index `task.type` of a score: the card's `pipeline_tag` (translation,
    automatic-speech-recognition, ...), then the benchmark's own type, then `fallback`.

    Example:
        >>> task_type_for("WMT14", None, "text-generation"), task_type_for("MMLU", "text-classification", "x")
        ('translation', 'text-classification')
    """
    if isinstance(pipeline_tag, str) and pipeline_tag.strip():
        return pipeline_tag.strip()
    known = lookup_benchmark(benchmark)
    return known.task_type if known is not None else fallback


def dataset_of(benchmark: Benchmark) -> Dataset:
    """The model-index dataset of a known benchmark; `id` is its Hub dataset, where it has one.

    The `.eval_results` task id is not known here: it comes from the benchmark's `eval.yaml`
    on the Hub (`bot.core.placement.match_task`).
    """
    return Dataset(
        name=benchmark.name,
        type=benchmark.dataset_id or slug(benchmark.name),
        id=benchmark.dataset_id,
        config=benchmark.dataset_config,
        split=benchmark.dataset_split,
    )


# engine metric keys (lighteval, inspect, harness result files) → model-index metric types
_ENGINE_METRICS = {
    "em": "exact_match",
    "extractive_match": "exact_match",
    "accuracy": "acc",
    "quasi_exact_match": "quasi_exact_match",
}
_ENGINE_PARAMETRISED = re.compile(r"^(?:[a-z_]+_)?(pass|maj|avg)@[kn]:[kn]=(\d+)")
_ENGINE_TRUTHFULQA = re.compile(r"^truthfulqa_(mc[12])$")


def metric_type(key: str) -> str:
    """`pass@k:k=1&n=1` → pass@1, `gpqa_pass@k:k=1` → pass@1, `maj@n:n=4` → maj@4, `avg@n:n=1` → avg@1,
    `truthfulqa_mc2` → mc2, `em` → exact_match."""
    match = _ENGINE_PARAMETRISED.match(key)
    if match:
        return f"{match[1]}@{match[2]}"
    match = _ENGINE_TRUTHFULQA.match(key)
    if match:
        return match[1]
    return _ENGINE_METRICS.get(key, key)
