"""`.env`: a strict reader for the lowest configured layer (below evalbot.yaml, above the defaults).

    # .env (at $EVALBOT_ENV_FILE, else ./.env)
    HF_TOKEN=hf_...                      # a value may be followed by a comment
    export EVALBOT_HOME=~/evalbot        # `export ` is allowed, so the file can be sourced too
    EVALBOT_DENY="acme/private-*, acme/secret"
    GREETING='single quotes: taken as written, # and all'

One `KEY=VALUE` per line; blank lines and `#` lines are skipped; a value is bare (trimmed, a ` #`
starts a comment), or wholly in double quotes (`\\"`, `\\\\`, `\\n` escapes) or single quotes
(literal). Anything else, such as a line without `=`, a bad name or an unclosed quote, is a
`ConfigError` naming the file and line: a typo never silently drops a setting. A variable set in
the real environment always wins over the file (the chain in `settings` puts the file below it).
No message shows a value: a `.env` mostly holds tokens.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.config._text import read_settings_text
from bot.errors import ConfigError

ENV_FILE_VAR = "EVALBOT_ENV_FILE"
_LINE = re.compile(r"(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(?P<value>.*)")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "$": "$"}


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables in `path`, in file order (a name given twice keeps the last, as a shell does)."""
    text = read_settings_text(
        path,
        kind="env file",
        size_hint="an env file is a few lines",
        fix=f"; fix it or unset {ENV_FILE_VAR}",
        encoding="utf-8-sig",
    )
    return parse_dotenv(text, source=str(path))


def parse_dotenv(text: str, *, source: str = ".env") -> dict[str, str]:
    """`text` in the .env format; ConfigError `source:LINE: problem; fix` on the first bad line."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.fullmatch(stripped)
        if match is None:
            raise ConfigError(f"{source}:{number}: {_why(stripped)}; write KEY=VALUE (or # a comment)")
        key = match["key"]
        try:
            found[key] = _value(match["value"])
        except ValueError as e:
            raise ConfigError(f"{source}:{number}: {key}: {e}") from None
    return found


def _why(line: str) -> str:
    # never echo the line: it may be a token pasted without its name
    if "=" not in line:
        return "not a KEY=VALUE line (no '=')"
    return "the name before '=' is not a variable name (letters, digits, _; not starting with a digit)"


def _value(raw: str) -> str:
    if raw[:1] == "'":
        end = raw.find("'", 1)
        if end < 0:
            raise ValueError("the single quote is never closed; close it on the same line")
        _rest(raw[end + 1 :])
        return raw[1:end]
    if raw[:1] == '"':
        out, i = [], 1
        while i < len(raw):
            char = raw[i]
            if char == "\\" and i + 1 < len(raw):
                nxt = raw[i + 1]
                out.append(_ESCAPES.get(nxt, "\\" + nxt))
                i += 2
                continue
            if char == '"':
                _rest(raw[i + 1 :])
                return "".join(out)
            out.append(char)
            i += 1
        raise ValueError("the double quote is never closed; close it on the same line")
    value = re.split(r"[ \t]#", raw, maxsplit=1)[0].strip()
    if any(q in value for q in "\"'"):
        raise ValueError("a quote inside a bare value; quote the whole value ('...' or \"...\")")
    return value


def _rest(after: str) -> None:
    """What follows a closing quote: nothing, or a comment."""
    rest = after.strip()
    if rest and not rest.startswith("#"):
        raise ValueError("text after the closing quote; put it inside the quotes or after a #")
