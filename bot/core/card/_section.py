"""evalbot's own part of the README body: the text between two HTML comment markers (pure).

The section is replaced in place when both markers are there (nothing outside them changes),
and appended after one blank line when neither is. Anything else is the user's edit that
evalbot must not guess about, so it is a `CardError`. Markers count only outside code: one shown
in a code fence, a code span or inside another HTML comment is text (`_markers.mask_code`).
"""

from __future__ import annotations

from bot.core._markers import mask_code
from bot.errors import CardError

SECTION_START = "<!-- evalbot:start -->"
SECTION_END = "<!-- evalbot:end -->"


def place_section(text: str, body_start: int, content: str, newline: str) -> str:
    """Put `content` between the markers in `text[body_start:]`, written with `newline` line ends."""
    inner = content.replace("\r\n", "\n").strip("\n")
    block = f"{SECTION_START}\n{inner}\n{SECTION_END}" if inner else f"{SECTION_START}\n{SECTION_END}"
    block = block.replace("\n", newline)
    original = text[body_start:]
    body = mask_code(original)  # same offsets; examples of the markers blanked out
    starts, ends = body.count(SECTION_START), body.count(SECTION_END)
    if starts == ends == 0:
        return _append(text, block, newline)
    first = body_start + min(i for i in (body.find(SECTION_START), body.find(SECTION_END)) if i >= 0)
    line = text.count("\n", 0, first) + 1
    if starts != 1 or ends != 1:
        raise CardError(
            f"README.md line {line}: found {starts} {SECTION_START!r} and {ends} {SECTION_END!r} markers; "
            "keep exactly one pair, or none, so evalbot knows which part is its own",
            line=line,
        )
    begin, end = body.index(SECTION_START), body.index(SECTION_END)
    if end < begin:
        raise CardError(
            f"README.md line {line}: {SECTION_END!r} comes before {SECTION_START!r}; "
            "put the start marker first, or remove both",
            line=line,
        )
    return text[:body_start] + original[:begin] + block + original[end + len(SECTION_END) :]


def _append(text: str, block: str, newline: str) -> str:
    if not text.lstrip("\ufeff") or text.endswith(("\n\n", "\n\r\n")):
        separator = ""  # empty card, or already one blank line at the end
    elif text.endswith("\n"):
        separator = newline
    else:
        separator = newline * 2  # no final newline: end the last line, then one blank line
    return text + separator + block + newline
