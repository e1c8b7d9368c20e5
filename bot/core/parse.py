"""Typed parsers for settings: bools, bounded whole numbers, choices and lists, each with one-line errors.

Every layer of the configuration (flags, the environment, Action inputs, evalbot.yaml, .env) and
the documents the core reads (webhook payloads, the benchmark vocabulary) parse their values here,
so a setting is spelled the same way wherever it is given and a mistake reads the same:

    >>> parse_bool("Yes", "EVALBOT_ALLOW_PRIVATE"), parse_int("3", "workers", minimum=1)
    (True, 3)
    >>> parse_bool("maybe", "dry_run")
    Traceback (most recent call last):
    ...
    bot.errors.ConfigError: dry_run: expected true or false (or yes/no, on/off, 1/0), got 'maybe'

Text (`text=True`, the default) is what the environment, `.env` and Action inputs hold: the words
of `TRUE_WORDS`/`FALSE_WORDS`, digits for numbers. A typed document (YAML, JSON) has its own
booleans and numbers, so with `text=False` only those are accepted: `'yes'` quoted in YAML, or
`"5"` in JSON, is a mistake to report, not a value to guess at.

A small module of functions rather than pydantic (or attrs/cattrs): the core install stays small
(DESIGN §2 extras), and each error is one line naming the setting and what to write instead,
which is what every entry point prints; a validation library's multi-line reports would have to be
translated back into that anyway. Pure: no I/O, imports only `bot.errors`.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Sequence

from bot.errors import ConfigError

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
_WORDS = "true or false (or yes/no, on/off, 1/0)"

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 4, 4, 80, 80


def show(value: object) -> str:
    """`value` for an error message: a short one-line repr, however big or deep the value is."""
    return _REPR.repr(value)


def is_unset(value: object) -> bool:
    """None, or text that is empty once trimmed: a layer that does not set the setting."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_bool(value: object, name: str, *, text: bool = True) -> bool:
    """A real bool, or (with `text`) one of the words, case and surrounding spaces ignored."""
    if isinstance(value, bool):
        return value
    if text and isinstance(value, str):
        word = value.strip().casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ConfigError(f"{name}: expected {_WORDS if text else 'true or false'}, got {show(value)}")


def parse_int(
    value: object, name: str, *, minimum: int | None = None, maximum: int | None = None, text: bool = True
) -> int:
    """A whole number within [minimum, maximum]; (with `text`) also its digits as text."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif text and isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        number = int(value.strip())
    if number is None or (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ConfigError(f"{name}: expected a whole number{_span(minimum, maximum)}, got {show(value)}")
    return number


def parse_float(value: object, name: str, *, minimum: float | None = None, text: bool = True) -> float:
    """A number (whole or not) of at least `minimum`; (with `text`) also as text."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif text and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or number != number or (minimum is not None and number < minimum):  # NaN != NaN
        span = f" of at least {minimum:g}" if minimum is not None else ""
        raise ConfigError(f"{name}: expected a number{span}, got {show(value)}")
    return number


def parse_choice(value: object, name: str, allowed: Sequence[str]) -> str:
    """One of `allowed`, exactly as spelled there."""
    if isinstance(value, str) and value in allowed:
        return value
    raise ConfigError(f"{name}: {show(value)} is not one of {', '.join(allowed)}")


def parse_choices(values: Iterable[object], name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """Each of `values` one of `allowed`; duplicates dropped, order kept."""
    return tuple(dict.fromkeys(parse_choice(v, name, allowed) for v in values))


def parse_csv(value: str) -> list[str]:
    """A comma- and/or newline-separated list; `#` starts a comment; items trimmed, empty ones dropped.

    >>> parse_csv("a, b\\n# c\\nd  # the last")
    ['a', 'b', 'd']
    """
    items = []
    for line in value.splitlines():
        items += [part.strip() for part in line.split("#", 1)[0].split(",") if part.strip()]
    return items


def _span(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" of at least {minimum}"
    return f" of at most {maximum}" if maximum is not None else ""
