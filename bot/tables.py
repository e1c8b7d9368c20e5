"""README tables → the card's own scores (DESIGN §6). Pure: text in, data out.

>>> card = "| Model | MMLU |\\n|---|---|\\n| **Ours-7B** | 65.4 |\\n| Other | 60.1 |\\n"
>>> [(r.benchmark, r.value) for r in extract_results(card, "org/Ours-7B")]
[('MMLU', 65.4)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot import benchmarks
from bot._cells import Cell, is_missing, parse_value
from bot._model_match import ModelName
from bot._table_layout import Layout, Skip, decide_layout, is_average, is_non_eval
from bot._table_source import RawTable, find_tables
from bot.errors import InputError, TableError

if TYPE_CHECKING:
    from bot.scores import Unit

__all__ = ["TableInfo", "TableResult", "body_of", "extract_results", "inspect_tables", "read_tables"]

_SHOTS = re.compile(r"(\d+)\s*-?\s*shots?\b", re.IGNORECASE)
_RAW_METRICS = frozenset({"perplexity", "ppl", "wer", "cer", "bleu", "sacrebleu", "elo", "mt-bench"})
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
    infos = []
    for table in read_tables(text):
        header = tuple(c.text for c in (table.header[0] if table.header else ()))
        try:
            layout = decide_layout(table, model)
        except InputError as e:  # ambiguous: an evaluation table we will not guess in
            infos.append(TableInfo(table.number, table.line, table.kind, header, len(table.rows), True, "?", str(e)))
            continue
        if isinstance(layout, Skip):
            info = TableInfo(table.number, table.line, table.kind, header, len(table.rows), False, "-", layout.reason)
        else:
            info = TableInfo(
                table.number,
                table.line,
                table.kind,
                header,
                len(table.rows),
                True,
                layout.orientation,
                layout.how,
            )
        infos.append(info)
    return infos


def extract_results(
    text: str,
    model_name: str | None,
    *,
    table: int | None = None,
    model_column_index: int | None = None,
) -> list[TableResult]:
    """The card's own scores from every evaluation table (or only table `table`, 1-based).

    Raises:
        TableError: `table` or `model_column_index` does not exist.
        AmbiguousModelError: several rows/columns could be the model.
    """
    tables = read_tables(text)
    if table is not None:
        if not 1 <= table <= len(tables):
            raise TableError(f"--table {table}: the card has {len(tables)} table(s); see `evalbot inspect-tables`")
        tables = [tables[table - 1]]
    elif model_column_index is not None:
        raise TableError("--model-column-index needs --table N to say which table it applies to")
    model = ModelName.of(model_name) if model_name else None
    results: list[TableResult] = []
    for raw in tables:
        layout = decide_layout(raw, model, model_column_index)
        if isinstance(layout, Layout):
            results.extend(_read(raw.number, layout, raw.context))
    return results


def _read(number: int, layout: Layout, context: str) -> list[TableResult]:
    header = layout.header
    fallback = _metric_named_in(context)
    found: list[TableResult] = []
    if layout.orientation == "rows" and layout.own is not None:
        for j in layout.columns:
            found.extend(_result(number, layout, layout.own, j, header[j], None, None, fallback))
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
    return [replace(r, context=context) for r in found]


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
    if not label or is_missing(cell.text) or is_average(label) or is_non_eval(label):
        return []
    value = parse_value(cell.text)
    if value is None:
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
    else:
        metric = fallback_metric
    category = layout.categories[i]
    benchmark = known.name if known else (test_set if metric_info and test_set else label)
    if not known and category and not metric_info:
        benchmark = f"{category} {label}"
    return [
        TableResult(
            table=number,
            label=label,
            benchmark=benchmark,
            metric=metric,
            value=value.value,
            stderr=value.stderr,
            unit=_unit(value.value, value.percent or "%" in label, metric, known),
            row=layout.row_numbers[i],
            column=j,
            cell=cell.raw,
            shots=shots,
            dataset=test_set,
            category=category,
        )
    ]


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
