"""Workflow commands and the runner's files: masks, annotations, groups, `GITHUB_OUTPUT`.

Everything the Action prints goes through `Log`, which redacts every secret it was told about;
`secret_values` lists them, to be masked (`::add-mask::`) before anything else is printed.
Messages and property values are escaped as the runner's command parser expects
(`%`, CR and LF in data; `:` and `,` too in properties).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TextIO

from bot.action.inputs import SECRET_INPUTS
from bot.action.summary import operations, pr_urls, results_json
from bot.app.pipeline import Report
from bot.errors import BotError, one_line

# Secrets that may also reach the container as plain environment variables.
SECRET_ENV = ("HF_TOKEN", "EVALBOT_HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "AA_API_KEY", "GITHUB_TOKEN")
_MIN_REDACT = 4  # shorter "secrets" are masked by the runner but not scrubbed here (it would mangle JSON)


class Log:
    """Workflow commands and plain lines on stdout, with every known secret value redacted."""

    def __init__(self, out: TextIO, secrets: Iterable[str] = ()) -> None:
        self.out = out
        self._secrets: list[str] = []
        self.add_secrets(secrets)

    def add_secrets(self, values: Iterable[str]) -> list[str]:
        """Remember secret values (one per non-empty line); returns the new ones, to be masked."""
        new = []
        for value in values:
            for line in value.splitlines():
                line = line.strip()
                if line and line not in self._secrets:
                    self._secrets.append(line)
                    new.append(line)
        self._secrets.sort(key=len, reverse=True)  # a secret that contains another is redacted whole
        return new

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if len(secret) >= _MIN_REDACT:
                text = text.replace(secret, "***")
        return text

    def mask(self, values: Iterable[str]) -> None:
        """`::add-mask::` each new secret line; printed before anything derived from them."""
        for line in self.add_secrets(values):
            self._write(f"::add-mask::{_escape_data(line)}")

    def line(self, text: str = "") -> None:
        self._write(self.redact(text))

    def command(self, name: str, message: str = "", **properties: str) -> None:
        props = ",".join(f"{k}={_escape_property(self.redact(v))}" for k, v in properties.items() if v)
        head = f"::{name} {props}::" if props else f"::{name}::"
        self._write(head + _escape_data(self.redact(one_line(message))))

    def error(self, message: str, *, title: str = "") -> None:
        self.command("error", message, title=title)

    def warning(self, message: str, *, title: str = "") -> None:
        self.command("warning", message, title=title)

    def notice(self, message: str, *, title: str = "") -> None:
        self.command("notice", message, title=title)

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        """`::group::title` ... `::endgroup::`, closed whatever happens inside."""
        self._write(f"::group::{_escape_data(title)}")
        try:
            yield
        finally:
            self._write("::endgroup::")

    def _write(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Every secret the run may hold: the secret inputs (both spellings) and the token variables."""
    values = []
    for name in SECRET_INPUTS:
        for key in (f"INPUT_{name.upper()}", f"INPUT_{name.upper().replace('_', '-')}"):
            values.append(env.get(key, ""))
    values += [env.get(key, "") for key in SECRET_ENV]
    return [v for v in values if v.strip()]


def output_block(name: str, value: str) -> str:
    """`name<<DELIMITER` / value / `DELIMITER`, with a random delimiter that the value does not contain."""
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(env: Mapping[str, str], reports: Sequence[Report], log: Log) -> None:
    """The Action's outputs `operations`, `pr_urls` and `results_json`, appended to `GITHUB_OUTPUT`."""
    blocks = [
        output_block("operations", json.dumps(operations(reports), sort_keys=True)),
        output_block("pr_urls", "\n".join(pr_urls(reports))),
        output_block("results_json", json.dumps(results_json(reports))),
    ]
    _append(env, "GITHUB_OUTPUT", "".join(blocks), log)


def _append(env: Mapping[str, str], variable: str, text: str, log: Log) -> None:
    path = env.get(variable, "").strip()
    if not path:
        return  # not on a runner (a local run): nothing to write to
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(log.redact(text))
    except PermissionError as e:
        hint = "; GitHub's Docker actions must run as root: build the action image without USER"
        raise BotError(f"cannot write {variable} ({path}): {e.strerror or e}{hint}") from e
    except OSError as e:
        raise BotError(f"cannot write {variable} ({path}): {e.strerror or e}") from e
