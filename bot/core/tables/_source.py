"""Find every table in a README body, in document order (pure).

Markdown tables come from markdown-it-py's token stream (so code fences are skipped for
free); HTML `<table>`s, and markdown tables hidden inside an HTML block such as
`<details>` with no blank line after it, are read from `html_block` tokens. One numbering
serves `inspect-tables` and `--table N`: 1-based over all tables found, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

from bot.core.tables._cells import Cell, cell_from_html, cell_from_inline

if TYPE_CHECKING:
    from markdown_it.token import Token

_HTML_LINE = re.compile(r"^\s*<")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$", re.MULTILINE)


@dataclass(frozen=True)
class RawTable:
    """A table as written: header rows and body rows of cells, and the prose before it."""

    number: int  # 1-based, document order
    line: int  # 1-based line in the text that was parsed
    kind: str  # "markdown" or "html"
    header: tuple[tuple[Cell, ...], ...]
    rows: tuple[tuple[Cell, ...], ...]
    context: str  # nearest heading and paragraph above the table

    @property
    def width(self) -> int:
        return max((len(r) for r in (*self.header, *self.rows)), default=0)


@cache
def markdown_parser() -> MarkdownIt:
    """The one markdown-it configuration used for cards (GFM tables, no linkify)."""
    return MarkdownIt("gfm-like", {"linkify": False})


def find_tables(text: str, *, line_offset: int = 0) -> list[RawTable]:
    """All tables in `text` (a README body), numbered 1.. in document order."""
    found: list[tuple[int, str, list[list[Cell]], list[list[Cell]], str]] = []
    _collect(markdown_parser().parse(text), line_offset, found)
    return [
        RawTable(i, line, kind, tuple(map(tuple, head)), tuple(map(tuple, body)), ctx)
        for i, (line, kind, head, body, ctx) in enumerate(found, start=1)
    ]


def _collect(
    tokens: list[Token],
    line_offset: int,
    found: list[tuple[int, str, list[list[Cell]], list[list[Cell]], str]],
) -> None:
    heading = paragraph = ""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "table_open":
            head, body, i = _read_markdown_table(tokens, i)
            line = line_offset + (token.map[0] if token.map else 0) + 1
            found.append((line, "markdown", head, body, f"{heading}\n{paragraph}"))
            continue
        if token.type == "inline" and i > 0:
            opener = tokens[i - 1].type
            if opener == "heading_open":
                heading, paragraph = token.content, ""
            elif opener == "paragraph_open":
                paragraph = token.content
                if "|" in token.content and _PIPE_SEPARATOR.search(token.content):
                    # A table glued to the paragraph or list item above it ("4. Question Answering\n|a|b|"):
                    # markdown-it reads it as continuation text; GitHub shows a table.
                    _collect_glued(token, line_offset, f"{heading}\n{paragraph}", found)
        elif token.type == "html_block":
            start = line_offset + (token.map[0] if token.map else 0)
            context = f"{heading}\n{paragraph}"
            if "<table" in token.content.lower():
                for head, body in _read_html_tables(token.content):
                    found.append((start + 1, "html", head, body, context))
            elif "|" in token.content and _PIPE_SEPARATOR.search(token.content):
                # A markdown table glued to an HTML tag (e.g. right after <details>):
                # blank out the HTML lines (<details>, <summary>Results</summary>), keeping line
                # numbers, and parse again; with no HTML line left it cannot recurse forever.
                lines = token.content.split("\n")
                inner = "\n".join("" if _HTML_LINE.match(line) else line for line in lines)
                if inner != token.content:
                    _collect(markdown_parser().parse(inner), start, found)
        i += 1


def _collect_glued(
    token: Token, line_offset: int, context: str, found: list[tuple[int, str, list[list[Cell]], list[list[Cell]], str]]
) -> None:
    lines = token.content.split("\n")
    for k in range(len(lines) - 1):
        if "|" in lines[k] and _PIPE_SEPARATOR.fullmatch(lines[k + 1]) and k > 0:
            start = line_offset + (token.map[0] if token.map else 0) + k
            tables: list[tuple[int, str, list[list[Cell]], list[list[Cell]], str]] = []
            _collect(markdown_parser().parse("\n".join(lines[k:])), start, tables)
            found.extend((line, kind, head, body, context) for line, kind, head, body, _ in tables)
            return


def _read_markdown_table(tokens: list[Token], i: int) -> tuple[list[list[Cell]], list[list[Cell]], int]:
    head: list[list[Cell]] = []
    body: list[list[Cell]] = []
    current: list[Cell] = []
    in_head = False
    while i < len(tokens):
        kind = tokens[i].type
        if kind == "table_close":
            return head, body, i + 1
        if kind == "thead_open":
            in_head = True
        elif kind == "thead_close":
            in_head = False
        elif kind == "tr_open":
            current = []
        elif kind == "tr_close":
            (head if in_head else body).append(current)
        elif kind == "inline":
            current.append(cell_from_inline(tokens[i]))
        i += 1
    return head, body, i


class _HtmlTableReader(HTMLParser):
    """Collects <table> rows; <th> rows before the first <td> row form the header."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[list[list[Cell]], list[list[Cell]]]] = []
        self._depth = 0
        self._row: list[Cell] | None = None
        self._row_is_header = True
        self._cell: list[str] | None = None
        self._raw: list[str] = []
        self._span = self._rowspan = 1
        # column → (cell, rows still to fill) for cells with rowspan > 1
        self._carried: dict[int, tuple[Cell, int]] = {}
        self._bold = self._image = False
        self._sup = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append(([], []))
                self._carried = {}
        elif self._depth != 1 and tag != "br":
            return
        elif tag == "tr":
            self._row, self._row_is_header = [], True
        elif tag in ("td", "th") and self._row is not None:
            self._cell, self._raw, self._bold, self._image = [], [], False, False
            self._span = _int_attr(attrs, "colspan")
            self._rowspan = _int_attr(attrs, "rowspan")
            if tag == "td":
                self._row_is_header = False
        elif self._cell is not None:
            if tag in ("b", "strong"):
                self._bold = True
            elif tag == "img":
                self._image = True
            elif tag == "sup":
                self._sup += 1
            elif tag == "br":
                self._cell.append(" ")
            self._raw.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth -= 1
        elif self._depth != 1:
            return
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            text = "".join(self._cell)
            cell = cell_from_html("".join(self._raw).strip(), text, bold=self._bold, image=self._image)
            self._fill_carried()
            for _ in range(self._span):  # colspan repeats a header over its columns
                if self._rowspan > 1:  # ...and rowspan over the rows below
                    self._carried[len(self._row)] = (cell, self._rowspan - 1)
                self._row.append(cell)
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self._fill_carried(to_end=True)
            head, body = self.tables[-1]
            (head if self._row_is_header and not body else body).append(self._row)
            self._row = None
        elif self._cell is not None:
            if tag == "sup":
                self._sup = max(0, self._sup - 1)
            self._raw.append(f"</{tag}>")

    def _fill_carried(self, *, to_end: bool = False) -> None:
        """Put cells spanning down from earlier rows into their columns of this row."""
        if self._row is None:
            return
        while self._carried and (len(self._row) in self._carried or (to_end and max(self._carried) > len(self._row))):
            column = len(self._row)
            if column not in self._carried:
                self._row.append(Cell("", ""))
                continue
            cell, left = self._carried.pop(column)
            if left > 1:
                self._carried[column] = (cell, left - 1)
            self._row.append(cell)

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._raw.append(data)
            if not self._sup:
                self._cell.append(data)


def _int_attr(attrs: list[tuple[str, str | None]], name: str) -> int:
    for key, value in attrs:
        if key == name and value and value.strip().isdigit():
            return max(1, min(int(value), 64))
    return 1


def _read_html_tables(html: str) -> list[tuple[list[list[Cell]], list[list[Cell]]]]:
    reader = _HtmlTableReader()
    reader.feed(html)
    reader.close()
    return [(head, body) for head, body in reader.tables if head or body]
