"""Where the YAML front matter, and the top-level blocks inside it, sit in a README (pure).

Only positions are computed here; nothing is re-serialised, so every byte outside the span
that card.py replaces stays as it was. Front matter is found the way the Hub finds it
(huggingface_hub.repocard.REGEX_YAML_BLOCK): optional leading whitespace, a `---` line, the
YAML, and the next line that is `---` (trailing blanks allowed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from bot.errors import CardError

BOM = "\ufeff"
_OPENING = re.compile(r"\s*?---(\r\n|\n)")
_CLOSING = re.compile(r"^---[ \t]*(\r\n|\n|\Z)", re.MULTILINE)
_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")
_FIX = "fix the YAML between the '---' lines; evalbot never rewrites a card it cannot parse"


@dataclass(frozen=True)
class Offsets:
    """Offsets into the README text. Without front matter, the three offsets are equal."""

    bom: str
    newline: str  # the card's line ending, used for every line evalbot writes
    yaml_start: int  # first character of the YAML (just after the opening '---' line)
    yaml_end: int  # first character of the closing '---' line
    body_start: int  # first character after the closing '---' line
    has_front_matter: bool


@dataclass(frozen=True)
class Block:
    """A top-level key's lines inside the YAML text: `yaml[start:end]`, and its indentation."""

    start: int
    end: int
    indent: int


def locate_front_matter(text: str) -> Offsets:
    """Find the front matter; an opening `---` without a closing one is a `CardError`."""
    bom = BOM if text.startswith(BOM) else ""
    opening = _OPENING.match(text, len(bom))
    if opening is None:
        start = len(bom)
        return Offsets(bom, _first_newline(text), start, start, start, has_front_matter=False)
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        line = text.count("\n", 0, opening.start(1)) + 1
        raise CardError(
            f"README.md line {line}: the front matter opened with '---' is never closed; "
            "add a '---' line after the YAML (evalbot never rewrites a card it cannot parse)",
            line=line,
        )
    return Offsets(
        bom=bom,
        newline=opening.group(1),
        yaml_start=opening.end(),
        yaml_end=closing.start(),
        body_start=closing.end(),
        has_front_matter=True,
    )


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping: YAML would silently keep the last,
    the Hub's reader may keep another, so evalbot never rewrites such a card."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    shown = key_node.value if len(key_node.value) <= 60 else key_node.value[:57] + "..."
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {shown!r} appears twice; keep one of them", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(yaml_text: str, first_line: int) -> Any:
    """`yaml.safe_load` (refusing duplicate keys), with errors naming the README line (`first_line`
    is the YAML's first line)."""
    try:
        return yaml.load(yaml_text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = ": ".join(part for part in (e.context, e.problem) if part)
        raise _yaml_error(problem, None if mark is None else first_line + mark.line) from e
    except yaml.reader.ReaderError as e:
        line = first_line + yaml_text.count("\n", 0, e.position)
        raise _yaml_error(f"unacceptable character #x{e.character:04x} ({e.reason})", line) from e
    except Exception as e:  # safe_load also raises plain errors, e.g. ValueError for 2001-02-30
        raise _yaml_error(f"{type(e).__name__}: {e}", None) from e


def load_model_index(text: str) -> Any:
    """The `model-index` of a README evalbot just wrote, read back fast (libyaml when present).

    Only for checking evalbot's own output: a card's text is read with `load_yaml`, whose errors
    name the line. Any problem here falls back to that reader, so the error is the same.
    """
    layout = locate_front_matter(text)
    yaml_text = text[layout.yaml_start : layout.yaml_end]
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            data = yaml.load(yaml_text, Loader=loader)
        except yaml.YAMLError:
            data = None
        else:
            return data.get("model-index") if isinstance(data, dict) else None
    data = load_yaml(yaml_text, first_line=text.count("\n", 0, layout.yaml_start) + 1)
    return data.get("model-index") if isinstance(data, dict) else None


def same_data(left: Any, right: Any) -> bool:
    """Equal as YAML data, types included (`1`, `1.0` and `True` differ; so do NaN and 0)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same_data(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same_data(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and left != left:
        return bool(right != right)  # NaN reads back as NaN
    return bool(left == right)


def find_block(yaml_text: str, key: str) -> Block | None:
    """The lines of top-level `key` (key line to last value line), or None if it is absent.

    Comment and blank lines after the value belong to what follows, so they are not part of
    the block. A key written twice, or front matter in flow style (`{...}`), is a `CardError`.
    """
    root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return None
    if root.flow_style:
        raise CardError(
            "README.md front matter is one flow mapping ('{...}'); evalbot only edits block-style "
            "YAML: write one 'key: value' per line"
        )
    keys = [k for k, _ in root.value]
    found = [i for i, k in enumerate(keys) if isinstance(k, yaml.ScalarNode) and k.value == key]
    if not found:
        return None
    if len(found) > 1:
        raise CardError(f"README.md front matter has {key!r} {len(found)} times; keep one of them")
    index = found[0]
    start = _line_start(yaml_text, keys[index].start_mark.index)
    end = _line_start(yaml_text, keys[index + 1].start_mark.index) if index + 1 < len(keys) else len(yaml_text)
    lines = _LINES.findall(yaml_text[start:end])  # lines as _line_start counts them
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        end -= len(lines.pop())
    return Block(start, end, indent=keys[index].start_mark.column)


def top_level_indent(yaml_text: str) -> int:
    """The column of the top-level keys (0 unless the whole mapping is indented)."""
    root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    if isinstance(root, yaml.MappingNode) and root.value:
        column: int = root.value[0][0].start_mark.column
        return column
    return 0


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _first_newline(text: str) -> str:
    index = text.find("\n")
    return "\r\n" if index > 0 and text[index - 1] == "\r" else "\n"


def _yaml_error(problem: str, line: int | None) -> CardError:
    where = "README.md front matter" if line is None else f"README.md line {line}"
    problem = " ".join(problem.split()) or "invalid YAML"
    return CardError(f"{where}: {problem}; {_FIX}", line=line)
