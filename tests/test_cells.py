"""Table cells (bot/core/tables/_cells.py): plain text from markdown/HTML cells, and scores from cell text."""

from __future__ import annotations

import pytest

from bot.core.tables import read_tables
from bot.core.tables._cells import Cell, Value, clean_text, is_emoji, is_missing, parse_value


def one_row_cells(*raw_cells: str) -> list[Cell]:
    """The body cells (label column dropped) of a one-row markdown table holding `raw_cells`."""
    header = "| label | " + " | ".join(f"c{i}" for i in range(len(raw_cells))) + " |"
    separator = "|" + "---|" * (len(raw_cells) + 1)
    row = "| row | " + " | ".join(raw_cells) + " |"
    (table,) = read_tables(f"{header}\n{separator}\n{row}\n")
    return list(table.rows[0][1:])


# --- parse_value: scores ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("65.4", Value(65.4)),
        ("0.652", Value(0.652)),
        ("65.4%", Value(65.4, percent=True)),  # percent flag; the value is NOT divided
        ("65.4 %", Value(65.4, percent=True)),
        ("48.2 ± 1.1", Value(48.2, 1.1)),
        ("48.2 (±1.1)", Value(48.2, 1.1)),
        ("48.2±1.1", Value(48.2, 1.1)),
        ("48.2 +/- 1.1", Value(48.2, 1.1)),
        ("65,4", Value(65.4)),  # decimal comma (reference bug 5 gave 654.0)
        ("1,234", Value(1234.0)),  # thousands separator
        ("1,234.5", Value(1234.5)),
        ("150'000", Value(150000.0)),  # apostrophe thousands separator
        ("-3.2", Value(-3.2)),
        ("\u22123.2", Value(-3.2)),  # Unicode minus sign
        ("2e-5", Value(2e-5)),
        ("  65.4  ", Value(65.4)),
    ],
)
def test_parse_value_reads_scores(text: str, expected: Value) -> None:
    assert parse_value(text) == expected


def test_parse_value_decimal_comma_is_not_a_thousands_separator() -> None:
    value = parse_value("65,4")
    assert value is not None
    assert value.value == 65.4
    assert value.value != 654.0


def test_parse_value_keeps_percent_value_undivided() -> None:
    value = parse_value("65.4%")
    assert value is not None
    assert (value.value, value.percent) == (65.4, True)


@pytest.mark.parametrize("text", ["-", "N/A", "—", "–", "", "--", "n/a", "NaN", "None", "?"])
def test_missing_markers_are_missing_and_not_scores(text: str) -> None:
    assert is_missing(text)
    assert parse_value(text) is None


@pytest.mark.parametrize("text", ["\\-", " - ", "\\--"])
def test_escaped_and_padded_dashes_are_missing(text: str) -> None:
    assert is_missing(text)


@pytest.mark.parametrize("text", ["7B", "15 GB", "143k", "2xV100", "1.5B", "4K", "3T", "v1.0.0b", "12,34,567"])
def test_sizes_and_hardware_are_not_scores(text: str) -> None:
    assert parse_value(text) is None
    assert not is_missing(text)


@pytest.mark.parametrize("text", ["65.4", "0", "MMLU", "7B", "x1"])
def test_values_and_words_are_not_missing(text: str) -> None:
    assert not is_missing(text)


@pytest.mark.parametrize("text", ["MMLU", "abc", "**65.4**", "65.4 / 70.1", "about 65"])
def test_parse_value_rejects_non_numbers(text: str) -> None:
    # parse_value reads *cleaned* cell text: markdown like **65.4** is cleaned before (see below).
    assert parse_value(text) is None


# --- cells in tables: cleaned text, markers and scores ----------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text", "bold", "marked"),
    [
        ("[MMLU](https://example.org/mmlu)", "MMLU", False, False),
        ("**x**", "x", True, False),
        ("__x__", "x", True, False),
        ("*x*", "x", False, False),
        ("`x`", "x", False, False),
        ("<span>x</span>", "x", False, False),
        ("<b>Ours</b>", "Ours", True, False),
        ("Q&amp;A", "Q&A", False, False),
        ("72.5†", "72.5", False, False),
        ("MMLU*", "MMLU", False, False),
        ("MMLU<sup>2</sup>", "MMLU", False, False),
        ("MMLU[1]", "MMLU", False, False),
        ("65.4^1", "65.4", False, False),
        ("ARC (25-s) ⬆️", "ARC (25-s)", False, True),
        ("**Zephyr-7b-β** 🪁", "Zephyr-7b-β", True, True),
        ("65.4 ↑", "65.4 ↑", False, False),  # plain arrows are text ("Short-Form WER ↓"), not emoji
        ("a<br>b", "a b", False, False),
        ("**65.4**", "65.4", True, False),
    ],
)
def test_markdown_cell_cleaning(raw: str, text: str, bold: bool, marked: bool) -> None:
    (cell,) = one_row_cells(raw)
    assert (cell.raw, cell.text, cell.bold, cell.marked) == (raw, text, bold, marked)


def test_image_cell_is_marked_as_image_and_has_no_text() -> None:
    (cell,) = one_row_cells("![chart](chart.png)")
    assert cell.image
    assert cell.text == ""
    assert is_missing(cell.text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("**65.4**", Value(65.4)),
        ("`65.4`", Value(65.4)),
        ("72.5†", Value(72.5)),
        ("72.5*", Value(72.5)),
        ("65.4<sup>1</sup>", Value(65.4)),
        ("**48.2 ± 1.1**", Value(48.2, 1.1)),
        ("65,4", Value(65.4)),
        ("<b>70.1%</b>", Value(70.1, percent=True)),
    ],
)
def test_decorated_score_cells_parse_after_cleaning(raw: str, expected: Value) -> None:
    (cell,) = one_row_cells(raw)
    assert parse_value(cell.text) == expected


def test_html_cells_are_flattened() -> None:
    html = (
        "<table>\n"
        "<tr><th>Benchmark</th><th><b>Ours-7B</b></th></tr>\n"
        "<tr><td>Q&amp;A<sup>1</sup></td><td><strong>65.4</strong></td></tr>\n"
        "<tr><td>Long<br>name</td><td>-</td></tr>\n"
        "</table>\n"
    )
    (table,) = read_tables(html)
    assert [(c.text, c.bold) for c in table.header[0]] == [("Benchmark", False), ("Ours-7B", True)]
    assert [(c.text, c.bold) for c in table.rows[0]] == [("Q&A", False), ("65.4", True)]
    assert [c.text for c in table.rows[1]] == ["Long name", "-"]


def test_html_cell_raw_keeps_footnote_markup() -> None:
    html = (
        "<table>\n"
        "<tr><th>Benchmark</th><th>Score</th></tr>\n"
        "<tr><td>MMLU</td><td>65.4<sup>1</sup></td></tr>\n"
        "</table>\n"
    )
    (table,) = read_tables(html)
    cell = table.rows[0][1]
    assert cell.text == "65.4"
    assert cell.raw == "65.4<sup>1</sup>"


# --- helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "expected"),
    [("🪁", True), ("⬆", True), ("\ufe0f", True), ("→", False), ("a", False), ("β", False), ("†", False), ("7", False)],
)
def test_is_emoji(char: str, expected: bool) -> None:
    assert is_emoji(char) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ARC (25-s) ⬆️", ("ARC (25-s)", True)),
        ("Zephyr  🪁 7b", ("Zephyr 7b", True)),
        ("  plain   text ", ("plain text", False)),
    ],
)
def test_clean_text_drops_decorations(text: str, expected: tuple[str, bool]) -> None:
    assert clean_text(text) == expected
