"""The Jinja environment every file and PR text is rendered with (DESIGN §2, §3).

Built-in templates live in `templates/` beside `bot/`. A user template directory overrides
them by name; user templates are untrusted, so an environment that includes them is sandboxed
as a whole, and bounded: a template is loaded only from a regular file whose resolved path is
inside its folder (no `..`, no symlink out: `{% include "env.txt" %}` with `env.txt ->
/proc/self/environ` is refused) and at most `MAX_TEMPLATE_BYTES` long; a render stops after
`RENDER_SECONDS` or `MAX_OUTPUT_CHARS` characters, and big `*`/`**` results are refused.
Filters are deterministic: the same context always renders the same bytes. Text copied from a
card (labels, names) goes through `plain_text` in every filter that prints it: no HTML, no
working `@` mentions, links kept as text. Only `*.html.j2` templates (the status page) are
autoescaped: there every `{{ value }}` is HTML-escaped; the markdown, YAML and text ones are not.

Example:
    >>> env = make_environment()
    >>> render_template(env, "model_index.yaml.j2", model_index=[{"name": "m", "results": []}])
    'model-index:\\n- name: m\\n  results: []\\n'
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from bot.core.status_text import job_summary, one_line_error, utc_time
from bot.errors import ConfigError, TemplateError, one_line

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"

# Wide enough that PyYAML never folds a long string over two lines.
_YAML_WIDTH = 2**31 - 1
_INTEGRAL = re.compile(r"-?\d+")
MAX_TEMPLATE_BYTES = 256 * 1024
MAX_OUTPUT_CHARS = 8 * 1024 * 1024
RENDER_SECONDS = 10.0
_MAX_RANGE = 100_000  # as jinja2.sandbox.MAX_RANGE
# filters whose number is a point in time, not a size: `1780000000 | utc_time` builds nothing big
_TIMESTAMP_FILTERS = frozenset({"utc_time"})
_MAX_POWER_BITS = 100_000  # `a ** b` is refused when the result would have more bits than this
_OPTIONS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "keep_trailing_newline": True,
    # HTML templates (`*.html.j2`: the status page) are escaped; markdown, YAML and text never are
    "autoescape": jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
    "trim_blocks": True,
    "lstrip_blocks": True,
}


def make_environment(user_dir: Path | None = None) -> jinja2.Environment:
    """Return the environment over the built-in templates, overridden by `user_dir` if given.

    Example:
        >>> make_environment(None).get_template("pr_title.txt.j2").name
        'pr_title.txt.j2'
    """
    builtin = FolderLoader(TEMPLATE_DIR)
    env: jinja2.Environment
    if user_dir is None:
        env = jinja2.Environment(loader=builtin, **_OPTIONS)
    else:
        user_dir = Path(user_dir)  # callers may hand over a str from argv or config
        if not user_dir.is_dir():
            raise ConfigError(f"template directory {str(user_dir)!r} does not exist; create it or drop the option")
        env = BoundedSandbox(loader=jinja2.ChoiceLoader([FolderLoader(user_dir), builtin]), **_OPTIONS)
    env.filters.update(
        to_yaml=to_yaml,
        yaml_scalar=yaml_scalar,
        format_value=format_value,
        md_cell=md_cell,
        md_text=md_text,
        md_code=md_code,
        md_line=md_line,
        code_fence=code_fence,
        plain=plain_text,
        utc_time=utc_time,
        one_line_error=one_line_error,
        job_summary=job_summary,
    )
    if isinstance(env, BoundedSandbox):
        env.filters = {name: env.bound(f, sizes=name not in _TIMESTAMP_FILTERS) for name, f in env.filters.items()}
        env.tests = {name: env.bound(t) for name, t in env.tests.items()}  # type: ignore[arg-type]
    return env


class FolderLoader(jinja2.BaseLoader):
    """Templates from one folder: regular files inside it (after resolving symlinks), size-limited.

    A name with `..`, an absolute name, a backslash, or a file whose resolved path leaves the
    folder is "not found" for this loader (a `ChoiceLoader` then asks the built-in templates).
    """

    def __init__(self, folder: Path, *, max_bytes: int = MAX_TEMPLATE_BYTES) -> None:
        self.root = Path(folder).resolve()
        self.max_bytes = max_bytes

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        parts = template.split("/")
        if (
            "\\" in template
            or "\x00" in template
            or template.startswith("/")
            or any(p in ("", ".", "..") for p in parts)
        ):
            raise jinja2.TemplateNotFound(template)
        try:
            path = self.root.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError) as e:  # missing, or a symlink loop
            raise jinja2.TemplateNotFound(template) from e
        if not path.is_relative_to(self.root):
            raise jinja2.TemplateNotFound(template)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):  # a FIFO, a device, /proc: never read
                raise jinja2.TemplateNotFound(template)
            data = handle.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise TemplateError(f"template {template!r} is larger than {self.max_bytes} bytes")
        mtime = info.st_mtime_ns
        return data.decode("utf-8"), str(path), lambda: _mtime(path) == mtime

    def list_templates(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _too_big_power(base: Any, exponent: Any) -> bool:
    if not isinstance(base, int) or not isinstance(exponent, int) or abs(base) <= 1:
        return False
    return exponent > _MAX_POWER_BITS or exponent * base.bit_length() > _MAX_POWER_BITS


def _check_sizes(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT_CHARS:
            raise RenderLimitError(f"an argument of {value:g} is too big (at most {MAX_OUTPUT_CHARS})")


def _too_big_repeat(seq: Any, times: Any) -> bool:
    return isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_OUTPUT_CHARS


class RenderLimitError(TemplateError):
    """A template ran too long, printed too much or built a value too big."""


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox with CPU and memory bounds: a deadline checked on every call, loop step of
    `range`, and operator; `*` and `**` refused when the result would be huge."""

    intercepted_binops = frozenset(["*", "**"])

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = self._range
        self._deadline = threading.local()

    def start_clock(self, seconds: float) -> None:
        self._deadline.at = time.monotonic() + seconds

    def check_clock(self) -> None:
        at = getattr(self._deadline, "at", None)
        if at is not None and time.monotonic() > at:
            raise RenderLimitError("rendering took too long (a loop that never ends?)")

    def _range(self, *args: int) -> Iterator[int]:
        numbers = range(*args)
        if len(numbers) > _MAX_RANGE:
            raise RenderLimitError(f"range() of {len(numbers)} numbers; at most {_MAX_RANGE}")
        for number in numbers:
            self.check_clock()
            yield number

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self.check_clock()
        _check_sizes(args, kwargs)  # "x".ljust(10 ** 9), lipsum(10 ** 9)
        return super().call(__context, __obj, *args, **kwargs)

    def bound(self, function: Callable[..., Any], *, sizes: bool = True) -> Callable[..., Any]:
        """`function` (a filter or test) checked like a call: the deadline, and (`sizes`) no huge sizes."""

        @functools.wraps(function)  # keeps jinja's pass_context/pass_eval_context marks
        def bounded(*args: Any, **kwargs: Any) -> Any:
            self.check_clock()
            if sizes:
                _check_sizes(args, kwargs)  # "x" | center(10 ** 9), "x" | indent(10 ** 9)
            return function(*args, **kwargs)

        return bounded

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.check_clock()
        if operator == "**" and _too_big_power(left, right):
            raise RenderLimitError("'**' would build too big a number")
        if operator == "*" and (_too_big_repeat(left, right) or _too_big_repeat(right, left)):
            raise RenderLimitError("a repeated value would be too big")
        return super().call_binop(context, operator, left, right)


@functools.cache
def default_environment() -> jinja2.Environment:
    """The built-in environment, built once (it holds no per-call state)."""
    return make_environment()


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render template `name`; any failure becomes a one-line `TemplateError`.

    In a `BoundedSandbox` the render is bounded: `RENDER_SECONDS` and `MAX_OUTPUT_CHARS`.
    """
    try:
        template = env.get_template(name)
        if not isinstance(env, BoundedSandbox):
            return template.render(**context)
        env.start_clock(RENDER_SECONDS)
        chunks, size = [], 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise RenderLimitError(f"the output is longer than {MAX_OUTPUT_CHARS} characters")
            env.check_clock()
            chunks.append(chunk)
        return "".join(chunks)
    except RenderLimitError as e:
        raise TemplateError(f"template {name!r}: {e}") from e
    except jinja2.TemplateNotFound as e:
        raise TemplateError(f"template {name!r}: not found (looked for {e.name!r})") from e
    except jinja2.TemplateSyntaxError as e:
        where = e.name or name  # an included template names itself
        raise TemplateError(f"template {where!r}, line {e.lineno}: {one_line(e.message or str(e))}") from e
    except Exception as e:  # user templates may fail in any way; never let that escape untyped
        raise TemplateError(f"template {name!r}: {type(e).__name__}: {one_line(str(e))}") from e


def to_yaml(value: Any) -> str:
    """Block-style YAML for `value`, keys in their given order, without the final newline.

    Exactly PyYAML's output (`yaml.dump`, block style, no line folding); plain data of the usual
    kind is written by a direct emitter (`_fast_block_yaml`) that is ~20x faster on a large
    model-index and gives the same bytes, and everything else by PyYAML itself.
    """
    fast = _fast_block_yaml(value)
    if fast is not None:
        return fast.removesuffix("\n")
    text = yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=_YAML_WIDTH,
    )
    return text.removesuffix("\n...\n").removesuffix("\n")


_PLAIN = re.compile(r"[A-Za-z0-9_(/][A-Za-z0-9 _.,()/+-]*")  # ASCII text PyYAML writes unquoted in block style
_STR_TAG = "tag:yaml.org,2002:str"
_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")


class _FastEmitter:
    """PyYAML's block layout for dicts, lists and scalars, without its per-node machinery.

    Falls back (`_Unsupported`) on anything whose layout depends on context or history: strings
    with line breaks, long or non-string keys, a container met twice (PyYAML would write an
    anchor), other types. Scalars that are not plainly safe are rendered by PyYAML, one by one.
    """

    def __init__(self) -> None:
        self.dumper = _Dumper(io.StringIO())
        self.out: list[str] = []
        self.seen: set[int] = set()
        self.quoted: dict[str, str] = {}

    def mapping(self, data: dict[Any, Any], indent: int, inline_first: bool) -> None:
        self._once(data)
        for i, (key, value) in enumerate(data.items()):
            if not isinstance(key, str) or len(key) >= 128 or not key:
                raise _Unsupported
            pad = "" if i == 0 and inline_first else " " * indent
            name = self.scalar(key)
            if isinstance(value, dict) and value:
                self.out.append(f"{pad}{name}:\n")
                self.mapping(value, indent + 2, False)
            elif isinstance(value, list) and value:
                self.out.append(f"{pad}{name}:\n")
                self.sequence(value, indent, False)  # PyYAML writes sequences in mappings indentless
            else:
                self.out.append(f"{pad}{name}: {self.leaf(value)}\n")

    def sequence(self, items: list[Any], indent: int, inline_first: bool) -> None:
        self._once(items)
        for i, item in enumerate(items):
            pad = "" if i == 0 and inline_first else " " * indent
            if isinstance(item, dict) and item:
                self.out.append(f"{pad}- ")
                self.mapping(item, indent + 2, True)
            elif isinstance(item, list) and item:
                self.out.append(f"{pad}- ")
                self.sequence(item, indent + 2, True)
            else:
                self.out.append(f"{pad}- {self.leaf(item)}\n")

    def leaf(self, value: Any) -> str:
        if isinstance(value, dict | list):  # empty: written in flow style
            return "{}" if isinstance(value, dict) else "[]"
        return self.scalar(value)

    def scalar(self, value: Any) -> str:
        if value is None:
            return "null"
        if value is True or value is False:
            return "true" if value else "false"
        if type(value) is int:
            return str(value)
        if type(value) is float:
            return str(self.dumper.represent_float(value).value)
        if type(value) is not str:
            raise _Unsupported
        if _PLAIN.fullmatch(value) and not value.endswith(" ") and self._resolves_to_str(value):
            return value
        if any(ch in _LINE_BREAKS for ch in value):
            raise _Unsupported  # multi-line quoted scalars are laid out relative to their indentation
        text = self.quoted.get(value)
        if text is None:
            dumped = yaml.dump([value], Dumper=_Dumper, allow_unicode=True, default_flow_style=False,
                               width=_YAML_WIDTH)  # fmt: skip
            if not dumped.startswith("- ") or dumped.count("\n") != 1:
                raise _Unsupported
            text = self.quoted[value] = dumped[2:-1]
        return text

    def _resolves_to_str(self, value: str) -> bool:
        tag = self.dumper.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        return bool(tag == _STR_TAG)

    def _once(self, container: object) -> None:
        if id(container) in self.seen:
            raise _Unsupported  # PyYAML would write an anchor and an alias
        self.seen.add(id(container))


class _Unsupported(Exception):
    """The fast emitter cannot promise PyYAML's exact bytes for this value."""


def _fast_block_yaml(value: Any) -> str | None:
    """`yaml.dump(value)` in block style for plain data, or None when PyYAML must do it."""
    if not isinstance(value, dict | list) or not value:
        return None
    emitter = _FastEmitter()
    try:
        if isinstance(value, dict):
            emitter.mapping(value, 0, False)
        else:
            emitter.sequence(value, 0, False)
    except (_Unsupported, RecursionError):
        return None
    return "".join(emitter.out)


def yaml_scalar(value: Any) -> str:
    """`value` as one YAML scalar on one line, quoted only when YAML needs it."""
    text = _dump_flow(value, style=None)
    if "\n" in text:
        text = _dump_flow(value, style='"')
    return text


def format_value(value: Any) -> str:
    """A number for people: `65.4` (not float noise), ints as given, `None` as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value):
        text = f"{value:.12g}"
        if "e" in text:
            return repr(value)
        return f"{text}.0" if _INTEGRAL.fullmatch(text) else text
    return str(value)


def md_cell(value: Any) -> str:
    """`value` made safe for one markdown table cell: `md_text`, with pipes escaped."""
    return md_text(format_value(value)).replace("|", "\\|")


def md_code(value: Any) -> str:
    """`value` as inline code in a table cell: `plain_text`, backticks as quotes, pipes escaped."""
    return "`" + plain_text(format_value(value)).replace("`", "'").replace("|", "\\|") + "`"


def md_text(value: Any) -> str:
    """`plain_text` for markdown: backticks, emphasis, brackets and angle brackets escaped."""
    return _MD_SPECIAL.sub(r"\\\1", plain_text(value))


def md_line(value: Any) -> str:
    """`value` as one line of a table cell or a `<summary>`: pipes escaped, `<` and `>` as entities.

    Lighter than `md_cell` (markdown emphasis and links still work); for the Action's own reports.

    >>> md_line("a | <b>\\nc")
    'a \\\\| &lt;b&gt; c'
    """
    return one_line("" if value is None else value).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def code_fence(text: Any) -> str:
    """The backtick fence for a code block around `text`: three, or one more than its longest run.

    >>> code_fence("a ```` b")
    '`````'
    """
    longest = max((len(m) for m in _BACKTICKS.findall("" if text is None else str(text))), default=0)
    return "`" * max(3, longest + 1)


_BACKTICKS = re.compile(r"`+")
_WORD_JOINER = "\u2060"  # invisible: "@\u2060everyone" reads as @everyone and notifies nobody
_TAG = re.compile(r"</?[A-Za-z!?][^<>]*>")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\(\s*<?([^()<>\s]*)>?(?:\s+[^()]*)?\)")
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>])")


def plain_text(value: Any) -> str:
    """Text copied from a card, made inert for a PR body or a model-index name (one helper for all).

    One line; HTML tags dropped (a lone `<` that could start one gets a space); a markdown link
    or image `[label](url)` becomes `label (url)`, so the target stays visible as text; `@`
    mentions are broken with an invisible word joiner, so nobody is notified.

    >>> plain_text('<img src=x onerror=alert(1)>@everyone [see](https://x.io) <b>MMLU</b> < 5')
    '@\u2060everyone see (https://x.io) MMLU < 5'
    """
    text = "" if value is None else str(value)
    text = " ".join(text.replace("\x00", " ").split())
    text = _MD_LINK.sub(lambda m: f"{m[1]} ({m[2]})" if m[1].strip() else m[2], text)
    text = " ".join(_TAG.sub("", text).split())
    text = _TAG_START.sub("< ", text)
    return text.replace("@", "@" + _WORD_JOINER)


def _dump_flow(value: Any, style: str | None) -> str:
    text = yaml.dump(
        value,
        Dumper=_Dumper,
        allow_unicode=True,
        default_flow_style=True,
        default_style=style,
        width=_YAML_WIDTH,
    )
    return text.removesuffix("\n...\n").removesuffix("\n")


class _Dumper(yaml.SafeDumper):
    """SafeDumper that keeps NEL and Unicode line/paragraph separators in strings.

    PyYAML writes them raw in plain or single-quoted scalars, where a reader folds them into
    a space; double quotes make it escape them, so the text reads back exactly.
    """


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = '"' if any(ch in data for ch in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)
