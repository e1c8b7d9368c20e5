"""Parse a model card, merge scores into it, and render the changed files (pure; DESIGN §3, §4).

Only three things are ever written: the top-level `model-index:` block of the YAML front matter,
evalbot's `.eval_results/<source>.yaml` file, and (optionally) the section between
`<!-- evalbot:start -->` and `<!-- evalbot:end -->`. Every other byte of README.md (other keys
with their quoting and comments, the body, BOM, CRLF line endings, a missing final newline)
is kept. The card is never round-tripped through `ModelCardData`, which drops and moves
model-index (reference-tool.md, bug 1).

Example:
    >>> card = parse_card("---\\nlicense: mit\\n---\\n# My model\\n")
    >>> dict(card.data)
    {'license': 'mit'}
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import jinja2
import yaml
from huggingface_hub import parse_eval_result_entries
from huggingface_hub.repocard_data import model_index_to_eval_results
from jinja2.sandbox import SandboxedEnvironment

from bot.core.card import _frontmatter, _merge
from bot.core.card._section import SECTION_END, SECTION_START, place_section
from bot.core.placement import Placement, RegistryView, place, place_as_given
from bot.core.render import default_environment, format_value, render_template, to_yaml
from bot.core.scores import Score
from bot.errors import CardError, ConfigError, InputError, TemplateError, one_line

Format = Literal["model-index", "eval-results", "section"]
FORMATS: tuple[Format, ...] = ("model-index", "eval-results", "section")
DEFAULT_FORMATS: tuple[Format, ...] = ("model-index", "eval-results")
EVAL_RESULTS_DIR = ".eval_results"

_NO_FILES: Mapping[str, str] = MappingProxyType({})
_SOURCE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_RANK = {"unchanged": 0, "duplicate": 0, "added": 1, "replaced": 2, "conflict": 3}


@dataclass(frozen=True)
class Card:
    """A README.md as given, with its front matter parsed."""

    text: str  # the README exactly as given
    front_matter: str | None  # raw YAML between the '---' lines, None if the card has none
    data: Mapping[str, Any]  # yaml.safe_load of front_matter ({} if none)
    _layout: _frontmatter.Offsets = field(repr=False, compare=False)


@dataclass(frozen=True)
class Conflict:
    """A score whose identity is already in the card with another value from another source."""

    score: Score
    existing_value: Any
    existing_source: str | None
    location: str = "model-index"  # "model-index" or the .eval_results path
    # the value evalbot would have written there (scaled, in .eval_results); not part of equality
    proposed: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Replacement:
    """evalbot's own earlier value that a score replaces (old → new in the PR)."""

    score: Score
    old_value: Any
    new_value: Any
    location: str = "model-index"


@dataclass(frozen=True)
class CardChange:
    """What `apply_scores` proposes. Each score is in exactly one of the four tuples.

    A score is a conflict if it conflicts anywhere, else replaced, else added, else unchanged;
    `conflicts` has one entry per place (model-index, .eval_results file) where it conflicts, and
    `partly` repeats the conflicting scores that are still added or replaced in another place.
    """

    readme: str  # new README text; == card.text when nothing changed
    files: Mapping[str, str]  # other repo files whose content changes, e.g. .eval_results/readme.yaml
    added: tuple[Score, ...]
    unchanged: tuple[Score, ...]  # already there, or not applicable to the chosen formats
    replaced: tuple[Score, ...]  # evalbot's own earlier value from the same source, updated
    conflicts: tuple[Conflict, ...]  # other sources' values kept (a score may conflict in two places)
    original_readme: str | None = field(default=None, repr=False)
    # With the eval-results format: each score's `.eval_results` placement (aligned with the
    # scores given), the scores left out with their reason, and what replaced evalbot's values.
    placements: tuple[tuple[Score, Placement], ...] = ()
    left_out: tuple[tuple[Score, str], ...] = ()
    replacements: tuple[Replacement, ...] = ()
    # conflicts that are still written elsewhere (e.g. added to model-index while another
    # .eval_results file keeps its value): the PR lists them with the rest of what it proposes
    partly: tuple[Score, ...] = ()

    @property
    def changed(self) -> bool:
        readme_changed = self.original_readme is not None and self.readme != self.original_readme
        return readme_changed or bool(self.files or self.added or self.replaced or self.partly)


def parse_card(text: str) -> Card:
    """Split a README into front matter and body; broken front matter is a one-line `CardError`.

    Example:
        >>> parse_card("# No metadata\\n").front_matter is None
        True
    """
    layout = _frontmatter.locate_front_matter(text)
    if not layout.has_front_matter:
        return Card(text, None, {}, layout)
    yaml_text = text[layout.yaml_start : layout.yaml_end]
    data = _frontmatter.load_yaml(yaml_text, first_line=text.count("\n", 0, layout.yaml_start) + 1)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CardError(
            f"README.md front matter is {_kind(data)}, not a mapping of keys; "
            "fix the YAML between the '---' lines; evalbot never rewrites a card it cannot parse"
        )
    return Card(text, yaml_text, data, layout)


def validate_model_index(data: Any) -> list[str]:
    """Problems that make `data` an unusable model-index, one line each; `[]` means valid."""
    if not isinstance(data, list):
        return [f"model-index: expected a list of models, got {_kind(data)}"]
    if not data:
        return ["model-index: the list of models is empty"]
    problems: list[str] = []
    for i, model in enumerate(data):
        where = f"model-index[{i}]"
        if not isinstance(model, dict):
            problems.append(f"{where}: expected a mapping, got {_kind(model)}")
            continue
        problems += _expect_text(model, "name", where)
        if not isinstance(model.get("results"), list):
            problems.append(f"{where}.results: expected a list, got {_kind(model.get('results'))}")
            continue
        for j, result in enumerate(model["results"]):
            problems += _result_problems(result, f"{where}.results[{j}]")
    if not problems:
        try:
            model_index_to_eval_results(data)
        except Exception as e:  # whatever huggingface_hub rejects, the Hub will too
            problems.append(f"model-index: huggingface_hub rejects it ({type(e).__name__}: {e})")
    return [" ".join(problem.split()) for problem in problems]


def read_model_index(card: Card) -> list[dict[str, Any]]:
    """The card's model-index (a copy; `[]` if absent). An invalid one is a `CardError`."""
    value = card.data.get("model-index")
    if value is None:
        return []
    problems = validate_model_index(value)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CardError(
            f"README.md model-index is not valid: {problems[0]}{more}; fix it or remove it "
            "(evalbot never rewrites a model-index it cannot read)"
        )
    return copy.deepcopy(value)


def apply_scores(
    card: Card,
    scores: Sequence[Score],
    *,
    source_key: str,
    model_name: str,
    formats: Sequence[str] = DEFAULT_FORMATS,
    existing_files: Mapping[str, str] = _NO_FILES,
    env: jinja2.Environment | None = None,
    registry: RegistryView | None = None,
) -> CardChange:
    """Merge `scores` into the card and evalbot's files; deterministic and idempotent.

    `source_key` names the `.eval_results/<source_key>.yaml` file; `model_name` is used only
    when the card has no model-index yet; `existing_files` holds the repo's current files
    (every `.eval_results/*.yaml`: an entry's identity spans them all). `registry` is what the
    Hub says about the scores' benchmarks (`bot.core.placement`): the task ids and the scale of
    `.eval_results` come from it. Without one, only scores that already name their Hub task
    (`dataset.id` and `task_id`) get entries, with their values as written.

    Example:
        >>> change = apply_scores(parse_card("# m\\n"), [], source_key="readme", model_name="m")
        >>> change.changed
        False
    """
    chosen = _check_formats(formats)
    _check_inputs(scores, source_key)
    env = env or default_environment()
    located: list[tuple[str, _merge.Event]] = []
    readme, files = card.text, {}
    placements: list[Placement] = []
    if "model-index" in chosen:
        readme, events = _apply_model_index(card, scores, model_name, env)
        located += [("model-index", event) for event in events]
    if "eval-results" in chosen:
        path = f"{EVAL_RESULTS_DIR}/{source_key}.yaml"
        placements = [place(s, registry) if registry is not None else place_as_given(s) for s in scores]
        content, events = _apply_eval_results(path, existing_files, scores, placements, env)
        located += [(event.location or path, event) for event in events]
        if content is not None:
            files[path] = content
    if "section" in chosen and scores:
        body_start = card._layout.body_start + len(readme) - len(card.text)
        readme = _apply_section(readme, body_start, card._layout.newline, scores, env)
    return _change(card.text, readme, files, scores, located, placements)


def _apply_model_index(
    card: Card, scores: Sequence[Score], model_name: str, env: jinja2.Environment
) -> tuple[str, list[_merge.Event]]:
    merged, events = _merge.merge_model_index(read_model_index(card), scores, model_name)
    if not any(event.outcome in ("added", "replaced") for event in events):
        return card.text, events
    block = render_template(env, "model_index.yaml.j2", model_index=merged)
    readme = _splice_model_index(card, block)
    if isinstance(env, SandboxedEnvironment):  # a user template: read what it wrote back, all of it
        _check_model_index(readme, merged)
    else:
        _check_built_in_splice(card, merged)
    return readme, events


def _splice_model_index(card: Card, block: str) -> str:
    layout, text = card._layout, card.text
    if card.front_matter is None:
        front = f"---\n{_block_lines(block, 0)}---\n".replace("\n", layout.newline)
        return text[: layout.yaml_start] + front + text[layout.yaml_start :]
    yaml_text = card.front_matter
    found = _frontmatter.find_block(yaml_text, "model-index")
    if found is None:
        start = end = len(yaml_text)
        indent = _frontmatter.top_level_indent(yaml_text)
    else:
        start, end, indent = found.start, found.end, found.indent
    lines = _block_lines(block, indent).replace("\n", layout.newline)
    new_yaml = yaml_text[:start] + lines + yaml_text[end:]
    return text[: layout.yaml_start] + new_yaml + text[layout.yaml_end :]


def _block_lines(block: str, indent: int) -> str:
    """Template output as whole lines ending in "\\n", shifted right by `indent` columns."""
    lines = block.replace("\r\n", "\n").rstrip("\n").split("\n")
    return "".join((" " * indent + line if line else line) + "\n" for line in lines)


def _check_built_in_splice(card: Card, merged: list[dict[str, Any]]) -> None:
    """The built-in template writes `to_yaml(merged)`, PyYAML's own output, which reads back exactly
    (tests/test_render.py proves it for any such data). What is left to check is the splice: the
    same splice of a one-line `model-index: []` must leave every other key as it was, and the Hub's
    parser must accept the model-index. Linear and cheap, even for a 20,000-result model-index,
    where reading the whole block back would cost more than the extraction itself."""
    problems = validate_model_index(merged)
    try:
        data = parse_card(_splice_model_index(card, "model-index: []\n")).data
    except CardError as e:
        raise TemplateError(f"model-index could not be spliced into the front matter: {e}") from e
    others = {k: v for k, v in data.items() if k != "model-index"}
    before = {k: v for k, v in card.data.items() if k != "model-index"}
    if problems or data.get("model-index") != [] or not _frontmatter.same_data(others, before):
        detail = problems[0] if problems else "the other front matter keys would change"
        raise TemplateError(f"template 'model_index.yaml.j2' rendered an invalid model-index: {detail}")


def _check_model_index(readme: str, expected: list[dict[str, Any]]) -> None:
    """A broken template must never produce a broken card: read the result back."""
    try:
        written = _frontmatter.load_model_index(readme)
    except CardError as e:
        raise TemplateError(f"template 'model_index.yaml.j2' produced front matter that is not YAML: {e}") from e
    problems = validate_model_index(written)
    if problems or not _frontmatter.same_data(written, expected):
        detail = problems[0] if problems else "it does not read back as the merged model-index"
        raise TemplateError(f"template 'model_index.yaml.j2' rendered an invalid model-index: {detail}")


def _apply_eval_results(
    path: str,
    existing_files: Mapping[str, str],
    scores: Sequence[Score],
    placements: Sequence[Placement],
    env: jinja2.Environment,
) -> tuple[str | None, list[_merge.Event]]:
    existing = existing_files.get(path)
    items = [] if existing is None else read_eval_results(path, existing)
    others = {
        other: read_eval_results(other, text)
        for other, text in sorted(existing_files.items())
        if other != path and other.startswith(f"{EVAL_RESULTS_DIR}/") and other.endswith((".yaml", ".yml"))
    }
    merged, events = _merge.merge_eval_results(items, scores, placements, others)
    if not any(event.outcome in ("added", "replaced") for event in events):
        return None, events
    content = render_template(env, "eval_results.yaml.j2", entries=merged).rstrip("\n") + "\n"
    try:
        written = yaml.safe_load(content)
        parse_eval_result_entries(written)
        reads_back = to_yaml(written) == to_yaml(merged)
    except Exception as e:
        problem = one_line(e)
        raise TemplateError(f"template 'eval_results.yaml.j2' rendered an unreadable {path}: {problem}") from e
    if not reads_back:
        raise TemplateError(f"template 'eval_results.yaml.j2': {path} does not read back as the merged entries")
    return (None if content == existing else content), events


def read_eval_results(path: str, text: str) -> list[dict[str, Any]]:
    """The entries of one `.eval_results/*.yaml` file; a malformed file is a one-line `CardError`."""
    fix = "fix or delete the file; evalbot never rewrites a file it cannot read"
    try:
        items = yaml.safe_load(text)
    except Exception as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path} line {mark.line + 1}" if mark is not None else path
        problem = one_line(getattr(e, "problem", None) or e)
        raise CardError(f"{where}: {problem}; {fix}") from e
    if items is None:
        return []
    if not isinstance(items, list):
        raise CardError(f"{path}: expected a list of entries, got {_kind(items)}; {fix}")
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict) or "error" in item or "data" in item:
                raise ValueError(f"expected an entry mapping, got {_kind(item)}")
            parse_eval_result_entries([item])
        except Exception as e:
            problem = f"missing field {e}" if isinstance(e, KeyError) else one_line(e)
            raise CardError(f"{path}: entry {i + 1}: {problem}; {fix}") from e
    return items


def _apply_section(text: str, body_start: int, newline: str, scores: Sequence[Score], env: jinja2.Environment) -> str:
    table = render_template(env, "card_section.md.j2", scores=list(scores))
    if SECTION_START in table or SECTION_END in table:
        raise TemplateError("template 'card_section.md.j2' must not contain the evalbot section markers")
    return place_section(text, body_start, table, newline)


def _change(
    original: str,
    readme: str,
    files: dict[str, str],
    scores: Sequence[Score],
    located: list[tuple[str, _merge.Event]],
    placements: Sequence[Placement],
) -> CardChange:
    outcome = ["unchanged"] * len(scores)
    conflicts: list[Conflict] = []
    replacements: list[Replacement] = []
    duplicates: dict[int, str] = {}
    written: set[int] = set()  # added or replaced somewhere
    for location, event in located:
        if _RANK[event.outcome] > _RANK[outcome[event.index]]:
            outcome[event.index] = event.outcome
        score = scores[event.index]
        if event.outcome in ("added", "replaced"):
            written.add(event.index)
        if event.outcome == "conflict":
            proposed = score.metric.value if location == "model-index" else placements[event.index].value
            conflicts.append(Conflict(score, event.existing_value, event.existing_source, location, proposed))
            if location != "model-index":
                kept = f"{location} already has {format_value(event.existing_value)} (kept)"
                duplicates[event.index] = kept
        elif event.outcome == "replaced":
            new = score.metric.value if location == "model-index" else placements[event.index].value
            replacements.append(Replacement(score, event.existing_value, new, location))
        elif event.outcome == "duplicate":
            duplicates[event.index] = f"{event.existing_source} already takes this benchmark task's entry"
    final = [
        Placement(p.dataset_id, p.task_id, reason=duplicates[i]) if i in duplicates else p
        for i, p in enumerate(placements)
    ]
    left_out = [(score, p.reason) for score, p in zip(scores, final, strict=False) if p.reason is not None]

    def having(kind: str) -> tuple[Score, ...]:
        return tuple(score for score, got in zip(scores, outcome, strict=True) if got == kind)

    partly = tuple(
        score for i, (score, got) in enumerate(zip(scores, outcome, strict=True)) if got == "conflict" and i in written
    )

    return CardChange(
        readme=readme,
        files=MappingProxyType(files),
        added=having("added"),
        unchanged=having("unchanged"),
        replaced=having("replaced"),
        conflicts=tuple(conflicts),
        original_readme=original,
        placements=tuple(zip(scores, final, strict=False)),
        left_out=tuple(left_out),
        replacements=tuple(replacements),
        partly=partly,
    )


def _check_formats(formats: Sequence[str]) -> set[str]:
    chosen = [formats] if isinstance(formats, str) else list(formats)
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or isinstance(formats, str):
        raise ConfigError(f"output formats {chosen!r}: expected a list of {', '.join(FORMATS)}")
    return set(chosen)


def _check_inputs(scores: Sequence[Score], source_key: str) -> None:
    if not _SOURCE_KEY.fullmatch(source_key):
        raise ConfigError(f"source key {source_key!r} cannot name a file; use letters, digits, '_', '-', '.'")
    for score in scores:
        if not _merge.is_finite_number(score.metric.value):
            raise InputError(
                f"{score.benchmark} {score.metric.type}: value {score.metric.value!r} is not a finite "
                "number; drop the score or fix where it was read"
            )


def _result_problems(result: Any, where: str) -> list[str]:
    if not isinstance(result, dict):
        return [f"{where}: expected a mapping, got {_kind(result)}"]
    problems: list[str] = []
    for key, required in (("task", ("type",)), ("dataset", ("type", "name"))):
        part = result.get(key)
        if not isinstance(part, dict):
            problems.append(f"{where}.{key}: expected a mapping, got {_kind(part)}")
            continue
        for name in required:
            problems += _expect_text(part, name, f"{where}.{key}")
    metrics = result.get("metrics")
    if not isinstance(metrics, list):
        return [*problems, f"{where}.metrics: expected a list, got {_kind(metrics)}"]
    for k, metric in enumerate(metrics):
        at = f"{where}.metrics[{k}]"
        if not isinstance(metric, dict):
            problems.append(f"{at}: expected a mapping, got {_kind(metric)}")
            continue
        problems += _expect_text(metric, "type", at)
        if not _merge.is_finite_number(metric.get("value")):
            problems.append(f"{at}.value: expected a number, got {metric.get('value')!r}")
    return problems


def _expect_text(mapping: dict[Any, Any], key: str, where: str) -> list[str]:
    value = mapping.get(key)
    if isinstance(value, str) and value.strip():
        return []
    return [f"{where}.{key}: expected text, got {_kind(value)}"]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
