"""Decide what a table is (pure): an evaluation table or not, its orientation, and where
the card's own model sits in it — each decision with a confidence and its reasons.

How a table is classified, in order:
1. lm-evaluation-harness output (``Tasks | Version | Filter | n-shot | Metric | Value | ± | Stderr``)
   is read natively: one result per task/metric row, stderr and shots kept (``harness``).
2. Training logs (epoch/step + loss), configuration tables (first header "Hyperparameter",
   "Setting"...) and tables with no number outside the label column are not evaluation tables.
3. Property tables: when the labels (headers and row names) name properties of a model or a
   run — parameters, layers, heads, LR, betas, batch, steps, tokens, epochs, hours, GPU hours,
   power, carbon, latency, throughput, memory, context length, size, date, license, link — and
   none names a benchmark or metric of the vocabulary, the table is skipped.
4. A leading category column (a rowspan or blank continuation cells beside the benchmark
   names) is folded into each row's category.

How the own model is chosen: every column header and every row label (a name split over a
name and a size column is joined: ``Foo-GPT | 13B``) is scored with
`_model_match.match_level`; the best level wins, bold/emoji only break ties between equal
candidates, and two different best candidates are no result with a reason naming both. A
match that drops the name's trailing variant word (SUFFIX/LOOSE) is refused when another
candidate differs from it exactly there, or when the table sits under a "base/pretrained"
heading; a base model's name under an "instruction-tuned/chat" heading is the tuned model's.
Without any name match, a table is this model's own results only when it names no models
(`single`: one value column; `context`: labels in the header, rows are test sets/splits).

Layouts (DESIGN §6):
- ``rows``: models as rows, benchmarks as columns; `own` is the model's row.
- ``columns``: benchmarks as rows, models as columns; `own` is the model's column.
- ``single``: one value column for this model; labels are the row headers.
- ``context``: this model's results with labels in the header; each row is a test set,
  a version or a release (often just one row).
- ``harness``: lm-evaluation-harness rows; `columns` = (task, metric, value, stderr, shots).

Confidence (0..1) says how sure the own-model decision is: 1.0 for an exact name or a
column chosen by flag, less for a name missing its variant suffix or for a table that names
no model at all, and below the publishing threshold for bold/emoji marks alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from bot.core import benchmarks
from bot.core.tables._cells import Cell, is_missing, parse_pair, parse_value
from bot.core.tables._model_match import SETTING, MatchLevel, ModelName, adds_variant, match_level, tokenize
from bot.errors import TableError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bot.core.tables._source import RawTable

Orientation = Literal["rows", "columns", "single", "context", "harness"]

_WORDS = re.compile(r"[a-z0-9#@]+")

# Column or row labels that are properties of a model or a run, not scores.
_NON_EVAL_WORDS = frozenset(
    "size params parameters param vocab vocabulary tokenizer tokens context length seq sequence "
    "dimension dimensions dim layers heads hidden steps step epoch epochs batch lr loss support count "
    "#sent #words #params #param gpus gpu throughput sec gmac gmacs macs flops act latency memory vram date "
    "release version year license licence rows link links download url alignment type langpair speed resolution "
    "rewards logps logits price cost checkpoint checkpoints introduction description hyperparameter "
    "hyperparameters warmup decay schedule optimizer eps epsilon beta1 beta2 betas gradient dropout languages "
    "script train training quantization gguf gptq awq carbon co2 co2eq tco2eq emissions emitted power "
    "consumption intensity kwh watts hours gpuhours speakers duration seconds minutes ms fps tok "
    "embedding embeddings vocabsize d_model mlp activation attention layernorm biases tying positional "
    "speedup bpw filesize ram disk utterances snt wrd bp".split()
)
_NON_EVAL_PHRASES = (
    "learning rate",
    "weight decay",
    "number of",
    "samples /",
    "samples/",
    "gpu hours",
    "gpu-hours",
    "model size",
    "file size",
    "rel. latency",
    "tokens/s",
    "tokens per",
    "brevity penalty",
)
_SEARCH_COLUMNS = ("param_", "mean_fit_time", "rank_test_")
_PROGRESS_COLUMNS = frozenset({"epoch", "epochs", "step", "steps", "iteration", "iterations"})
_NON_EVAL_FIRST = frozenset(
    "hyperparameter hyperparameters config configuration parameter setting settings argument arguments "
    "subset option options property field spec specification hparam key name/path file files filename "
    "quant quantization method/quant prompt prompts template".split()
)
_SPLIT_WORDS = frozenset("test dev valid validation val train eval evaluation testing".split())
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
_SIZE_HEADERS = frozenset({"", "size", "params", "parameters", "#params", "#param", "param", "model size", "# params"})
_EVAL_WORDS = frozenset(
    "result results evaluation eval evals benchmark benchmarks performance score scores accuracy acc "
    "wer cer bleu leaderboard metric metrics test dev validation perplexity f1 rouge".split()
)
_AVERAGE = frozenset(
    {"avg", "average", "mean", "averages", "avg score", "average score", "overall average", "total avg", "总平均"}
)
_NAME_SIZE = re.compile(r"(?i)\d+(?:\.\d+)?\s*[bm]\b")
_SIZE_CELL = re.compile(r"^~?\d+(?:\.\d+)?\s*[bmkt]$", re.IGNORECASE)
_MODEL_WORD = re.compile(
    r"gpt|llama|bert|mistral|qwen|t5\b|electra|bart|xlnet|wav2vec|whisper|falcon|gemma|bloom|pythia|mixtral|deepseek",
    re.IGNORECASE,
)
_MODELISH = re.compile(rf"\d+(?:\.\d+)?\s*[bm]\b|/|{_MODEL_WORD.pattern}", re.IGNORECASE)
_BASE_HEADING = re.compile(r"(?i)\b(?:base|pre-?trained|foundation)\b(?!\s+on\b)")
_TUNED_HEADING = re.compile(r"(?i)\b(?:instruct\w*|chat|fine-?tuned|instruction[- ]tuned|aligned|sft|rlhf)\b")
_HARNESS_TASK = frozenset({"tasks", "task", "groups", "group"})
# "Model Recycling" sections: the scores of models fine-tuned FROM this one on other datasets
_FINE_TUNED_FROM = re.compile(r"(?i)\bmodel recycling\b|\bas a base model\b")

CONFIDENCE = {
    MatchLevel.EXACT: 1.0,
    MatchLevel.SUFFIX: 0.9,
    MatchLevel.PARTIAL: 0.85,
    MatchLevel.LOOSE: 0.8,
}
OWN_RESULTS = 0.9  # a table that names no model, under a heading that names an evaluation
MARKED_ONLY = 0.5  # bold/emoji alone: shown, never published


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
    columns: tuple[int, ...] = ()  # the score columns to read (rows, single, context, harness)
    confidence: float = 1.0  # how sure the own-model decision is
    reasons: tuple[str, ...] = ()
    offset: int = 0  # columns folded away at the left (a category column): reported column = j + offset
    own_rows: tuple[int, ...] = ()  # rows orientation: the own row and its continuation rows


@dataclass(frozen=True)
class Skip:
    """Not an evaluation table for this model, and why."""

    reason: str
    candidates: tuple[str, ...] = ()  # model labels seen (for "not found" hints)
    evaluation: bool = False  # an evaluation table in which the own model could not be told apart


def words(text: str) -> list[str]:
    return _WORDS.findall(text.casefold())


def _phrase(text: str) -> str:
    return " ".join(words(text))


def is_average(label: str) -> bool:
    """Cross-benchmark Average/Avg/Mean labels: derived numbers, not benchmarks."""
    name = _phrase(benchmarks.parse_label(label).name)
    return name in _AVERAGE or _phrase(label) in _AVERAGE or label.strip() in _AVERAGE


def is_non_eval(label: str) -> bool:
    """Labels such as "Params (M)", "Vocabulary Size", "learning rate", "Carbon Emitted (tCO2eq)"."""
    folded = label.casefold()
    if folded.strip() in ("%", "share", "proportion", "ratio", "weight"):
        return True
    if any(p in folded for p in _NON_EVAL_PHRASES):
        return True
    return any(w in _NON_EVAL_WORDS for w in words(label))


def _is_separator(row: Sequence[Cell]) -> bool:
    texts = [c.text.strip() for c in row]
    return any(texts) and all(not t or set(t) <= set("-:=_ ") for t in texts)


def _fold_subheader(top: str, sub: str, repeated: bool) -> str:
    """Join a header and the sub-header under it ("MMLU" + "5-shot" → "MMLU (5-shot)")."""
    if not top:
        return sub
    if parse_value(sub) is not None:
        return f"{top} {sub}"  # "Input length" over "2851"
    is_setting = benchmarks.lookup_metric(sub) is not None or benchmarks.parse_label(sub).shots is not None
    if repeated and not is_setting and not sub.startswith("("):
        return sub  # a group header ("HHH Alignment") over its own columns ("Help", "Harm")
    return f"{top} ({sub.strip('()')})" if sub.startswith("(") else f"{top} ({sub})"


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
        if not rows and _is_subheader(padded, header, body[number:]):
            tops = _carry_groups(header, padded)
            # a group row above: a header spanning columns (HTML colspan), or one over empty cells (markdown)
            grouped = any(t and tops.count(t) > 1 for t in tops[1:]) or any(
                not tops[j] and padded[j].text for j in range(2, width)
            )
            for j, cell in enumerate(padded[1:], start=1):
                if cell.text:
                    header[j] = _fold_subheader(tops[j], cell.text, grouped)
            continue
        if padded[0].text and width > 1 and all(not c.text for c in padded[1:]):
            category = padded[0].text  # a category row such as "Reasoning"
            continue
        rows.append(padded)
        numbers.append(number)
        categories.append(category)
    return header, rows, numbers, categories


def _carry_groups(header: Sequence[str], sub: Sequence[Cell]) -> list[str]:
    """Markdown has no colspan: a group name stands over its first column and the cells to its right
    are empty. Carry it over them where the sub-header row names a metric ("R5-R7" over "Acc", "F1")."""
    tops = list(header)
    for j in range(2, len(tops)):
        if not tops[j] and tops[j - 1] and sub[j].text and benchmarks.lookup_metric(sub[j].text) is not None:
            tops[j] = tops[j - 1]
    return tops


def _is_subheader(row: tuple[Cell, ...], header: Sequence[str], rest: Sequence[Sequence[Cell]]) -> bool:
    """A second header row: text where the following rows hold numbers (or numbers under one repeated header)."""
    first = row[0].text.strip().casefold()
    if first and not (first.startswith("(") or first in ("metric", "metrics")):
        return False
    texts = [c.text for c in row[1:] if c.text]
    if not texts or not any(any(parse_value(c.text) is not None for c in r[1:]) for r in rest[:3]):
        return False
    if not any(parse_value(t) is not None for t in texts):
        return True
    named = [h for h in header[1:] if h]
    # "Input length | Input length | ..." over "2851 | 5568 | ...": the numbers are the real column keys
    return len(named) >= 2 and len(set(named)) == 1 and all(parse_value(t) is not None for t in texts)


def _value_columns(header: Sequence[str], rows: Sequence[Sequence[Cell]], start: int) -> list[int]:
    """Columns whose cells are mostly scores and whose header is not a model property."""
    found = []
    for j in range(start, len(header)):
        if not _is_score_column(rows, j) or is_average(header[j]) or _is_count_column(header[j], rows, j):
            continue
        if not is_non_eval(header[j]) or scores_at_length(header[j], rows, j):
            found.append(j)
    return found


def scores_at_length(label: str, rows: Sequence[Sequence[Cell]], j: int) -> bool:
    """'Input length 8313' over '100%' cells: accuracy at a context length, not the length itself."""
    if not set(words(label)) & {"length", "context", "input"}:
        return False
    cells = [r[j].text for r in rows if not is_missing(r[j].text)]
    return bool(cells) and all((v := parse_value(t)) is not None and v.percent for t in cells)


def _is_score_column(rows: Sequence[Sequence[Cell]], j: int) -> bool:
    cells = [r[j] for r in rows if not is_missing(r[j].text)]
    scores = sum(parse_value(c.text) is not None or parse_pair(c.text) is not None for c in cells)
    return scores > 0 and scores * 2 >= len(cells)


def _is_count_column(header: str, rows: Sequence[Sequence[Cell]], j: int) -> bool:
    """Whole numbers above 100 under a header the vocabulary does not know: sizes and counts, not scores."""
    if _known(header):
        return False
    numbers = [v for r in rows if (v := parse_value(r[j].text)) is not None]
    plain = [r[j].text for r in rows if parse_value(r[j].text) is not None]
    return (
        bool(numbers)
        and all(not v.percent and v.value == int(v.value) for v in numbers)
        and (max(v.value for v in numbers) > 100 and not any("." in t for t in plain))
    )


def _row_columns(header: Sequence[str], rows: Sequence[Sequence[Cell]], skip: int = 0) -> list[int]:
    return [j for j in _value_columns(header, rows, 1 + skip) if _phrase(header[j]) not in _MODEL_FIRST]


def _known(label: str) -> bool:
    return benchmarks.lookup_benchmark(label) is not None or benchmarks.lookup_metric(label) is not None


def _fold_category_column(
    header: list[str], rows: list[tuple[Cell, ...]], categories: list[str]
) -> tuple[list[str], list[tuple[Cell, ...]], list[str], int]:
    """A leading category column beside the benchmark names becomes each row's category."""
    if len(header) < 3 or len(rows) < 2:
        return header, rows, categories, 0
    first = [r[0].text for r in rows]
    second = [r[1].text for r in rows]
    if any(parse_value(t) is not None for t in first + second) or sum(not t for t in second) > 1:
        return header, rows, categories, 0
    distinct = len({t for t in first if t})
    continued = sum(1 for i, t in enumerate(first) if not t or (i and t == first[i - 1]))
    if not continued or distinct >= len(rows) or len(set(second)) < len(second) * 0.8:
        return header, rows, categories, 0
    if not any(_known(t) for t in second) and any(_known(t) for t in first):
        return header, rows, categories, 0
    folded, category = [], ""
    for i, row in enumerate(rows):
        category = row[0].text or category
        folded.append(f"{categories[i]} {category}".strip() if categories[i] != category else category)
    return header[1:], [r[1:] for r in rows], folded, 1


def _is_property_table(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """Why the table is about model/run properties (hyperparameters, carbon, sizes), or ''."""
    heads = [h for j, h in enumerate(header) if j and h and not scores_at_length(h, rows, j)]
    names = [r[0].text for r in rows if r[0].text]
    known = sum(_known(t) or bool(set(words(t)) & _EVAL_WORDS) for t in heads + names)
    for labels in (heads, names):  # the labels along one side of the table are mostly properties
        props = [t for t in labels if is_non_eval(t)]
        if known == 0 and len(props) >= 2 and len(props) * 2 >= len(labels):
            return f"property table ({', '.join(props[:3])}): not evaluation results"
    return ""


def _size_column(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> int | None:
    """Column 1 when it holds the size half of a name split over two cells ("Foo-GPT | 13B")."""
    if len(header) < 3 or _phrase(header[1]) not in _SIZE_HEADERS:
        return None
    cells = [r[1].text for r in rows if r[1].text]
    if cells and all(_SIZE_CELL.match(t) for t in cells):
        return 1
    return None


def _context_kind(context: str) -> str:
    """'base' or 'tuned' when the heading above the table says which variant it shows."""
    heading = context.partition("\n")[0]
    base, tuned = bool(_BASE_HEADING.search(heading)), bool(_TUNED_HEADING.search(heading))
    if base != tuned:
        return "base" if base else "tuned"
    return ""


def _harness_layout(header: Sequence[str], make: _Make) -> Layout | None:
    """lm-evaluation-harness output: Tasks/Groups, Metric and Value columns."""
    names = [_phrase(h) for h in header]
    if not names or names[0] not in _HARNESS_TASK or "metric" not in names or "value" not in names:
        return None
    metric, value = names.index("metric"), names.index("value")
    stderr = names.index("stderr") if "stderr" in names else -1
    shots = names.index("n shot") if "n shot" in names else -1
    return make(
        "harness",
        None,
        "lm-evaluation-harness output: this model's run",
        (0, metric, value, stderr, shots),
        confidence=OWN_RESULTS,
        reasons=("lm-evaluation-harness table",),
    )


def _pick(
    candidates: list[tuple[int, MatchLevel, bool]], level: MatchLevel, labels: Sequence[str]
) -> tuple[int | None, str]:
    """The single best candidate; several distinct ones are no result (with both names), never a guess.

    Among equal matches, a name that contains every other one ("Foo-multiturn" over "Foo")
    is the more specific and wins.
    """
    best = [(i, marked) for i, lvl, marked in candidates if lvl == level]
    tokens = {i: set(tokenize(labels[i])) for i, _ in best}
    widest = [i for i, _ in best if all(tokens[k] <= tokens[i] for k, _ in best)]
    if len({labels[i] for i in widest}) == 1 and len({labels[i] for i, _ in best}) > 1:
        return widest[0], "the most specific of several matching names"
    if len({labels[i] for i, _ in best}) > 1:
        marked = [i for i, m in best if m]
        if len(marked) == 1:
            return marked[0], "bold/emoji breaks the tie"
        names = ", ".join(repr(n) for n in sorted({labels[i] for i, _ in best}))
        return None, f"ambiguous: {names} could each be this model"
    return best[0][0], ""


def _same_model_rows(
    candidates: list[tuple[int, MatchLevel, bool]], level: MatchLevel, labels: Sequence[str]
) -> list[int]:
    """Rows that are one model under several settings ("X Zero-Shot CoT", "X Zero-Shot PoT"), or []."""
    best = [i for i, lvl, _ in candidates if lvl == level]
    if len(best) < 2 or not all(SETTING.search(labels[i]) for i in best):
        return []
    names = {" ".join(SETTING.sub(" ", labels[i]).split()).casefold() for i in best}
    return best if len(names) == 1 else []


def _variant_check(
    model: ModelName, level: MatchLevel, label: str, others: Sequence[str], context: str, card_names: Sequence[str]
) -> str:
    """Why a match is unsafe (a sibling differs exactly at the dropped suffix; the heading says otherwise)."""
    kind = _context_kind(context)
    if level in (MatchLevel.SUFFIX, MatchLevel.LOOSE):
        # A sibling in this table, or anywhere in the card: "Foo-V2" beside "Foo-V2 Chat (RL)".
        sibling = next((o for o in (*others, *card_names) if o != label and adds_variant(label, o)), None)
        if sibling is not None:
            return f"{label!r} is the base of {sibling!r}: neither is certainly this model"
        if kind == "base":
            return f"{label!r} under a base/pretrained heading is the base model, not this one"
    if not model.variants & {"instruct", "chat", "it", "sft", "dpo", "rlhf", "rl"} and kind == "tuned":
        return f"{label!r} under an instruction-tuned/chat heading is the tuned model, not this one"
    return ""


def model_names(table: RawTable) -> list[str]:
    """Every label of a table that could name a model (column headers, first-column cells)."""
    header, rows, _, _ = _normalise(table)
    size_col = _size_column(header, rows) if rows else None
    return [h for h in header[1:] if h] + [_row_label(r, size_col) for r in rows if r[0].text]


def series(table: RawTable) -> list[tuple[str, list[tuple[str, float]]]]:
    """Every column and every row of a table as (its label, [(the other axis's label, value)])."""
    header, rows, _, _ = _normalise(table)
    found = []
    for j in range(1, len(header)):
        found.append((header[j], [(r[0].text, v.value) for r in rows if (v := parse_value(r[j].text)) is not None]))
    for r in rows:
        pairs = [(header[j], v.value) for j in range(1, len(header)) if (v := parse_value(r[j].text)) is not None]
        found.append((r[0].text, pairs))
    return found


def _row_label(row: Sequence[Cell], size_col: int | None) -> str:
    """The row's name; with the size cell beside it when the name itself has no size ("Foo-Chat 7B")."""
    name = row[0].text
    if size_col is None or not row[size_col].text or _NAME_SIZE.search(name):
        return name
    return f"{name} {row[size_col].text}".strip()


def decide_layout(
    table: RawTable,
    model: ModelName | None,
    model_column_index: int | None = None,
    card_names: Sequence[str] = (),
) -> Layout | Skip:
    """Classify `table` and orient it for `model` (None: no name known, markers only).

    `card_names` are the model names of the card's other tables (`model_names`): a match that
    drops a variant suffix is refused when the card also shows that variant.
    """
    header, rows, numbers, categories = _normalise(table)
    if not rows or len(header) < 2:
        return Skip("not a data table")
    offset = 0

    def layout(
        orientation: Orientation,
        own: int | None = None,
        how: str = "",
        columns: Sequence[int] = (),
        *,
        confidence: float = 1.0,
        reasons: Sequence[str] = (),
        own_rows: Sequence[int] = (),
    ) -> Layout:
        return Layout(
            orientation,
            tuple(header),
            tuple(rows),
            tuple(numbers),
            tuple(categories),
            own,
            how,
            tuple(columns),
            confidence,
            tuple(reasons),
            offset,
            tuple(own_rows),
        )

    if model_column_index is not None:
        if not 0 < model_column_index < len(header):
            raise TableError(
                f"table {table.number} has columns 0..{len(header) - 1}; "
                f"--model-column-index {model_column_index} is out of range"
            )
        return layout("columns", model_column_index, "--model-column-index", reasons=("column chosen by flag",))

    if _FINE_TUNED_FROM.search(table.context):
        return Skip("results of models fine-tuned from this one (model recycling), not this model's own")
    harness = _harness_layout(header, layout)
    if harness is not None:
        return harness
    if {"corr", "sub", "del", "ins", "err"} <= {_phrase(h) for h in header}:
        # sclite/ESPnet scoring output (Snt Wrd Corr Sub Del Ins Err S.Err): "Err" is the error rate the
        # heading names (WER, CER, TER); the rest are counts and its breakdown.
        err = [_phrase(h) for h in header].index("err")
        sclite = ("sclite scoring table: the Err column is the error rate",)
        return layout("context", None, "sclite scoring output", (err,), confidence=OWN_RESULTS, reasons=sclite)
    head_words = set(words(" ".join(header)))
    if head_words & {"epoch", "epochs", "step", "steps", "iteration"} and head_words & {"loss", "training", "train"}:
        return Skip("training log")
    if any(h.strip().lower().startswith(_SEARCH_COLUMNS) for h in header):
        # scikit-learn's cv_results_ (param_max_depth, mean_fit_time, rank_test_score): one row per
        # candidate configuration of a hyperparameter search, not the published model's results
        return Skip("hyperparameter search results (one row per candidate configuration)")
    if {_phrase(h) for h in header} & _PROGRESS_COLUMNS:
        # rows indexed by training progress ("Epoch | Step | Wer") are checkpoints along the way,
        # not the published model's results, even without a loss column
        return Skip("training log (rows are checkpoints by epoch or step)")
    first = _phrase(header[0])
    if first in _NON_EVAL_FIRST or words(first)[:1] == ["hyperparameter"]:
        return Skip("configuration or hyperparameter table")
    if not any(parse_value(c.text) is not None for r in rows for c in r[1:]):
        return Skip("no score columns")
    if why := _is_property_table(header, rows):
        return Skip(why)
    header, rows, categories, offset = _fold_category_column(header, rows, categories)
    first = _phrase(header[0])

    model_first = first in _MODEL_FIRST or first.startswith("model")
    size_col = _size_column(header, rows)
    row_labels = [_row_label(r, size_col) for r in rows]
    # A benchmark or metric name is never a model ("MNLI" is not distilbert-base-uncased-mnli).
    col_labels = [
        header[j] if _phrase(header[j]) not in _METRIC_COLUMN and not _known(header[j]) else ""
        for j in range(len(header))
    ]
    if model is not None:
        # under a "Model" first header the columns are benchmarks, never models ("Model | HTS2 | HTS5")
        col_cands = [
            (j, match_level(model, col_labels[j]) if not model_first else MatchLevel.NONE, False)
            for j in range(1, len(header))
        ]
        # a split word ("test") never names a model, even in a repo named test_...
        row_cands = [
            (
                i,
                match_level(model, row_labels[i])
                if not (_known(row_labels[i]) or _phrase(row_labels[i]) in _SPLIT_WORDS)
                else MatchLevel.NONE,
                r[0].bold or r[0].marked,
            )
            for i, r in enumerate(rows)
        ]
        best_col = max((lvl for _, lvl, _ in col_cands), default=MatchLevel.NONE)
        best_row = max((lvl for _, lvl, _ in row_cands), default=MatchLevel.NONE)
        if best_row and (best_row > best_col or (best_row == best_col and model_first)):
            own, tie = _pick(row_cands, best_row, row_labels)
            settings = _same_model_rows(row_cands, best_row, row_labels)
            if own is None and settings:
                own, tie = settings[0], "one model under several settings (zero-shot CoT / PoT ...)"
            if own is None:
                return Skip(tie, tuple(row_labels), evaluation=True)
            label = row_labels[own]
            if unsafe := _variant_check(model, best_row, label, row_labels, table.context, card_names):
                return Skip(unsafe, tuple(row_labels), evaluation=True)
            if best_row < MatchLevel.SUFFIX and _names_models(header[1:]):
                # "Dataset | ParsBERT v2 | mBERT | ...": the columns are the models, so a row that only partly
                # matches the repo's name ("ARMAN" for ...-ner-arman) is a dataset it was trained on
                return Skip(f"the columns name models; row {label!r} only partly matches", tuple(header[1:]))
            how = f"row {label!r} ({best_row.name.lower()} match)"
            columns = _row_columns(header, rows, 1 if size_col else 0)
            if not columns:
                return Skip(f"{how}, but no score columns (sizes or properties only)")
            own_rows = settings if len(settings) > 1 else [own]
            while own_rows[-1] + 1 < len(rows) and not rows[own_rows[-1] + 1][0].text:
                own_rows.append(own_rows[-1] + 1)  # a model over several rows (CoT / PoT / Hybrid)
            reasons = [f"own row {label!r}: {best_row.name.lower()} match"] + ([tie] if tie else [])
            return layout(
                "rows", own, how, columns, confidence=CONFIDENCE[best_row], reasons=reasons, own_rows=own_rows
            )
        if best_col:
            own, tie = _pick(col_cands, best_col, header)
            if own is None:
                return Skip(tie, tuple(h for h in header[1:] if h), evaluation=True)
            if unsafe := _variant_check(model, best_col, header[own], header[1:], table.context, card_names):
                return Skip(unsafe, tuple(h for h in header[1:] if h), evaluation=True)
            if best_col < MatchLevel.SUFFIX and _names_models(row_labels):  # the mirror of the rows case
                return Skip(f"the rows name models; column {header[own]!r} only partly matches", tuple(row_labels))
            if _is_score_column(rows, own):  # named like the model: its header says nothing else
                reasons = [f"own column {header[own]!r}: {best_col.name.lower()} match"] + ([tie] if tie else [])
                return layout(
                    "columns",
                    own,
                    f"column {header[own]!r} ({best_col.name.lower()} match)",
                    confidence=CONFIDENCE[best_col],
                    reasons=reasons,
                )
    if model_first:
        marked = [i for i, r in enumerate(rows) if r[0].bold or r[0].marked]
        if len(marked) == 1:
            how = f"row {rows[marked[0]][0].text!r} (marked bold/emoji)"
            columns = _row_columns(header, rows, 1 if size_col else 0)
            if columns:
                reasons = ["only bold/emoji marks this row; the name does not match"]
                return layout("rows", marked[0], how, columns, confidence=MARKED_ONLY, reasons=reasons)
        return Skip("compares models; none of them is this model", tuple(row_labels))
    return _own_results_layout(table, header, rows, layout)


def _own_results_layout(table: RawTable, header: list[str], rows: list[tuple[Cell, ...]], make: _Make) -> Layout | Skip:
    """A table with no model names: this model's own results, if it looks like an eval table."""
    first = _phrase(header[0])
    if any(_phrase(h) in _MODEL_FIRST for h in header[1:]):  # "Dataset | Model | Acc.": rows of other models
        return Skip("a Model column names other models; none of them is this model")
    row_labels = [r[0].text for r in rows]
    label_column_numeric = all(parse_value(t) is not None or is_missing(t) for t in row_labels)
    values = _value_columns(header, rows, 0 if label_column_numeric else 1)
    if not values:
        return Skip("no score columns")
    evidence_in_context = bool(set(words(table.context)) & _EVAL_WORDS)
    labelled = [t for t in row_labels if t]
    if len(values) == 1 and not label_column_numeric and first not in _CONTEXT_FIRST - _LABEL_FIRST:
        value_header = header[values[0]]
        known = sum(_known(t) for t in labelled)
        non_eval = sum(is_non_eval(t) for t in labelled)
        evidence = (
            (first in _LABEL_FIRST and first)
            or _phrase(value_header) in _GENERIC_VALUE
            or _known(value_header)
            or known * 2 > len(labelled)
        )
        # a key/value table: its keys name models, or repeat (runs under settings the key does not name)
        modelish = sum(bool(_MODEL_WORD.search(t)) for t in labelled)
        if len(labelled) >= 2 and modelish * 2 > len(labelled) and not known:
            return Skip("rows name other models; none of them is this model", tuple(labelled))
        if _repeats_with_other_values(rows, values):
            return Skip("rows repeat one label with other values: configurations, not test sets")
        if evidence and non_eval * 2 <= len(labelled) and (first or known * 2 > len(labelled)):
            return make(
                "single",
                None,
                "the table is about this model",
                values,
                confidence=OWN_RESULTS,
                reasons=("one value column and no model names: this model's results",),
            )
        return Skip("key/value table without scores")
    modelish = sum(bool(_MODELISH.search(t)) for t in labelled)
    if len(labelled) >= 2 and modelish * 2 >= len(labelled) and first not in _CONTEXT_FIRST:
        return Skip("rows name other models; none of them is this model", tuple(labelled))
    named = [header[j] for j in values if _MODELISH.search(header[j]) and not _known(header[j])]
    if len(named) >= 2 or any(match_level_blocked(header[j]) for j in values):
        return Skip("columns name other models; none of them is this model", tuple(h for h in header[1:] if h))
    settings = bool(labelled) and all(SETTING.search(t) for t in labelled)  # "Zero-Shot CoT" rows
    keyed_by_context = first in _CONTEXT_FIRST or label_column_numeric or not any(row_labels) or settings
    scored = any(_known(header[j]) or set(words(header[j])) & _EVAL_WORDS for j in values)
    if keyed_by_context and (scored or evidence_in_context):
        return make(
            "context",
            None,
            "the table is about this model",
            values,
            confidence=OWN_RESULTS,
            reasons=("no model names; rows are test sets or splits of this model's results",),
        )
    return Skip("several value columns; none is this model")


def _names_models(labels: Sequence[str]) -> bool:
    """At least two labels look like model names and none is a known benchmark."""
    named = [t for t in labels if t and _MODELISH.search(t) and not _known(t)]
    return len(named) >= 2 and not any(_known(t) for t in labels if t)


def _repeats_with_other_values(rows: Sequence[Sequence[Cell]], columns: Sequence[int]) -> bool:
    """Two rows with one label and different values ("onnxruntime | ... | 0.911", "onnxruntime | ... | 0.898"):
    the rows are runs under settings the label does not name, so no row can be told apart."""
    seen: dict[str, tuple[str, ...]] = {}
    for row in rows:
        label = row[0].text
        if not label:
            continue
        cells = tuple(row[j].text if j < len(row) else "" for j in columns)
        if seen.setdefault(label, cells) != cells:
            return True
    return False


def match_level_blocked(label: str) -> bool:
    """A label marked as the authors' own model ("X (ours)") that did not match this repo's name."""
    return bool(re.search(r"(?i)\((?:ours|this model|this work)\)\s*$", label))


def with_reason(layout: Layout, confidence: float, reason: str) -> Layout:
    """The layout with a lower confidence and one more reason."""
    return replace(layout, confidence=min(layout.confidence, confidence), reasons=(*layout.reasons, reason))


if TYPE_CHECKING:
    _Make = Callable[..., Layout]
