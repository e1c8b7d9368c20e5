"""Table cells: plain text from markdown/HTML fragments, and numbers from score cells (pure).

Cells arrive either as markdown-it inline tokens (markdown tables) or as already-flattened
text (HTML tables). Both end as a `Cell`: the text a reader sees, plus the markers that
matter for finding the card's own model (bold, an image, an "ours"-style emoji).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it.token import Token


@dataclass(frozen=True)
class Cell:
    """One table cell: `raw` as written in the card, `text` as a reader sees it."""

    raw: str
    text: str
    bold: bool = False
    image: bool = False
    marked: bool = False  # an emoji or symbol that authors use to flag "this is us"


@dataclass(frozen=True)
class Value:
    """A number read from a score cell. `percent` is True when the cell said so with '%'."""

    value: float
    stderr: float | None = None
    percent: bool = False


# Cells that mean "no value here" rather than "not a number".
_MISSING = frozenset({"", "-", "--", "---", "—", "–", "n/a", "na", "nan", "none", "null", "x", "✗", "✘", "?", "/"})

# Footnote marks that authors glue onto numbers and names: 72.5†, MMLU*, 65.4^1
_FOOTNOTE_TAIL = re.compile(r"(?:[\*†‡§¶#]+|\^\d+|\[\^?\d+\])+$")
_SUP = re.compile(r"<sup>.*?</sup>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")

# "48.2 ± 1.1", "48.2 (±1.1)", "48.2 +/- 1.1", "48.2±1.1"
_NUMBER = r"[-+]?(?:\d[\d,.' ]*\d|\d)(?:[eE][-+]?\d+)?"
_VALUE = re.compile(
    rf"^(?P<num>{_NUMBER})\s*(?P<pct>%)?"
    rf"(?:\s*\(?\s*(?:±|\+/-|\+-)\s*(?P<err>{_NUMBER})\s*%?\s*\)?)?$"
)
_ASIDE = re.compile(r"^(?P<num>[-+]?\d[\d.,]*\s*%?)\s*\((?!\s*(?:±|\+/-|\+-))[^()]*\)$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:[,' ]\d{3})+(?:\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")


def is_emoji(char: str) -> bool:
    """True for pictographs and dingbats that decorate labels (🪁, ⬆️, ✅...).

    Plain arrows such as ↑/↓ (the "higher/lower is better" marks) are text and stay in labels.
    """
    if char in "\ufe0f\u200d\u20e3":
        return True
    if "\u2190" <= char <= "\u21ff":
        return False
    return unicodedata.category(char) == "So"  # symbols, other: emoji, dingbats


def clean_text(text: str) -> tuple[str, bool]:
    """Strip emoji decorations and normalise spaces; report whether any emoji was present."""
    if text.isascii():  # the common case: no emoji possible
        return " ".join(text.split()), False
    had_emoji = False
    kept: list[str] = []
    for char in text:
        if is_emoji(char):
            had_emoji = True
            kept.append(" ")
        else:
            kept.append(char)
    return _SPACES.sub(" ", "".join(kept)).strip(), had_emoji


def cell_from_inline(token: Token) -> Cell:
    """Turn a markdown-it inline token (one table cell) into a `Cell`."""
    parts: list[str] = []
    bold = image = False
    in_sup = 0
    for child in token.children or ():
        kind = child.type
        if kind == "html_inline":
            tag = child.content.lower()
            if tag.startswith("<sup"):
                in_sup += 1
            elif tag.startswith("</sup"):
                in_sup = max(0, in_sup - 1)
            elif tag.startswith(("<b>", "<strong")):
                bold = True
            elif tag.startswith(("<br", "<sub")):
                parts.append(" ")  # "MMMU<sub>val</sub>" reads "MMMU val"
            elif tag.startswith("<img"):
                image = True
            continue
        if in_sup:
            continue  # footnote marks like <sup>1</sup>
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "strong_open":
            bold = True
        elif kind == "image":
            image = True
    text, marked = clean_text("".join(parts))
    return Cell(raw=token.content, text=_strip_footnote(text), bold=bold, image=image, marked=marked)


def cell_from_html(raw: str, text: str, *, bold: bool, image: bool) -> Cell:
    """Build a `Cell` from an HTML table cell already flattened to text."""
    cleaned, marked = clean_text(_TAG.sub(" ", _SUP.sub("", text)))
    return Cell(raw=raw, text=_strip_footnote(cleaned), bold=bold, image=image, marked=marked)


def _strip_footnote(text: str) -> str:
    stripped = _FOOTNOTE_TAIL.sub("", text).rstrip()
    return stripped if stripped else text


def is_missing(text: str) -> bool:
    """True when a cell says "no value" (`-`, `N/A`, `—`, empty)."""
    return text.strip().strip("\\").strip().casefold() in _MISSING


@lru_cache(maxsize=65536)
def parse_value(text: str) -> Value | None:
    """Read a score from cleaned cell text; None when the cell is not a plain score.

    Sizes like ``7B``, ``15 GB`` or ``143k`` are not scores and give None.

    Example:
        >>> parse_value("48.2 ± 1.1")
        Value(value=48.2, stderr=1.1, percent=False)
        >>> parse_value("65,4").value
        65.4
    """
    text = text.strip().replace("\u2212", "-").rstrip("↑↓⬆⬇ ")  # Unicode minus sign; "65.4 ↑" marks
    if not text or not (text[0].isdigit() or text[0] in "+-.") or len(text) > 40:
        return None
    match = _VALUE.match(text)
    if match is None:
        # "8.5 (8shot CoT)", "24.0 (23.4 / 24.6)": a number followed by an aside about it
        aside = _ASIDE.match(text)
        match = _VALUE.match(aside["num"]) if aside else None
    if match is None:
        return None
    number = _to_float(match["num"])
    if number is None:
        return None
    err = _to_float(match["err"]) if match["err"] else None
    return Value(number, err, percent=bool(match["pct"]))


def parse_pair(text: str) -> tuple[Value, Value] | None:
    """A compound cell of two scores, "78.10/85.82" or "83.27 / 92.08"; None otherwise."""
    halves = text.split("/")
    if len(halves) != 2:
        return None
    first, second = parse_value(halves[0]), parse_value(halves[1])
    return (first, second) if first is not None and second is not None else None


def _to_float(raw: str) -> float | None:
    raw = raw.strip()
    if _THOUSANDS.match(raw):
        raw = re.sub(r"[,' ]", "", raw)  # 1,234 and 150'000: groups of exactly three digits
    elif _DECIMAL_COMMA.match(raw):
        raw = raw.replace(",", ".")  # European decimal comma: 65,4
    elif "," in raw and "." in raw:
        raw = raw.replace(",", "")  # 1,234.5
    if any(c in raw for c in ",' "):
        return None
    try:
        return float(raw)
    except ValueError:
        return None
