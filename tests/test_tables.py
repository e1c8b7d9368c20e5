"""README tables → the card's own scores (bot/core/tables/__init__.py, DESIGN §6).

Each test is one scenario with a small inline card and the exact results expected. Where a test
covers a bug of the reference tool (reference-tool.md §5), its number is named.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.tables import (
    TableInfo,
    TableResult,
    body_of,
    extract_all,
    extract_results,
    inspect_tables,
    read_tables,
    why_nothing,
)
from bot.errors import BotError, TableError


def md(*rows: str) -> str:
    """A markdown table: the header row, a separator, then the body rows."""
    width = rows[0].count("|") - 1
    return "\n".join([rows[0], "|" + "---|" * width, *rows[1:]]) + "\n"


def scores(results: list[TableResult]) -> list[tuple[str, float]]:
    return [(r.label, r.value) for r in results]


def benchmarks_of(results: list[TableResult]) -> list[tuple[str, float]]:
    return [(r.benchmark, r.value) for r in results]


OWN = "org/Ours-7B"
EVAL = md("| Benchmark | Score |", "| MMLU | 65.4 |")


# --- 1. finding tables ------------------------------------------------------------------------------


def test_table_in_code_fence_is_not_a_table() -> None:
    card = (
        "# Card\n\n```\n"
        + md("| Benchmark | Score |", "| MMLU | 65.4 |")
        + "```\n\n"
        + md("| Benchmark | Score |", "| GSM8K | 50.5 |")
    )
    tables = read_tables(card)
    assert [(t.number, t.line) for t in tables] == [(1, 9)]
    assert benchmarks_of(extract_results(card, "org/m")) == [("GSM8K", 50.5)]


DETAILS_TABLE = md("| Benchmark | Score |", "| ARC | 50.1 |")


@pytest.mark.parametrize(
    ("opening", "line"),
    [
        ("<details>\n", 2),
        ("<details>\n\n", 3),
        ("<details>\n<summary>Results</summary>\n\n", 4),
        ("<details>\n\n<summary>Results</summary>\n\n", 5),
        ("<details><summary>Results</summary>\n\n", 3),
        ("<details>\n<summary>Results</summary>\n", 3),
        ("<details><summary>Results</summary>\n", 2),
        ("<details><summary><b>Results</b></summary>\n", 2),
    ],
    ids=[
        "details-no-blank",
        "details-blank",
        "summary-line-then-blank",
        "blank-summary-blank",
        "details-summary-one-line-blank",
        "summary-line-no-blank",
        "details-summary-one-line-no-blank",
        "bold-summary-no-blank",
    ],
)
def test_table_inside_details_is_found(opening: str, line: int) -> None:
    card = opening + DETAILS_TABLE + "</details>\n"
    tables = read_tables(card)
    assert [(t.number, t.line, t.kind) for t in tables] == [(1, line, "markdown")]
    assert [c.text for c in tables[0].rows[0]] == ["ARC", "50.1"]
    assert benchmarks_of(extract_results(card, "org/m")) == [("ARC-Challenge", 50.1)]


def test_html_table_with_bold_footnotes_and_entities() -> None:
    card = (
        "<table>\n"
        "<tr><th>Benchmark</th><th><b>Ours-7B</b></th><th>Other-7B</th></tr>\n"
        "<tr><td>MMLU<sup>1</sup></td><td><b>65.4</b></td><td>60.0</td></tr>\n"
        "<tr><td>Q&amp;A</td><td>70.1</td><td>61.0</td></tr>\n"
        "</table>\n"
    )
    (table,) = read_tables(card)
    assert table.kind == "html"
    assert [c.text for c in table.header[0]] == ["Benchmark", "Ours-7B", "Other-7B"]
    results = extract_results(card, OWN)
    assert [(r.label, r.benchmark, r.value, r.row, r.column, r.cell) for r in results] == [
        ("MMLU", "MMLU", 65.4, 1, 1, "<b>65.4</b>"),
        ("Q&A", "Q&A", 70.1, 2, 1, "70.1"),
    ]


def test_html_two_row_header_with_colspan() -> None:
    card = (
        "<table>\n"
        '<tr><th>Model</th><th colspan="2">MMLU</th><th>GSM8K</th></tr>\n'
        "<tr><th></th><th>5-shot</th><th>0-shot</th><th>8-shot</th></tr>\n"
        "<tr><td>Ours-7B</td><td>65.4</td><td>60.1</td><td>50.0</td></tr>\n"
        "<tr><td>Other-7B</td><td>61.4</td><td>58.1</td><td>40.0</td></tr>\n"
        "</table>\n"
    )
    results = extract_results(card, OWN)
    assert [(r.label, r.benchmark, r.shots, r.value, r.column) for r in results] == [
        ("MMLU 5-shot", "MMLU", 5, 65.4, 1),
        ("MMLU 0-shot", "MMLU", 0, 60.1, 2),
        ("GSM8K 8-shot", "GSM8K", 8, 50.0, 3),
    ]


def test_html_two_row_header_with_rowspan_and_colspan() -> None:
    # The usual way to write it: "Model" spans both header rows, so the second row has one cell fewer.
    card = (
        "<table>\n"
        '<tr><th rowspan="2">Model</th><th colspan="2">MMLU</th><th>GSM8K</th></tr>\n'
        "<tr><th>5-shot</th><th>0-shot</th><th>8-shot</th></tr>\n"
        "<tr><td>Ours-7B</td><td>65.4</td><td>60.1</td><td>50.0</td></tr>\n"
        "<tr><td>Other-7B</td><td>61.4</td><td>58.1</td><td>40.0</td></tr>\n"
        "</table>\n"
    )
    results = extract_results(card, OWN)
    assert [(r.benchmark, r.shots, r.value, r.column) for r in results] == [
        ("MMLU", 5, 65.4, 1),
        ("MMLU", 0, 60.1, 2),
        ("GSM8K", 8, 50.0, 3),
    ]


def test_table_without_leading_pipes() -> None:
    card = "Model | MMLU | GSM8K\n--- | --- | ---\nOther-7B | 61.0 | 40.0\nOurs-7B | 65.4 | 50.0\n"
    results = extract_results(card, OWN)
    assert [(r.label, r.value, r.row, r.column) for r in results] == [("MMLU", 65.4, 2, 1), ("GSM8K", 50.0, 2, 2)]


MIXED = (
    "# Card\n\n"
    + md("| Model | Params |")  # header-only table: still table 1
    + "\n<table><tr><th>Benchmark</th><th>Value</th></tr><tr><td>MMLU</td><td>65.4</td></tr></table>\n\n"
    + md("| Hyperparameter | Value |", "| lr | 3e-4 |")
    + "\n"
    + md("| Metric | Value |", "| GSM8K | 50.5 |")
)


def test_numbering_counts_header_only_tables_in_document_order() -> None:
    tables = read_tables(MIXED)
    assert [(t.number, t.line, t.kind, len(t.rows)) for t in tables] == [
        (1, 3, "markdown", 0),
        (2, 6, "html", 1),
        (3, 8, "markdown", 1),
        (4, 12, "markdown", 1),
    ]


def test_inspect_tables_and_table_n_agree() -> None:
    # Reference bug 2: inspect-tables skipped header-only tables, --table N did not.
    infos = inspect_tables(MIXED, "org/m")
    assert [(i.number, i.header, i.evaluation) for i in infos] == [
        (1, ("Model", "Params"), False),
        (2, ("Benchmark", "Value"), True),
        (3, ("Hyperparameter", "Value"), False),
        (4, ("Metric", "Value"), True),
    ]
    for info in infos:
        results = extract_results(MIXED, "org/m", table=info.number)
        assert {r.table for r in results} <= {info.number}
        assert bool(results) == info.evaluation
    assert benchmarks_of(extract_results(MIXED, "org/m", table=2)) == [("MMLU", 65.4)]
    assert benchmarks_of(extract_results(MIXED, "org/m", table=4)) == [("GSM8K", 50.5)]
    assert extract_results(MIXED, "org/m", table=1) == []
    assert [(r.table, r.benchmark) for r in extract_results(MIXED, "org/m")] == [(2, "MMLU"), (4, "GSM8K")]


FRONT_MATTER_CARD = "---\nlicense: mit\nnote: |\n  | a | b |\n  |---|---|\n  | 1 | 2 |\n---\n# Title\n\n" + md(
    "| Benchmark | Score |", "| MMLU | 65.4 |"
)


def test_front_matter_is_skipped_and_lines_count_from_the_top() -> None:
    tables = read_tables(FRONT_MATTER_CARD)
    assert [(t.number, t.line) for t in tables] == [(1, 10)]
    assert [(r.table, r.benchmark, r.value) for r in extract_results(FRONT_MATTER_CARD, "org/m")] == [(1, "MMLU", 65.4)]
    assert [(i.number, i.line) for i in inspect_tables(FRONT_MATTER_CARD, "org/m")] == [(1, 10)]


@pytest.mark.parametrize(
    ("text", "body", "offset"),
    [
        ("---\na: 1\n---\nbody\n", "body\n", 3),
        ("\ufeff---\na: 1\n---\nbody\n", "body\n", 3),
        ("---\r\na: 1\r\n---\r\nbody\r\n", "body\r\n", 3),
        ("no front matter\n", "no front matter\n", 0),
        ("---\nnever closed\n", "---\nnever closed\n", 0),
        ("----\nnot a delimiter\n", "----\nnot a delimiter\n", 0),
    ],
)
def test_body_of(text: str, body: str, offset: int) -> None:
    assert body_of(text) == (body, offset)


# --- 2./3. cell cleaning and values in tables -------------------------------------------------------------


def test_cell_cleaning_and_values_in_a_benchmarks_as_rows_table() -> None:
    card = md(
        "| Benchmark | Ours-7B | Other-7B |",
        "| [MMLU](https://example.org/mmlu) | **65.4** | 60 |",
        "| *GSM8K* | `50.5` | 1 |",
        "| <b>HellaSwag</b> | 72.5† | 2 |",
        "| ARC (25-s) ⬆️ | 65,4 | 3 |",
        "| TruthfulQA* | 48.2 ± 1.1 | 4 |",
        "| Winogrande<sup>2</sup> | 48.2 (±1.1) | 5 |",
        "| PIQA | 70.1% | 6 |",
        "| BoolQ | 0.652 | 7 |",
        "| DROP | - | 8 |",
        "| MATH | N/A | 9 |",
        "| HumanEval | — | 10 |",
        "| MBPP | – | 11 |",
        "| RACE | | 12 |",
    )
    results = extract_results(card, OWN)
    assert [(r.label, r.value, r.stderr, r.row, r.cell) for r in results] == [
        ("MMLU", 65.4, None, 1, "**65.4**"),
        ("GSM8K", 50.5, None, 2, "`50.5`"),
        ("HellaSwag", 72.5, None, 3, "72.5†"),
        ("ARC (25-s)", 65.4, None, 4, "65,4"),  # reference bug 5 read 654.0
        ("TruthfulQA", 48.2, 1.1, 5, "48.2 ± 1.1"),
        ("Winogrande", 48.2, 1.1, 6, "48.2 (±1.1)"),
        ("PIQA", 70.1, None, 7, "70.1%"),
        ("BoolQ", 0.652, None, 8, "0.652"),
    ]
    assert [(r.benchmark, r.shots) for r in results][3] == ("ARC-Challenge", 25)
    assert results[6].unit == "percent"


def test_bold_emoji_model_label_is_cleaned() -> None:
    card = md(
        "| Model | Size | MT-Bench (score) | AlpacaEval (win rate %) |",
        "| Zephyr-7b-α | 7B | 6.88 | - |",
        "| **Zephyr-7b-β** 🪁 | **7B** | **7.34** | **90.60** |",
    )
    infos = inspect_tables(card, "HuggingFaceH4/zephyr-7b-beta")
    assert infos[0].detail == "row 'Zephyr-7b-β' (exact match)"
    results = extract_results(card, "HuggingFaceH4/zephyr-7b-beta")
    assert [(r.label, r.benchmark, r.value, r.cell) for r in results] == [
        ("MT-Bench (score)", "MT-Bench", 7.34, "**7.34**"),
        ("AlpacaEval (win rate %)", "AlpacaEval", 90.6, "**90.60**"),
    ]


def test_sizes_are_not_scores_in_a_comparison_table() -> None:
    card = md(
        "| Model | VRAM | Training hardware | MMLU |",
        "| Ours-7B | 15 GB | 2xV100 | 65.4 |",
        "| Other-7B | 14 GB | 8xA100 | 60.1 |",
    )
    assert scores(extract_results(card, OWN)) == [("MMLU", 65.4)]


# --- 4. classification ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    [
        md("| Hyperparameter | Value |", "| learning_rate | 2e-5 |", "| num_epochs | 3 |", "| warmup_ratio | 0.1 |"),
        md("| Config | Value |", "| batch_size | 32 |", "| max_steps | 150'000 |", "| temperature | 0.7 |"),
        md("| Subset | Number of rows | License |", "| wiki | 1,234 | cc-by |", "| books | 5,000 | mit |"),
        md("| Size | Parameters |", "| small | 7B |", "| large | 70B |"),
        md("| Model | Params | Context |", "| Ours-7B | 7 | 4096 |", "| Other-13B | 13 | 4096 |"),
        md("| Language | Code |", "| English | en |", "| French | fr |"),
        md(
            "| Training Loss | Epoch | Step | Validation Loss | Accuracy |",
            "| 0.5123 | 1.0 | 100 | 0.4411 | 0.8012 |",
            "| 0.3311 | 2.0 | 200 | 0.3598 | 0.8545 |",
        ),
    ],
    ids=["hyperparameters", "config", "data-mix", "sizes", "model-sizes", "languages", "training-log"],
)
def test_non_evaluation_tables_give_no_results(card: str) -> None:
    assert extract_results(card, OWN) == []


def test_model_size_table_is_not_called_an_evaluation_table() -> None:
    card = md("| Model | Params | Context |", "| Ours-7B | 7 | 4096 |", "| Other-13B | 13 | 4096 |")
    (info,) = inspect_tables(card, OWN)
    assert info.evaluation is False


def test_eval_table_found_beside_a_hyperparameter_table_without_table_option() -> None:
    # Reference bug 7: a non-eval table with a number (lr 3e-4) made it refuse without --table.
    card = md("| Hyperparameter | Value |", "| lr | 3e-4 |") + "\n" + md("| Benchmark | Value |", "| MMLU | 65.4 |")
    assert [(r.table, r.benchmark, r.value) for r in extract_results(card, "org/m")] == [(2, "MMLU", 65.4)]


# --- 5. orientation ---------------------------------------------------------------------------------------------


def test_benchmarks_as_rows_with_model_columns() -> None:
    card = md(
        "| Benchmark | Llama-2-7B | Ours-7B |",
        "| MMLU (5-shot) | 45.3 | 65.4 |",
        "| GSM8K | 14.6 | 50.5 |",
    )
    results = extract_results(card, OWN)
    assert [(r.label, r.benchmark, r.shots, r.value, r.row, r.column) for r in results] == [
        ("MMLU (5-shot)", "MMLU", 5, 65.4, 1, 2),
        ("GSM8K", "GSM8K", None, 50.5, 2, 2),
    ]
    assert inspect_tables(card, OWN)[0].orientation == "columns"


def test_models_as_rows_with_benchmark_columns() -> None:
    card = md(
        "| Model | MMLU | GSM8K | Average |",
        "| Llama-2-7B | 45.3 | 14.6 | 30.0 |",
        "| Ours-7B | 65.4 | 50.5 | 58.0 |",
    )
    results = extract_results(card, OWN)
    assert [(r.label, r.value, r.row, r.column) for r in results] == [("MMLU", 65.4, 2, 1), ("GSM8K", 50.5, 2, 2)]
    assert inspect_tables(card, OWN)[0].orientation == "rows"


@pytest.mark.parametrize("first", ["Metric", "Task", "Benchmark"])
@pytest.mark.parametrize("value_header", ["Value", "Score"])
def test_single_score_column(first: str, value_header: str) -> None:
    card = md(f"| {first} | {value_header} |", "| ARC (25-shot) | 62.03 |", "| HellaSwag (10-shot) | 84.36 |")
    results = extract_results(card, "org/m")
    assert [(r.benchmark, r.shots, r.value, r.row, r.column) for r in results] == [
        ("ARC-Challenge", 25, 62.03, 1, 1),
        ("HellaSwag", 10, 84.36, 2, 1),
    ]
    assert inspect_tables(card, "org/m")[0].orientation == "single"


@pytest.mark.parametrize("value_header", ["Value", "Score", "Result"])
def test_generic_value_header_does_not_change_metric_or_unit(value_header: str) -> None:
    # "Score"/"Value"/"Result" only say "this column holds the numbers": MMLU stays acc, in percent.
    card = md(f"| Task | {value_header} |", "| MMLU | 65.4 |")
    assert [(r.benchmark, r.metric, r.unit) for r in extract_results(card, "org/m")] == [("MMLU", "acc", "percent")]


def test_one_row_keyed_by_version() -> None:
    card = md(
        "| Version | Tokenizer | Vocabulary Size | Dev WER | Test WER |",
        "| 1.12.0 | SentencePiece Unigram | 128 | 19.3 | 20.1 |",
    )
    results = extract_results(card, "nvidia/stt_kab_conformer_transducer_large")
    assert [(r.label, r.metric, r.value, r.unit, r.row, r.column, r.dataset) for r in results] == [
        ("Dev WER", "wer", 19.3, "raw", 1, 3, None),
        ("Test WER", "wer", 20.1, "raw", 1, 4, None),
    ]
    assert inspect_tables(card, "nvidia/stt_kab_conformer_transducer_large")[0].orientation == "context"


def test_rows_keyed_by_test_set_give_one_result_per_test_set() -> None:
    card = md(
        "| testset | BLEU | chr-F |",
        "| tatoeba-test.eng-hun | 35.2 | 0.612 |",
        "| newstest2009 | 20.1 | 0.498 |",
    )
    results = extract_results(card, "Helsinki-NLP/opus-mt-tc-big-en-hu")
    assert [(r.label, r.metric, r.value, r.row, r.column, r.dataset) for r in results] == [
        ("BLEU", "bleu", 35.2, 1, 1, "tatoeba-test.eng-hun"),
        ("chr-F", "chrf", 0.612, 1, 2, "tatoeba-test.eng-hun"),
        ("BLEU", "bleu", 20.1, 2, 1, "newstest2009"),
        ("chr-F", "chrf", 0.498, 2, 2, "newstest2009"),
    ]


def test_metric_column_beside_the_benchmark_name() -> None:
    card = md(
        "| Benchmark | Metric | Ours-7B | Other-7B |",
        "| MMLU | 5-shot | 65.4 | 60.0 |",
        "| HumanEval | pass@1 | 30.5 | 20.0 |",
        "| ImageNet | top-1 | 80.1 | 70.0 |",
        "| [HellaSwag](https://example.org) | 0-shot | 71.4 | 70.0 |",
    )
    results = extract_results(card, OWN)
    assert [(r.label, r.benchmark, r.metric, r.shots, r.value, r.column) for r in results] == [
        ("MMLU", "MMLU", "acc", 5, 65.4, 2),
        ("HumanEval", "HumanEval", "pass@1", None, 30.5, 2),
        ("ImageNet", "ImageNet-1k", "top1", None, 80.1, 2),
        ("HellaSwag", "HellaSwag", "acc_norm", 0, 71.4, 2),
    ]


def test_shots_column_beside_the_benchmark_name() -> None:
    card = md("| Benchmark | Shots | Ours-7B | Other-7B |", "| MMLU | 5-shot | 65.4 | 60.0 |")
    assert [(r.benchmark, r.shots, r.value, r.column) for r in extract_results(card, OWN)] == [("MMLU", 5, 65.4, 2)]


def test_category_rows_are_folded() -> None:
    card = md(
        "| Benchmark | Ours-7B | Other-7B |",
        "| **Reasoning** | | |",
        "| ARC | 65.4 | 60.0 |",
        "| Custom bench | 50.5 | 40.0 |",
        "| Knowledge | | |",
        "| Trivia test | 44.0 | 41.0 |",
    )
    results = extract_results(card, OWN)
    assert [(r.label, r.benchmark, r.category, r.value, r.row) for r in results] == [
        ("ARC", "ARC-Challenge", "Reasoning", 65.4, 2),
        ("Custom bench", "Reasoning Custom bench", "Reasoning", 50.5, 3),
        ("Trivia test", "Knowledge Trivia test", "Knowledge", 44.0, 5),
    ]


def test_two_row_markdown_header_gives_distinct_labels() -> None:
    card = md(
        "| Model | MMLU | MMLU | GSM8K |",
        "| | 5-shot | 0-shot | 8-shot |",
        "| Other-7B | 61.0 | 58.0 | 40.0 |",
        "| Ours-7B | 65.4 | 60.1 | 50.5 |",
    )
    results = extract_results(card, OWN)
    assert [(r.label, r.benchmark, r.shots, r.value, r.row, r.column) for r in results] == [
        ("MMLU (5-shot)", "MMLU", 5, 65.4, 3, 1),
        ("MMLU (0-shot)", "MMLU", 0, 60.1, 3, 2),
        ("GSM8K (8-shot)", "GSM8K", 8, 50.5, 3, 3),
    ]
    assert len({r.label for r in results}) == 3


# --- 6. own-model detection -------------------------------------------------------------------------------------


def test_org_prefix_is_ignored() -> None:
    card = md("| Benchmark | Llama-2-13b | Llama-2-7b |", "| MMLU | 54.8 | 45.3 |")
    assert [(r.value, r.column) for r in extract_results(card, "meta-llama/Llama-2-7b")] == [(45.3, 2)]


@pytest.mark.parametrize(("repo", "value", "column"), [("google/gemma-2b", 42.3, 2), ("google/gemma-7b", 64.3, 3)])
def test_size_column_is_picked_by_the_repo_size(repo: str, value: float, column: int) -> None:
    card = md(
        "| Benchmark | Metric | 2B Params | 7B Params |",
        "| MMLU | 5-shot | 42.3 | 64.3 |",
        "| **Average** | | **45.0** | **56.9** |",
    )
    results = extract_results(card, repo)
    assert [(r.benchmark, r.shots, r.value, r.column) for r in results] == [("MMLU", 5, value, column)]


NEURAL_CHAT_ROWS = [
    "| [mistralai/Mistral-7B-v0.1](https://hf.co/mistralai/Mistral-7B-v0.1) | 50.32 | 59.98 | 64.16 |",
    "| [Intel/neural-chat-7b-v3](https://hf.co/Intel/neural-chat-7b-v3) | 57.31 | 67.15 | 62.26 |",
]
NEURAL_CHAT_HEADER = "| Model | Average ⬆️ | ARC (25-s) ⬆️ | MMLU (5-s) ⬆️ |"


def test_version_picks_the_exact_version_row() -> None:
    card = md(
        NEURAL_CHAT_HEADER,
        *NEURAL_CHAT_ROWS,
        "| [Intel/neural-chat-7b-v3-1](https://hf.co/Intel/neural-chat-7b-v3-1) | **59.06** | 66.21 | 62.37 |",
    )
    results = extract_results(card, "Intel/neural-chat-7b-v3-1")
    assert [(r.label, r.benchmark, r.shots, r.value, r.row) for r in results] == [
        ("ARC (25-s)", "ARC-Challenge", 25, 66.21, 3),
        ("MMLU (5-s)", "MMLU", 5, 62.37, 3),
    ]


def test_an_older_version_row_never_stands_for_the_repo() -> None:
    card = md(NEURAL_CHAT_HEADER, *NEURAL_CHAT_ROWS)
    assert extract_results(card, "Intel/neural-chat-7b-v3-1") == []


def test_base_column_never_stands_for_an_instruct_repo() -> None:
    # Reference bug 4: values came from the base column and from another model's column.
    card = md("| Benchmark | Foo-7B | Llama-3-8B |", "| MMLU | 60.1 | 66.6 |", "| HumanEval | 30.2 | 33.5 |")
    assert extract_results(card, "org/Foo-7B-Instruct-v2") == []


@pytest.mark.parametrize(
    ("repo", "value"),
    [("org/Foo-7B-Instruct-v2", 62.3), ("org/Foo-7B", 60.1)],
)
def test_base_and_instruct_columns_are_told_apart(repo: str, value: float) -> None:
    card = md("| Benchmark | Foo-7B | Foo-7B-Instruct-v2 |", "| MMLU | 60.1 | 62.3 |")
    assert [r.value for r in extract_results(card, repo)] == [value]


@pytest.mark.parametrize(("repo", "value"), [("google/gemma-2b-it", 40.1), ("google/gemma-2b", 42.3)])
def test_it_suffix(repo: str, value: float) -> None:
    card = md("| Benchmark | gemma-2b | gemma-2b-it |", "| MMLU | 42.3 | 40.1 |")
    assert [r.value for r in extract_results(card, repo)] == [value]


@pytest.mark.parametrize(
    ("repo", "value"), [("meta-llama/Llama-2-7b-chat-hf", 47.0), ("meta-llama/Llama-2-7b-hf", 45.3)]
)
def test_chat_suffix(repo: str, value: float) -> None:
    card = md("| Model | MMLU |", "| Llama-2-7b | 45.3 |", "| Llama-2-7b-chat | 47.0 |")
    assert [r.value for r in extract_results(card, repo)] == [value]


def test_greek_letter_in_the_label() -> None:
    card = md("| Model | MT-Bench |", "| Zephyr-7b-α | 6.88 |", "| Zephyr-7b-β | 7.34 |")
    assert [r.value for r in extract_results(card, "HuggingFaceH4/zephyr-7b-beta")] == [7.34]
    assert [r.value for r in extract_results(card, "HuggingFaceH4/zephyr-7b-alpha")] == [6.88]


@pytest.mark.parametrize(
    "card",
    [
        md("| Model | MMLU | GSM8K |", "| Llama-2-7B | 45.3 | 14.6 |", "| Ours | 65.4 | 50.5 |"),
        md("| Model | MMLU | GSM8K |", "| Llama-2-7B | 45.3 | 14.6 |", "| (ours) | 65.4 | 50.5 |"),
        md("| Benchmark | Llama-2-7B | Ours |", "| MMLU | 45.3 | 65.4 |", "| GSM8K | 14.6 | 50.5 |"),
    ],
    ids=["ours-row", "paren-ours-row", "ours-column"],
)
def test_ours_label_is_the_own_model(card: str) -> None:
    assert benchmarks_of(extract_results(card, "org/SomethingElse")) == [("MMLU", 65.4), ("GSM8K", 50.5)]


def test_name_with_ours_tail_matches_the_repo() -> None:
    card = md("| Model | MMLU |", "| Llama-2-7B | 45.3 |", "| Foo-7B (ours) | 65.4 |")
    assert [r.value for r in extract_results(card, "org/Foo-7B")] == [65.4]


def test_other_name_marked_ours_is_the_own_model() -> None:
    card = md("| Model | MMLU |", "| Llama-2-7B | 45.3 |", "| MyModel (ours) | 65.4 |")
    assert [r.value for r in extract_results(card, "org/SomethingElse")] == [65.4]


@pytest.mark.parametrize(
    ("own_cell", "how"),
    [("**Bar-7B**", "row 'Bar-7B' (marked bold/emoji)"), ("Bar-7B 🪁", "row 'Bar-7B' (marked bold/emoji)")],
)
def test_single_marked_row_is_shown_but_never_published(own_cell: str, how: str) -> None:
    # Bold/emoji only break ties: a marked row whose name does not match is below the threshold.
    card = md("| Model | MMLU | GSM8K |", "| Llama-2-7B | 45.3 | 14.6 |", f"| {own_cell} | 65.4 | 50.5 |")
    assert extract_results(card, "org/SomethingElse") == []
    held = extract_all(card, "org/SomethingElse")
    assert [(r.label, r.value, r.confidence) for r in held] == [("MMLU", 65.4, 0.5), ("GSM8K", 50.5, 0.5)]
    assert held[0].reasons == ("only bold/emoji marks this row; the name does not match",)
    (info,) = inspect_tables(card, "org/SomethingElse")
    assert (info.detail, info.confidence, info.published) == (how, 0.5, False)


@pytest.mark.parametrize(
    "rows",
    [
        ("| Llama-2-7B | 45.3 | 14.6 |", "| Bar-7B | 65.4 | 50.5 |"),
        ("| **Llama-2-7B** | 45.3 | 14.6 |", "| **Bar-7B** | 65.4 | 50.5 |"),
    ],
    ids=["no-marked-row", "two-marked-rows"],
)
def test_no_single_marked_row_gives_no_results(rows: tuple[str, str]) -> None:
    card = md("| Model | MMLU | GSM8K |", *rows)
    assert extract_results(card, "org/SomethingElse") == []


@pytest.mark.parametrize(
    "card",
    [
        md("| Benchmark | Foo 7B | Foo-Bar-7B |", "| MMLU | 45.3 | 65.4 |"),
        md("| Benchmark | Foo-Bar-7B | Foo 7B |", "| MMLU | 65.4 | 45.3 |"),
        md("| Model | MMLU |", "| Foo 7B | 45.3 |", "| Foo-Bar-7B | 65.4 |"),
        md("| Model | MMLU |", "| Foo-Bar-7B | 65.4 |", "| Foo 7B | 45.3 |"),
    ],
    ids=["columns-exact-last", "columns-exact-first", "rows-exact-last", "rows-exact-first"],
)
def test_exact_match_beats_partial(card: str) -> None:
    assert [r.value for r in extract_results(card, "org/Foo-Bar-7B")] == [65.4]


@pytest.mark.parametrize(
    "card",
    [
        md("| Benchmark | Foo 7B chat | Bar 7B chat |", "| MMLU | 45.3 | 65.4 |"),
        md("| Model | MMLU |", "| Foo 7B chat | 45.3 |", "| Bar 7B chat | 65.4 |"),
    ],
    ids=["columns", "rows"],
)
def test_two_partial_candidates_are_ambiguous(card: str) -> None:
    # Never a guess and never a crash: no result, and a reason that names both candidates.
    assert extract_all(card, "org/Foo-Bar-7B-chat") == []
    (reason,) = why_nothing(card, "org/Foo-Bar-7B-chat")
    assert reason.startswith("table 1: ambiguous: 'Bar 7B chat', 'Foo 7B chat' could each be this model")
    assert "closest 'Foo 7B chat'" in reason


def test_inspect_tables_reports_an_ambiguous_table_instead_of_raising() -> None:
    card = md("| Benchmark | Foo 7B chat | Bar 7B chat |", "| MMLU | 45.3 | 65.4 |") + "\n" + EVAL
    infos = inspect_tables(card, "org/Foo-Bar-7B-chat")
    assert [(i.number, i.evaluation, i.orientation) for i in infos] == [(1, True, "?"), (2, True, "single")]
    assert "Foo 7B chat" in infos[0].detail
    assert "Bar 7B chat" in infos[0].detail


def test_model_table_listing_only_other_models_gives_no_results() -> None:
    card = md("| Model | MMLU | GSM8K |", "| Llama-2-7B | 45.3 | 14.6 |", "| Mistral-7B | 60.1 | 40.0 |")
    assert extract_results(card, "org/Foo-7B") == []
    (info,) = inspect_tables(card, "org/Foo-7B")
    assert (info.evaluation, info.detail) == (False, "compares models; none of them is this model")


# --- 7. averages -----------------------------------------------------------------------------------------------


AVERAGES = ["Average", "Avg.", "avg", "**Average**", "Mean", "Average ⬆️", "AVERAGE", "Avg"]


@pytest.mark.parametrize("average", AVERAGES)
def test_average_row_is_not_a_result(average: str) -> None:
    card = md("| Benchmark | Ours-7B | Other-7B |", f"| {average} | 50.0 | 40.0 |", "| MMLU | 65.4 | 60.0 |")
    assert scores(extract_results(card, OWN)) == [("MMLU", 65.4)]
    card = md("| Metric | Value |", f"| {average} | 50.0 |", "| MMLU | 65.4 |")
    assert scores(extract_results(card, OWN)) == [("MMLU", 65.4)]


@pytest.mark.parametrize("average", AVERAGES)
def test_average_column_is_not_a_result(average: str) -> None:
    card = md(f"| Model | {average} | MMLU |", "| Other-7B | 40.0 | 60.0 |", "| Ours-7B | 50.0 | 65.4 |")
    assert scores(extract_results(card, OWN)) == [("MMLU", 65.4)]


def test_a_suites_own_average_is_a_result() -> None:
    card = md("| Task | Value |", "| BigBench (Avg) | 35.1 |", "| Average | 50.0 |", "| MMLU | 65.4 |")
    assert [(r.label, r.benchmark, r.value) for r in extract_results(card, "org/m")] == [
        ("BigBench (Avg)", "BIG-Bench", 35.1),
        ("MMLU", "MMLU", 65.4),
    ]
    card = md("| Model | BigBench (Avg) | MMLU |", "| Other-7B | 30.0 | 60.0 |", "| Ours-7B | 35.1 | 65.4 |")
    assert benchmarks_of(extract_results(card, OWN)) == [("BIG-Bench", 35.1), ("MMLU", 65.4)]


# --- 8. errors --------------------------------------------------------------------------------------------------


CHOICE = md("| Benchmark | Ours-7B | Other-7B |", "| MMLU | 65.4 | 60.0 |", "| GSM8K | 50.5 | 40.0 |")


@pytest.mark.parametrize("number", [99, 0, -1, 2])
def test_table_number_out_of_range(number: int) -> None:
    with pytest.raises(TableError, match=r"the card has 1 table"):
        extract_results(CHOICE, OWN, table=number)


def test_model_column_index_needs_table() -> None:
    with pytest.raises(TableError, match=r"--table"):
        extract_results(CHOICE, OWN, model_column_index=2)


@pytest.mark.parametrize("index", [0, 3, 10, -1])
def test_model_column_index_out_of_range(index: int) -> None:
    with pytest.raises(TableError, match=r"out of range"):
        extract_results(CHOICE, OWN, table=1, model_column_index=index)


def test_model_column_index_reads_that_column() -> None:
    results = extract_results(CHOICE, OWN, table=1, model_column_index=2)
    assert [(r.label, r.value, r.row, r.column) for r in results] == [("MMLU", 60.0, 1, 2), ("GSM8K", 40.0, 2, 2)]
    # Without the override the name match picks column 1.
    assert [r.column for r in extract_results(CHOICE, OWN, table=1)] == [1, 1]


def test_errors_are_bot_errors() -> None:
    assert issubclass(TableError, BotError)


# --- 9. TableResult fields ---------------------------------------------------------------------------------------


LEADERBOARD = "## Evaluation\n\nResults on the Open LLM Leaderboard.\n\n" + md(
    "| Metric | Value |",
    "| Avg. | 60.12 |",
    "| ARC (25-shot) | 62.03 |",
    "| HellaSwag (10-shot) | **84.36** |",
    "| MMLU (5-shot) | 61.07 ± 0.5 |",
    "| TruthfulQA (0-shot) | - |",
)


def test_table_result_fields_for_a_leaderboard_table() -> None:
    context = "Evaluation\nResults on the Open LLM Leaderboard."
    common: dict[str, Any] = {
        "table": 1,
        "unit": "percent",
        "column": 1,
        "dataset": None,
        "category": "",
        "confidence": 0.9,
        "reasons": ("one value column and no model names: this model's results",),
    }
    assert extract_results(LEADERBOARD, "org/m") == [
        TableResult(
            label="ARC (25-shot)",
            benchmark="ARC-Challenge",
            metric="acc_norm",
            value=62.03,
            stderr=None,
            row=2,
            cell="62.03",
            shots=25,
            context=context,
            **common,
        ),
        TableResult(
            label="HellaSwag (10-shot)",
            benchmark="HellaSwag",
            metric="acc_norm",
            value=84.36,
            stderr=None,
            row=3,
            cell="**84.36**",
            shots=10,
            context=context,
            **common,
        ),
        TableResult(
            label="MMLU (5-shot)",
            benchmark="MMLU",
            metric="acc",
            value=61.07,
            stderr=0.5,
            row=4,
            cell="61.07 ± 0.5",
            shots=5,
            context=context,
            **common,
        ),
    ]


def test_table_result_fields_for_a_model_column() -> None:
    card = md(
        "| Benchmark | Metric | Ours-7B | Other-7B |",
        "| [MMLU](https://example.org) | 5-shot, top-1 | **65.4%** | 60.0 |",
        "| HumanEval | pass@1 | 30.5 | 20.0 |",
    )
    results = [
        (r.table, r.label, r.benchmark, r.metric, r.value, r.stderr, r.unit, r.row, r.column, r.cell, r.shots)
        for r in extract_results(card, OWN)
    ]
    assert results == [
        (1, "MMLU", "MMLU", "top1", 65.4, None, "percent", 1, 2, "**65.4%**", 5),
        (1, "HumanEval", "HumanEval", "pass@1", 30.5, None, "percent", 2, 2, "30.5", None),
    ]


# --- 10. inspect_tables ---------------------------------------------------------------------------------------------


def test_inspect_tables_describes_eval_and_skipped_tables() -> None:
    card = (
        md("| Hyperparameter | Value |", "| learning_rate | 2e-5 |")
        + "\n"
        + md("| Model | MMLU |", "| Other-7B | 60.0 |", "| Ours-7B | 65.4 |")
        + "\n"
        + md("| Training Loss | Epoch | Step | Validation Loss |", "| 0.5 | 1.0 | 100 | 0.4 |")
        + "\n"
        + LEADERBOARD
    )
    assert inspect_tables(card, OWN) == [
        TableInfo(
            1, 1, "markdown", ("Hyperparameter", "Value"), 1, False, "-", "configuration or hyperparameter table"
        ),
        TableInfo(2, 5, "markdown", ("Model", "MMLU"), 2, True, "rows", "row 'Ours-7B' (exact match)", 1.0, True),
        TableInfo(
            3, 10, "markdown", ("Training Loss", "Epoch", "Step", "Validation Loss"), 1, False, "-", "training log"
        ),
        TableInfo(
            4, 18, "markdown", ("Metric", "Value"), 5, True, "single", "the table is about this model", 0.9, True
        ),
    ]


def test_inspect_tables_without_a_model_name() -> None:
    card = md("| Benchmark | Ours-7B | Other-7B |", "| MMLU | 65.4 | 60.0 |")
    (info,) = inspect_tables(card, None)
    assert (info.number, info.evaluation, info.orientation) == (1, False, "-")
    assert info.detail == "columns name other models; none of them is this model"


def test_inspect_tables_of_a_card_without_tables() -> None:
    assert inspect_tables("# Card\n\nNo tables here; MMLU 65.4 in prose.\n", OWN) == []
    assert extract_results("# Card\n\nNo tables here.\n", OWN) == []


# --- 11. robustness --------------------------------------------------------------------------------------------------


FRAGMENTS = [
    "|",
    " | ",
    "---",
    "|---|",
    ":--",
    "\n",
    "\n\n",
    "65.4",
    "1,234",
    "65,4",
    "-",
    "N/A",
    "<table>",
    "</table>",
    "<tr>",
    "</tr>",
    "<td>",
    "</td>",
    "<th>",
    "</th>",
    '<td colspan="3">',
    '<th rowspan="2">',
    "<b>",
    "**",
    "Model",
    "Benchmark",
    "MMLU",
    "Average",
    "Ours",
    "org/model",
    "model",
    "7B",
    "```\n",
    "---\n",
    "±",
    "%",
    "†",
    "<sup>1</sup>",
    "&amp;",
    "⬆️",
    "β",
    "\t",
    "Metric",
    "Value",
    "5-shot",
    "Hyperparameter",
    "Version",
]


def _extract_or_bot_error(text: str) -> None:
    try:
        results = extract_results(text, "org/model")
    except BotError:
        return
    assert isinstance(results, list)
    assert all(isinstance(r, TableResult) for r in results)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_never_crashes(text: str) -> None:
    _extract_or_bot_error(text)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join))
def test_table_like_text_never_crashes(text: str) -> None:
    _extract_or_bot_error(text)


def test_metric_named_in_the_prose_above_the_table_is_used() -> None:
    card = (
        "Performance is reported as Word Error Rate (WER%).\n\n"
        "| Version | LS test-clean | WSJ Eval92 |\n|---|---|---|\n| 1.0.0 | 1.62 | 1.17 |\n"
    )
    results = extract_results(card, "org/asr")
    assert [(r.label, r.metric, r.unit) for r in results] == [
        ("LS test-clean", "wer", "raw"),
        ("WSJ Eval92", "wer", "raw"),
    ]
