"""Where evalbot's HTML-comment markers really are in markdown: outside code (pure).

A marker shown as an example — in a fenced or indented code block, in an inline code span, or
inside another HTML comment — is text, not a marker. `mask_code` returns the text with all of
that blanked out (same length, line breaks kept), so a plain search in the mask finds only the
real markers, at their real offsets in the original text.

>>> mask_code("```\\n<!-- evalbot:start -->\\n```\\n<!-- evalbot:start -->\\n").count("evalbot:start")
1
"""

from __future__ import annotations

import functools
import re

from markdown_it import MarkdownIt

_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_MARKER_COMMENT = re.compile(r"<!-- evalbot(?::start|:end| \{[^<>]*\}|-reply [^<>]*) -->")


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def mask_code(text: str) -> str:
    """`text` with code blocks, code spans and HTML comments other than evalbot's blanked out."""
    lines = _lines(text)
    for token in _parser().parse(text):
        if token.map is None:
            continue
        start, end = token.map
        if token.type in ("fence", "code_block"):
            lines[start:end] = [_blank(line) for line in lines[start:end]]
        elif token.type == "inline" and "`" in token.content:  # code spans live in one paragraph
            paragraph = _CODE_SPAN.sub(lambda m: _blank(m[0]), "".join(lines[start:end]))
            lines[start:end] = _lines(paragraph)
    masked = "".join(lines)
    return _COMMENT.sub(lambda m: m[0] if _MARKER_COMMENT.fullmatch(m[0]) else _blank(m[0]), masked)


def _lines(text: str) -> list[str]:
    """Lines as markdown-it counts them (\r\n, \r and \n end a line), with their endings."""
    return _LINE.findall(text)


def _blank(text: str) -> str:
    """Spaces for every character but line breaks (offsets and line numbers stay the same)."""
    return re.sub(r"[^\r\n]", " ", text)
