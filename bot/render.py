"""The Jinja environment every file and PR text is rendered with (DESIGN §2, §3).

Built-in templates live in `templates/` beside `bot/`. A user template directory overrides
them by name; user templates are untrusted, so an environment that includes them is sandboxed
as a whole. Filters are deterministic: the same context always renders the same bytes.

Example:
    >>> env = make_environment()
    >>> render_template(env, "model_index.yaml.j2", model_index=[{"name": "m", "results": []}])
    'model-index:\\n- name: m\\n  results: []\\n'
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from bot.errors import ConfigError, TemplateError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

# Wide enough that PyYAML never folds a long string over two lines.
_YAML_WIDTH = 2**31 - 1
_INTEGRAL = re.compile(r"-?\d+")
_OPTIONS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "keep_trailing_newline": True,
    "autoescape": False,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


def make_environment(user_dir: Path | None = None) -> jinja2.Environment:
    """Return the environment over the built-in templates, overridden by `user_dir` if given.

    Example:
        >>> make_environment(None).get_template("pr_title.txt.j2").name
        'pr_title.txt.j2'
    """
    builtin = jinja2.FileSystemLoader(TEMPLATE_DIR)
    env: jinja2.Environment
    if user_dir is None:
        env = jinja2.Environment(loader=builtin, **_OPTIONS)
    else:
        user_dir = Path(user_dir)  # callers may hand over a str from argv or config
        if not user_dir.is_dir():
            raise ConfigError(f"template directory {str(user_dir)!r} does not exist; create it or drop the option")
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(user_dir), builtin])
        env = SandboxedEnvironment(loader=loader, **_OPTIONS)
    env.filters.update(
        to_yaml=to_yaml,
        yaml_scalar=yaml_scalar,
        format_value=format_value,
        md_cell=md_cell,
    )
    return env


@functools.cache
def default_environment() -> jinja2.Environment:
    """The built-in environment, built once (it holds no per-call state)."""
    return make_environment()


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render template `name`; any failure becomes a one-line `TemplateError`."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as e:
        raise TemplateError(f"template {name!r}: not found (looked for {e.name!r})") from e
    except jinja2.TemplateSyntaxError as e:
        where = e.name or name  # an included template names itself
        raise TemplateError(f"template {where!r}, line {e.lineno}: {_one_line(e.message or str(e))}") from e
    except Exception as e:  # user templates may fail in any way; never let that escape untyped
        raise TemplateError(f"template {name!r}: {type(e).__name__}: {_one_line(str(e))}") from e


def to_yaml(value: Any) -> str:
    """Block-style YAML for `value`, keys in their given order, without the final newline."""
    text = yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=_YAML_WIDTH,
    )
    return text.removesuffix("\n...\n").removesuffix("\n")


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
    """`value` made safe for one markdown table cell (pipes escaped, line breaks flattened)."""
    text = format_value(value)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return text.replace("|", "\\|")


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


def _one_line(text: str) -> str:
    return " ".join(text.split())
