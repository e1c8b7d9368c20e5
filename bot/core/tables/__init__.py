"""README tables → the card's own scores (DESIGN §6). Pure: text in, data out.

How a card is read, in short (the rules are spelled out in `bot.core.tables._layout` and
`bot.core.tables._model_match`):

1. Tables: markdown (markdown-it-py; code fences skipped, tables glued to a list item found) and
   HTML (`<table>` with colspan/rowspan), numbered 1.. in document order.
2. Classification: lm-evaluation-harness and sclite output are read natively; training logs,
   configuration, hyperparameter, architecture, carbon, training-data and other property tables
   are not evaluation tables; count and property columns beside scores are left out.
3. The own model: every column header and row label is scored against the repo name (spelling
   variants are one name; every number, size and variant word must agree; a trailing
   -Instruct/-chat may be dropped only when no sibling in the card has it and the heading does
   not say base/pretrained); the card's own links to this repo and its listing tables are
   evidence; bold/emoji only break ties. A table that names no model is this model's own results.
4. Confidence: each result carries one (0..1) and its reasons. `extract_results` returns what
   may be published (at least `DEFAULT_MIN_CONFIDENCE`); `extract_all` returns everything, and
   `why_nothing` says why a card gave nothing, with the flags that would select a model.
5. Derivatives: a quantization, merge or adapter of another model (card metadata or a
   GGUF/GPTQ/AWQ/EXL2 name) does not take its tables' scores: they are the base model's.

>>> card = "| Model | MMLU |\\n|---|---|\\n| **Ours-7B** | 65.4 |\\n| Other | 60.1 |\\n"
>>> [(r.benchmark, r.value) for r in extract_results(card, "org/Ours-7B")]
[('MMLU', 65.4)]
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import yaml

from bot.core import benchmarks
from bot.core.tables._cells import Cell, Value, is_missing, parse_pair, parse_value
from bot.core.tables._layout import (
    Layout,
    Skip,
    decide_layout,
    is_average,
    is_non_eval,
    model_names,
    scores_at_length,
    series,
    with_reason,
)
from bot.core.tables._model_match import ModelName, tokenize
from bot.core.tables._source import RawTable, find_tables
from bot.errors import TableError

if TYPE_CHECKING:
    from bot.core.scores import Unit

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "TableInfo",
    "TableResult",
    "body_of",
    "derivative_reason",
    "extract_all",
    "extract_results",
    "inspect_tables",
    "read_tables",
    "why_nothing",
]

# Results below this confidence are shown by the reading commands and never published.
DEFAULT_MIN_CONFIDENCE = 0.8

_SHOTS = re.compile(r"(\d+)\s*-?\s*shots?\b", re.IGNORECASE)
_RAW_METRICS = frozenset({"perplexity", "ppl", "bpb", "wer", "cer", "bleu", "sacrebleu", "elo", "mt-bench"})
_HINT_COLUMN = re.compile(r"(?i)metrics?|#?\s*shots?|n-shot|few-shot|settings?")
_GENERIC_VALUE = re.compile(r"(?i)values?|scores?|results?|performance")


@dataclass(frozen=True)
class TableResult:
    """One score of the card's own model, with where it was found.

    `row` is the 1-based body row as written (header excluded); `column` is 0-based, the
    numbering `--model-column-index` uses. `label` is the header text as written, markdown
    stripped; `benchmark` is its canonical name when the vocabulary knows it.
    """

    table: int
    label: str
    benchmark: str
    metric: str
    value: float
    stderr: float | None
    unit: Unit
    row: int
    column: int
    cell: str
    shots: int | None = None
    dataset: str | None = None  # the row's test set when the label is a metric (e.g. BLEU)
    category: str = ""
    context: str = ""  # heading and paragraph above the table
    confidence: float = 1.0  # how sure evalbot is that this is the card's own score (0..1)
    reasons: tuple[str, ...] = ()  # why: how the model was found, how the label was read
    model_label: str = ""  # the row/column label taken as this model; "" for a table about this model alone

    @property
    def publishable(self) -> bool:
        """At or above the default threshold: what `run`, `scan`, `serve` and the Action publish."""
        return self.confidence >= DEFAULT_MIN_CONFIDENCE


@dataclass(frozen=True)
class TableInfo:
    """What `inspect-tables` shows for one table."""

    number: int
    line: int
    kind: str
    header: tuple[str, ...]
    rows: int
    evaluation: bool
    orientation: str
    detail: str  # how the own model was found, or why the table is skipped
    confidence: float | None = None  # of the own-model decision, for evaluation tables that are read
    published: bool = False  # at or above the publishing threshold


def body_of(text: str) -> tuple[str, int]:
    """The README body after any front matter, and how many lines precede it.

    Only the `---` delimiters are looked at: tables can still be listed in a card whose
    YAML is broken (the merge step refuses such cards with a clear error).
    """
    stripped = text.removeprefix("\ufeff")
    if not stripped.startswith("---"):
        return stripped, 0
    lines = stripped.split("\n")
    if lines[0].rstrip("\r").rstrip() != "---":
        return stripped, 0
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r").rstrip() == "---":
            return "\n".join(lines[i + 1 :]), i + 1
    return stripped, 0


def read_tables(text: str) -> list[RawTable]:
    """All tables of a README (front matter skipped), numbered 1.. in document order."""
    body, offset = body_of(text)
    return find_tables(body, line_offset=offset)


def inspect_tables(text: str, model_name: str | None = None) -> list[TableInfo]:
    """Describe every table: is it an evaluation table, and how would it be read."""
    model = ModelName.of(model_name) if model_name else None
    derivative = derivative_reason(text, model_name)
    tables = read_tables(text)
    names = _card_names(tables) if model is not None else []
    if model is not None:
        model = _own_model(model, tables, text)
    infos = []
    for table in tables:
        header = tuple(c.text for c in (table.header[0] if table.header else ()))
        layout = decide_layout(table, model, None, names)
        if isinstance(layout, Skip):
            orientation = "?" if layout.evaluation else "-"
            detail = layout.reason + _closest_hint(table, layout, model) if layout.evaluation else layout.reason
            info = TableInfo(
                table.number, table.line, table.kind, header, len(table.rows), layout.evaluation, orientation, detail
            )
        else:
            how = layout.how if not derivative else f"{layout.how}; not published: {derivative}"
            info = TableInfo(
                table.number,
                table.line,
                table.kind,
                header,
                len(table.rows),
                True,
                layout.orientation,
                how,
                layout.confidence,
                layout.confidence >= DEFAULT_MIN_CONFIDENCE and not derivative,
            )
        infos.append(info)
    agreed = {r.table: r for r in extract_all(text, model_name) if any(_AGREED in why for why in r.reasons)}
    for k, info in enumerate(infos):  # tables read once the card's other tables showed which label is the model
        if not info.evaluation and (first := agreed.get(info.number)) is not None:
            infos[k] = replace(
                info,
                evaluation=True,
                orientation="by agreement",
                detail=next(why for why in first.reasons if _AGREED in why),
                confidence=first.confidence,
                published=first.publishable,
            )
    return infos


def extract_results(
    text: str,
    model_name: str | None,
    *,
    table: int | None = None,
    model_column_index: int | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> list[TableResult]:
    """The card's own scores from every evaluation table (or only table `table`, 1-based).

    Only results whose confidence is at least `min_confidence` are returned (the default is
    the publishing threshold; pass 0 to see everything with its reasons).

    Raises:
        TableError: `table` or `model_column_index` does not exist.
    """
    return [
        r
        for r in extract_all(text, model_name, table=table, model_column_index=model_column_index)
        if r.confidence >= min_confidence
    ]


def extract_all(
    text: str,
    model_name: str | None,
    *,
    table: int | None = None,
    model_column_index: int | None = None,
) -> list[TableResult]:
    """Every candidate score with its confidence and reasons, confident or not."""
    tables = all_tables = read_tables(text)
    if table is not None:
        if not 1 <= table <= len(tables):
            raise TableError(f"--table {table}: the card has {len(tables)} table(s); see `evalbot inspect-tables`")
        tables = [tables[table - 1]]
    elif model_column_index is not None:
        raise TableError("--model-column-index needs --table N to say which table it applies to")
    model = ModelName.of(model_name) if model_name else None
    derivative = derivative_reason(text, model_name) if model_column_index is None else ""
    names = _card_names(all_tables) if model is not None else []
    if model is not None:
        model = _own_model(model, all_tables, text)
    # Every table is read (the others are evidence), the requested ones are returned.
    read = all_tables if model_column_index is None else tables
    layouts = {raw.number: decide_layout(raw, model, model_column_index, names) for raw in read}
    found = {
        raw.number: _read(raw.number, layout, raw.context)
        for raw in read
        if isinstance(layout := layouts[raw.number], Layout)
    }
    if model is not None and model_column_index is None:
        found |= _by_agreement(read, layouts, found, model, names)
    results = [r for raw in tables for r in found.get(raw.number, [])]
    if derivative:
        results = [replace(r, confidence=0.0, reasons=(*r.reasons, derivative)) for r in results]
    return results


_AGREED = "agree with its scores in the card's other tables"
AGREEMENT = 0.85  # a version or column recognised because its values are this model's elsewhere in the card


def _by_agreement(
    tables: list[RawTable],
    layouts: dict[int, Layout | Skip],
    found: dict[int, list[TableResult]],
    model: ModelName,
    names: list[str],
) -> dict[int, list[TableResult]]:
    """Tables that named no model we know, read again once the card shows which label is this model.

    "Original | 2024 Update" columns: the one whose values equal this model's scores of
    another table (two or more equal, none different) is this model; the same label in other
    tables ("2024 Update" as a row of a long-context table) is then this model too.
    """
    own = {
        _benchmark_key(r.label): r.value
        for results in found.values()
        for r in results
        if r.model_label and r.confidence >= DEFAULT_MIN_CONFIDENCE
    }
    skipped = [t for t in tables if isinstance(skip := layouts[t.number], Skip) and not skip.evaluation]
    if len(own) < 2 or not skipped:
        return {}
    agreeing: dict[str, int] = {}
    for table in skipped:
        for label, pairs in series(table):
            same = sum(1 for name, value in pairs if own.get(_benchmark_key(name)) == value)
            different = sum(
                1 for name, value in pairs if _benchmark_key(name) in own and own[_benchmark_key(name)] != value
            )
            if label and same >= 2 and not different:
                agreeing.setdefault(label, table.number)
    if len(agreeing) != 1:
        return {}
    ((label, number),) = agreeing.items()
    aliased = replace(model, aliases=(*model.aliases, tokenize(label)))
    reason = f"{label!r} is this model: its values in table {number} {_AGREED}"
    again: dict[int, list[TableResult]] = {}
    for table in skipped:
        layout = decide_layout(table, aliased, None, names)
        if isinstance(layout, Layout) and layout.own is not None:
            again[table.number] = _read(table.number, with_reason(layout, AGREEMENT, reason), table.context)
    return again


def _benchmark_key(label: str) -> str:
    known = benchmarks.lookup_benchmark(label)
    return known.name if known else benchmarks.normalize_label(benchmarks.parse_label(label).name)


def _card_names(tables: list[RawTable]) -> list[str]:
    return [name for table in tables for name in model_names(table)]


def _own_model(model: ModelName, tables: list[RawTable], text: str) -> ModelName:
    """The model as the card names it: the variant its listing tables (downloads, variants; no
    scores) give it, and the text of the card's links to this very repo."""
    listings = [t for t in tables if not any(parse_value(c.text) for r in t.rows for c in r[1:])]
    return model.with_variants_named_in(_card_names(listings)).with_aliases(_link_aliases(text, model.raw))


_HUB_LINK = re.compile(r"\[([^\]\n]{2,80})\]\(https?://huggingface\.co/([\w.-]+)/([\w.-]+?)/?\)")


def _link_aliases(text: str, model_name: str) -> list[str]:
    """Texts of links to this repo's page: "[Foo 1.5 Mini](https://huggingface.co/org/AB1-Foo-1.5-Mini)"."""
    if "huggingface.co/" not in text:
        return []
    org, _, name = model_name.rpartition("/")
    aliases = []
    for match in _HUB_LINK.finditer(text):
        link_text, link_org, link_name = match.groups()
        if link_name.casefold() != name.casefold() or (org and link_org.casefold() != org.casefold()):
            continue
        cleaned = re.sub(r"[*_`]", "", link_text).strip()
        if cleaned and "http" not in cleaned and "/" not in cleaned.strip("/"):
            aliases.append(cleaned)
    return aliases


def why_nothing(text: str, model_name: str | None) -> list[str]:
    """Why no table gave a confident result, table by table, with the flags that would select one.

    Lines such as ``table 3: ambiguous: 'Foo 7B', 'Foo 7B Chat' could each be this model; closest
    'Foo 7B': --table 3 --model-column-index 2``.
    """
    model = ModelName.of(model_name) if model_name else None
    lines = []
    if derivative := derivative_reason(text, model_name):
        lines.append(derivative)
    held = [r for r in extract_all(text, model_name) if r.confidence < DEFAULT_MIN_CONFIDENCE]
    tables = read_tables(text)
    names = _card_names(tables) if model is not None else []
    if model is not None:
        model = _own_model(model, tables, text)
    for table in tables:
        layout = decide_layout(table, model, None, names)
        if isinstance(layout, Layout):
            mine = [r for r in held if r.table == table.number]
            if mine:
                lines.append(
                    f"table {table.number}: {len(mine)} result(s) below the confidence threshold "
                    f"({mine[0].confidence:.2f} < {DEFAULT_MIN_CONFIDENCE}): {'; '.join(mine[0].reasons)}"
                )
            continue
        if not layout.candidates:
            continue
        hint = _closest_hint(table, layout, model)
        lines.append(f"table {table.number}: {layout.reason}{hint}")
    return lines


def _closest_hint(table: RawTable, skip: Skip, model: ModelName | None) -> str:
    """'; closest 'X': --model-name 'X' (or --table N --model-column-index I)'."""
    names = [c for c in skip.candidates if c]
    if not names:
        return ""
    target = model.raw.rsplit("/", 1)[-1].casefold() if model else ""
    closest = max(names, key=lambda n: difflib.SequenceMatcher(None, n.casefold(), target).ratio())
    header = [c.text for c in table.header[0]] if table.header else [c.text for c in (table.rows[:1] or [()])[0]]
    listed = ", ".join(repr(n) for n in names[:8]) + (", ..." if len(names) > 8 else "")
    flag = f"--model-name {shlex.quote(closest)}"
    if closest in header:
        flag = f"--table {table.number} --model-column-index {header.index(closest)}"
    return f"; candidates: {listed}; closest {closest!r}: {flag}"


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DERIVATIVE_RELATIONS = {"quantized": "a quantization", "merge": "a merge", "adapter": "an adapter"}
_QUANT_NAME = re.compile(
    r"(?i)(?:^|[-_.])(gguf|gptq|awq|exl2|ggml|mlx|\d+bit|bnb|int[48]|fp8|q\d_k(?:_[ms])?)(?:$|[-_.])"
)


def derivative_reason(text: str, model_name: str | None) -> str:
    """Why this repo does not own the scores of its tables (a quantization, merge or adapter), or ''."""
    meta = front_matter_data(text) if "base_model" in text[:20_000] else {}
    relation = str(meta.get("base_model_relation") or "").strip().casefold()
    base = meta.get("base_model")
    bases = [str(b) for b in (base if isinstance(base, list) else [base]) if b]
    quantized_name = bool(model_name and _QUANT_NAME.search(model_name.rsplit("/", 1)[-1]))
    if relation in _DERIVATIVE_RELATIONS and bases:
        kind = _DERIVATIVE_RELATIONS[relation]
    elif quantized_name:
        kind = "a quantized build"
    else:
        return ""
    of = f" of {bases[0]}" if bases else ""
    return f"this repo is {kind}{of}: the tables are the base model's"


def front_matter_data(text: str) -> dict[str, Any]:
    """The card's YAML metadata as a dict ({} when absent or unreadable: tables are still listed)."""
    stripped = text.removeprefix("\ufeff")
    _, offset = body_of(stripped)
    if not offset:
        return {}
    block = "\n".join(stripped.split("\n")[1 : offset - 1])
    try:
        data = yaml.load(block, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _read(number: int, layout: Layout, context: str) -> list[TableResult]:
    header = layout.header
    fallback = _metric_named_in(context)
    found: list[TableResult] = []
    if layout.orientation == "rows" and layout.own is not None:
        for i in layout.own_rows or (layout.own,):
            for j in layout.columns:
                found.extend(_result(number, layout, i, j, header[j], None, None, fallback))
    elif layout.orientation == "columns" and layout.own is not None:
        hints = [j for j in range(1, len(header)) if _HINT_COLUMN.fullmatch(header[j].strip())]
        for i, row in enumerate(layout.rows):
            # "5-shot, top-1" beside the name; a bare "8" under "Shots" is a shot count
            hint = ", ".join(_shots_hint(header[j], row[j].text) for j in hints) or None
            found.extend(_result(number, layout, i, layout.own, row[0].text, hint, None, fallback))
    elif layout.orientation == "single":
        (j,) = layout.columns
        for i, row in enumerate(layout.rows):
            hint = None if _GENERIC_VALUE.fullmatch(header[j].strip()) else header[j]  # "Perplexity" is a hint
            found.extend(_result(number, layout, i, j, row[0].text, hint, None, fallback))
    elif layout.orientation == "context":
        keys = [j for j in range(layout.columns[0]) if all(parse_value(r[j].text) is None for r in layout.rows)]
        for i, row in enumerate(layout.rows):
            # Several rows: each is a test set; its text cells ("tatoeba-test", "eng-hun") name it.
            test_set = " ".join(row[j].text for j in keys if row[j].text) if len(layout.rows) > 1 else None
            for j in layout.columns:
                found.extend(_result(number, layout, i, j, header[j], None, test_set or None, fallback))
    elif layout.orientation == "harness":
        found.extend(_harness_results(number, layout))
    return [replace(r, context=context) for r in _settings_as_shots(found, context)]


_SHOT_LABEL = re.compile(r"(?i)^(?:[nk]\s*=\s*(\d+)|(\d+)[- ]?shots?)$")


def _settings_as_shots(found: list[TableResult], context: str) -> list[TableResult]:
    """Columns named by a few-shot setting ("n=0 | n=5 | n=10" under "### COPA (F1)"): the benchmark is the
    heading's, the label its shot count; with no benchmark in the heading they are no benchmark at all."""
    heading = context.split("\n", 1)[0].strip()
    known = benchmarks.lookup_benchmark(heading) if heading else None
    kept = []
    for r in found:
        shot = _SHOT_LABEL.fullmatch(r.label.strip())
        if shot is None:
            kept.append(r)
        elif known is not None:
            kept.append(replace(r, benchmark=known.name, shots=int(shot[1] or shot[2])))
    return kept


def _harness_results(number: int, layout: Layout) -> list[TableResult]:
    """lm-evaluation-harness rows: the task (continuation rows inherit it), its metric, value, stderr, shots."""
    task_col, metric_col, value_col, stderr_col, shots_col = layout.columns
    found, task = [], ""
    for i, row in enumerate(layout.rows):
        name = row[task_col].text.strip().lstrip("-").strip()
        task = name or task
        cell = row[value_col]
        value = parse_value(cell.text)
        metric_text = row[metric_col].text.strip()
        if not task or value is None or not metric_text or is_average(task):
            continue
        stderr = parse_value(row[stderr_col].text) if stderr_col >= 0 else None
        shots_text = row[shots_col].text.strip() if shots_col >= 0 else ""
        metric_info = benchmarks.lookup_metric(metric_text)
        known = benchmarks.lookup_benchmark(task)
        found.append(
            TableResult(
                table=number,
                label=task,
                benchmark=known.name if known else task,
                metric=metric_info.type if metric_info else metric_text,
                value=value.value,
                stderr=stderr.value if stderr else None,
                unit=_unit(value.value, value.percent, metric_info.type if metric_info else metric_text, known),
                row=layout.row_numbers[i],
                column=value_col + layout.offset,
                cell=cell.raw,
                shots=int(shots_text) if shots_text.isdigit() else None,
                confidence=layout.confidence,
                reasons=layout.reasons,
            )
        )
    return found


def _result(
    number: int,
    layout: Layout,
    i: int,
    j: int,
    label: str,
    hint: str | None,
    test_set: str | None,
    fallback_metric: str = "score",
) -> list[TableResult]:
    cell: Cell = layout.rows[i][j]
    if not label or is_missing(cell.text) or is_average(label) or _BARE_NUMBER.fullmatch(label):
        return []  # a bare number ("64", "128") is a setting's value (a length, a k), never a benchmark
    if is_non_eval(label) and not (layout.orientation != "columns" and scores_at_length(label, layout.rows, j)):
        return []
    values = _cell_values(cell.text, layout.header[j] if layout.orientation != "columns" else label)
    if not values:
        return []
    parts = benchmarks.parse_label(label)
    known = benchmarks.lookup_benchmark(label)
    metric_info = benchmarks.lookup_metric(label)
    hint_metric = next(  # "5-shot, top-1" → top-1
        (m for part in re.split(r"[,;/]", hint or "") if (m := benchmarks.lookup_metric(part.strip()))), None
    )
    shots = parts.shots
    if shots is None and hint and (shot_hint := _SHOTS.search(hint)):
        shots = int(shot_hint[1])
    if metric_info is not None:
        metric = metric_info.type
    elif hint_metric is not None:
        metric = hint_metric.type
    elif known is not None:
        metric = known.metric
    elif (suffix := _METRIC_SUFFIX.search(label)) is not None:
        metric = _SUFFIX_METRICS[suffix[1].casefold()]  # spaCy's ENTS_F, TOKEN_P, DEP_UAS
        if all(v.value == 0 for v, _ in values):
            return []  # spaCy writes 0.00 for a component the pipeline does not have: no score
    else:
        metric = fallback_metric
    category = layout.categories[i]
    benchmark = known.name if known else (test_set if metric_info and test_set else label)
    if not known and category and not metric_info:
        benchmark = f"{category} {label}"
    confidence, reasons = layout.confidence, layout.reasons
    if known is None and metric_info is None:
        reasons = (*reasons, f"{label!r} is not in the benchmark vocabulary")
    return [
        TableResult(
            table=number,
            label=label,
            benchmark=benchmark,
            metric=half or metric,
            value=value.value,
            stderr=value.stderr,
            unit=_unit(value.value, value.percent or "%" in label, half or metric, known),
            row=layout.row_numbers[i],
            column=j + layout.offset,
            cell=cell.raw,
            shots=shots,
            dataset=test_set,
            category=category,
            confidence=confidence,
            reasons=reasons,
            model_label=_model_label(layout),
        )
        for value, half in values
    ]


def _model_label(layout: Layout) -> str:
    if layout.own is None:
        return ""
    if layout.orientation == "rows":
        return layout.rows[layout.own][0].text
    return layout.header[layout.own] if layout.orientation == "columns" else ""


# Score names written as NAME_METRIC (spaCy's accuracy tables): the suffix is the metric.
_BARE_NUMBER = re.compile(r"[\d.,\s]+")
_METRIC_SUFFIX = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(P|R|F|ACC|UAS|LAS|AUC|SCORE)$")
_SUFFIX_METRICS = {
    "p": "precision",
    "r": "recall",
    "f": "f1",
    "acc": "acc",
    "uas": "uas",
    "las": "las",
    "auc": "auc",
    "score": "score",
}
_PAIR_HEADER = re.compile(r"\(([^()/]+)/([^()/]+)\)")


def _cell_values(text: str, header: str) -> list[tuple[Value, str | None]]:
    """The score(s) of one cell, each with the metric it is when the header says so.

    "65.4" → one; "78.1/85.8" under "SQuAD (EM/F1)" → two, the first exact_match and the second
    f1. A pair under a header written as a pair ("Video-MME wo/w subs") gives the first; any
    other pair is not read (which half is it?).
    """
    value = parse_value(text)
    if value is not None:
        return [(value, None)]
    pair = parse_pair(text)
    if pair is None:
        return []
    named = _PAIR_HEADER.search(header)
    metrics = [benchmarks.lookup_metric(m.strip()) for m in named.groups()] if named else []
    if metrics and all(metrics):
        return [(v, m.type if m else None) for v, m in zip(pair, metrics, strict=True)]
    if "/" in header:
        return [(pair[0], None)]
    return []


def _metric_named_in(context: str) -> str:
    """A metric the prose above a table names ("reported in terms of Word Error Rate (WER%)")."""
    for word in re.findall(r"[A-Za-z][\w@-]*", context):
        found = benchmarks.lookup_metric(word)
        if found is not None and found.type != "score":
            return found.type
    return "score"


def _shots_hint(header: str, text: str) -> str:
    if "shot" in header.casefold() and text.strip().isdigit():
        return f"{text.strip()}-shot"
    return text


def _unit(value: float, percent: bool, metric: str, known: benchmarks.Benchmark | None) -> Unit:
    """Percent when the card says so; raw for scales like BLEU/WER/perplexity; else by range."""
    if percent:
        return "percent"
    if metric in _RAW_METRICS or (known is not None and known.unit == "raw"):
        return "raw"
    if 0 <= value <= 1:
        return "fraction"
    return "percent" if value <= 100 else "raw"
