"""Decide what a table is (pure): an evaluation table or not, its orientation, and where
the card's own model sits in it.

Layouts (DESIGN §6):
- ``rows``: models as rows, benchmarks as columns; `own` is the model's row.
- ``columns``: benchmarks as rows, models as columns; `own` is the model's column.
- ``single``: one value column for this model; labels are the row headers.
- ``context``: this model's results with labels in the header; each row is a test set,
  a version or a release (often just one row).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot import benchmarks
from bot._cells import Cell, is_missing, parse_value
from bot._model_match import MatchLevel, ModelName, match_level
from bot.errors import AmbiguousModelError, TableError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot._table_source import RawTable

Orientation = Literal["rows", "columns", "single", "context"]

_WORDS = re.compile(r"[a-z0-9#@]+")

# Column or row labels that are properties of a model or a run, not scores.
_NON_EVAL_WORDS = frozenset(
    "size params parameters param vocab vocabulary tokenizer tokens context length seq sequence "
    "dimension dimensions dim layers heads hidden steps step epoch epochs batch lr loss support count "
    "#sent #words #params gpus gpu throughput sec gmac gmacs macs flops act latency memory vram date "
    "release version year license rows link links download url alignment type langpair speed resolution "
    "rewards logps logits price cost checkpoint checkpoints introduction description hyperparameter "
    "hyperparameters warmup decay schedule optimizer eps betas gradient dropout languages script "
    "train training quantization gguf gptq awq".split()
)
_NON_EVAL_PHRASES = ("learning rate", "weight decay", "number of", "samples /", "samples/")
_NON_EVAL_FIRST = frozenset(
    "hyperparameter hyperparameters config configuration parameter setting settings argument arguments "
    "subset option options property field spec specification hparam key".split()
)
_MODEL_FIRST = frozenset({"model", "models", "name", "system", "systems", "method", "methods", "llm", "llms"})
_LABEL_FIRST = frozenset(
    "metric metrics benchmark benchmarks task tasks dataset datasets domain domains eval evaluation "
    "test category tag tags subject subjects measure score".split()
)
_CONTEXT_FIRST = frozenset(
    "version release testset test set split language lang langpair pair task tasks dataset datasets data eval "
    "date".split()
)
_GENERIC_VALUE = frozenset({"value", "values", "score", "scores", "result", "results", "performance"})
_METRIC_COLUMN = frozenset({"metric", "metrics", "shots", "shot", "n-shot", "setting", "settings", "#shots"})
_EVAL_WORDS = frozenset(
    "result results evaluation eval evals benchmark benchmarks performance score scores accuracy acc "
    "wer cer bleu leaderboard metric metrics test dev validation perplexity f1 rouge".split()
)
_AVERAGE = frozenset({"avg", "average", "mean", "averages", "avg score", "average score", "overall average"})


@dataclass(frozen=True)
class Layout:
    """How to read one evaluation table."""

    orientation: Orientation
    header: tuple[str, ...]  # one label per column, two-row headers folded in
    rows: tuple[tuple[Cell, ...], ...]  # body rows, separators and sub-headers removed
    row_numbers: tuple[int, ...]  # 1-based body-row number of each kept row, as written
    categories: tuple[str, ...]  # category ("Reasoning") in force for each kept row, or ""
    own: int | None = None  # own row index (rows) or column index (columns)
    how: str = ""  # how the own model was found, for inspect-tables
    columns: tuple[int, ...] = ()  # the score columns to read (rows, single, context)


@dataclass(frozen=True)
class Skip:
    """Not an evaluation table for this model, and why."""

    reason: str


def words(text: str) -> list[str]:
    return _WORDS.findall(text.casefold())


def _phrase(text: str) -> str:
    return " ".join(words(text))


def is_average(label: str) -> bool:
    """Cross-benchmark Average/Avg/Mean labels: derived numbers, not benchmarks."""
    name = _phrase(benchmarks.parse_label(label).name)
    return name in _AVERAGE or _phrase(label) in _AVERAGE


def is_non_eval(label: str) -> bool:
    """Labels such as "Params (M)", "Vocabulary Size", "learning rate"."""
    folded = label.casefold()
    if any(p in folded for p in _NON_EVAL_PHRASES):
        return True
    return any(w in _NON_EVAL_WORDS for w in words(label))


def _is_separator(row: Sequence[Cell]) -> bool:
    texts = [c.text.strip() for c in row]
    return any(texts) and all(not t or set(t) <= set("-:=_ ") for t in texts)


def _normalise(table: RawTable) -> tuple[list[str], list[tuple[Cell, ...]], list[int], list[str]]:
    """Header labels, kept rows, their body-row numbers and categories."""
    width = table.width
    head_rows = list(table.header) or list(table.rows[:1])
    body = list(table.rows) if table.header else list(table.rows[1:])
    header = [""] * width
    for row in head_rows:  # several HTML header rows: fold parent and child names
        for j, cell in enumerate(row[:width]):
            text = cell.text
            if text and header[j] and text != header[j]:
                header[j] = f"{header[j]} {text}"
            elif text:
                header[j] = text
    rows: list[tuple[Cell, ...]] = []
    numbers: list[int] = []
    categories: list[str] = []
    category = ""
    for number, row in enumerate(body, start=1):
        padded = tuple(row) + (Cell("", ""),) * (width - len(row))
        if _is_separator(padded) or not any(c.text for c in padded):
            continue
        if not rows and _is_subheader(padded, body[number:]):
            for j, cell in enumerate(padded[1:], start=1):  # "MMLU" over "5-shot" → "MMLU (5-shot)"
                if cell.text:
                    header[j] = f"{header[j]} ({cell.text})" if header[j] else cell.text
            continue
        if padded[0].text and width > 1 and all(not c.text for c in padded[1:]):
            category = padded[0].text  # a category row such as "Reasoning"
            continue
        rows.append(padded)
        numbers.append(number)
        categories.append(category)
    return header, rows, numbers, categories


def _is_subheader(row: tuple[Cell, ...], rest: Sequence[Sequence[Cell]]) -> bool:
    """A second header row: only text where the following rows hold numbers."""
    texts = [c.text for c in row[1:] if c.text]
    if not texts or any(parse_value(t) is not None for t in texts) or row[0].text:
        return False
    return any(any(parse_value(c.text) is not None for c in r[1:]) for r in rest[:3])


def _value_columns(header: Sequence[str], rows: Sequence[Sequence[Cell]], start: int) -> list[int]:
    """Columns whose cells are mostly scores and whose header is not a model property."""
    found = []
    for j in range(start, len(header)):
        if _is_score_column(rows, j) and not is_non_eval(header[j]) and not is_average(header[j]):
            found.append(j)
    return found


def _is_score_column(rows: Sequence[Sequence[Cell]], j: int) -> bool:
    cells = [r[j] for r in rows if not is_missing(r[j].text)]
    scores = sum(parse_value(c.text) is not None for c in cells)
    return scores > 0 and scores * 2 >= len(cells)


def _row_columns(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[int]:
    return [j for j in _value_columns(header, rows, 1) if _phrase(header[j]) not in _MODEL_FIRST]


def _known(label: str) -> bool:
    return benchmarks.lookup_benchmark(label) is not None or benchmarks.lookup_metric(label) is not None


def _pick(
    candidates: list[tuple[int, MatchLevel, bool]],
    level: MatchLevel,
    labels: Sequence[str],
    model: ModelName,
    table: int,
) -> int:
    """The single best candidate; several distinct ones are an error, never a guess."""
    best = [(i, marked) for i, lvl, marked in candidates if lvl == level]
    if len({labels[i] for i, _ in best}) > 1:
        marked = [i for i, m in best if m]
        if len(marked) == 1:
            return marked[0]
        raise AmbiguousModelError(model.raw, table, sorted({labels[i] for i, _ in best}))
    return best[0][0]


def decide_layout(table: RawTable, model: ModelName | None, model_column_index: int | None = None) -> Layout | Skip:
    """Classify `table` and orient it for `model` (None: no name known, markers only)."""
    header, rows, numbers, categories = _normalise(table)
    if not rows or len(header) < 2:
        return Skip("not a data table")

    def layout(orientation: Orientation, own: int | None = None, how: str = "", columns: Sequence[int] = ()) -> Layout:
        return Layout(
            orientation,
            tuple(header),
            tuple(rows),
            tuple(numbers),
            tuple(categories),
            own,
            how,
            tuple(columns),
        )

    if model_column_index is not None:
        if not 0 < model_column_index < len(header):
            raise TableError(
                f"table {table.number} has columns 0..{len(header) - 1}; "
                f"--model-column-index {model_column_index} is out of range"
            )
        return layout("columns", model_column_index, "--model-column-index")

    head_words = set(words(" ".join(header)))
    if head_words & {"epoch", "step", "steps"} and head_words & {"loss", "training"}:
        return Skip("training log")
    first = _phrase(header[0])
    if first in _NON_EVAL_FIRST or words(first)[:1] == ["hyperparameter"]:
        return Skip("configuration or hyperparameter table")
    if not any(parse_value(c.text) is not None for r in rows for c in r[1:]):
        return Skip("no score columns")

    model_first = first in _MODEL_FIRST or first.startswith("model")
    if model is not None:
        col_cands = [
            (j, match_level(model, header[j]), False)
            for j in range(1, len(header))
            if _phrase(header[j]) not in _METRIC_COLUMN
        ]
        row_cands = [(i, match_level(model, r[0].text), r[0].bold or r[0].marked) for i, r in enumerate(rows)]
        best_col = max((lvl for _, lvl, _ in col_cands), default=MatchLevel.NONE)
        best_row = max((lvl for _, lvl, _ in row_cands), default=MatchLevel.NONE)
        if best_row and (best_row > best_col or (best_row == best_col and model_first)):
            labels = [r[0].text for r in rows]
            own = _pick(row_cands, best_row, labels, model, table.number)
            how = f"row {labels[own]!r} ({best_row.name.lower()} match)"
            columns = _row_columns(header, rows)
            if not columns:
                return Skip(f"{how}, but no score columns (sizes or properties only)")
            return layout("rows", own, how, columns)
        if best_col:
            own = _pick(col_cands, best_col, header, model, table.number)
            if _is_score_column(rows, own):  # named like the model: its header says nothing else
                return layout("columns", own, f"column {header[own]!r} ({best_col.name.lower()} match)")
    if model_first:
        marked = [i for i, r in enumerate(rows) if r[0].bold or r[0].marked]
        if len(marked) == 1:
            how = f"row {rows[marked[0]][0].text!r} (marked bold/emoji)"
            columns = _row_columns(header, rows)
            if columns:
                return layout("rows", marked[0], how, columns)
        return Skip("compares models; none of them is this model")
    return _own_results_layout(table, header, rows, layout)


def _own_results_layout(
    table: RawTable, header: list[str], rows: list[tuple[Cell, ...]], layout: _Make
) -> Layout | Skip:
    """A table with no model names: this model's own results, if it looks like an eval table."""
    first = _phrase(header[0])
    row_labels = [r[0].text for r in rows]
    label_column_numeric = all(parse_value(t) is not None or is_missing(t) for t in row_labels)
    values = _value_columns(header, rows, 0 if label_column_numeric else 1)
    if not values:
        return Skip("no score columns")
    evidence_in_context = bool(set(words(table.context)) & _EVAL_WORDS)
    if len(values) == 1 and not label_column_numeric and first not in _CONTEXT_FIRST - _LABEL_FIRST:
        value_header = header[values[0]]
        labelled = [t for t in row_labels if t]
        known = sum(_known(t) for t in labelled)
        non_eval = sum(is_non_eval(t) for t in labelled)
        evidence = (
            (first in _LABEL_FIRST and first)
            or _phrase(value_header) in _GENERIC_VALUE
            or _known(value_header)
            or known * 2 > len(labelled)
        )
        if evidence and non_eval * 2 <= len(labelled) and (first or known * 2 > len(labelled)):
            return layout("single", None, "the table is about this model", values)
        return Skip("key/value table without scores")
    keyed_by_context = first in _CONTEXT_FIRST or label_column_numeric or not any(row_labels)
    scored = any(_known(header[j]) or set(words(header[j])) & _EVAL_WORDS for j in values)
    if keyed_by_context and (scored or evidence_in_context):
        return layout("context", None, "the table is about this model", values)
    return Skip("several value columns; none is this model")


if TYPE_CHECKING:
    from collections.abc import Callable

    _Make = Callable[..., Layout]
